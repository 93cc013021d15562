"""Duplicate paragraphs inside one document: exact, near (containment) and composite copies.

Inside one document everything fits in memory and exact set overlaps are cheaper than
MinHash estimates, so this module compares shingle sets directly, through an inverted
index (shingle -> paragraphs), never all pairs:

1. exact: paragraphs with the same fingerprint (equal after folding case, quotes, dashes,
   punctuation): the first stays;
2. composite: a paragraph whose shingles are nearly all found in two or three *earlier*
   paragraphs, no more complete one of which holds it alone (a statement box or pull quote
   repeating two earlier paragraphs) goes; this runs before step 3 so that the body
   paragraphs it repeats are not taken for copies of it. Only earlier sources count: the
   first telling stays, as with exact copies, so a body paragraph is never removed for a
   sidebar further down that quotes it;
3. contained: a paragraph whose shingles stand at >= threshold in one more complete
   paragraph (a caption that repeats a body paragraph, even cut short, or an edited
   copy) goes; the more complete copy stays where it stands.

Paragraphs under `min_words` words are only compared exactly: a few words say too little.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np

from cleanup.dedup.overlaps import Overlaps, shared_pairs
from cleanup.dedup.settings import ParagraphSettings
from cleanup.dedup.shingles import fingerprints, shingle_hashes, token_hashes

# A composite paragraph must be explained by at most this many source paragraphs.
MAX_SOURCES = 3


@dataclass(frozen=True)
class Duplicate:
    """Describe why one paragraph is a duplicate: of which one(s), how similar, by which rule."""

    index: int
    rule: str  # "exact-paragraph" | "near-paragraph" | "repeated-sentences"
    of: tuple[int, ...]
    similarity: float


@dataclass
class ParagraphFeatures:
    """Hold per-paragraph fingerprints, word counts and unique shingle sets of one document."""

    fps: np.ndarray
    nwords: np.ndarray
    shingles: list[np.ndarray]


class DocFeatures(Sequence[ParagraphFeatures]):
    """Each document's ParagraphFeatures, views of the batch's arrays made when asked for
    (most documents of a batch are never asked: only those that may hold a copy are)."""

    def __init__(
        self,
        fps: np.ndarray,
        nwords: np.ndarray,
        firsts: list[int],
        near: np.ndarray,
        sets: tuple[np.ndarray, list[int]],
    ) -> None:
        self.fps, self.nwords, self.firsts, self.near = fps, nwords, firsts, near
        self.sets, self.set_bounds = sets  # near documents' distinct shingles, and where

    def __len__(self) -> int:
        return len(self.firsts) - 1

    @overload
    def __getitem__(self, k: int) -> ParagraphFeatures: ...
    @overload
    def __getitem__(self, k: slice) -> list[ParagraphFeatures]: ...
    def __getitem__(self, k: int | slice) -> ParagraphFeatures | list[ParagraphFeatures]:
        if isinstance(k, slice):
            return [self._at(i) for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self._at(k)

    def _at(self, k: int) -> ParagraphFeatures:
        start, end = self.firsts[k], self.firsts[k + 1]
        sets: list[np.ndarray] = []
        if self.near[k]:
            ush, bounds = self.sets, self.set_bounds
            sets = [ush[bounds[i] : bounds[i + 1]] for i in range(start, end)]
        return ParagraphFeatures(self.fps[start:end], self.nwords[start:end], sets)


@dataclass
class BatchFeatures:
    """Hold the token hashes of every paragraph of a batch of documents, and per-document views."""

    tokens: np.ndarray  # uint64 token hashes, all paragraphs of the batch in order
    offsets: np.ndarray  # per paragraph, len = paragraphs + 1
    first_paragraph: list[int]  # index of each document's first paragraph, len = docs + 1
    docs: Sequence[ParagraphFeatures]
    kept: np.ndarray  # per paragraph: still in its document after in-document dedup
    suspect: np.ndarray  # per document: may hold a duplicate paragraph (else surely none)
    shingles: np.ndarray  # uint32 shingle hashes of all paragraphs, in order
    shingle_offsets: np.ndarray  # per paragraph, len = paragraphs + 1
    # Per document: may hold a near or composite copy (else only exact repeats, if any);
    # only these documents get their shingle sets (ParagraphFeatures.shingles).
    near: np.ndarray
    # Per paragraph: the first paragraph of its document with the same fingerprint (the copy
    # exact_duplicates keeps) if it repeats an earlier one, else -1 (batch-wide indices).
    copy_of: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def paragraph_fps(self) -> np.ndarray:
        """Return every paragraph's fingerprint, in order."""
        if isinstance(self.docs, DocFeatures):
            return self.docs.fps
        if not self.docs:
            return np.zeros(0, np.uint64)
        return np.concatenate([f.fps for f in self.docs])


