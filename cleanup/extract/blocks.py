"""Walk an HTML tree into text blocks: paragraphs, headings, list items, table rows.

This is `--extract all`: the whole page's text, where block elements end a paragraph and
<br> breaks a line, minus elements that are never content (scripts, navigation, the page's
header/footer/aside, forms) and elements whose class or id names them as boilerplate
(share bars, ads, cookie and newsletter boxes, comments, related-article lists). The walk
is the shared iterative one (`cleanup.extract.walk`); the tag sets live in `cleanup.extract.tags`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import lxml.html

from cleanup.extract.meta import collapse
from cleanup.extract.tags import (
    ARTICLE_TAGS,
    BLOCK_TAGS,
    BOX_STOP_TAGS,
    CELL_TAGS,
    CHROME_ROLES,
    CHROME_TAGS,
    HEADING_TAGS,
    NAMED_TAGS,
    SKIP_TAGS,
)
from cleanup.extract.walk import walk

# Class/id words of boilerplate containers, matched as whole tokens of the attribute.
_BOILERPLATE_TOKENS = frozenset(
    [
        "share",
        "shares",
        "sharing",
        "sharebar",
        "social",
        "socials",
        "ad",
        "ads",
        "advert",
        "adverts",
        "advertisement",
        "advertising",
        "adsbygoogle",
        "sponsor",
        "sponsored",
        "promo",
        "promoted",
        "cookie",
        "cookies",
        "consent",
        "gdpr",
        "newsletter",
        "newsletters",
        "subscribe",
        "subscription",
        "signup",
        "comment",
        "comments",
        "commentlist",
        "disqus",
        "related",
        "recommended",
        "recommendations",
        "outbrain",
        "taboola",
        "breadcrumb",
        "breadcrumbs",
        "popup",
        "modal",
        "sidebar",
        "menu",
        "navbar",
        "navigation",
        "toolbar",
        "pagination",
        "tags",
        # hidden by the site's CSS, or a widget of pictures rather than prose
        "hidden",
        "hide",
        "gallery",
        "slideshow",
        "carousel",
        "lightbox",
        "slider",
        "swiper",
        "widget",
    ]
)
_BOILERPLATE_PAIRS = (
    ("read", "more"),
    ("more", "stories"),
    ("also", "read"),
    ("most", "popular"),
    ("most", "read"),
    ("sign", "up"),
    ("follow", "us"),
)
# Class/id words of the article's own container. A box named both ways ("entry-content
# read-more", "box article modal") is the article unless it holds almost none of the prose;
# comment sections are never the article ("post-comments").
_CONTENT_TOKENS = frozenset(
    {"article", "body", "content", "entry", "main", "post", "story", "text"}
)
_NEVER_CONTENT = frozenset({"comment", "comments", "commentlist", "disqus"})
NAMED_CONTENT_MAX_SHARE = 0.1
_NEGATIONS = frozenset({"has", "no", "non", "not", "with", "without", "enable", "enabled"})
# An inline style that hides the element (schema.org copies, templates, closed overlays).
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_ASCII_SPACE = " \t\n\r\f\v"  # what _SPACES matches (not str.isspace: no \xa0)
LINE_BREAK = "\x00"


@dataclass(slots=True)
class Block:
    """Hold one paragraph-level piece of text and how much of it is link text."""

    text: str
    kind: str = "p"  # "p", "h1".."h6", "li", "row", "caption"
    link_chars: int = 0

    @property
    def link_density(self) -> float:
        """Return the share of the text that sits inside links."""
        return self.link_chars / max(1, len(self.text))


def class_tokens(el: lxml.html.HtmlElement) -> list[str]:
    """Split an element's class and id into lower-case word tokens (camelCase split too)."""
    raw = f"{el.get('class') or ''} {el.get('id') or ''}"
    if not raw.strip():
        return []
    return [t for t in _TOKEN_SPLIT.split(_CAMEL.sub(" ", raw).lower()) if t]


def is_boilerplate_name(tokens: list[str]) -> bool:
    """Tell whether class/id tokens name a boilerplate container (share bar, ads, comments...)."""
    if not tokens:
        return False
    if any(t in _BOILERPLATE_TOKENS for t in tokens):
        # "has-comments", "no-ads", "with-sidebar" describe a wrapper, not a box.
        return not any(t in _NEGATIONS for t in tokens)
    pairs = set(itertools.pairwise(tokens))
    return any(p in pairs for p in _BOILERPLATE_PAIRS)


def _names_content(tokens: list[str]) -> bool:
    """Tell whether class/id tokens also name the article's container (not its comments)."""
    return any(t in _CONTENT_TOKENS for t in tokens) and not any(
        t in _NEVER_CONTENT for t in tokens
    )


# A box named like boilerplate is dropped only when it holds at most this share of the page's
# text and of its prose: "post comments-open" or "box article modal-enabled" on the article's
# own container must not empty the page.
NAMED_BOX_MAX_SHARE = 0.5


