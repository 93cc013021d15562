"""Refine a page's main content by structural filters; run trafilatura when asked.

`refine` prunes the blocks of any extractor (ours by default, see `content`). The rest
serves `--extractor trafilatura` (the optional extra cleanup[trafilatura]).
Measured on scrapinghub's article-extraction-benchmark (scripts/eval_html.py): trafilatura's
fast mode keeps the article but also the headline, teaser lists and newsletter boxes around
it. The filters below remove those by structure alone (link density, headings without
content, the page's own title), so they hold for pages in any language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import lxml.etree as etree
import lxml.html

from cleanup.errors import UsageProblem
from cleanup.extract.blocks import LINE_BREAK, Block, split_text
from cleanup.extract.meta import fold
from cleanup.extract.tags import HEADING_TAGS
from cleanup.extract.walk import walk

# trafilatura logs every page it cannot extract from; a run counts those itself.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$|^\S+@\S+\.\w+$", re.I)
# A list item or paragraph mostly made of link text is a teaser, not prose.
LINK_DENSITY_ITEM = 0.7
LINK_DENSITY_PARAGRAPH = 0.8
# ... unless it is long: a linked block of prose is still prose (a card wrapped in <a>).
LINK_PARAGRAPH_MAX_CHARS = 400
# A short line naming the page's author (from its metadata) is the byline.
BYLINE_MAX_CHARS = 120
LABEL_MAX_CHARS = 40
LEAD_LINE_MAX_CHARS = 80
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？", ":", ";", '"', "»", "”")
BYLINE_MIN_AUTHOR = 5  # "AP" or "admin" are not names to look for


def require_trafilatura() -> None:
    """Fail with one line naming the extra to install when trafilatura is missing.

    trafilatura is optional (cleanup[trafilatura]): our content model is the default.
    """
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        raise UsageProblem(
            "--extractor trafilatura needs trafilatura: pip install 'cleanup[trafilatura]'"
        ) from None


def trafilatura_body(tree: lxml.html.HtmlElement) -> etree._Element | None:
    """Run trafilatura's main-content extraction on a parsed tree; None when it finds nothing.

    fast=True skips its readability/jusText fallbacks: on the benchmark it is both more
    accurate (F1 0.962 vs 0.960) and 1.5x faster than the default. Its include_links option
    would tell us which text was linked, but it changes what trafilatura keeps (F1 0.902), so
    link text is marked in the tree instead (see _mark_links) and the marks read back.
    """
    import trafilatura  # imported on the first page: a plain-text run never pays for it

    undo = _mark_links(tree)
    try:
        doc = trafilatura.bare_extraction(
            tree,
            fast=True,
            include_comments=False,
            include_links=False,
            include_tables=True,
            include_images=False,
            with_metadata=False,
        )
    finally:
        _unmark(undo)
    if doc is None:
        return None
    body: etree._Element | None = doc.body  # type: ignore[union-attr]
    return body


LINK_OPEN, LINK_CLOSE = "\ue000", "\ue001"  # private-use characters, absent from real text
_Undo = list[tuple[etree._Element, str, str | None]]


def _mark_links(tree: lxml.html.HtmlElement) -> _Undo:
    """Wrap the text of every link in private-use marks; return what restores the tree.

    trafilatura copies the tree before it extracts, so the marks travel into its output,
    where they measure each block's link text; the caller's tree is restored right after.
    """
    undo: _Undo = []
    for link in tree.iter("a"):
        if not link.text_content().strip():
            continue
        undo.append((link, "text", link.text))
        link.text = LINK_OPEN + (link.text or "")
        if len(link):
            last = link[-1]
            undo.append((last, "tail", last.tail))
            last.tail = (last.tail or "") + LINK_CLOSE
        else:
            link.text += LINK_CLOSE
    return undo


def _unmark(undo: _Undo) -> None:
    """Restore the texts and tails that _mark_links changed (last change first)."""
    for el, attr, value in reversed(undo):
        setattr(el, attr, value)


_MARKS = re.compile(f"[{LINK_OPEN}{LINK_CLOSE}]")


def _unmarked(text: str) -> tuple[str, int]:
    """Remove link marks from text; return it and how many non-space characters were linked."""
    if LINK_OPEN not in text and LINK_CLOSE not in text:
        return text, 0
    linked = 0
    depth = 0
    for piece in re.split(f"([{LINK_OPEN}{LINK_CLOSE}])", text):
        if piece == LINK_OPEN:
            depth += 1
        elif piece == LINK_CLOSE:
            depth = max(0, depth - 1)
        elif depth:
            linked += len(piece.strip())
    return _MARKS.sub("", text), linked


def body_blocks(body: etree._Element) -> list[Block]:
    """Turn trafilatura's XML body (head, p, list/item, table/row/cell, quote) into blocks."""
    blocks: list[Block] = []
    for el in body:
        _collect(el, blocks)
    return blocks


def _collect(el: etree._Element, blocks: list[Block]) -> None:
    """Add the blocks of one body element; containers are walked without recursion."""
    stack = [el]
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag in ("list", "quote", "div") and any(c.tag in _BLOCKISH for c in node):
            stack.extend(reversed(list(node)))
            continue
        if tag == "table":
            for row in node.iter("row"):
                cells = [_SPACES.sub(" ", _text(c)[0]) for c in row if c.tag == "cell"]
                cells = [c for c in cells if c]
                if cells:
                    blocks.append(Block(" | ".join(cells), "row"))
            continue
        if tag == "graphic":
            continue
        text, links = _text(node)
        if not text:
            continue
        kind = "p"
        if tag == "head":
            rend = node.get("rend") or "h2"
            kind = rend if rend in HEADING_TAGS else "h2"
        elif tag == "item":
            kind = "li"
        parts = text.split("\n\n")  # <br><br> inside one element: several paragraphs
        for part in parts:
            share = links * len(part) // max(1, len(text))
            blocks.append(Block(part, kind, min(share, len(part))))