def features_batch(
    docs: Sequence[Sequence[str]], settings: ParagraphSettings | None = None
) -> BatchFeatures:
    """Compute paragraph features for many documents in one numpy pass (batches are fast).

    Also tells, for the whole batch at once, which documents may hold a duplicate: an
    exact repeat, or a long paragraph whose shingles mostly recur in other paragraphs of
    its document (`near`). Only the near ones go through find_duplicates' Python code, the
    others with an exact repeat through exact_duplicates; for the rest (most documents)
    nothing runs per document.
    """
    settings = settings or ParagraphSettings()
    shingle_size = settings.shingle_size
    flat = list(itertools.chain.from_iterable(docs))
    tokens, offsets = token_hashes(flat)
    fps = fingerprints(tokens, offsets)
    nwords = np.diff(offsets)
    sh, sh_off = shingle_hashes(tokens, offsets, shingle_size)
    n_par = np.fromiter(map(len, docs), np.int64, len(docs))
    doc_of_para = np.repeat(np.arange(len(docs)), n_par)
    copy_of = _copies(fps, doc_of_para)
    repeat = copy_of >= 0
    # What find_duplicates compares: long paragraphs that are not an exact repeat.
    compared = (nwords >= settings.min_words) & (fps != 0) & ~repeat
    near = _near_suspects(sh, sh_off, compared, doc_of_para, len(docs), settings.threshold)
    suspect = near.copy()
    suspect[doc_of_para[repeat]] = True
    firsts = np.concatenate(([0], np.cumsum(n_par))).tolist()
    sets = _shingle_sets(sh, sh_off, np.repeat(near, n_par))
    out = DocFeatures(fps, nwords, firsts, near, sets)
    kept = np.ones(len(flat), dtype=bool)
    return BatchFeatures(tokens, offsets, firsts, out, kept, suspect, sh, sh_off, near, copy_of)


def _copies(fps: np.ndarray, doc_of_para: np.ndarray) -> np.ndarray:
    """Return, per paragraph that repeats an earlier paragraph of its document exactly (same
    fingerprint), the first paragraph with it, else -1: the copies find_duplicates removes
    as exact, each with the paragraph it keeps."""
    live = np.flatnonzero(fps != 0)
    order = live[np.lexsort((fps[live], doc_of_para[live]))]  # stable: earlier copies first
    fp, doc = fps[order], doc_of_para[order]
    later = np.zeros(len(order), dtype=bool)
    later[1:] = (fp[1:] == fp[:-1]) & (doc[1:] == doc[:-1])
    head = np.maximum.accumulate(np.where(later, 0, np.arange(len(order))))  # each run's first
    copy_of = np.full(len(fps), -1, dtype=np.int64)
    copy_of[order[later]] = order[head[later]]
    return copy_of


def _near_suspects(
    sh: np.ndarray,
    sh_off: np.ndarray,
    compared: np.ndarray,
    doc_of_para: np.ndarray,
    n_docs: int,
    threshold: float,
) -> np.ndarray:
    """Flag documents that may hold a near or composite copy (a superset of those that do).

    find_duplicates compares the `compared` paragraphs only. A paragraph's share of
    distinct shingles found in any other compared paragraph of its document bounds every
    share find_duplicates computes for it (a shingle counts there only if another such
    paragraph holds it too), so below the threshold it is no copy.
    """
    suspect = np.zeros(n_docs, dtype=bool)
    para_of = np.repeat(np.arange(len(compared)), np.diff(sh_off))
    pick = compared[para_of]
    if not pick.any():
        return suspect
    maybe = _may_be_copies(sh, sh_off, para_of, pick, compared, doc_of_para, threshold)
    if maybe is not None:
        if not maybe.any():
            return suspect
        pick &= np.isin(doc_of_para, doc_of_para[maybe])[para_of]  # their documents only
    return _near_exact(sh, para_of, pick, compared, doc_of_para, suspect, threshold)


