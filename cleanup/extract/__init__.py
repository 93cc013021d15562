"""Turn an HTML page into paragraphs of text plus metadata (the engine behind strip-html).

`extract_page` parses once with lxml, reads the metadata, then either keeps the text of the
whole page minus its boilerplate elements (`mode="all"`) or chooses the main content
(`mode="main"`, trafilatura's choice refined by our own structural filters).
"""

from cleanup.extract.page import Page, UnparseableHTML, extract_page
from cleanup.extract.parse import looks_like_html

__all__ = ["Page", "UnparseableHTML", "extract_page", "looks_like_html"]
