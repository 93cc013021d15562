"""Extract one page: parse, read metadata, keep the whole text or choose the main content.

Main content is chosen by two extractors that check each other: trafilatura (fast mode,
its choice refined by main.refine) and our own density scorer (density.main_container).
trafilatura's choice stands unless it spills out of our container (then our container's
blocks, bounded by trafilatura's first and last shared block, are kept) or it is one block
for the whole page (its baseline fallback; then our blocks re-cut its text into
paragraphs). Measured on the benchmark (scripts/eval_html.py): F1 0.962 for trafilatura's
fast mode alone, 0.967 refined, 0.976 with the density cross-check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import lxml.html

from cleanup.errors import OptionError
from cleanup.extract import EXTRACTORS
from cleanup.extract.blocks import Block, caption_texts, drop_form_boxes, page_blocks
from cleanup.extract.content import choose, content_blocks
from cleanup.extract.density import Scores, score_page
from cleanup.extract.main import body_blocks, refine, trafilatura_body
from cleanup.extract.meta import read_meta, title_variants
from cleanup.extract.parse import UnparseableHTML, parse_html
from cleanup.extract.tags import SKIP_TAGS, TEXT_TAGS

__all__ = ["Page", "UnparseableHTML", "extract_page"]

MODES = ("main", "all")
MIN_HEADLESS_CHARS = 200
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


def extract_page(
    html: str, mode: str = "main", keep_captions: bool = False, extractor: str = "ours"
) -> Page:
    """Turn an HTML page into paragraphs and metadata.

    `mode="all"` keeps the text of the whole page minus chrome and boilerplate elements;
    `mode="main"` keeps the main content, chosen by our content model (`extractor="ours"`)
    or by trafilatura cross-checked with it (`extractor="trafilatura"`, the optional extra
    cleanup[trafilatura]). Raises UnparseableHTML for data that is not HTML.
    """
    if mode not in MODES:
        raise OptionError(f"extract mode must be one of {', '.join(MODES)}, not {mode!r}")
    if extractor not in EXTRACTORS:
        raise OptionError(f"extractor must be one of {', '.join(EXTRACTORS)}, not {extractor!r}")
    tree = parse_html(html)
    meta = read_meta(tree)
    if tree.find("body") is None:
        tree = _reparse_headless(html, tree)
    drop_form_boxes(tree)
    body = tree.find("body")
    scores = None
    if mode == "main":
        if extractor == "ours":
            # Our model reads the tree without changing it: its scores are the fallback's.
            scores = score_page(body if body is not None else tree)
            page = _ours(tree, meta, keep_captions, scores)
        else:
            page = _main(tree, meta, keep_captions)
        if page is not None:
            return page
        # Nothing chosen (a short page, a list page): the whole text minus chrome is
        # better than an empty document, and site-boilerplate dedup can still trim it.
    # Boxes named like boilerplate are weighed against the page's prose, as in main mode.
    if scores is None:
        body = tree.find("body")
        scores = score_page(body if body is not None else tree)
    blocks = page_blocks(tree, keep_captions=keep_captions, chrome=scores.chrome)
    return Page(_paragraphs(blocks), meta, {}, "all")


_HEAD_TAG_RE = re.compile(r"</?(?:head|title)\b[^>]*>", re.I)


def _reparse_headless(html: str, tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Parse again, without <head> and <title> tags, a page whose text all fell into <head>.

    An unclosed <title> (a truncated or mangled page) swallows the whole page: libxml2 then
    builds no <body> at all. Without those two tags the text lands in a body; metadata was
    read from the first parse.
    """
    if len(tree.text_content()) < MIN_HEADLESS_CHARS:
        return tree
    return parse_html(_HEAD_TAG_RE.sub(" ", html))


def _ours(
    tree: lxml.html.HtmlElement, meta: dict[str, Any], keep_captions: bool, scores: Scores
) -> Page | None:
    """Choose the main content with our own model (content.choose), then prune it (refine).

    `scores`: score_page of the page's body (or of the tree without one).
    """
    captions = set() if keep_captions else caption_texts(tree)
    figures = _figure_positions(tree) if keep_captions else []
    body = tree.find("body")
    titles = title_variants(tree)
    blocks = content_blocks(body if body is not None else tree, scores)
    if not blocks:
        return None
    chosen, removed = refine(blocks, titles, captions, meta.get("author", ""))
    if not chosen:
        return None
    if keep_captions:
        chosen = _with_captions(figures, chosen)
    return Page(_paragraphs(chosen), meta, removed, "main")


