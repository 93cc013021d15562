"""Name the HTML tags every reader of page text treats alike: one home for the tag sets.

strip-html (`blocks`, `density`, `page`, `parse`) and the report's view of a raw page
(`cleanup.report.corpora`) read the same pages; keeping their tag sets here means a block
boundary or an invisible element is decided once for both (docs/architecture.md, "Layers").
"""

from __future__ import annotations

# Never shown by a browser: their text is code, styling or a fallback.
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe"})
# Never content, whatever their position: the invisible ones plus widgets, embeds and media.
SKIP_TAGS = INVISIBLE_TAGS | frozenset(
    {
        "nav",
        "button",
        "select",
        "option",
        "textarea",
        "object",
        "embed",
        "canvas",
        "dialog",
        "title",
        "meta",
        "link",
        "input",
        "audio",
        "video",
        "map",
    }
)
# Page chrome when outside the article itself.
CHROME_TAGS = frozenset({"header", "footer", "aside"})
ARTICLE_TAGS = frozenset({"article", "main"})
CHROME_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog"}
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Elements that end a paragraph where they open and where they close.
BLOCK_TAGS = HEADING_TAGS | frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "aside",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "caption",
        "figure",
        "figcaption",
        "address",
        "hr",
        "center",
        "details",
        "summary",
        "fieldset",
        "legend",
        "body",
        "html",
    }
)
CELL_TAGS = frozenset({"td", "th"})
# Where a class or id names boilerplate: block elements only. An inline element inside a
# sentence ("<span class='last-byline'>") is part of that sentence.
NAMED_TAGS = BLOCK_TAGS | CELL_TAGS | CHROME_TAGS | frozenset({"form"})
# Blocks of a page seen whole (the report's "before" side of a raw page): strip-html's
# blocks, each table cell, and the blocks strip-html never reaches because it leaves them
# out (navigation, forms, the title).
VISIBLE_BLOCK_TAGS = BLOCK_TAGS | CELL_TAGS | frozenset({"nav", "form", "title"})
# Elements whose text counts as a paragraph of prose when scoring the main container.
PARAGRAPH_TAGS = ("p", "pre", "blockquote", "dd")
# Siblings of the main block that may join it on their own text (content.py).
JOINABLE_SIBLING_TAGS = frozenset(PARAGRAPH_TAGS) | {"ul", "ol", "dl", "table"}
# Left out of the main content wherever they sit in it (content.py).
LEFT_OUT_TAGS = frozenset({"aside", "figure"})
# Repeated parts of one article, even without a class (content.py); and layout, never parts.
SECTION_TAGS = frozenset({"section", "article"})
LAYOUT_TAGS = frozenset({"tr", "td", "th", "tbody", "thead", "tfoot", "table", "li", "dd", "dt"})
# Siblings that never end the article on their side when they do not join it.
NEVER_BREAK_TAGS = HEADING_TAGS | {"figure", "hr", "img", "picture", "br"}
# Elements that often hold prose as bare text split by <br> (old CMSs, table layouts).
TEXT_HOLDER_TAGS = ("div", "td", "section", "article", "font", "center", "span", "main")
# Elements whose text precedes a figure on the page (to put its caption back in place).
TEXT_TAGS = HEADING_TAGS | frozenset({"p", "li", "blockquote", "pre", "dd"})
# Where the search for the box around a small form stops: the page or the article itself.
BOX_STOP_TAGS = frozenset({"body", "html", "article", "main"})
# Tags that carry no text of their own but nest: flattening them keeps all the text.
NESTING_TAGS = (
    "div", "span", "section", "article", "main", "font", "center", "b", "i", "u", "em",
    "strong", "small", "big", "a", "blockquote", "ul", "ol", "li", "dl", "dd", "dt", "table",
    "tbody", "thead", "tr", "td", "th", "header", "footer", "aside", "nav", "figure", "label",
    "sup", "sub", "mark", "abbr", "cite", "q", "s", "strike", "tt", "code",
)  # fmt: skip
