"""Choose a page's main content: the best-scored block, joined by its siblings and cousins.

The content model (`--extractor ours`, the default), in three steps, using no words of any
language:

1. score (`density.score_page`): every paragraph of prose credits its ancestors; the element
   with the best rank, weighed by its link density and its markup (<article>, <main>,
   itemprop=articleBody), is the top block;
2. join (readability's sibling step, extended to cousins): an article is often split across
   siblings -- sections between <hr>s, story-body <div>s with ads between, text before and
   after a full-width figure. Each sibling of the top block joins it when it holds a fair share
   of the top block's prose at a low link density, or when it is a paragraph of prose itself;
   a heading joins with the block it introduces. When the parent's prose is then all chosen,
   the parent is only a wrapper: its siblings (the top block's cousins) are tested the same
   way, up to COUSIN_LEVELS levels. A section front's teasers are siblings of each other, so
   a listing page keeps its list;
3. read: the chosen elements, and the loose text between them, are read as blocks
   (`blocks.page_blocks`, chrome left out) for `main.refine` to prune.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import lxml.html

from cleanup.extract.blocks import Block, Chrome, page_blocks
from cleanup.extract.density import Scores, link_density, score_page
from cleanup.extract.tags import (
    ARTICLE_TAGS,
    HEADING_TAGS,
    JOINABLE_SIBLING_TAGS,
    LAYOUT_TAGS,
    LEFT_OUT_TAGS,
    NEVER_BREAK_TAGS,
    PARAGRAPH_TAGS,
    SECTION_TAGS,
)

# A sibling holding this share of the top block's prose joins it (readability: 0.2).
SIBLING_SHARE = 0.2
SIBLING_MAX_LINKS = 0.25
# A sibling paragraph joins on its own merits: long enough with few links...
PARAGRAPH_MIN_CHARS = 80
PARAGRAPH_MAX_LINKS = 0.25
# ... or short, without links, ending like a sentence (in any script).
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？", "।", "؟", ":", '"', "»", "”", ")")
# How many wrapper levels up cousins are looked for.
COUSIN_LEVELS = 3
# A parent counts as a mere wrapper when the chosen blocks hold this share of its prose.
WRAPPER_SHARE = 0.9
SEMANTIC_WEIGHT = 1.5
GALLERY_MIN_PICTURES = 3
GALLERY_WEIGHT = 0.25
# A sibling that does not join, with this much text, ends the article on its side.
BREAK_MIN_CHARS = 100
TOP_CANDIDATES = 20


@dataclass
class Selection:
    """Hold the chosen elements, the element to read them from and the page's chrome."""

    chosen: set[lxml.html.HtmlElement]
    root: lxml.html.HtmlElement
    chrome: Chrome

    def skip(self) -> Callable[[lxml.html.HtmlElement], bool]:
        """Return the predicate that leaves out everything not chosen below the root.

        Between the root and the chosen elements lie partial ancestors: only their chosen
        children (and the loose text between them) are read.
        """
        partial: set[lxml.html.HtmlElement] = set()
        for el in self.chosen:
            for anc in el.iterancestors():
                if anc in partial:
                    break
                partial.add(anc)
                if anc is self.root:
                    break
        partial -= self.chosen
        keep = self.chosen | partial

        def skip(el: lxml.html.HtmlElement) -> bool:
            # An <aside> inside the article is a pull quote or a box beside the text; a
            # <figure> holds a picture, its caption and credit (put back by --keep-captions).
            return el.tag in LEFT_OUT_TAGS or (el.getparent() in partial and el not in keep)

        return skip


def choose(root: lxml.html.HtmlElement, scores: Scores | None = None) -> Selection | None:
    """Return the page's main content as a selection, or None when it holds no prose.

    `scores`: score_page(root), when the caller has it already.
    """
    if scores is None:
        scores = score_page(root)
    if not scores.rank or scores.chrome is None:
        return None
    top = _top(scores)
    chosen, lca = _join(top, scores, root)
    return Selection(chosen, lca, scores.chrome)


def content_blocks(root: lxml.html.HtmlElement, scores: Scores | None = None) -> list[Block] | None:
    """Return the blocks of the page's main content (unrefined), or None without prose.

    Captions stay out: strip-html puts them back in place when asked (page._with_captions).
    """
    selection = choose(root, scores)
    if selection is None:
        return None
    return page_blocks(
        root,
        root=selection.root,
        chrome=selection.chrome,
        skip=selection.skip(),
    )


def _weight(el: lxml.html.HtmlElement) -> float:
    """Return how much an element's markup says it is the article (1.0 when it says nothing).

    <article>, <main> and itemprop=articleBody say so, unless the element holds several
    <article>s (a list of teasers) or sits inside an <article> (a related post in a post).
    A gallery (pictures with captions) weighs less: its captions are many paragraphs, but
    no article.
    """
    weight = GALLERY_WEIGHT if _is_gallery(el) else 1.0
    semantic = el.tag in ARTICLE_TAGS or el.get("itemprop") == "articleBody"
    nested = next(el.iterancestors("article"), None) is not None
    if semantic and not nested and not _holds_articles(el):
        weight *= SEMANTIC_WEIGHT
    return weight


def _top(scores: Scores) -> lxml.html.HtmlElement:
    """Return the best candidate: rank, weighed by link density and markup."""
    best = heapq.nlargest(TOP_CANDIDATES, scores.rank.items(), key=lambda kv: kv[1])
    return max(best, key=lambda kv: kv[1] * (1.0 - link_density(kv[0])) * _weight(kv[0]))[0]


