"""strip-html: turn HTML documents into paragraphs of text, keeping the main content.

HTML arrives as format "html" (the reader puts the markup in `doc.raw` and as the one
paragraph) or as a JSONL/text record whose text is sniffed as HTML. Plain text passes
through untouched, which also makes the step idempotent on its own output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from cleanup.document import Document, Edit
from cleanup.errors import OptionError
from cleanup.extract import EXTRACTORS, looks_like_html
from cleanup.pipeline import Option, StepSpec

if TYPE_CHECKING:
    from cleanup.extract.page import Page

# The page extraction (cleanup.extract.page, .main) is imported when a document is HTML: it
# needs lxml, which a run over plain text then never loads (here nor on a worker).

STEP = "strip-html"
WHY = {
    "main": "kept the page's main content as paragraphs",
    "all": "kept the page's text as paragraphs, minus navigation and boilerplate elements",
}
META_KEYS = ("title", "author", "date", "canonical_url", "lang")


def strip_html(
    docs: Iterable[Document],
    *,
    extract: str = "main",
    keep_captions: bool = False,
    sniff_html: bool = True,
    extractor: str = "ours",
) -> Iterator[Document]:
    """Replace each HTML document's markup with its text paragraphs and record the change."""
    if extract not in WHY:
        raise OptionError(f"--extract must be 'main' or 'all', not {extract!r}")
    if extractor not in EXTRACTORS:
        raise OptionError(f"--extractor must be 'ours' or 'trafilatura', not {extractor!r}")
    if extractor == "trafilatura" and extract == "main":
        from cleanup.extract.main import require_trafilatura

        require_trafilatura()
    for doc in docs:
        if doc.dropped is None:
            markup = _markup(doc, sniff_html)
            if markup is not None:
                _convert(doc, markup, extract, keep_captions, extractor)
        yield doc


def _markup(doc: Document, sniff: bool) -> str | None:
    """Return the HTML to convert, or None when the document is (already) plain text."""
    if any(edit.step == STEP for edit in doc.edits):
        return None  # converted once already: its text may quote markup, but it is text
    if doc.format == "html" and doc.raw is not None and doc.paragraphs in ([doc.raw], []):
        return doc.raw
    if sniff or (doc.format == "html" and doc.raw is None):
        text = doc.text
        if looks_like_html(text):
            return text
    return None


def _convert(
    doc: Document, markup: str, mode: str, keep_captions: bool, extractor: str = "ours"
) -> None:
    """Extract one document in place: paragraphs, metadata, one audit edit (or a drop)."""
    if not markup.strip():
        doc.drop(STEP, "html:no-text", "the page has no text")
        return
    from cleanup.extract.page import UnparseableHTML, extract_page

    try:
        page = extract_page(markup, mode, keep_captions, extractor)
    except UnparseableHTML as exc:
        doc.drop(STEP, "html:unparseable", f"cannot read the page as HTML: {exc}")
        return
    except (ValueError, RecursionError, MemoryError) as exc:  # library limits on odd input
        doc.drop(STEP, "html:unparseable", f"HTML extraction failed: {type(exc).__name__}: {exc}")
        return
    for key in META_KEYS:
        if key in page.meta:
            doc.meta[key] = page.meta[key]
    if not page.paragraphs:
        doc.drop(STEP, "html:no-text", "the page has no text outside navigation and boilerplate")
        return
    _set_paragraphs(doc, page)
    detail: dict[str, object] = {"method": page.method}
    if page.removed:
        detail["removed"] = page.removed
    size = len(markup.encode("utf-8", "surrogatepass"))
    rule = f"html:{'extract' if mode == 'main' else 'all'}"
    count = f"{len(page.paragraphs)} paragraphs"
    doc.apply([Edit.whole(STEP, rule, f"<html> {size} bytes", count, WHY[mode], detail)])


def _set_paragraphs(doc: Document, page: Page) -> None:
    """Store the paragraphs; a one-line-per-paragraph separator cannot hold line breaks."""
    doc.paragraphs = page.paragraphs
    if doc.sep == "\n" and any("\n" in p for p in page.paragraphs):
        doc.sep = "\n\n"


SPEC = StepSpec(
    name=STEP,
    func=strip_html,
    help="Turn HTML pages into paragraphs of text, keeping the main content.",
    options=(
        Option(
            "extract",
            "main",
            "What to keep of a page: its main content (main) or all its text minus "
            "navigation and boilerplate elements (all).",
            type=("main", "all"),
        ),
        Option(
            "keep-captions",
            False,
            "Keep image captions (a figure's caption, else its alt text, once each; with "
            "--extract main, the figures inside the article text).",
            bool,
        ),
        Option(
            "extractor",
            "ours",
            "Who chooses the main content: our content model (ours), or trafilatura "
            "cross-checked by it (trafilatura; needs the extra cleanup[trafilatura]).",
            type=("ours", "trafilatura"),
        ),
        Option(
            "sniff-html",
            True,
            "Treat JSONL and text records whose text looks like HTML as HTML.",
            bool,
        ),
    ),
)
