"""Partial copies: a document whose shingles stand mostly inside a longer one (--doc-containment).

Jaccard cannot see a short copy inside a long text (an 87% excerpt scores ~0.36), and LSH
bands tuned to Jaccard miss it. Candidates come from Broder's mod-m sample ("On the
resemblance and containment of documents", 1997): every document keeps its shingles whose
hash has its low SAMPLE_BITS bits zero (1 in 8, the same shingles in every document), and
the share of a document's sample found in another's estimates how much of it the other
contains, whatever their sizes. A sampled shingle held by more than MAX_POSTING documents
(boilerplate, stock phrases) proposes nothing, which bounds the pairs to
samples x MAX_POSTING. Candidates are then verified exactly (verify.ShingleSets) and the
decision (contained_in) keeps every container that stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.verify import sorted_unique, unique_per_row
from cleanup.executor import BATCH_DOCS, Executor
from cleanup.scratch import ScratchRef, discard, put_parts

SAMPLE_BITS = 3  # 1 shingle in 8 is sampled
MAX_POSTING = 16  # a sampled shingle in more documents than this proposes no pair
MIN_SHARED = 2  # sampled shingles two documents must share to be a candidate
# Samples paired in one slice (the pairs of a slice's posting lists are its largest temporaries).
SLICE_SAMPLES = 250_000
# Found pairs merged at once (each takes ~65 bytes of temporaries while its counts are summed).
MERGE_PAIRS = 250_000
# Samples dealt into the slices at once (each takes ~64 bytes of temporaries: 16 MiB).
DEAL_SAMPLES = 1 << 18
# Ranges of first documents the found pairs are cut at; consecutive ranges are merged together
# up to MERGE_PAIRS pairs, so the merge's memory does not grow with the corpus.
CUT_RANGES = 4096


def sample(shingles: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each document's distinct sampled shingles (concatenated) and how many it has."""
    keep = (shingles & np.uint32((1 << SAMPLE_BITS) - 1)) == 0
    counts = np.add.reduceat(np.append(keep, False).astype(np.int64), offsets[:-1])
    counts = np.where(np.diff(offsets) > 0, counts, 0)
    kept_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return unique_per_row(shingles[keep], kept_offsets)


def candidates(
    samples: np.ndarray | RowFile,
    counts: np.ndarray,
    threshold: float,
    parts: int | None = None,
    merge: int = MERGE_PAIRS,
) -> tuple[np.ndarray, np.ndarray]:
    """Return pairs (a, b), a < b, whose samples suggest one contains the other at `threshold`.

    `samples` are the documents' sampled shingles one after the other (`counts` per
    document), in memory or in a file of one value per row. A pair is kept when it shares at
    least MIN_SHARED sampled shingles and at least half of what `threshold` asks of the
    smaller sample (loose: the exact check decides). Memory is kept to a slice at a time:
    the samples are dealt into `parts` slices by value (a posting list lies whole in one
    slice, which waits in a temporary file), each slice's lists are paired, and the slices'
    pairs (also in a file) are then merged, their counts summed and filtered by ranges of
    the first document, about `merge` pairs at a time, which gives exactly the one-piece
    result in the same order.
    """
    n = len(counts)
    if parts is None:  # slices of about SLICE_SAMPLES samples: memory bounded at any size
        parts = max(8, -(-len(samples) // SLICE_SAMPLES))
    parts = max(1, parts)
    # Each slice's pairs (codes a * n + b, sorted) go to a file with where they cross the
    # first-document bounds; they are then merged range by range: memory holds one slice's
    # work, then one range's pairs, not every pair of the corpus at once.
    bounds = np.linspace(0, n, min(n, CUT_RANGES) + 1).astype(np.int64) * n
    slices = [RowFile(2, np.int64) for _ in range(parts)]
    found = RowFile(2, np.int64)
    try:
        _deal(samples, np.cumsum(counts), slices)
        cuts = []
        for piece in slices:
            if len(piece):
                rows = piece.span(0, len(piece))
                piece.close()
                pairs, shared = _posting_pairs(rows[:, 0].astype(np.uint32), rows[:, 1], n)
                cuts.append(np.searchsorted(pairs, bounds) + len(found))
                found.append(np.column_stack((pairs, shared)))
        a_out: list[np.ndarray] = []
        b_out: list[np.ndarray] = []
        for lo, hi in _merge_ranges(cuts, merge):
            pieces = [found.span(int(c[lo]), int(c[hi] - c[lo])) for c in cuts]
            a, b = _kept([(p[:, 0], p[:, 1]) for p in pieces], counts, threshold, n)
            a_out.append(a)
            b_out.append(b)
    finally:
        found.close()
        for piece in slices:
            piece.close()
    if not a_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_out), np.concatenate(b_out)


class Search:
    """The containment candidates, searched on a worker while this process goes on.

    With an executor that has workers and scratch space, and more than one batch of
    documents (so the workers are running), the samples are copied to a file in scratch
    and `candidates` runs there as one task (the LSH candidate search runs here
    meanwhile); otherwise it runs here, when `pairs` is first asked. Same pairs either way.
    """

    def __init__(
        self,
        executor: Executor,
        samples: np.ndarray | RowFile,
        counts: np.ndarray,
        threshold: float,
    ) -> None:
        self.samples, self.counts, self.threshold = samples, counts, threshold
        self.found: tuple[np.ndarray, np.ndarray] | None = None
        self.ref: ScratchRef | None = None
        self.handle: Any = None
        self.executor = executor
        if executor.scratch is None or not len(samples):  # no workers to share the samples
            return
        if len(counts) <= BATCH_DOCS:  # the read pass ran here: start no worker for this
            return
        self.ref = put_parts(executor.scratch, _sample_bytes(samples))
        self.handle = executor.submit(candidates_job, self.ref.path, counts, threshold)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the candidate pairs (a, b), waiting for the task if there is one."""
        if self.found is None:
            if self.handle is not None:
                try:
                    self.found = self.executor.result(self.handle)
                finally:
                    self.handle = None
                    self.close()
            else:
                self.found = candidates(self.samples, self.counts, self.threshold)
        return self.found

    def close(self) -> None:
        """Remove the samples' copy in scratch (a task not waited for is the engine's)."""
        if self.ref is not None:
            discard([self.ref.path])
            self.ref = None


def _sample_bytes(samples: np.ndarray | RowFile) -> Iterator[bytes]:
    """Yield the samples' uint32 values as bytes, a block at a time."""
    for _, block in _blocks(samples):
        yield np.ascontiguousarray(block, dtype=np.uint32).tobytes()