_BLOCKISH = frozenset({"p", "item", "list", "head", "quote", "table", "div", "code"})


def _text(node: etree._Element) -> tuple[str, int]:
    """Return an element's text (line breaks kept) and how many characters sit in links."""
    raw = "".join(_ordered_text(node)) if len(node) else (node.text or "")
    raw, links = _unmarked(raw)
    # trafilatura trims whitespace inside its elements, except in its baseline fallback,
    # which joins the page's text blocks with newlines: those are paragraph boundaries.
    raw = raw.replace("\n", LINE_BREAK + LINE_BREAK)
    return "\n\n".join(split_text(raw)), links


def _ordered_text(node: etree._Element) -> Iterator[str]:
    """Yield an element's text pieces in document order, with line-break markers."""
    for event, sub in walk(node):
        if event == "start":
            if sub.tag == "lb":
                yield LINE_BREAK
            if sub.text:
                yield sub.text
        elif event == "tail":
            yield sub.tail


def refine(
    blocks: list[Block], titles: set[str], captions: set[str], author: str = ""
) -> tuple[list[Block], dict[str, int]]:
    """Remove teaser lists, link-only lines, the headline and orphan headings; count removals.

    - a list item or paragraph that is mostly link text is a teaser or menu entry;
    - a line that is only a URL or an e-mail address is a share or contact widget;
    - a short line just before removed teaser links is their box's label;
    - a short line holding the author's name (from the page's metadata) is the byline;
    - a caption (figcaption or alt text of the page) is not prose (strip-html keeps it
      only with --keep-captions, and then once);
    - a leading heading equal to the page title is the headline, kept in meta["title"];
    - a heading followed by no text before the next heading of its level or above, or by
      nothing at all, introduced a box whose content is gone (or never was prose).
    """
    removed: dict[str, int] = {}

    def keep(block: Block) -> bool:
        reason = ""
        if (block.kind == "li" and block.link_density >= LINK_DENSITY_ITEM) or (
            block.kind in ("p", "row")
            and block.link_density >= LINK_DENSITY_PARAGRAPH
            and len(block.text) <= LINK_PARAGRAPH_MAX_CHARS
        ):
            reason = "links"
        elif _URL_ONLY.match(block.text):
            reason = "url"
        elif captions and block.kind in ("p", "caption") and block.text in captions:
            reason = "caption"
        elif (
            len(author) >= BYLINE_MIN_AUTHOR
            and len(block.text) <= BYLINE_MAX_CHARS
            and author in block.text
        ):
            reason = "byline"
        if reason:
            removed[reason] = removed.get(reason, 0) + 1
        return not reason

    keep_flags = [keep(b) for b in blocks]
    # The label of a teaser box ("Read also", "Lo más leído"): a short line right before
    # a run of removed link blocks, not a sentence of its own.
    for i in range(len(blocks) - 1):
        label = blocks[i]
        if (
            keep_flags[i]
            and not keep_flags[i + 1]
            and label.kind in ("p", "li")
            and len(label.text) <= LABEL_MAX_CHARS
            and not label.text.rstrip().endswith(_SENTENCE_END)
            and blocks[i + 1].link_density >= LINK_DENSITY_ITEM
        ):
            keep_flags[i] = False
            removed["label"] = removed.get("label", 0) + 1
    kept = [b for b, k in zip(blocks, keep_flags, strict=True) if k]
    # The headline: leading headings (or a first paragraph) that repeat the page title.
    while kept and kept[0].kind in HEADING_TAGS | {"p"} and fold(kept[0].text) in titles:
        kept.pop(0)
        removed["title"] = removed.get("title", 0) + 1
    kept, lead = _drop_lead_lines(kept)
    if lead:
        removed["lead"] = lead
    kept, orphans = _drop_orphan_headings(kept)
    if orphans:
        removed["heading"] = orphans
    return kept, removed


def _drop_lead_lines(blocks: list[Block]) -> tuple[list[Block], int]:
    """Drop the short lines that precede the first sentence: bylines, dates, credits.

    Before an article's first paragraph sit its byline, its date and its picture's credit:
    short lines that end like no sentence (in any script). Headings stay (the orphan rule
    judges them); the first line that is long or ends like a sentence ends the lead.
    """
    original = blocks
    start = 0
    dropped = 0
    while start < len(blocks):
        block = blocks[start]
        if block.kind in HEADING_TAGS:
            start += 1
            continue
        text = block.text.rstrip()
        if len(text) >= LEAD_LINE_MAX_CHARS or text.endswith(_SENTENCE_END):
            break
        blocks = blocks[:start] + blocks[start + 1 :]
        dropped += 1
    if start == len(blocks):  # no sentence at all: nothing to tell the lead from
        return original, 0
    return blocks, dropped


def _drop_orphan_headings(blocks: list[Block]) -> tuple[list[Block], int]:
    """Drop headings that head no text: walking back, a heading needs text below it."""
    out: list[Block] = []
    has_text_below: dict[int, bool] = {}  # heading level -> text seen since
    content_since = False
    dropped = 0
    for block in reversed(blocks):
        if block.kind in HEADING_TAGS:
            level = int(block.kind[1])
            # Text under a deeper heading that was kept also counts for this one.
            if content_since or any(v for lv, v in has_text_below.items() if lv > level):
                out.append(block)
                has_text_below = {lv: v for lv, v in has_text_below.items() if lv < level}
                has_text_below[level] = True
                content_since = False
            else:
                dropped += 1
        else:
            out.append(block)
            content_since = True
    out.reverse()
    return out, dropped