class Chrome:
    """Judge, once per element, whether it or an ancestor is page chrome or boilerplate.

    `mass` (element -> prose score below it, from `density`) weighs a box named like
    boilerplate against the page's prose; without it only the share of text counts. With
    `names=False` class and id names are not read (the first scoring pass needs that).
    """

    def __init__(
        self,
        root: lxml.html.HtmlElement,
        mass: dict[lxml.html.HtmlElement, float] | None = None,
        names: bool = True,
    ) -> None:
        self.root = root
        self.names = names
        self.body_chars = visible_chars(root)
        self.mass = mass or {}
        self.total_mass = self.mass.get(root, 0.0)
        self._inside: dict[lxml.html.HtmlElement, bool] = {root: False}

    def is_chrome(self, el: lxml.html.HtmlElement) -> bool:
        """Tell whether an element itself is chrome or boilerplate to leave out of the text."""
        tag = el.tag
        if tag in SKIP_TAGS:
            # MathJax's TeX source is the formula itself, not code.
            return not (tag == "script" and (el.get("type") or "").startswith("math/"))
        if tag == "form":  # a widget, unless the whole page sits in one form (ASP.NET)
            return len(el.text_content().strip()) <= FORM_BOX_MAX_CHARS
        if tag not in CHROME_TAGS and not el.keys():  # no attribute: nothing below can say so
            return False
        if el.get("hidden") is not None or el.get("aria-hidden") == "true":
            return True
        style = el.get("style")
        if style and _HIDDEN_STYLE.search(style):
            return True
        if tag in CHROME_TAGS and not any(a.tag in ARTICLE_TAGS for a in el.iterancestors()):
            return True
        role = el.get("role")
        named = (role in CHROME_ROLES) or (
            self.names
            and tag in NAMED_TAGS
            and tag not in ARTICLE_TAGS
            and el.get("itemprop") != "articleBody"
            and is_boilerplate_name(class_tokens(el))
        )
        if not named:
            return False
        share = NAMED_BOX_MAX_SHARE
        if role not in CHROME_ROLES and _names_content(class_tokens(el)):
            share = NAMED_CONTENT_MAX_SHARE
        if self.total_mass and self.mass.get(el, 0.0) > share * self.total_mass:
            return False
        return len(el.text_content()) <= NAMED_BOX_MAX_SHARE * self.body_chars

    def inside(self, el: lxml.html.HtmlElement) -> bool:
        """Tell whether el or one of its ancestors (up to the root) is chrome."""
        path = []
        node: lxml.html.HtmlElement | None = el
        verdict = False
        while node is not None:
            known = self._inside.get(node)
            if known is not None:
                verdict = known
                break
            path.append(node)
            node = node.getparent()
        # Judge from the top down: below a chrome element everything is chrome.
        for node in reversed(path):
            verdict = verdict or self.is_chrome(node)
            self._inside[node] = verdict
        return verdict


FORM_BOX_MAX_CHARS = 300


def drop_form_boxes(tree: lxml.html.HtmlElement) -> int:
    """Remove small boxes built around a form: sign-up, search, login and comment-reply boxes.

    A form with a few lines of text around it ("Get our newsletter", "Leave a reply") is a
    widget in any language. From each form, take the largest ancestor still holding at most
    FORM_BOX_MAX_CHARS of text and remove it (its tail text stays). Returns how many went.
    """
    boxes = []
    for form in tree.iter("form"):
        if len(form.text_content().strip()) > FORM_BOX_MAX_CHARS:
            continue  # a page wrapped in one <form> (ASP.NET) is not a widget
        box = form
        parent = box.getparent()
        while (
            parent is not None
            and parent.tag not in BOX_STOP_TAGS
            and len(parent.text_content().strip()) <= FORM_BOX_MAX_CHARS
        ):
            box, parent = parent, parent.getparent()
        boxes.append(box)
    removed = 0
    for box in boxes:
        if box.getparent() is not None and not any(a in boxes for a in box.iterancestors()):
            box.drop_tree()
            removed += 1
    return removed


def visible_chars(root: lxml.html.HtmlElement) -> int:
    """Return the length of an element's text without script and style contents."""
    hidden = sum(len(el.text_content()) for el in root.iter("script", "style", "noscript"))
    return len(root.text_content()) - hidden


def caption_texts(tree: lxml.html.HtmlElement) -> set[str]:
    """Return the texts of image captions and alt texts, to recognise captions in any output."""
    texts: set[str] = set()
    for el in tree.iter("figcaption"):
        texts.add(_clean(el.text_content()))
    for el in tree.iter("img"):
        alt = el.get("alt")
        if alt:
            texts.add(_clean(alt))
    texts.discard("")
    return texts


_PARAGRAPH_BREAK = re.compile(f"{LINE_BREAK}[ \t\n\r\f\v]*(?:{LINE_BREAK}[ \t\n\r\f\v]*)+")


def split_text(raw: str) -> list[str]:
    """Cut raw text with line-break marks into paragraphs of clean lines.

    One <br> breaks a line; two in a row (old CMSs separate paragraphs so) end a paragraph.
    Whitespace runs collapse to one space, as a browser renders them.
    """
    if LINE_BREAK not in raw:  # one line (most blocks): what the loop below makes of it
        text = _clean(raw)
        return [text] if text else []
    out = []
    for part in _PARAGRAPH_BREAK.split(raw):
        lines = (_clean(line) for line in part.split(LINE_BREAK))
        text = "\n".join(line for line in lines if line)
        if text:
            out.append(text)
    return out


