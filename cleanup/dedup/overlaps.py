"""Shingles shared between the paragraphs of one document, counted per pair in numpy.

find_duplicates (dedup/paragraphs.py) needs, for each compared paragraph, how many of its
distinct shingles each other paragraph also holds. Only shingles held by 2..cap paragraphs
count: one held by more is the document's own refrain, not evidence of copying. The pairs
come from an inverted index (shingle -> paragraphs) expanded and counted by sorting, so no
Python runs per pair.

The work grows with the sum of k * (k - 1) over the counted shingles, k the paragraphs
holding each. On a huge page of a few words repeated (hundreds of thousands of paragraphs)
that sum reaches hundreds of millions, so it is bounded per document by PAIR_BUDGET: the
cap comes down from MAX_POSTING, dropping the most widely held shingles first, until the
pairs fit; if even shingles held by two paragraphs do not fit, the document gets no
near-copy search (its exact repeats are still removed). The result is exactly that of the
full search with the lower cap. Dropping shingles lowers the counts, so a bounded document
is found to hold fewer near copies: text is kept rather than removed. Ordinary documents
stay far below the budget and are searched in full.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A shingle found in more paragraphs than this is the document's own refrain, not evidence
# of copying; ignoring it keeps the inverted index linear in the document's size.
MAX_POSTING = 50
# Per document, at most this many (paragraph, other paragraph) slots are counted: about a
# second and 150 MB of arrays. A news article makes a few hundred; a generated page of
# 100,000 paragraphs from a vocabulary of 70 words (scripts/bench_pages.py) made 28 million.
PAIR_BUDGET = 4_000_000


@dataclass(frozen=True)
class Overlaps:
    """Per ordered pair of paragraphs (first, other), first != other, the shingles they share;
    rows sorted by first, then other. `shared` holds the counted shingles, sorted."""

    first: np.ndarray  # int64 paragraph indices (of the document)
    other: np.ndarray  # int64
    count: np.ndarray  # int64, >= 1
    shared: np.ndarray  # uint32

    def of(self, i: int) -> dict[int, int]:
        """Return {other paragraph: shingles shared} for paragraph i."""
        lo, hi = np.searchsorted(self.first, [i, i + 1]).tolist()
        return dict(zip(self.other[lo:hi].tolist(), self.count[lo:hi].tolist(), strict=True))

    def counted(self, shingles: np.ndarray) -> np.ndarray:
        """Return those of `shingles` that are counted (in `shared`), in their order."""
        at = np.minimum(np.searchsorted(self.shared, shingles), len(self.shared) - 1)
        return shingles[self.shared[at] == shingles]


def posting_cap(held_by: np.ndarray, budget: int) -> int | None:
    """Return the largest k <= MAX_POSTING such that the shingles held by 2..k paragraphs
    make at most `budget` pair slots (held_by: how many paragraphs hold each shingle), or
    None when not even k = 2 fits."""
    sizes = np.arange(MAX_POSTING + 1, dtype=np.int64)
    per_size = np.bincount(np.minimum(held_by, MAX_POSTING + 1), minlength=MAX_POSTING + 2)
    cost = np.cumsum(per_size[: MAX_POSTING + 1] * sizes * (sizes - 1))
    fits = np.flatnonzero(cost[2:] <= budget)
    return int(fits[-1]) + 2 if len(fits) else None


def shared_pairs(sets: list[np.ndarray], eligible: np.ndarray) -> Overlaps | None:
    """Count the shingles each eligible paragraph shares with each other (sets: the
    document's distinct shingles per paragraph); None when no pair shares a counted one."""
    lens = np.fromiter((len(sets[i]) for i in eligible.tolist()), np.int64, len(eligible))
    if not lens.sum():
        return None
    # (shingle, paragraph) as one value, sorted: numpy's plain sort is several times faster
    # than a stable argsort, and paragraphs come out in order within a shingle's run.
    key = np.concatenate([sets[i] for i in eligible.tolist()]).astype(np.uint64) << np.uint64(32)
    key |= np.repeat(eligible.astype(np.uint64), lens)
    key.sort()
    shingles = (key >> np.uint64(32)).astype(np.uint32)
    para = (key & np.uint64(0xFFFFFFFF)).astype(np.int64)
    del key
    starts = np.flatnonzero(np.concatenate(([True], shingles[1:] != shingles[:-1])))
    held_by = np.diff(np.append(starts, len(shingles)))
    cap = posting_cap(held_by, PAIR_BUDGET)
    if cap is None:
        return None
    counted = (held_by >= 2) & (held_by <= cap)
    if not counted.any():
        return None
    first, other = _pairs(para, starts[counted], held_by[counted])
    width = int(eligible.max()) + 1
    key = first * width + other
    key.sort()
    fresh = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    count = np.diff(np.append(fresh, len(key)))
    key = key[fresh]
    return Overlaps(key // width, key % width, count, shingles[starts[counted]])


def _pairs(para: np.ndarray, start: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand runs of paragraphs holding one shingle (para[start:start + k]) into every
    ordered pair of two different members."""
    member = np.repeat(start, k) + _ramp(k)  # every member of every run
    size = np.repeat(k, k)
    head = np.repeat(start, k)
    source = np.repeat(member, size)  # each member once per member of its run
    partner = np.repeat(head, size) + _ramp(size)
    keep = source != partner
    return para[source[keep]], para[partner[keep]]


def _ramp(k: np.ndarray) -> np.ndarray:
    """Return 0..k[0]-1, 0..k[1]-1, ... concatenated."""
    ends = np.cumsum(k)
    return np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - k, k)