def _join(
    top: lxml.html.HtmlElement, scores: Scores, root: lxml.html.HtmlElement
) -> tuple[set[lxml.html.HtmlElement], lxml.html.HtmlElement]:
    """Join the top block's siblings and cousins that pass the tests; return them and their root."""
    chosen = {top}
    top_rank = scores.rank.get(top, 0.0)
    node = top
    lca = top
    for _ in range(COUSIN_LEVELS):
        parent = node.getparent()
        if node is root or parent is None:
            break
        joined = _join_siblings(node, parent, top_rank, scores)
        if len(joined) > 1:
            # node itself is a wrapper of what is chosen already: only its siblings join.
            chosen.update(el for el in joined if el is not node)
            lca = parent
        chosen_mass = sum(scores.mass_of(el) for el in joined)
        if scores.mass_of(parent) > chosen_mass / WRAPPER_SHARE:
            break  # the parent holds other prose (a sidebar, teasers): no wrapper
        node = parent
    return chosen, lca


def _join_siblings(
    node: lxml.html.HtmlElement,
    parent: lxml.html.HtmlElement,
    top_rank: float,
    scores: Scores,
) -> list[lxml.html.HtmlElement]:
    """Return node and the siblings that join it, with headings that introduce a joined one."""
    chrome = scores.chrome
    children = [c for c in parent if isinstance(c.tag, str)]
    at = next(i for i, c in enumerate(children) if c is node)
    flags = [False] * len(children)
    flags[at] = True
    # Outward from the top block, siblings join while they pass; one that fails breaks the
    # chain only when it holds text of its own (teasers, an author box), not when it is an
    # ad, a rule, a figure or chrome.
    for order in (range(at + 1, len(children)), range(at - 1, -1, -1)):
        for i in order:
            child = children[i]
            if chrome is not None and chrome.inside(child):
                continue
            if _joins(child, top_rank, scores) or _same_kind(child, node, scores):
                flags[i] = True
            elif _breaks(child, scores):
                break
    # A heading joins when the next element joined (its section's text).
    for i in range(len(children) - 2, -1, -1):
        if not flags[i] and children[i].tag in HEADING_TAGS and flags[i + 1]:
            flags[i] = True
    return [c for c, f in zip(children, flags, strict=True) if f]


def _breaks(sib: lxml.html.HtmlElement, scores: Scores) -> bool:
    """Tell whether a sibling that did not join ends the article on its side.

    Rules, figures and headings never do; neither does a short box (an ad's label) nor one
    of prose with few links (a short passage, too light to join on its share alone).
    """
    if sib.tag in NEVER_BREAK_TAGS:
        return False
    if len(sib.text_content().strip()) < BREAK_MIN_CHARS:
        return False
    return not (scores.mass_of(sib) and link_density(sib) < SIBLING_MAX_LINKS)


def _same_kind(sib: lxml.html.HtmlElement, node: lxml.html.HtmlElement, scores: Scores) -> bool:
    """Tell whether a sibling is built like the top block (same tag and class) and holds prose.

    Story-body containers and <section>s repeat: each holds a part of the article, some too
    short to join on their share of the prose. Without a class only <section> and <article>
    say so; table rows and cells are layout.
    """
    cls = node.get("class")
    if node.tag in LAYOUT_TAGS or not (cls or node.tag in SECTION_TAGS):
        return False
    return (
        sib.tag == node.tag
        and sib.get("class") == cls
        and scores.mass_of(sib) > 0
        and link_density(sib) < SIBLING_MAX_LINKS
    )


def _joins(sib: lxml.html.HtmlElement, top_rank: float, scores: Scores) -> bool:
    """Tell whether a sibling of the top block is more of the article.

    It holds a block of prose ranked at least SIBLING_SHARE of the top block (a thread of
    short comments holds none) at a low link density, and is neither a gallery nor a list of
    <article>s (related posts); or it is a paragraph (or list, table) of prose on its own.
    """
    if scores.mass_of(sib) and _peak(sib, scores) >= SIBLING_SHARE * top_rank:
        return (
            link_density(sib) < SIBLING_MAX_LINKS
            and not _is_gallery(sib)
            and not _holds_articles(sib)
        )
    if sib.tag not in JOINABLE_SIBLING_TAGS:
        return False
    text = sib.text_content().strip()
    if not text:
        return False
    density = link_density(sib)
    if len(text) >= PARAGRAPH_MIN_CHARS:
        return density < PARAGRAPH_MAX_LINKS
    return density == 0 and text.endswith(_SENTENCE_END)


def _peak(el: lxml.html.HtmlElement, scores: Scores) -> float:
    """Return the best rank of an element or any element below it."""
    rank = scores.rank
    return max((rank.get(d, 0.0) for d in el.iter()), default=0.0)


def _is_gallery(el: lxml.html.HtmlElement) -> bool:
    """Tell whether an element is a run of pictures with captions rather than prose.

    Each of its paragraphs comes with a picture (at least GALLERY_MIN_PICTURES of them); an
    element with pictures but no paragraphs (bare text, a table layout) is no gallery.
    """
    pictures = sum(1 for _ in el.iter("img"))
    if pictures < GALLERY_MIN_PICTURES:
        return False
    captions = sum(1 for _ in el.iter(*PARAGRAPH_TAGS))
    return GALLERY_MIN_PICTURES <= captions <= pictures


def _holds_articles(el: lxml.html.HtmlElement) -> bool:
    """Tell whether an element holds several <article>s: a list of posts, not one post."""
    return sum(1 for _ in itertools.islice(el.iterdescendants("article"), 2)) >= 2