def _has_figcaption(img: lxml.html.HtmlElement) -> bool:
    """Tell whether an image's figure has a caption, which then describes it instead of alt."""
    figure = next(img.iterancestors("figure"), None)
    return figure is not None and next(figure.iter("figcaption"), None) is not None


_NOT_SPACE = re.compile(r"[^ \t\n\r\f\v]")


def _clean(text: str) -> str:
    """Collapse whitespace runs to one space and trim."""
    return collapse(_SPACES, _NOT_SPACE, text).strip()


class _Builder:
    """Accumulate text pieces and cut them into blocks at block boundaries."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.pieces: list[str] = []
        self.link_chars = 0
        self.kind = "p"
        self.cells: list[str] | None = None

    def add(self, text: str | None, in_link: bool, keep_lines: bool = False) -> None:
        if text:
            self.pieces.append(text.replace("\n", LINE_BREAK) if keep_lines else text)
            if in_link:
                self.link_chars += len(text.strip())

    def flush(self) -> None:
        if self.cells is not None:
            # Text between cells of a row (rare) joins the row's current cell.
            if self.pieces:
                self.cells.append(self._take())
            return
        raw = "".join(self.pieces)
        self.pieces = []
        # Only spaces (the line breaks between block tags, on pages of many): no text.
        if raw.strip(_ASCII_SPACE):
            texts = split_text(raw)
            total = max(1, sum(map(len, texts)))
            for text in texts:
                share = self.link_chars * len(text) // total
                self.blocks.append(Block(text, self.kind, min(share, len(text))))
        self.link_chars = 0
        self.kind = "p"

    def _take(self) -> str:
        texts = split_text("".join(self.pieces))
        self.pieces = []
        return " ".join(texts)

    def start_row(self) -> None:
        self.flush()
        self.cells = []

    def end_cell(self) -> None:
        if self.cells is not None:
            self.cells.append(self._take().replace("\n", " "))

    def end_row(self) -> None:
        if self.cells is None:
            return
        if self.pieces:
            self.cells.append(self._take().replace("\n", " "))
        cells = [c for c in self.cells if c]
        self.cells = None
        if cells:
            self.blocks.append(Block(" | ".join(cells), "row", 0))
        self.link_chars = 0


def page_blocks(
    tree: lxml.html.HtmlElement,
    keep_captions: bool = False,
    root: lxml.html.HtmlElement | None = None,
    chrome: Chrome | None = None,
    skip: Callable[[lxml.html.HtmlElement], bool] | None = None,
) -> list[Block]:
    """Return the text blocks of the page (or of `root` in it) minus chrome and boilerplate.

    `chrome` judges boilerplate (built for `root` when not given); `skip` names further
    subtrees to leave out (the main-content model's unchosen siblings).
    """
    if root is None:
        body = tree.find("body")
        root = body if body is not None else tree
    chrome = chrome or Chrome(root)
    out = _Builder()
    link_depth = 0
    pre_depth = 0  # inside <pre>, line breaks of the source are the text's own
    seen_captions: set[str] = set()

    def leave_out(el: lxml.html.HtmlElement) -> bool:
        """Tell whether to skip an element: chrome, or a caption not kept (or seen before)."""
        if chrome.is_chrome(el) or (skip is not None and skip(el)):
            return True
        if el.tag != "figcaption":
            return False
        text = _clean(el.text_content())
        return not keep_captions or not text or text in seen_captions

    for event, el in walk(root, leave_out):
        tag = el.tag
        if event == "tail":
            # A comment's or processing instruction's tail never keeps its lines (as ever).
            out.add(el.tail, link_depth > 0, pre_depth > 0 and isinstance(tag, str))
        elif event == "start":
            if tag == "img":
                alt = _clean(el.get("alt") or "") if keep_captions else ""
                if alt and alt not in seen_captions and not _has_figcaption(el):
                    out.flush()
                    seen_captions.add(alt)
                    out.blocks.append(Block(alt, "caption"))
                continue
            if tag == "figcaption":
                seen_captions.add(_clean(el.text_content()))
            if tag == "tr":
                out.start_row()
            elif tag in BLOCK_TAGS:
                out.flush()
                if tag in HEADING_TAGS or tag == "li":
                    out.kind = tag
                elif tag == "figcaption":
                    out.kind = "caption"
            elif tag == "br":
                out.add(LINE_BREAK, False)
            elif tag == "a":
                link_depth += 1
            if tag == "pre":
                pre_depth += 1
            out.add(el.text, link_depth > 0, pre_depth > 0)
        else:
            if tag in CELL_TAGS:
                out.end_cell()
            elif tag == "tr":
                out.end_row()
            elif tag in BLOCK_TAGS:
                out.flush()
            elif tag == "a":
                link_depth -= 1
            if tag == "pre":
                pre_depth -= 1
    out.end_row()
    out.flush()
    return out.blocks
