"""Find the element that holds a page's main text by text and link density (no words used).

In the spirit of readability: every paragraph-like element with enough text gives its parent
a score that grows with its length and shrinks with its share of link text, and half that to
its grandparent. The best-scored element is the article's container; when its siblings carry
a fair share of the score too, the article is split across them and their parent is taken.
"""

from __future__ import annotations

import re

import lxml.html

from cleanup.extract.blocks import is_chrome, visible_chars
from cleanup.extract.tags import PARAGRAPH_TAGS, TEXT_HOLDER_TAGS

_SPACES = re.compile(r"\s+")
MIN_PARAGRAPH_CHARS = 25
SIBLING_SHARE = 0.5


def _score_of(el: lxml.html.HtmlElement) -> float:
    """Return how much an element looks like a paragraph of prose: length, few links."""
    text = el.text_content()
    n = len(text.strip())
    if n < MIN_PARAGRAPH_CHARS:
        return 0.0
    link = sum(len(a.text_content().strip()) for a in el.iter("a"))
    density = min(1.0, link / n)
    return (1.0 + min(n / 100.0, 3.0)) * (1.0 - density)


def _bare_text_score(el: lxml.html.HtmlElement) -> float:
    """Score the prose an element holds as bare text (its text and its children's tails).

    Each run of bare text long enough to be a paragraph (between <br>s or child elements)
    counts as one, as if it were wrapped in <p>.
    """
    score = 0.0
    for piece in (el.text, *(child.tail for child in el)):
        if piece:
            n = len(piece.strip())
            if n >= MIN_PARAGRAPH_CHARS:
                score += 1.0 + min(n / 100.0, 3.0)
    return score


def main_container(root: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """Return the element holding the page's main text, or None when no prose was found."""
    body_chars = visible_chars(root)
    chrome: dict[lxml.html.HtmlElement, bool] = {root: False}

    def in_chrome(el: lxml.html.HtmlElement) -> bool:
        """Tell whether el or an ancestor is chrome; each element is judged once."""
        path = []
        node: lxml.html.HtmlElement | None = el
        verdict = False
        while node is not None:
            known = chrome.get(node)
            if known is not None:
                verdict = known
                break
            path.append(node)
            node = node.getparent()
        # Judge from the top down: below a chrome element everything is chrome.
        for node in reversed(path):
            verdict = verdict or is_chrome(node, body_chars)
            chrome[node] = verdict
        return verdict

    scores: dict[lxml.html.HtmlElement, float] = {}
    for el in root.iter(*PARAGRAPH_TAGS):
        s = _score_of(el)
        if not s or in_chrome(el):
            continue
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + s
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + s / 2
    for el in root.iter(*TEXT_HOLDER_TAGS):
        s = _bare_text_score(el)
        if not s or in_chrome(el):
            continue
        scores[el] = scores.get(el, 0.0) + s
        parent = el.getparent()
        if parent is not None:
            scores[parent] = scores.get(parent, 0.0) + s / 2
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    while best is not root:
        parent = best.getparent()
        if parent is None:
            break
        siblings = sum(scores.get(s, 0.0) for s in parent if s is not best)
        if siblings < SIBLING_SHARE * scores[best]:
            break
        best = parent
    return best