def _near_exact(
    sh: np.ndarray,
    para_of: np.ndarray,
    pick: np.ndarray,
    compared: np.ndarray,
    doc_of_para: np.ndarray,
    suspect: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """Flag in `suspect` the documents with a compared paragraph whose share of distinct
    shingles found in another compared paragraph of its document reaches the threshold,
    counting the shingles `pick` marks (all of those documents' compared paragraphs)."""
    # Sort (shingle, paragraph) pairs, one sort for two questions: a paragraph's repeated
    # shingle stands next to itself (so distinct shingles are the first of each run), and
    # as paragraphs are numbered in document order, the paragraphs of one document holding
    # one shingle stand together (a batch holds far fewer than 2^32 paragraphs). Plain
    # values: numpy's SIMD sort is several times faster than a stable argsort.
    pair = np.sort((sh[pick].astype(np.uint64) << np.uint64(32)) | para_of[pick].astype(np.uint64))
    fresh = np.ones(len(pair), dtype=bool)
    fresh[1:] = pair[1:] != pair[:-1]
    pair = pair[fresh]
    spara = (pair & np.uint64(0xFFFFFFFF)).astype(np.int64)
    sdoc = doc_of_para[spara]
    shingle = pair >> np.uint64(32)
    same = (shingle[1:] == shingle[:-1]) & (sdoc[1:] == sdoc[:-1])
    shared = np.zeros(len(pair), dtype=bool)  # found in another compared paragraph too
    shared[1:] = same
    shared[:-1] |= same
    size = np.bincount(spara, minlength=len(compared))
    hits = np.bincount(spara, weights=shared, minlength=len(compared))
    coverage = np.divide(hits, size, out=np.zeros(len(compared)), where=size > 0)
    suspect[doc_of_para[coverage >= threshold]] = True
    return suspect


def _may_be_copies(
    sh: np.ndarray,
    sh_off: np.ndarray,
    para_of: np.ndarray,
    pick: np.ndarray,
    compared: np.ndarray,
    doc_of_para: np.ndarray,
    threshold: float,
) -> np.ndarray | None:
    """Flag the compared paragraphs that may reach the threshold in _near_exact (a superset),
    from one sort of 32-bit values; None for a batch of 65,536 paragraphs or more.

    Each shingle occurrence becomes (its hash's top 16 bits, its paragraph): sorted, the
    occurrences of one truncated hash in one document stand together, as paragraphs are
    numbered in document order. An occurrence "recurs" when another stands there; every
    occurrence whose shingle recurs among its document's compared paragraphs does (the
    truncation only adds some). Of a paragraph's U occurrences, those that do not recur are
    of distinct shingles found nowhere else, so if R recur, its share of distinct shingles
    found elsewhere is at most R / U: below the threshold, the paragraph is no copy.
    """
    n_par = len(compared)
    if n_par >= 1 << 16:
        return None
    key = (sh[pick] & np.uint32(0xFFFF0000)) | para_of[pick].astype(np.uint32)
    key.sort()
    para = (key & np.uint32(0xFFFF)).astype(np.int64)
    doc = doc_of_para[para]
    top = key >> np.uint32(16)
    same = (top[1:] == top[:-1]) & (doc[1:] == doc[:-1])
    recur = np.zeros(len(key), dtype=bool)
    recur[1:] = same
    recur[:-1] |= same
    hits = np.bincount(para[recur], minlength=n_par)
    size = np.where(compared, np.diff(sh_off), 0)
    share = np.divide(hits, size, out=np.zeros(n_par), where=size > 0)
    return share >= threshold


def _shingle_sets(
    sh: np.ndarray, sh_off: np.ndarray, wanted: np.ndarray
) -> tuple[np.ndarray, list[int]]:
    """Return the distinct shingles of the `wanted` paragraphs (those of near documents),
    sorted, one paragraph after the other, and where each paragraph's start (len + 1 bounds;
    the others hold none).

    One sort by (paragraph, shingle) over the wanted paragraphs.
    """
    if not wanted.any():
        return np.zeros(0, dtype=np.uint32), [0] * (len(wanted) + 1)
    para_of = np.repeat(np.arange(len(wanted), dtype=np.uint64), np.diff(sh_off))
    take = wanted[para_of.astype(np.int64)]
    combined = np.sort((para_of[take] << np.uint64(32)) | sh[take].astype(np.uint64))
    fresh = np.ones(len(combined), dtype=bool)
    fresh[1:] = combined[1:] != combined[:-1]
    combined = combined[fresh]
    ush = (combined & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    bounds = np.searchsorted(combined >> np.uint64(32), np.arange(len(wanted) + 1)).tolist()
    return ush, bounds


def exact_duplicates(fps: np.ndarray) -> list[Duplicate]:
    """Return a document's exact repeats of earlier paragraphs (the first of each stays).

    All find_duplicates finds in a document that features_batch does not flag `near`. The
    first paragraph of each fingerprint is found by numpy (np.unique's first occurrences),
    not by a dictionary in Python: a document can hold millions of paragraphs.
    """
    if not len(fps):
        return []
    _, first_at, inverse = np.unique(fps, return_index=True, return_inverse=True)
    first_of = first_at[inverse.ravel()]
    copies = np.flatnonzero((fps != 0) & (first_of != np.arange(len(fps))))
    rule = "exact-paragraph"
    return [
        Duplicate(i, rule, (j,), 1.0)
        for i, j in zip(copies.tolist(), first_of[copies].tolist(), strict=True)
    ]


def find_duplicates(feat: ParagraphFeatures, settings: ParagraphSettings) -> list[Duplicate]:
    """Return the paragraphs of one document to remove, each with what it duplicates.

    Needs the document's shingle sets (features_batch makes them for `near` documents).
    """
    dups = {d.index: d for d in exact_duplicates(feat.fps)}
    compared = (feat.fps != 0) & (feat.nwords >= settings.min_words)
    compared[list(dups)] = False
    eligible = np.flatnonzero(compared)
    pairs = shared_pairs(feat.shingles, eligible) if len(eligible) >= 2 else None
    if pairs is None:
        return [dups[i] for i in sorted(dups)]
    sizes = np.ones(len(feat.fps), dtype=np.int64)
    sizes[eligible] = [max(len(feat.shingles[i]), 1) for i in eligible.tolist()]
    # How complete each paragraph is: more words, more shingles, then earlier (a copy of
    # a more complete paragraph goes, the more complete one stays).
    rank = Completeness(feat.nwords.astype(np.int64), sizes)
    removed = _composites(feat, pairs, rank, settings.threshold, dups)
    _contained(pairs, rank, settings.threshold, dups, removed)
    return [_resolve(dups[i], dups) for i in sorted(dups)]


@dataclass(frozen=True)
class Completeness:
    """Paragraphs' words and distinct shingles (at least 1): paragraph j is more complete than
    i when (words, shingles, -index) is greater."""

    words: np.ndarray
    sizes: np.ndarray

    def of(self, i: int) -> tuple[int, int, int]:
        return int(self.words[i]), int(self.sizes[i]), -i

    def more(self, j: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Elementwise: is paragraph j more complete than paragraph i?"""
        wj, wi, sj, si = self.words[j], self.words[i], self.sizes[j], self.sizes[i]
        return (wj > wi) | ((wj == wi) & ((sj > si) | ((sj == si) & (j < i))))


def _composites(
    feat: ParagraphFeatures,
    pairs: Overlaps,
    rank: Completeness,
    threshold: float,
    dups: dict[int, Duplicate],
) -> set[int]:
    """Mark paragraphs made of other paragraphs' sentences; return the indices marked."""
    removed: set[int] = set()
    for i in _composite_candidates(pairs, rank.sizes, threshold):
        live = {j: c for j, c in pairs.of(i).items() if j not in removed}
        if len([j for j in live if j < i]) < 2:
            continue
        mine_rank = rank.of(i)
        size = mine_rank[1]
        if any(c / size >= threshold and rank.of(j) > mine_rank for j, c in live.items()):
            continue  # held by one more complete paragraph alone: a plain copy, step 3 decides
        covered: set[int] = set()
        mine = pairs.counted(feat.shingles[i]).tolist()
        sources: list[int] = []
        earlier = [(j, c) for j, c in live.items() if j < i]
        for j, _ in sorted(earlier, key=lambda kv: (-kv[1], kv[0]))[:MAX_SOURCES]:
            theirs = set(feat.shingles[j].tolist())
            gained = {s for s in mine if s in theirs} - covered
            if gained:
                covered |= gained
                sources.append(j)
            if len(covered) / size >= threshold:
                break
        coverage = len(covered) / size
        if coverage >= threshold and len(sources) >= 2:
            removed.add(i)
            dups[i] = Duplicate(i, "repeated-sentences", tuple(sorted(sources)), round(coverage, 3))
    return removed


def _composite_candidates(pairs: Overlaps, sizes: np.ndarray, threshold: float) -> list[int]:
    """Return the paragraphs _composites must look at, largest first (then earliest): those
    with two earlier partners whose MAX_SOURCES largest overlaps could reach the threshold
    (the shingles a composite's sources cover are at most the sum of their overlaps)."""
    earlier = pairs.other < pairs.first
    para, count = pairs.first[earlier], pairs.count[earlier]
    order = np.lexsort((-count, para))
    para, count = para[order], count[order]
    rank_in_para = np.arange(len(para)) - np.searchsorted(para, para)
    top = rank_in_para < MAX_SOURCES
    partners = np.bincount(para, minlength=len(sizes))
    best = np.bincount(para[top], weights=count[top], minlength=len(sizes))
    found = np.flatnonzero((partners >= 2) & (best / sizes >= threshold))
    return found[np.lexsort((found, -sizes[found]))].tolist()


def _contained(
    pairs: Overlaps,
    rank: Completeness,
    threshold: float,
    dups: dict[int, Duplicate],
    removed: set[int],
) -> None:
    """Mark paragraphs held at >= threshold by one more complete paragraph: by the one that
    holds the largest share of it, then the most complete."""
    first, other = pairs.first, pairs.other
    share = pairs.count / rank.sizes[first]
    ok = (share >= threshold) & rank.more(other, first)
    if removed:
        gone = np.array(sorted(removed))
        ok &= ~np.isin(first, gone) & ~np.isin(other, gone)
    first, other, share = first[ok], other[ok], share[ok]
    if not len(first):
        return
    order = np.lexsort((-other, rank.sizes[other], rank.words[other], share, first))
    last = np.flatnonzero(np.append(first[order][1:] != first[order][:-1], True))
    best = order[last]
    found = zip(first[best].tolist(), other[best].tolist(), share[best].tolist(), strict=True)
    for i, j, s in found:
        dups[i] = Duplicate(i, "near-paragraph", (j,), round(min(s, 1.0), 3))


def _resolve(d: Duplicate, dups: dict[int, Duplicate]) -> Duplicate:
    """Point a duplicate at the kept paragraph(s) at the end of its chain of copies."""
    if len(d.of) == 1 and d.of[0] not in dups and d.of[0] != d.index:
        return d  # one kept paragraph already (most copies): the same Duplicate
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


WHY = {
    "exact-paragraph": "paragraph repeats an earlier paragraph (equal after folding case, quotes, "
    "dashes and punctuation)",
    "near-paragraph": "paragraph is a near copy of a more complete paragraph of the same document",
    "repeated-sentences": "paragraph is made of sentences that already stand in other paragraphs "
    "of the same document (a pull quote or statement box)",
}


def detail_of(d: Duplicate, paragraphs: Sequence[str]) -> dict[str, Any]:
    """Return the audit detail of a removed paragraph: what it duplicates and how similar."""
    if len(d.of) == 1:  # most copies: no list of heads
        j = d.of[0]
        return {"duplicate_of": j, "duplicate_text": paragraphs[j][:60], "similarity": d.similarity}
    of: Any = list(d.of)
    heads = [paragraphs[j][:60] for j in d.of]
    return {
        "duplicate_of": of,
        "duplicate_text": heads[0] if len(heads) == 1 else heads,
        "similarity": d.similarity,
    }
