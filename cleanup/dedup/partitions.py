"""The candidate search in partitions: every bucket whole in one partition, merged exactly.

The (item, band, key) entries are split by a hash of (band, key), or by whole bands when the
keys are read band by band from a BandFile, so a bucket never straddles two partitions; each
partition finds and checks its own pairs, and one global np.unique merges them into exactly
the pairs of the one-process search (cleanup/dedup/clusters.py, `local_edges`). An executor
with several partitions (Ray) runs them as tasks: `edges_finder(executor)`; when the band
file is in the run's scratch space, each task reads its own bands from it, so the keys never
pass through the engine's object store. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from cleanup.dedup.bandfile import BandFile, BandKeys, BandSource, Columns, LazyColumns
from cleanup.dedup.clusters import (
    BUCKET_HEADS,
    CanonicalRank,
    Keys,
    Rank,
    candidate_pairs,
    check_pairs,
    pairs_with_first,
    rank_array,
)
from cleanup.dedup.rowfile import RowFile, Rows
from cleanup.dedup.shingles import fmix64
from cleanup.executor import Executor
from cleanup.scratch import put_parts

# The (item, band, key) entries are split by a hash of (band, key), so every bucket lies
# wholly in one partition; each partition finds and verifies its own pairs, and the
# partitions' results are merged with one global np.unique (a pair found in two bands may
# come from two partitions), which makes the comparisons the same as local_edges counts.

_BAND_SALT = np.uint64(0x9E3779B97F4A7C15)
Entries = tuple[np.ndarray, np.ndarray, np.ndarray]  # (items, bands, keys) of some entries


def partition_of(keys: np.ndarray, parts: int) -> np.ndarray:
    """Return the partition (0..parts-1) of every entry of `keys` (n, bands), as int64."""
    bands = np.arange(keys.shape[1], dtype=np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        mixed = fmix64(np.asarray(keys, dtype=np.uint64) ^ fmix64(bands * _BAND_SALT)[None, :])
    return (mixed % np.uint64(parts)).astype(np.int64)


def partition_entries(keys: np.ndarray, parts: int, part: int) -> Entries:
    """Return the (items, bands, keys) entries of one partition, in item-major order."""
    item, band = np.nonzero(partition_of(keys, parts) == part)
    return item.astype(np.int64), band.astype(np.int64), keys[item, band]


def split_entries(keys: np.ndarray, parts: int) -> list[Entries]:
    """Split every (item, band, key) entry into `parts` partitions by a hash of (band, key)."""
    of = partition_of(keys, parts).ravel()
    order = np.argsort(of, kind="stable")  # stable: item-major order inside each partition
    bounds = np.searchsorted(of[order], np.arange(parts + 1))
    flat, bands = keys.ravel(), max(keys.shape[1], 1)
    out = []
    for p in range(parts):  # one slice per partition, not per item
        sel = order[bounds[p] : bounds[p + 1]]
        out.append((sel // bands, sel % bands, flat[sel]))
    return out


def entry_pairs(
    items: np.ndarray, bands: np.ndarray, bkeys: np.ndarray, rank: np.ndarray, n: int
) -> np.ndarray:
    """Return the unique encoded (first, member) pairs of some whole buckets' entries.

    The first member of a bucket (band, key) is the one of lowest (rank, item), as in
    candidate_pairs.
    """
    if len(items) < 2:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((items, rank[items], bkeys, bands))
    sb, sk = bands[order], bkeys[order]
    new_run = np.empty(len(order), dtype=bool)
    new_run[0] = True
    new_run[1:] = (sb[1:] != sb[:-1]) | (sk[1:] != sk[:-1])
    return pairs_with_first(items[order].astype(np.int64), new_run, n, BUCKET_HEADS)


def partition_edges(
    entries: Entries,
    sigs: np.ndarray,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return one partition's checked candidate pairs and which passed (see check_pairs)."""
    n = len(rank)
    pairs = entry_pairs(*entries, rank, n)
    return check_pairs(pairs, n, sigs, threshold, fixed, group)


