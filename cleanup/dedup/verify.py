"""Exact verification of candidate pairs: shingle-set Jaccard and containment, vectorized.

LSH only proposes pairs, and a signature only estimates their similarity (a pair at 0.42
estimates below 0.4 one time in four with 256 permutations); so corpus dedup compares the
candidates' shingle sets themselves. The sets are the 32-bit shingle hashes the signatures
are made of (document: --doc-shingle-size words over the text without its boilerplate;
paragraph: --paragraph-shingle-size words), read back from the spooled token hashes for the
documents in some candidate pair only, and held as one sorted array per item (4 bytes per
distinct shingle). Overlaps are counted for thousands of pairs at once by sorting the
pairs' tagged shingles together. With scratch space (Ray) the sets are built by tasks and left
there (cleanup/dedup/setfiles.py), and the pairs are compared by tasks too, a `Chunk` each.
See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from cleanup.dedup import heap
from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.setfiles import SetFiles
from cleanup.executor import BATCH_DOCS, Executor

# Pairs whose shingles are sorted together in one go: bounds the temporaries (~15 MB for
# documents of ~850 shingles; 1,024 pairs took 56 MB and ran slower, out of the CPU caches).
PAIR_CHUNK = 256
# Shingle hashes held in memory; past this, sets go to a temporary file (a million news
# documents' candidates hold ~1 GiB of them) and the sets of DISK_CHUNK pairs are read at once
# (~25 MB of temporaries for documents of ~850 shingles), fewer when their sets hold more than
# DISK_BYTES (long documents: the chunk's sets, not its pair count, make the working set).
SETS_MEMORY = 16 << 20
DISK_CHUNK = 2048
DISK_BYTES = 16 << 20
# Tasks the pairs of one call are cut into at least (each of PAIR_CHUNK pairs or more) when
# workers compare them: one chunk would run in the main process (a stream of one batch runs
# where it is), with the workers idle; 1,836 pairs in 4 tasks keep two workers busy. Not
# for a run of one batch of documents, whose engine started no worker.
TASK_SPLIT = 4
# Pairs measured at once by jaccard/similarity: their per-pair temporaries (sizes, overlaps,
# unions: ~60 bytes a pair) stay this size however many candidates a corpus has.
PAIR_BLOCK = 65536


@dataclass
class ShingleSets:
    """Hold the distinct shingle hashes of some items: one sorted run per item (CSR)."""

    values: np.ndarray  # uint32, each item's distinct shingles sorted (empty when on disk)
    offsets: np.ndarray  # int64, len = rows + 1
    row: np.ndarray  # int32 (int64 past 2**31 items) per item: its run, -1 for none
    disk: RowFile | SetFiles | None = None  # the values, when on disk (in scratch: SetFiles)
    tasks: Executor | None = None  # compares pairs whose sets are in scratch on its workers

    @classmethod
    def build(
        cls,
        items: int,
        parts: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
        memory: int | None = None,
    ) -> ShingleSets:
        """Return the sets from (item indices, shingle hashes, offsets) parts.

        Past `memory` bytes of values (None: no limit), the values go to a temporary file.
        """
        index = SetIndex(items)
        values: list[np.ndarray] = []
        held = 0
        disk: RowFile | None = None
        for idx, hashes, offsets in parts:
            uniq, size = unique_per_row(hashes, offsets)
            values.append(uniq.astype(np.uint32, copy=False))
            held += uniq.nbytes
            index.add(idx, size)
            if memory is not None and held >= memory:
                disk = disk or RowFile(1, np.uint32)
                for v in values:
                    disk.append(v)
                values, held = [], 0
        if disk is not None:
            for v in values:
                disk.append(v)
            values = []
        flat = np.concatenate(values) if values else np.zeros(0, np.uint32)
        return cls(flat, index.offsets(), index.row, disk)

    def close(self) -> None:
        """Delete the values' file, if any."""
        if self.disk is not None:
            self.disk.close()

    def _chunk(self, a: np.ndarray, b: np.ndarray) -> Chunk:
        """Return where the sets of these pairs' items are on disk, and the pairs renumbered."""
        assert self.disk is not None
        items = np.unique(np.concatenate((a, b)))
        rows = np.unique(self.row[items])
        rows = rows[rows >= 0]
        sizes = self.offsets[rows + 1] - self.offsets[rows]
        starts = np.flatnonzero(np.diff(rows, prepend=-2) != 1)  # runs of consecutive rows
        ends = np.append(starts[1:], len(rows)) if len(rows) else starts
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        first, count = self.offsets[rows[starts]], offsets[ends] - offsets[starts]
        r = self.row[items]
        row = np.where(r >= 0, np.searchsorted(rows, r), -1)
        disk = self.disk.covering(first, count) if isinstance(self.disk, SetFiles) else self.disk
        pairs = np.searchsorted(items, a), np.searchsorted(items, b)
        return Chunk(disk, first, count, offsets, row, *pairs)

    def sizes(self, items: np.ndarray) -> np.ndarray:
        """Return the number of distinct shingles of each item (0 without a set)."""
        r = self.row[items]
        out = np.zeros(len(items), dtype=np.int64)
        has = r >= 0
        out[has] = self.offsets[r[has] + 1] - self.offsets[r[has]]
        return out

    def overlaps(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Return |set(a[k]) & set(b[k])| for every pair k (items without a set share 0)."""
        out = np.zeros(len(a), dtype=np.int64)
        if self.disk is not None:  # chunk by chunk, compared on the workers with `tasks`
            most = DISK_CHUNK
            if self.tasks is not None and len(self.row) > BATCH_DOCS:  # workers running:
                # several tasks, so that every worker compares some
                most = min(most, max(PAIR_CHUNK, -(-len(a) // TASK_SPLIT)))
            bounds = list(self._disk_chunks(a, b, most))
            chunks = (self._chunk(a[start:end], b[start:end]) for start, end in bounds)
            if self.tasks is not None:
                done = (got for (got,) in self.tasks.map_batches(overlaps_job, chunks, size=1))
            else:
                done = (chunk.overlaps() for chunk in chunks)
            for (start, end), got in zip(bounds, done, strict=True):
                out[start:end] = got
            return out
        for start in range(0, len(a), PAIR_CHUNK):
            end = start + PAIR_CHUNK
            out[start:end] = self._overlaps(a[start:end], b[start:end])
        return out

    def _disk_chunks(
        self, a: np.ndarray, b: np.ndarray, most: int = DISK_CHUNK
    ) -> Iterable[tuple[int, int]]:
        """Yield (start, end) of runs of pairs whose sets are read at once: at most `most`
        pairs holding at most DISK_BYTES of sets (counted per pair; at least one pair)."""
        weight = (self.sizes(a) + self.sizes(b)) * np.dtype(np.uint32).itemsize
        start = 0
        while start < len(a):
            held = np.cumsum(weight[start : start + most])
            end = start + max(1, int(np.searchsorted(held, DISK_BYTES, side="right")))
            yield start, end
            start = end

    def _overlaps(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if len(self.offsets) < 2:  # no item has a set
            return np.zeros(len(a), dtype=np.int64)
        tagged = []
        for side in (a, b):
            r = self.row[side]
            r = np.where(r >= 0, r, 0)
            lo, hi = self.offsets[r], self.offsets[r + 1]
            counts = np.where(self.row[side] >= 0, hi - lo, 0)
            pair = np.repeat(np.arange(len(side), dtype=np.uint64), counts)
            pos = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
            pos = pos + np.arange(int(counts.sum()))
            tagged.append((pair << np.uint64(32)) | self.values[pos].astype(np.uint64))
        # Each side is sorted (pairs in order, each set's values sorted): a stable sort (a
        # merge of runs) joins them in linear time, ~3x a quicksort of the two.
        both = np.sort(np.concatenate(tagged), kind="stable")
        same = both[1:] == both[:-1]  # a shingle of pair k found on both sides
        hits = (both[1:][same] >> np.uint64(32)).astype(np.int64)
        return np.bincount(hits, minlength=len(a))

    def jaccard(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Return the exact Jaccard of every pair (0 where both sets are empty)."""
        return self.similarity(a, b, containment=False)[0]

    def similarity(
        self, a: np.ndarray, b: np.ndarray, containment: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return each pair's exact Jaccard and the containment of the smaller set in the other
        (empty without `containment`), PAIR_BLOCK pairs at a time."""
        jac = np.zeros(len(a))
        cont = np.zeros(len(a) if containment else 0)
        with heap.batch_work():  # a block's temporaries, from the heap
            self._similarity(a, b, jac, cont)
        return jac, cont

    def _similarity(self, a: np.ndarray, b: np.ndarray, jac: np.ndarray, cont: np.ndarray) -> None:
        """Fill each pair's Jaccard and (if `cont` has room) containment, a block at a time."""
        containment = len(cont) > 0
        for start in range(0, len(a), PAIR_BLOCK):
            end = start + PAIR_BLOCK
            inter = self.overlaps(a[start:end], b[start:end])
            sa, sb = self.sizes(a[start:end]), self.sizes(b[start:end])
            union = sa + sb - inter
            jac[start:end] = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
            if containment:
                small = np.minimum(sa, sb)
                cont[start:end] = np.where(small > 0, inter / np.maximum(small, 1), 0.0)


class SetIndex:
    """Number sets as they come, a batch of items at a time: each item's row (-1: no set) and
    where each row's values start (`offsets`), in the order the values are laid out."""

    def __init__(self, items: int) -> None:
        self.row = np.full(items, -1, dtype=np.int32 if items < 1 << 31 else np.int64)
        self.sizes: list[np.ndarray] = []
        self.count = 0

    def add(self, idx: np.ndarray, sizes: np.ndarray) -> None:
        """Give items `idx` the next rows, their sets holding `sizes` values."""
        self.row[idx] = np.arange(self.count, self.count + len(idx))
        self.count += len(idx)
        self.sizes.append(sizes)

    def offsets(self) -> np.ndarray:
        """Return each row's first value, and the end (rows + 1 values)."""
        sizes = np.concatenate(self.sizes) if self.sizes else np.zeros(0, np.int64)
        return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


@dataclass
class Chunk:
    """A chunk of pairs to compare, with where their sets are on disk (no shingle in it): what
    a task needs, small enough to send to one."""

    disk: RowFile | SetFiles
    first: np.ndarray  # runs of values to read: first value and count of each
    count: np.ndarray
    offsets: np.ndarray  # the sets read, one after the other (CSR)
    row: np.ndarray  # each item's set among them (-1: none)
    a: np.ndarray  # the pairs, as indices of items
    b: np.ndarray

    def overlaps(self) -> np.ndarray:
        """Read the sets and return the size of each pair's intersection."""
        values = np.empty(int(self.offsets[-1]), np.uint32)  # each run read into its place
        if isinstance(self.disk, SetFiles):
            self.disk.read_runs(self.first, self.count, values)
        else:
            at = 0
            for first, count in zip(self.first.tolist(), self.count.tolist(), strict=True):
                self.disk.span_into(first, values[at : at + count])
                at += count
        return ShingleSets(values, self.offsets, self.row).overlaps(self.a, self.b)


def overlaps_job(chunks: list[Chunk]) -> list[np.ndarray]:
    """Return each chunk's overlaps, its sets read from the run's scratch space (a task)."""
    return [chunk.overlaps() for chunk in chunks]


def sorted_unique(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct values of x sorted, and how often each occurs.

    np.unique does the same, but this numpy's hash-based path is ~50x slower than one sort
    on large 64-bit arrays (9 s against 0.17 s for 3 million values).
    """
    if len(x) == 0:
        return x.copy(), np.zeros(0, dtype=np.int64)
    s = np.sort(x)
    start = np.ones(len(s), dtype=bool)
    start[1:] = s[1:] != s[:-1]
    first = np.flatnonzero(start)
    return s[first], np.diff(np.append(first, len(s)))


def unique_per_row(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's distinct values sorted, concatenated, and how many each row has."""
    rows = len(offsets) - 1
    if len(hashes) == 0:
        return np.zeros(0, np.uint32), np.zeros(rows, np.int64)
    row_of = np.repeat(np.arange(rows, dtype=np.uint64), np.diff(offsets))
    tagged, _ = sorted_unique((row_of << np.uint64(32)) | hashes.astype(np.uint64))
    owner = (tagged >> np.uint64(32)).astype(np.int64)
    return (tagged & np.uint64(0xFFFFFFFF)).astype(np.uint32), np.bincount(owner, minlength=rows)
