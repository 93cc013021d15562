"""Score how much prose each element of a page holds, by text and link density (no words used).

In the spirit of readability: every paragraph-like element with enough text is worth a score
that grows with its length and its clauses (punctuation marks of any script) and shrinks with
its share of link text. Two sums are kept per element:

- `rank`: the paragraph's score to its parent, half to its grandparent, a sixth to the next
  ancestor. The element with the best rank is the tightest container of the most prose: the
  candidate for the article's body;
- `mass`: the score of every paragraph below the element, undecayed. It measures how much of
  the page's prose an element holds, which decides whether a sibling joins the article and
  whether a box named like boilerplate ("modal", "read-more") holds too much prose to drop.

Page chrome (scripts, navigation, hidden elements, boxes named like boilerplate that hold
little of the page's prose) scores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.html

from cleanup.extract.blocks import Chrome
from cleanup.extract.tags import PARAGRAPH_TAGS, TEXT_HOLDER_TAGS

MIN_PARAGRAPH_CHARS = 25
# Clause marks of many scripts: a caption or a label has few, prose has many.
_CLAUSES = re.compile(r"[,.;:!?،؛。，、；！？।]")
MAX_CLAUSE_BONUS = 3.0
# How a paragraph's score reaches its ancestors (readability's decay): parent, grandparent, next.
_DECAY = (1.0, 0.5, 1.0 / 6.0)


def prose_score(text: str, link_chars: int) -> float:
    """Return how much a paragraph's text looks like prose: length, clauses, few links.

    Zero below MIN_PARAGRAPH_CHARS (a label, a date, a button): those carry no weight.
    """
    n = len(text.strip())
    if n < MIN_PARAGRAPH_CHARS:
        return 0.0
    density = min(1.0, link_chars / n)
    clauses = min(len(_CLAUSES.findall(text)) / 2.0, MAX_CLAUSE_BONUS)
    return (1.0 + min(n / 100.0, 3.0) + clauses) * (1.0 - density)


def _link_chars(el: lxml.html.HtmlElement) -> int:
    """Return how many characters of an element's text sit inside links."""
    if el.tag == "a":
        return len(el.text_content().strip())
    return sum(len(a.text_content().strip()) for a in el.iter("a"))


def _bare_texts(el: lxml.html.HtmlElement) -> list[str]:
    """Return the runs of bare text an element holds (its text and its children's tails).

    Old CMSs and table layouts hold prose as text split by <br>: each long run counts as a
    paragraph, as if it were wrapped in <p>.
    """
    return [piece for piece in (el.text, *(child.tail for child in el)) if piece]


@dataclass
class Scores:
    """Hold the rank and mass of the elements of one page (see the module docstring)."""

    rank: dict[lxml.html.HtmlElement, float] = field(default_factory=dict)
    mass: dict[lxml.html.HtmlElement, float] = field(default_factory=dict)
    chrome: Chrome | None = None

    def add(self, el: lxml.html.HtmlElement, score: float, first_level: int) -> None:
        """Credit a paragraph's score to el's ancestors from `first_level` up (0 = el)."""
        node: lxml.html.HtmlElement | None = el
        level = 0
        ranked = True
        while node is not None:
            if level >= first_level:
                self.mass[node] = self.mass.get(node, 0.0) + score
                step = level - first_level
                if ranked and step < len(_DECAY):
                    self.rank[node] = self.rank.get(node, 0.0) + score * _DECAY[step]
            # An <article> is a whole: its paragraphs rank no element around it (a list of
            # teasers, each an <article>, is no article; nor one holding related posts).
            ranked = ranked and node.tag != "article"
            node = node.getparent()
            level += 1

    def mass_of(self, el: lxml.html.HtmlElement) -> float:
        """Return the prose mass below an element (0 when it holds none)."""
        return self.mass.get(el, 0.0)


def score_page(root: lxml.html.HtmlElement) -> Scores:
    """Score every paragraph below root that is not chrome; return ranks and masses.

    Two passes: the first ignores class and id names and measures each element's prose, so
    that a box named like boilerplate can be weighed against the page's prose (Chrome); the
    second leaves out what is then chrome.
    """
    paragraphs = list(_paragraphs(root, Chrome(root, names=False)))
    first = Scores()
    for el, s, level in paragraphs:
        first.add(el, s, level)
    chrome = Chrome(root, first.mass)
    scores = Scores(chrome=chrome)
    for el, s, level in paragraphs:
        if not chrome.inside(el):
            scores.add(el, s, level)
    return scores


def _paragraphs(
    root: lxml.html.HtmlElement, chrome: Chrome
) -> Iterator[tuple[lxml.html.HtmlElement, float, int]]:
    """Yield each scoring paragraph outside chrome: element, score, first level credited."""
    for el in root.iter(*PARAGRAPH_TAGS):
        # Without children an element's text is its .text (text_content's XPath costs more).
        text = el.text_content() if len(el) else el.text or ""
        if len(text.strip()) < MIN_PARAGRAPH_CHARS:
            continue  # scores nothing, links or not: asked first (pages of many short ones)
        if chrome.inside(el):
            continue
        s = prose_score(text, _link_chars(el))
        if s:
            yield el, s, 1
    for el in root.iter(*TEXT_HOLDER_TAGS):
        pieces = [p for p in _bare_texts(el) if len(p.strip()) >= MIN_PARAGRAPH_CHARS]
        if not pieces or chrome.inside(el):
            continue
        yield el, sum(prose_score(p, 0) for p in pieces), 0


def link_density(el: lxml.html.HtmlElement) -> float:
    """Return the share of an element's text that sits inside links."""
    n = len(el.text_content().strip())
    return min(1.0, _link_chars(el) / n) if n else 0.0
