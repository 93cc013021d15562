"""Align paragraphs and words: the paragraph diff of one document, with word-level changes.

Paragraphs are aligned on a folded key (lower-cased words only), so a paragraph that
normalize or fix-encoding only touched lines up with its old self and shows as *changed*
with a word-level highlight instead of as one removal plus one addition.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from difflib import SequenceMatcher

from cleanup.report.model import Op, Segment

_NON_WORD = re.compile(r"\W+")
# A token is a word or a punctuation mark with the spaces after it: no token is as common as
# a lone space would be, which keeps SequenceMatcher fast on long paragraphs.
_TOKEN = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")
# How many later paragraphs a changed paragraph may be paired with: pairing stays linear in
# the size of a replaced block instead of comparing every old paragraph with every new one.
_PAIR_WINDOW = 8
# Two paragraphs sharing at least this share of their words are one paragraph changed.
_PAIR_RATIO = 0.5
# Past this many characters (both sides together) a changed paragraph is shown as one replaced
# middle between the text both sides share at its start and end, and a paragraph is paired by
# the words of its first _PAIR_SAMPLE characters: aligning words holds a Python string per
# word, about 100 bytes per character of a paragraph of one-letter words (2.1 GB for 20 MB).
WORD_DIFF_CHARS = 1 << 20
_PAIR_SAMPLE = 1 << 16


def paragraph_key(text: str) -> str:
    """Return the comparison key of a paragraph: its lower-cased words only (not
    normalize.fold, which keeps punctuation for rules).

    Why: a paragraph whose quotes, spaces or mojibake were fixed is still the same
    paragraph, and should pair with its old self as a change.
    """
    return _NON_WORD.sub(" ", text.casefold()).strip()


def word_diff(before: str, after: str) -> list[Segment]:
    """Return the word-level segments turning `before` into `after` (merged runs)."""
    if len(before) + len(after) > WORD_DIFF_CHARS:
        return _merge([("-", before), ("+", after)])  # the shared start and end, the middle
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    out: list[Segment] = []

    def emit(tag: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == tag:
            out[-1] = (tag, out[-1][1] + text)
        else:
            out.append((tag, text))

    if len(a) == len(b):  # same shape (typical of normalization): compare token by token
        for x, y in zip(a, b, strict=True):
            if x == y:
                emit("=", x)
            else:
                emit("-", x)
                emit("+", y)
        if sum(tag != "=" for tag, _ in out) <= len(a) // 2:
            return _merge(out)
        out.clear()
    matcher = SequenceMatcher(None, a, b, autojunk=len(a) + len(b) > 400)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("=", "".join(a[i1:i2]))
        else:
            emit("-", "".join(a[i1:i2]))
            emit("+", "".join(b[j1:j2]))
    return _merge(out)


def _merge(segments: list[Segment]) -> list[Segment]:
    """Return segments where each replaced pair loses the characters both sides share.

    Tokens carry their trailing spaces, so "’ " -> "' " would highlight the space too;
    trimming the common prefix and suffix of a "-"/"+" pair highlights only the change.
    """
    out: list[Segment] = []

    def add(tag: str, text: str) -> None:
        if text:
            if out and out[-1][0] == tag:
                out[-1] = (tag, out[-1][1] + text)
            else:
                out.append((tag, text))

    k = 0
    while k < len(segments):
        tag, text = segments[k]
        if tag == "-" and k + 1 < len(segments) and segments[k + 1][0] == "+":
            old, new = text, segments[k + 1][1]
            p = _shared(old, new)
            q = _shared(old[p:][::-1], new[p:][::-1])
            add("=", old[:p])
            add("-", old[p : len(old) - q])
            add("+", new[p : len(new) - q])
            add("=", old[len(old) - q :])
            k += 2
            continue
        add(tag, text)
        k += 1
    return out


def _shared(a: str, b: str) -> int:
    """Return the length of the common prefix of two strings (halving: slices compare in C)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def paragraph_diff(before: list[str], after: list[str]) -> list[Op]:
    """Align two paragraph lists into ops: unchanged, removed, added and changed paragraphs."""
    fa, fb = [paragraph_key(p) for p in before], [paragraph_key(p) for p in after]
    ops: list[Op] = []
    i = j = 0
    for mi, mj in [*align(fa, fb), (len(fa), len(fb))]:
        if mi > i or mj > j:
            ops.extend(_replace_block(before[i:mi], after[j:mj], fa[i:mi], fb[j:mj]))
        if mi < len(fa):
            ops.append(_pair(before[mi], after[mj]))
        i, j = mi + 1, mj + 1
    return ops


