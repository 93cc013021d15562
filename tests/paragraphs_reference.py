"""In-document dedup's per-document code (find_duplicates and its helpers) as it was before
the many-paragraphs speed-up: a frozen copy of cleanup/dedup/paragraphs.py at 60c5e54, so
tests can check that the faster code finds the same duplicates with the same details.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from cleanup.dedup.overlaps import MAX_POSTING
from cleanup.dedup.paragraphs import MAX_SOURCES, Duplicate, ParagraphFeatures
from cleanup.dedup.settings import ParagraphSettings


def exact_duplicates(fps: np.ndarray) -> list[Duplicate]:
    """Return a document's exact repeats of earlier paragraphs (the first of each stays).

    All find_duplicates finds in a document that features_batch does not flag `near`.
    """
    dups: list[Duplicate] = []
    first: dict[int, int] = {}
    for i, fp in enumerate(fps.tolist()):
        if fp == 0:
            continue
        if fp in first:
            dups.append(Duplicate(i, "exact-paragraph", (first[fp],), 1.0))
        else:
            first[fp] = i
    return dups


def find_duplicates(feat: ParagraphFeatures, settings: ParagraphSettings) -> list[Duplicate]:
    """Return the paragraphs of one document to remove, each with what it duplicates.

    Needs the document's shingle sets (features_batch makes them for `near` documents).
    """
    n = len(feat.fps)
    dups = {d.index: d for d in exact_duplicates(feat.fps)}
    eligible = [
        i
        for i in range(n)
        if i not in dups and feat.fps[i] and feat.nwords[i] >= settings.min_words
    ]
    if len(eligible) < 2:
        return sorted(dups.values(), key=lambda d: d.index)
    shared = _shared_shingles(feat, eligible)
    if shared is None:
        return sorted(dups.values(), key=lambda d: d.index)
    overlaps = _overlaps(feat, eligible, shared)
    sizes = {i: max(len(feat.shingles[i]), 1) for i in eligible}
    removed = _composites(feat, eligible, shared, overlaps, sizes, settings.threshold, dups)
    _contained(feat, eligible, overlaps, sizes, settings.threshold, dups, removed)
    return sorted((_resolve(d, dups) for d in dups.values()), key=lambda d: d.index)


def _shared_shingles(feat: ParagraphFeatures, eligible: list[int]) -> set[int] | None:
    """Return shingles found in 2..MAX_POSTING eligible paragraphs, or None if none can matter.

    This is the fast path: most documents have no paragraph whose shingles mostly recur
    elsewhere, and numpy tells so without building any Python set.
    """
    arrays = [feat.shingles[i] for i in eligible]
    allsh = np.concatenate(arrays)
    if len(allsh) == 0:
        return None
    uniq, counts = np.unique(allsh, return_counts=True)
    keep = uniq[(counts >= 2) & (counts <= MAX_POSTING)]
    if len(keep) == 0:
        return None
    return set(keep.tolist())


def _overlaps(
    feat: ParagraphFeatures, eligible: list[int], shared: set[int]
) -> dict[int, Counter[int]]:
    """Count, for each paragraph, the shingles it shares with each other paragraph."""
    postings: dict[int, list[int]] = {}
    for i in eligible:
        for s in feat.shingles[i].tolist():
            if s in shared:
                postings.setdefault(s, []).append(i)
    overlaps: dict[int, Counter[int]] = {i: Counter() for i in eligible}
    for members in postings.values():
        for i in members:
            c = overlaps[i]
            for j in members:
                if j != i:
                    c[j] += 1
    return overlaps


def _composites(
    feat: ParagraphFeatures,
    eligible: list[int],
    shared: set[int],
    overlaps: dict[int, Counter[int]],
    sizes: dict[int, int],
    threshold: float,
    dups: dict[int, Duplicate],
) -> set[int]:
    """Mark paragraphs made of other paragraphs' sentences; return the indices marked."""
    removed: set[int] = set()
    order = sorted(eligible, key=lambda i: (-sizes[i], i))
    for i in order:
        live = {j: c for j, c in overlaps[i].items() if j not in removed}
        if len([j for j in live if j < i]) < 2:
            continue
        if any(
            c / sizes[i] >= threshold and _more_complete(feat, sizes, j, i) for j, c in live.items()
        ):
            continue  # held by one more complete paragraph alone: a plain copy, step 3 decides
        covered: set[int] = set()
        mine = [s for s in feat.shingles[i].tolist() if s in shared]
        sources: list[int] = []
        earlier = [(j, c) for j, c in live.items() if j < i]
        for j, _ in sorted(earlier, key=lambda kv: (-kv[1], kv[0]))[:MAX_SOURCES]:
            theirs = set(feat.shingles[j].tolist())
            gained = {s for s in mine if s in theirs} - covered
            if gained:
                covered |= gained
                sources.append(j)
            if len(covered) / sizes[i] >= threshold:
                break
        coverage = len(covered) / sizes[i]
        if coverage >= threshold and len(sources) >= 2:
            removed.add(i)
            dups[i] = Duplicate(i, "repeated-sentences", tuple(sorted(sources)), round(coverage, 3))
    return removed


def _contained(
    feat: ParagraphFeatures,
    eligible: list[int],
    overlaps: dict[int, Counter[int]],
    sizes: dict[int, int],
    threshold: float,
    dups: dict[int, Duplicate],
    removed: set[int],
) -> None:
    """Mark paragraphs held at >= threshold by one more complete paragraph."""

    for i in eligible:
        if i in removed:
            continue
        best: tuple[float, tuple[int, int, int], int] | None = None
        for j, c in overlaps[i].items():
            if j in removed or not _more_complete(feat, sizes, j, i):
                continue
            cand = (c / sizes[i], _completeness(feat, sizes, j), j)
            if best is None or cand > best:
                best = cand
        if best is not None and best[0] >= threshold:
            dups[i] = Duplicate(i, "near-paragraph", (best[2],), round(min(best[0], 1.0), 3))


def _completeness(feat: ParagraphFeatures, sizes: dict[int, int], j: int) -> tuple[int, int, int]:
    """Rank paragraphs by how complete they are: more words, more shingles, then earlier."""
    return (int(feat.nwords[j]), sizes[j], -j)


def _more_complete(feat: ParagraphFeatures, sizes: dict[int, int], j: int, i: int) -> bool:
    """Tell whether paragraph j is a more complete copy than paragraph i (so j would stay)."""
    return _completeness(feat, sizes, j) > _completeness(feat, sizes, i)


def _resolve(d: Duplicate, dups: dict[int, Duplicate]) -> Duplicate:
    """Point a duplicate at the kept paragraph(s) at the end of its chain of copies."""
    kept: set[int] = set()
    todo = list(d.of)
    seen = {d.index}
    while todo:
        j = todo.pop()
        if j in seen:
            continue
        seen.add(j)
        if j in dups:
            todo.extend(dups[j].of)
        else:
            kept.add(j)
    return Duplicate(d.index, d.rule, tuple(sorted(kept)), d.similarity)


def detail_of(d: Duplicate, paragraphs: Sequence[str]) -> dict[str, Any]:
    """Return the audit detail of a removed paragraph: what it duplicates and how similar."""
    of: Any = d.of[0] if len(d.of) == 1 else list(d.of)
    heads = [paragraphs[j][:60] for j in d.of]
    return {
        "duplicate_of": of,
        "duplicate_text": heads[0] if len(heads) == 1 else heads,
        "similarity": d.similarity,
    }
