"""Extract one page: parse, read metadata, keep the whole text or choose the main content."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lxml.html

from cleanup.extract.blocks import (
    SKIP_TAGS,
    Block,
    caption_texts,
    drop_form_boxes,
    page_blocks,
)
from cleanup.extract.density import main_container
from cleanup.extract.main import body_blocks, refine, trafilatura_body
from cleanup.extract.meta import read_meta, title_variants
from cleanup.extract.parse import UnparseableHTML, parse_html

__all__ = ["Page", "UnparseableHTML", "extract_page"]

MODES = ("main", "all")
# When this share of trafilatura's text lies inside our own container, and not all of it
# does, trafilatura kept boilerplate around the article (cookie box, comments): our
# container's blocks are then the better choice. Below the lower bound our container is
# likely too narrow (an article split across elements) and trafilatura's choice stands.
# Measured on the benchmark: F1 0.968 (trafilatura refined) -> 0.970 (with this rule).
LEAK_LOW, LEAK_HIGH = 0.6, 0.95


@dataclass
class Page:
    """Hold what a page yields: its paragraphs, metadata and what the extraction removed."""

    paragraphs: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    method: str = "all"


def extract_page(html: str, mode: str = "main", keep_captions: bool = False) -> Page:
    """Turn an HTML page into paragraphs and metadata.

    `mode="all"` keeps the text of the whole page minus chrome and boilerplate elements;
    `mode="main"` keeps the main content. Raises UnparseableHTML for data that is not HTML.
    """
    if mode not in MODES:
        raise ValueError(f"extract mode must be one of {', '.join(MODES)}, not {mode!r}")
    tree = parse_html(html)
    meta = read_meta(tree)
    drop_form_boxes(tree)
    if mode == "main":
        page = _main(tree, meta, keep_captions)
        if page is not None:
            return page
        # Nothing chosen (a short page, a list page): the whole text minus chrome is
        # better than an empty document, and site-boilerplate dedup can still trim it.
    blocks = page_blocks(tree, keep_captions=keep_captions)
    return Page(_paragraphs(blocks), meta, {}, "all")


def _main(tree: lxml.html.HtmlElement, meta: dict[str, Any], keep_captions: bool) -> Page | None:
    """Choose the main content: trafilatura's blocks, or our container's when it leaked."""
    captions = set() if keep_captions else caption_texts(tree)
    titles = title_variants(tree)
    author = meta.get("author", "")
    body = tree.find("body")
    container = main_container(body if body is not None else tree)
    extracted = trafilatura_body(tree)
    chosen: list[Block] = []
    removed: dict[str, int] = {}
    method = "main"
    if extracted is not None:
        chosen, removed = refine(body_blocks(extracted), titles, captions, author)
    if container is not None and (not chosen or _leaked(chosen, container)):
        own, own_removed = refine(
            page_blocks(tree, keep_captions, root=container), titles, captions, author
        )
        if chosen:
            own = _within_span(own, chosen)
        if own:
            chosen, removed, method = own, own_removed, "main:density"
    if not chosen:
        return None
    return Page(_paragraphs(chosen), meta, removed, method)


def _leaked(blocks: list[Block], container: lxml.html.HtmlElement) -> bool:
    """Tell whether a fair part, but not most, of the blocks' text lies outside `container`.

    A block counts as outside in the share of its word 3-grams that occur in the page's text
    outside the container (a block can straddle both, as table-layout rows do). Sets of
    n-grams of the (usually small) outside text keep this linear in the page size; a
    substring search per block would be quadratic on huge pages.
    """
    outside_grams = _grams(_outside_text(container))
    total = inside = 0.0
    for block in blocks:
        grams = _grams(block.text)
        total += len(block.text)
        if grams:
            inside += len(block.text) * (1.0 - len(grams & outside_grams) / len(grams))
    share = inside / max(1.0, total)
    return LEAK_LOW <= share < LEAK_HIGH


def _within_span(own: list[Block], chosen: list[Block]) -> list[Block]:
    """Keep our blocks from the first to the last one that trafilatura also chose.

    trafilatura's choice bounds the article (it prunes author boxes, donation appeals and
    teasers by many signals); our container supplies what it dropped inside those bounds
    (headings, list items, tables).
    """
    chosen_grams = _grams(" ".join(b.text for b in chosen))
    shared = [
        i
        for i, b in enumerate(own)
        if (g := _grams(b.text)) and len(g & chosen_grams) >= 0.5 * len(g)
    ]
    if not shared:
        return own
    return own[shared[0] : shared[-1] + 1]


def _outside_text(container: lxml.html.HtmlElement) -> str:
    """Return the text of the page outside `container` (its ancestors' other children)."""
    pieces: list[str] = []
    node = container
    parent = node.getparent()
    while parent is not None and node.tag != "body":  # <head> holds no visible text
        pieces.append(parent.text or "")
        for child in parent:
            if child is not node and isinstance(child.tag, str) and child.tag not in SKIP_TAGS:
                pieces.append(child.text_content())
            pieces.append(child.tail or "")
        node, parent = parent, parent.getparent()
    return " ".join(pieces)


def _grams(text: str, n: int = 3) -> set[tuple[str, ...]]:
    """Return the word n-grams of a text (the whole word tuple when it is shorter)."""
    words = text.split()
    if len(words) <= n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _paragraphs(blocks: list[Block]) -> list[str]:
    """Return the blocks' texts as paragraphs."""
    return [b.text for b in blocks if b.text]
