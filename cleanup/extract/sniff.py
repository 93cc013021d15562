"""Tell HTML from plain text that merely mentions markup, for records not named .html.

JSONL records and text files carry HTML often (scraped bodies), and prose that quotes a tag
("use the <p> tag"), an email address in angle brackets or `a < b` just as often. Converting
prose would rewrite it; leaving HTML would ship markup. The rule, on the first 4 KB:

1. the text starts (after a BOM, whitespace and comments) with `<!doctype html` or `<html`; or
2. it starts with the opening tag of an HTML element and holds at least two block-level tags
   (`<p>a</p>` is two: markup from the first character on is a fragment, not prose); or
3. it holds at least two closed block-level elements (`<p>`...`</p>`) and the text inside
   closed block-level elements is at least as long as the text outside them: the markup carries
   the text, rather than a sentence carrying a quoted snippet.

Only real element names count as tags (`<me@x.org>`, `a < b` are not tags), and a text without
`<` is never HTML. Nothing depends on words of any language.
"""

from __future__ import annotations

import bisect
import re

from cleanup.extract.tags import (
    BLOCK_TAGS,
    CELL_TAGS,
    NESTING_TAGS,
    SKIP_TAGS,
    VISIBLE_BLOCK_TAGS,
)

SNIFF_BYTES = 4096

# Block-level: where a fragment's structure shows (tags.py's blocks and cells, <br>, forms).
# The void elements are the two a text fragment uses most that tags.py does not name.
_VOID_ELEMENTS = frozenset({"br", "img"})
_BLOCKS = BLOCK_TAGS | CELL_TAGS | frozenset({"br", "form", "nav", "head"})
_ELEMENTS = VISIBLE_BLOCK_TAGS | SKIP_TAGS | frozenset(NESTING_TAGS) | _VOID_ELEMENTS
# A tag: `<name` or `</name`, then whitespace, `/` or `>`, attributes without `<` or `>`.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)(?=[\s/>])[^<>]*>")
_DOCUMENT_START = re.compile(r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)
_LEADING = re.compile(r"\s*(?:<!--.*?-->\s*)*", re.S)


def looks_like_html(text: str) -> bool:
    """Tell whether a text is an HTML page or fragment rather than plain text (rules above)."""
    head = text[:SNIFF_BYTES].lstrip("\ufeff")
    if "<" not in head:
        return False
    if _DOCUMENT_START.match(head):
        return True
    tags = [
        (m.start(), m.end(), m.group(1) == "/", m.group(2).lower()) for m in _TAG.finditer(head)
    ]
    tags = [t for t in tags if t[3] in _ELEMENTS]
    blocks = [t for t in tags if t[3] in _BLOCKS]
    if len(blocks) < 2:
        return False
    if _starts_with_tag(head, tags):
        return True
    inside, closed = _closed_block_spans(blocks)
    if closed < 2:
        return False
    text_inside = _text_chars(head, tags, inside)
    return 2 * text_inside >= _text_chars(head, tags, [(0, len(head))])


def _starts_with_tag(head: str, tags: list[tuple[int, int, bool, str]]) -> bool:
    """Tell whether the first thing after whitespace and comments is an element's opening tag."""
    start = _LEADING.match(head)
    first = start.end() if start else 0
    return bool(tags) and tags[0][0] == first and not tags[0][2]


def _closed_block_spans(
    blocks: list[tuple[int, int, bool, str]],
) -> tuple[list[tuple[int, int]], int]:
    """Return the outermost spans of block elements closed by their end tag, and how many closed.

    An opening tag never closed ("use the <p> tag") encloses nothing: only a matching end tag
    shows that the markup wraps the text.
    """
    stack: list[tuple[int, str]] = []
    spans: list[tuple[int, int]] = []
    closed = 0
    for start, end, is_end, name in blocks:
        if name in _VOID_ELEMENTS or name == "hr":
            continue
        if not is_end:
            stack.append((start, name))
            continue
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][1] == name:
                spans.append((stack[depth][0], end))
                closed += 1
                del stack[depth:]
                break
    outer: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if outer and start < outer[-1][1]:
            outer[-1] = (outer[-1][0], max(end, outer[-1][1]))
        else:
            outer.append((start, end))
    return outer, closed


def _text_chars(
    head: str, tags: list[tuple[int, int, bool, str]], spans: list[tuple[int, int]]
) -> int:
    """Count the non-space characters within the (sorted, disjoint) spans outside every tag."""
    tag_chars = [0]  # tag_chars[i]: non-space characters in the first i tags
    for t_start, t_end, _, _ in tags:
        tag_chars.append(tag_chars[-1] + _nonspace(head[t_start:t_end]))
    starts = [t[0] for t in tags]
    count = 0
    for start, end in spans:
        first = bisect.bisect_left(starts, start)
        last = bisect.bisect_left(starts, end)  # tags lie wholly inside a span or outside it
        count += _nonspace(head[start:end]) - (tag_chars[last] - tag_chars[first])
    return count


def _nonspace(text: str) -> int:
    """Count the characters of a text that are not whitespace."""
    return len("".join(text.split()))