# Below this many comparisons a gap is aligned by SequenceMatcher directly.
_SMALL_GAP = 4096


def align(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Return the index pairs of equal items kept in order (a patience diff).

    Why not SequenceMatcher alone: it rescans long ranges once per changed block, which
    is quadratic on long documents with many scattered removals. Patience diff anchors on
    items that occur once on each side (most paragraphs), keeps the longest increasing
    run of anchors (O(n log n)), and only aligns the small gaps between anchors fully.
    """
    pairs: list[tuple[int, int]] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        a0, a1, b0, b1 = stack.pop()
        while a0 < a1 and b0 < b1 and a[a0] == b[b0]:  # common head
            pairs.append((a0, b0))
            a0, b0 = a0 + 1, b0 + 1
        while a0 < a1 and b0 < b1 and a[a1 - 1] == b[b1 - 1]:  # common tail
            a1, b1 = a1 - 1, b1 - 1
            pairs.append((a1, b1))
        if a0 == a1 or b0 == b1:
            continue
        if (a1 - a0) * (b1 - b0) <= _SMALL_GAP:
            matcher = SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False)
            for x, y, n in matcher.get_matching_blocks():
                pairs.extend((a0 + x + k, b0 + y + k) for k in range(n))
            continue
        anchors = _unique_anchors(a, a0, a1, b, b0, b1)
        if not anchors:  # nothing unique to anchor on: let SequenceMatcher (with autojunk) try
            matcher = SequenceMatcher(None, a[a0:a1], b[b0:b1])
            for x, y, n in matcher.get_matching_blocks():
                pairs.extend((a0 + x + k, b0 + y + k) for k in range(n))
            continue
        prev_a, prev_b = a0, b0
        for x, y in anchors:
            pairs.append((x, y))
            stack.append((prev_a, x, prev_b, y))
            prev_a, prev_b = x + 1, y + 1
        stack.append((prev_a, a1, prev_b, b1))
    pairs.sort()
    return pairs


def _unique_anchors(
    a: list[str], a0: int, a1: int, b: list[str], b0: int, b1: int
) -> list[tuple[int, int]]:
    """Return the longest increasing run of items that occur once in each range."""
    count_a = Counter(a[a0:a1])
    where_b: dict[str, int] = {}
    count_b: Counter[str] = Counter()
    for y in range(b0, b1):
        count_b[b[y]] += 1
        where_b[b[y]] = y
    candidates = [
        (x, where_b[a[x]]) for x in range(a0, a1) if count_a[a[x]] == 1 and count_b.get(a[x]) == 1
    ]
    # longest increasing subsequence by b index (patience sorting)
    tails: list[int] = []  # b index at the end of the best run of each length
    tail_at: list[int] = []  # candidate index of that end
    back: list[int] = []
    for k, (_, y) in enumerate(candidates):
        n = bisect.bisect_left(tails, y)
        if n == len(tails):
            tails.append(y)
            tail_at.append(k)
        else:
            tails[n], tail_at[n] = y, k
        back.append(tail_at[n - 1] if n else -1)
    run: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        run.append(candidates[k])
        k = back[k]
    return run[::-1]


def _pair(old: str, new: str) -> Op:
    if old == new:
        return Op("=", old, new)
    return Op("~", old, new, word_diff(old, new))


def _replace_block(olds: list[str], news: list[str], fo: list[str], fn: list[str]) -> list[Op]:
    """Pair paragraphs of a replaced block that share most words; the rest are removed/added."""
    ops: list[Op] = []
    words_new = [_pair_words(w) for w in fn]
    j = 0
    for i, old in enumerate(olds):
        words_old = _pair_words(fo[i])
        best, best_ratio = -1, _PAIR_RATIO
        for k in range(j, min(j + _PAIR_WINDOW, len(news))):
            ratio = SequenceMatcher(None, words_old, words_new[k], autojunk=False).quick_ratio()
            if ratio >= best_ratio and (ratio > best_ratio or best < 0):
                best, best_ratio = k, ratio
        if best < 0:
            ops.append(Op("-", old))
            continue
        ops.extend(Op("+", after=p) for p in news[j:best])
        ops.append(_pair(old, news[best]))
        j = best + 1
    ops.extend(Op("+", after=p) for p in news[j:])
    return ops


def _pair_words(key: str) -> list[str]:
    """Return the words a paragraph is paired by: all, or those of its start if it is huge."""
    return (key if len(key) <= WORD_DIFF_CHARS else key[:_PAIR_SAMPLE]).split()