def candidates_job(
    path: str, counts: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return `candidates` of the samples in file `path` (uint32 values, one after the other,
    not none): a worker's task."""
    samples = RowFile.reading(path)  # read a block at a time: no mapped pages held
    try:
        return candidates(samples, counts, threshold)
    finally:
        samples.close()


def _merge_ranges(cuts: list[np.ndarray], merge: int) -> Iterator[tuple[int, int]]:
    """Yield (lo, hi): runs of consecutive cut ranges holding about `merge` pairs in all.

    `cuts[k][r]` is where range r of the first document starts among slice k's pairs. A run
    ends once it holds `merge` pairs or more; one range may hold more (a pair's copies from
    every slice are summed together, and they all lie in its range).
    """
    if not cuts:
        return
    sizes = np.diff(np.sum(cuts, axis=0)).tolist()  # pairs per range, all slices together
    lo = held = 0
    for r, size in enumerate(sizes):
        held += size
        if held >= merge:
            yield lo, r + 1
            lo, held = r + 1, 0
    if held:
        yield lo, len(sizes)


def _deal(samples: np.ndarray | RowFile, ends: np.ndarray, slices: list[RowFile]) -> None:
    """Append every sample, as (value, its document), to its slice's file, a block at a time.

    A sample's slice is a hash of its value (sampled values have their low SAMPLE_BITS bits
    zero, the bits above are hash bits); its document is how many documents end at or
    before it (`ends`: the cumulative counts).
    """
    parts = len(slices)
    for start, block in _blocks(samples):
        values = block.reshape(-1)
        doc = np.searchsorted(ends, np.arange(start, start + len(values)), side="right")
        slice_of = (values >> np.uint32(SAMPLE_BITS)) % np.uint32(parts)
        if parts <= 1 << 16:  # numpy's stable sort of 16-bit values is a radix sort
            slice_of = slice_of.astype(np.uint16)
        order = np.argsort(slice_of, kind="stable")  # stable: document order in each slice
        bounds = np.searchsorted(slice_of[order], np.arange(parts + 1))
        rows = np.column_stack((values[order].astype(np.int64), doc[order]))
        for k in range(parts):
            if bounds[k + 1] > bounds[k]:
                slices[k].append(rows[bounds[k] : bounds[k + 1]])


def _blocks(
    samples: np.ndarray | RowFile, size: int = DEAL_SAMPLES
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first index, values) blocks of the samples, from memory or from their file."""
    if isinstance(samples, RowFile):
        yield from samples.blocks(size)
        return
    for start in range(0, len(samples), size):
        yield start, samples[start : start + size]


def _kept(
    pieces: list[tuple[np.ndarray, np.ndarray]], counts: np.ndarray, threshold: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Merge pairs found in several slices (summing what they share) and keep the candidates."""
    pairs = np.concatenate([p for p, _ in pieces]) if pieces else np.zeros(0, np.int64)
    if len(pairs) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    shared = np.concatenate([h for _, h in pieces])
    order = np.argsort(pairs, kind="stable")
    pairs, shared = pairs[order], shared[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    starts = np.flatnonzero(first)
    pairs, shared = pairs[starts], np.add.reduceat(shared, starts)
    a, b = pairs // n, pairs % n
    small = np.minimum(counts[a], counts[b])
    keep = (shared >= MIN_SHARED) & (shared >= 0.5 * threshold * small)
    return a[keep], b[keep]


def _posting_pairs(samples: np.ndarray, doc: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct document pairs (encoded a * n + b) sharing a short posting list,
    and how many sampled shingles each pair shares among these samples."""
    none = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(samples) < 2:
        return none
    if n < 1 << 32:  # (sample, document) as one value: a plain sort, ~5x a lexsort
        both = np.sort((samples.astype(np.uint64) << np.uint64(32)) | doc.astype(np.uint64))
        s, d = both >> np.uint64(32), (both & np.uint64(0xFFFFFFFF)).astype(np.int64)
    else:
        order = np.lexsort((doc, samples))
        s, d = samples[order], doc[order]
    start = np.ones(len(s), dtype=bool)
    start[1:] = s[1:] != s[:-1]
    run = np.cumsum(start) - 1
    size = np.bincount(run)
    ok = (size[run] >= 2) & (size[run] <= MAX_POSTING)
    d, run = d[ok], run[ok]
    # Every pair inside each posting list, at once: element i pairs with the rest of its run.
    first = np.searchsorted(run, run)  # runs are contiguous: the first element of each
    after = size[run] - (np.arange(len(d)) - first) - 1
    total = int(after.sum())
    if total == 0:
        return none
    left = np.repeat(np.arange(len(d)), after)
    step = np.arange(total) - np.repeat(np.cumsum(after) - after, after)
    return sorted_unique(d[left] * n + d[left + 1 + step])


def contained_in(
    a: np.ndarray,
    b: np.ndarray,
    cont: np.ndarray,
    jac: np.ndarray,
    lengths: np.ndarray,
    stays: np.ndarray,
    never: np.ndarray,
    threshold: float,
    jaccard_threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per document, the longer staying document that contains it (-1: none), and how much.

    Pairs (a, b) come with their exact containment of the shorter in the longer (`cont`) and
    Jaccard (`jac`); pairs at the Jaccard threshold are near copies, left to --keep. Walking
    the documents that stay (`stays`) from the longest, each one not yet contained takes the
    shorter ones it contains at >= `threshold` (never the `never` ones: published before),
    so a container always stays.
    """
    n = len(lengths)
    holder = np.full(n, -1, dtype=np.int64)
    share = np.zeros(n)
    long_ = np.where(lengths[a] >= lengths[b], a, b)
    short = np.where(lengths[a] >= lengths[b], b, a)
    use = (cont >= threshold) & (jac < jaccard_threshold) & (lengths[long_] > lengths[short])
    use &= stays[long_] & stays[short] & ~never[short]
    long_, short, cont = long_[use], short[use], cont[use]
    if not len(long_):
        return holder, share
    by = np.lexsort((short, -lengths[short], long_, -lengths[long_]))
    # Only the documents in some pair are walked, numbered 0..m-1 (lists of m, not n).
    items = sorted_unique(np.concatenate((long_, short)))[0]
    long_l = np.searchsorted(items, long_[by]).tolist()
    short_l, cont_l = np.searchsorted(items, short[by]).tolist(), cont[by].tolist()
    holder_l, share_l = [-1] * len(items), [0.0] * len(items)
    for big, small, c in zip(long_l, short_l, cont_l, strict=True):
        if holder_l[big] >= 0 or holder_l[small] >= 0:
            continue  # a contained document contains nothing; each is taken once
        holder_l[small], share_l[small] = big, c
    took = np.array(holder_l, dtype=np.int64)
    has = took >= 0
    holder[items[has]] = items[took[has]]
    share[items[has]] = np.array(share_l)[has]
    return holder, share