def part_edges(
    keys: np.ndarray,
    sigs: np.ndarray,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None,
    group: np.ndarray | None,
    parts: int,
    part: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Select partition `part` of `parts` from the full keys and return its edges (a task)."""
    entries = partition_entries(keys, parts, part)
    return partition_edges(entries, sigs, threshold, rank, fixed, group)


def band_edges(
    sigs: np.ndarray,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None,
    group: np.ndarray | None,
    *columns_and_part: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the edges of the bands part, part + parts, ... (a task; a bucket lies in one band).

    `columns_and_part` are every band's column of keys, then `parts` and `part`.
    """
    *columns, parts, part = columns_and_part
    mine = Columns([columns[b] for b in range(part, len(columns), parts)])
    return _column_edges(mine, sigs, threshold, rank, fixed, group)


def file_edges(
    sigs: np.ndarray,
    threshold: float,
    rank: Rank,
    fixed: np.ndarray | None,
    group: np.ndarray | None,
    source: BandSource,
    parts: int,
    part: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the edges of the bands part, part + parts, ..., read from the band file (a task)."""
    mine = source.columns(range(part, source.bands, parts))
    return _column_edges(mine, sigs, threshold, rank_array(rank), fixed, group)


@dataclass(frozen=True)
class RankFile:
    """Name the live documents' fingerprints in scratch: a task makes the canonical rank from
    them (clusters.CanonicalRank), so neither the driver nor the object store holds it."""

    path: str
    m: int

    def array(self) -> np.ndarray:
        """Return every item's rank, made from the fingerprints in the file."""
        return CanonicalRank(np.fromfile(self.path, dtype=np.uint64), self.m).array()

    @staticmethod
    @contextlib.contextmanager
    def written(rank: Rank, folder: str | None) -> Iterator[Rank]:
        """Yield what partition tasks take as the rank: a canonical rank's fingerprints
        written to `folder` for the tasks to read (deleted afterwards), else the rank."""
        if not isinstance(rank, CanonicalRank) or folder is None:
            yield rank_array(rank)
            return
        fps = rank.fps
        if isinstance(fps, RowFile):  # block by block, not all in memory at once
            ref = put_parts(folder, (block.data for _, block in fps.blocks()))
        else:
            ref = put_parts(folder, [np.ascontiguousarray(fps, dtype=np.uint64).data])
        try:
            yield RankFile(ref.path, rank.m)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(ref.path)


def _column_edges(
    mine: Columns,
    sigs: np.ndarray,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None,
    group: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the checked candidate pairs of these bands (whole bands: every bucket whole)."""
    if not mine.columns:
        return merge_edges([])
    pairs = candidate_pairs(mine, rank)
    return check_pairs(pairs, len(rank), sigs, threshold, fixed, group)


class _Concat(Sequence[Any]):
    """Read two sequences as one, without joining them (the second may read lazily)."""

    def __init__(self, first: Sequence[Any], then: Sequence[Any]) -> None:
        self.first, self.then = first, then

    def __len__(self) -> int:
        return len(self.first) + len(self.then)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        if not 0 <= i < len(self):
            raise IndexError(i)  # ends iteration over the sequence
        k = len(self.first)
        return self.first[i] if i < k else self.then[i - k]


def merge_edges(results: Iterable[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge partitions' (pairs, passed) into the unique pairs local_edges would return."""
    found = list(results)
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    pairs = np.concatenate([p for p, _ in found])
    ok = np.concatenate([o for _, o in found])
    if ok.all():  # candidates only (verified later): sorted in place, no index kept
        pairs.sort()
        first = np.ones(len(pairs), dtype=bool)
        first[1:] = pairs[1:] != pairs[:-1]
        unique = pairs[first]
        return unique, np.ones(len(unique), dtype=bool)
    unique, first_seen = np.unique(pairs, return_index=True)
    return unique, ok[first_seen]  # a pair's check does not depend on where it ran


def partitioned_edges(
    keys: np.ndarray,
    sigs: np.ndarray,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
    parts: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """Find the edges partition by partition in this process: the reference for engines."""
    return merge_edges(
        partition_edges(entries, sigs, threshold, rank, fixed, group)
        for entries in split_entries(keys, parts)
    )


class PartitionedEdges:
    """Find edges with an Executor's partition map: one task per hash partition of the keys.

    The executor sends the arrays to its workers once; each partition selects its own
    entries (part_edges), so every bucket is whole in one task; the pairs are merged here.
    `tasks` counts the partitions run, for the run's summary.
    """

    def __init__(self, executor: Executor, parts: int) -> None:
        self.executor = executor
        self.parts = parts
        self.tasks = 0

    def __call__(
        self,
        keys: Keys,
        sigs: Rows,
        threshold: float,
        rank: Rank,
        fixed: np.ndarray | None = None,
        group: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return what local_edges returns, computed partition by partition on the executor."""
        if keys.shape[0] < 2:
            return merge_edges([])
        # Signatures are needed only to check pairs here (threshold > 0); cluster() verifies
        # its candidates itself, so they stay out of the workers' shared arrays then.
        unused = np.zeros((0, sigs.shape[1]), np.uint32)  # no rows: nothing to ship
        self.tasks += self.parts
        source = keys.source() if isinstance(keys, BandFile) else None
        if source is not None:  # in scratch: each task reads its own bands from the file
            with RankFile.written(rank, self.executor.scratch) as task_rank:
                head = (sigs if threshold > 0 else unused, threshold, task_rank, fixed, group)
                return merge_edges(
                    self.executor.map_partitions(file_edges, (*head, source), self.parts)
                )
        rank = rank_array(rank)
        head = (sigs if threshold > 0 else unused, threshold, rank, fixed, group)
        if isinstance(keys, BandKeys):  # by band: each column read and shipped in turn
            shared_bands = _Concat(head, LazyColumns(keys))
            return merge_edges(self.executor.map_partitions(band_edges, shared_bands, self.parts))
        shared = (keys, sigs if threshold > 0 else unused, threshold, rank, fixed, group)
        return merge_edges(self.executor.map_partitions(part_edges, shared, self.parts))


def edges_finder(executor: Executor) -> PartitionedEdges | None:
    """Return the executor's partitioned search, or None (local_edges) for one partition."""
    parts = executor.partitions()
    return PartitionedEdges(executor, parts) if parts > 1 else None