def _main(tree: lxml.html.HtmlElement, meta: dict[str, Any], keep_captions: bool) -> Page | None:
    """Choose the main content: trafilatura's blocks, or our container's when it leaked."""
    captions = set() if keep_captions else caption_texts(tree)
    figures = _figure_positions(tree) if keep_captions else []
    titles = title_variants(tree)
    author = meta.get("author", "")
    body = tree.find("body")
    selection = choose(body if body is not None else tree)
    container = selection.root if selection is not None else None
    extracted = trafilatura_body(tree)
    chosen: list[Block] = []
    removed: dict[str, int] = {}
    method = "main"
    if extracted is not None:
        chosen, removed = refine(body_blocks(extracted), titles, captions, author)
    # Our container's blocks replace trafilatura's when it found nothing, when its choice
    # leaked out of the article, or when it gave one block for the whole page (its baseline
    # fallback puts all text in one <p>): there our blocks keep the paragraphs apart.
    # Its baseline fallback (short pages) returns one <p> whose lines break at inline tags too
    # ("Hello\nworld\n, ..." for "Hello <b>world</b>, ..."): only our blocks cut it right.
    baseline = (
        extracted is not None and len(extracted) == 1 and "\n" in "".join(extracted.itertext())
    )
    if baseline and container is None:  # too little text for a container: the whole page
        container = body if body is not None else tree
    leaked = container is not None and len(chosen) > 1 and _leaked(chosen, container)
    if container is not None and (leaked or baseline or len(chosen) <= 1):
        skip = selection.skip() if selection is not None and not baseline else None
        own, own_removed = refine(
            page_blocks(tree, False, root=container, skip=skip), titles, captions, author
        )
        if leaked:
            own = _within_span(own, chosen)
        elif baseline:  # trafilatura chose nothing finer than the page: take the container's
            pass
        elif chosen:  # one block: only re-cut its own text into paragraphs
            own = _shared_with(own, chosen)
        if own and (leaked or baseline or len(own) > len(chosen)):
            chosen, removed, method = own, own_removed, "main:density"
    if not chosen:
        return None
    if keep_captions:
        chosen = _with_captions(figures, chosen)
    return Page(_paragraphs(chosen), meta, removed, method)


def _figure_positions(tree: lxml.html.HtmlElement) -> list[tuple[str, list[str]]]:
    """List each <figure>'s caption (figcaption, else alt text) with the texts before it.

    Read before extraction changes the tree; `_with_captions` places the captions back
    among the chosen blocks by the text that preceded them on the page.
    """
    figures: list[tuple[str, list[str]]] = []
    before: list[str] = []
    for el in tree.iter("figure", *TEXT_TAGS):
        if el.tag == "figure":
            caption = next((_clean(c.text_content()) for c in el.iter("figcaption")), "")
            if not caption:
                caption = next((_clean(i.get("alt") or "") for i in el.iter("img")), "")
            if caption:
                figures.append((caption, before))
                before = []
        else:
            text = _clean(el.text_content())
            if text:
                before.append(text)
    return figures


def _with_captions(figures: list[tuple[str, list[str]]], blocks: list[Block]) -> list[Block]:
    """Put captions of figures that sit inside the chosen text back in place, once each.

    A figure counts as inside when a chosen block precedes it on the page and another
    follows it, so logos and teaser images around the article stay out.
    """
    index = {b.text: i for i, b in reversed(list(enumerate(blocks)))}
    inserts: dict[int, list[str]] = {}
    last = -1
    seen = {b.text for b in blocks}
    for caption, before in figures:
        for text in before:
            last = max(last, index.get(text, -1))
        if 0 <= last < len(blocks) - 1 and caption not in seen:
            seen.add(caption)
            inserts.setdefault(last + 1, []).append(caption)
    out: list[Block] = []
    for i, block in enumerate(blocks):
        out.extend(Block(c, "caption") for c in inserts.get(i, []))
        out.append(block)
    return out


def _clean(text: str) -> str:
    """Collapse whitespace runs and trim."""
    return " ".join(text.split())


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


def _shared_indices(own: list[Block], chosen: list[Block]) -> list[int]:
    """Return the indices of our blocks whose text is mostly in trafilatura's blocks."""
    chosen_grams = _grams(" ".join(b.text for b in chosen))
    return [
        i
        for i, b in enumerate(own)
        if (g := _grams(b.text)) and len(g & chosen_grams) >= 0.5 * len(g)
    ]


def _shared_with(own: list[Block], chosen: list[Block]) -> list[Block]:
    """Keep our blocks whose text trafilatura also chose."""
    return [own[i] for i in _shared_indices(own, chosen)]


def _within_span(own: list[Block], chosen: list[Block]) -> list[Block]:
    """Keep our blocks from the first to the last one that trafilatura also chose.

    trafilatura's choice bounds the article (it prunes author boxes, donation appeals and
    teasers by many signals); our container supplies what it dropped inside those bounds
    (headings, list items, tables).
    """
    shared = _shared_indices(own, chosen)
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
