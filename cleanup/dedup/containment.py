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

import numpy as np

from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.verify import sorted_unique, unique_per_row

SAMPLE_BITS = 3  # 1 shingle in 8 is sampled
MAX_POSTING = 16  # a sampled shingle in more documents than this proposes no pair
MIN_SHARED = 2  # sampled shingles two documents must share to be a candidate
# Samples paired in one slice (the pairs of a slice's posting lists are its largest temporaries).
SLICE_SAMPLES = 2_000_000


def sample(shingles: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each document's distinct sampled shingles (concatenated) and how many it has."""
    keep = (shingles & np.uint32((1 << SAMPLE_BITS) - 1)) == 0
    counts = np.add.reduceat(np.append(keep, False).astype(np.int64), offsets[:-1])
    counts = np.where(np.diff(offsets) > 0, counts, 0)
    kept_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return unique_per_row(shingles[keep], kept_offsets)


def candidates(
    samples: np.ndarray, counts: np.ndarray, threshold: float, parts: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return pairs (a, b), a < b, whose samples suggest one contains the other at `threshold`.

    A pair is kept when it shares at least MIN_SHARED sampled shingles and at least half of
    what `threshold` asks of the smaller sample (loose: the exact check decides). Memory is
    kept to a slice at a time: the posting lists are paired in `parts` slices by sampled
    value (a list lies whole in one slice), and the slices' pairs are then merged, their
    counts summed and filtered in `parts` ranges of the first document, which gives exactly
    the one-piece result in the same order. The slices' pairs wait in a temporary file.
    """
    n = len(counts)
    if parts is None:  # slices of about SLICE_SAMPLES samples: memory bounded at any size
        parts = max(8, -(-len(samples) // SLICE_SAMPLES))
    parts = max(1, parts)
    ends = np.cumsum(counts)  # a sample's document: how many documents end at or before it
    slice_of = _slices(samples, parts)
    # Each slice's pairs (codes a * n + b, sorted) go to a file with where they cross the
    # first-document bounds; they are then merged range by range: memory holds one slice's
    # work, then one range's pairs, not every pair of the corpus at once.
    bounds = np.linspace(0, n, parts + 1).astype(np.int64) * n
    found = RowFile(2, np.int64)
    try:
        cuts = _slice_pairs(samples, ends, slice_of, parts, n, bounds, found)
        del slice_of
        a_out: list[np.ndarray] = []
        b_out: list[np.ndarray] = []
        for r in range(parts):
            pieces = [found.span(int(c[r]), int(c[r + 1] - c[r])) for c in cuts]
            a, b = _kept([(p[:, 0], p[:, 1]) for p in pieces], counts, threshold, n)
            a_out.append(a)
            b_out.append(b)
    finally:
        found.close()
    return np.concatenate(a_out), np.concatenate(b_out)


def _slices(samples: np.ndarray, parts: int, block: int = 1 << 22) -> np.ndarray:
    """Return each sample's slice (a hash of its value), computed a block at a time.

    Sampled values have their low SAMPLE_BITS bits zero; the bits above are hash bits. The
    smallest type that holds `parts` keeps this corpus-sized array small.
    """
    out = np.empty(len(samples), dtype=np.uint16 if parts <= 1 << 16 else np.uint32)
    for start in range(0, len(samples), block):
        part = samples[start : start + block] >> np.uint32(SAMPLE_BITS)
        out[start : start + block] = part % np.uint32(parts)
    return out


def _slice_pairs(
    samples: np.ndarray,
    ends: np.ndarray,
    slice_of: np.ndarray,
    parts: int,
    n: int,
    bounds: np.ndarray,
    found: RowFile,
) -> list[np.ndarray]:
    """Append each slice's (pair, shared) rows to `found`; return where each crosses `bounds`."""
    cuts: list[np.ndarray] = []
    for k in range(parts):
        idx = np.flatnonzero(slice_of == k)
        if len(idx):
            doc = np.searchsorted(ends, idx, side="right").astype(np.int64)
            pairs, shared = _posting_pairs(samples[idx], doc, n)
            cuts.append(np.searchsorted(pairs, bounds) + len(found))
            found.append(np.column_stack((pairs, shared)))
    return cuts


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
    long_l, short_l, cont_l = long_[by].tolist(), short[by].tolist(), cont[by].tolist()
    holder_l, share_l = holder.tolist(), share.tolist()
    for big, small, c in zip(long_l, short_l, cont_l, strict=True):
        if holder_l[big] >= 0 or holder_l[small] >= 0:
            continue  # a contained document contains nothing; each is taken once
        holder_l[small], share_l[small] = big, c
    return np.array(holder_l, dtype=np.int64), np.array(share_l)
