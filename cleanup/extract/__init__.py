"""Turn an HTML page into paragraphs of text plus metadata (the engine behind strip-html).

`extract_page` parses once with lxml, reads the metadata, then either keeps the text of the
whole page minus its boilerplate elements (`mode="all"`) or chooses the main content
(`mode="main"`, trafilatura's choice refined by our own structural filters).
"""

from typing import TYPE_CHECKING, Any

from cleanup.extract.sniff import looks_like_html

if TYPE_CHECKING:
    from cleanup.extract.page import Page, UnparseableHTML, extract_page

# Who chooses the main content (strip-html --extractor).
EXTRACTORS = ("ours", "trafilatura")
# Imported on first use: they need lxml, which a run without HTML never loads.
_LAZY = frozenset({"Page", "UnparseableHTML", "extract_page"})


def __getattr__(name: str) -> Any:
    """Import the page extraction (lxml) the first time one of its names is asked for."""
    if name in _LAZY:
        from cleanup.extract import page

        return getattr(page, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["EXTRACTORS", "Page", "UnparseableHTML", "extract_page", "looks_like_html"]
