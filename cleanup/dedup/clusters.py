"""Candidate pairs from LSH buckets, verified, then grouped greedily around the copies that stay.

See docs/architecture.md, "Dedup". In every band, each member of a bucket (documents sharing
a band key) is paired with the bucket's first BUCKET_HEADS members, never with all of them:
a bucket of 10,000 identical documents costs ~40,000 checks, not 50 million. "First" is a
canonical order the caller chooses (a content hash, not the input position), so the pairs
do not depend on the order documents came in. Every candidate is verified (exactly, by the
caller's `verify`), and clusters are formed greedily from the copy to keep first
(greedy_clusters): an item is dropped only for its own verified similarity to the one that
stays, never through a chain.

The candidate search can also run in partitions (split by a hash of band and key, or by whole
bands when the keys are read band by band from a BandFile: a bucket never straddles two): each
partition yields its own pairs and one global np.unique merges them into exactly the pairs of
the one-process search. An executor with several partitions (Ray) runs them as tasks:
`edges_finder(executor)`; when the band file is in the run's scratch space, each task reads its
own bands from it, so the keys never pass through the engine's object store.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from cleanup.dedup.bandfile import BandFile, BandKeys, BandSource, Columns, LazyColumns, column_of
from cleanup.dedup.rowfile import Rows
from cleanup.dedup.shingles import fmix64
from cleanup.dedup.verify import sorted_unique
from cleanup.executor import Executor

# Members of a bucket compared with each member: its first BUCKET_HEADS members (in rank
# order). A bucket whose first member is a chance collision (a templated report sharing a
# band with a real copy pair) would otherwise hide the pair; the work stays bounded by
# documents x bands x BUCKET_HEADS comparisons however crowded a bucket is.
BUCKET_HEADS = 4
# Band keys as the search takes them: an (items, bands) array, or read band by band.
Keys = np.ndarray | BandKeys


@dataclass
class Clusters:
    """Hold the outcome of clustering: each item's representative and the work it took."""

    labels: np.ndarray  # int64: the item's representative (itself for one that stays)
    similarity: np.ndarray  # float: verified similarity to the representative (0 for itself)
    comparisons: int  # candidate pairs verified
    joined: int  # pairs that passed verification


def candidate_pairs(keys: Keys, rank: np.ndarray, heads: int = BUCKET_HEADS) -> np.ndarray:
    """Return unique (head, member) pairs, encoded as head * n + member (int64).

    `keys` is (n, bands); `rank` orders items inside a bucket (lowest first); every member
    is paired with the bucket's first `heads` members (see BUCKET_HEADS).
    """
    n = keys.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    found: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        col = column_of(keys, band)  # one band in memory at a time
        order = np.lexsort((rank, col))
        sk = col[order]
        new_run = np.empty(n, dtype=bool)
        new_run[0] = True
        new_run[1:] = sk[1:] != sk[:-1]
        if not new_run.all():
            found.append(_pairs_with_first(order.astype(np.int64), new_run, n, heads))
    if not found:
        return np.zeros(0, dtype=np.int64)
    return sorted_unique(np.concatenate(found))[0]


def _pairs_with_first(items: np.ndarray, new_run: np.ndarray, n: int, heads: int = 1) -> np.ndarray:
    """Pair every member of each run of sorted `items` (a run starts where `new_run`) with the
    run's first `heads` items (those before it); return the unique pairs, encoded as
    head * n + member."""
    run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(items)), 0))
    offset = np.arange(len(items)) - run_start
    found = []
    for h in range(heads):
        sel = offset > h
        if not sel.any():
            break
        found.append(items[run_start[sel] + h] * n + items[sel])
    if not found:
        return np.zeros(0, dtype=np.int64)
    return sorted_unique(np.concatenate(found))[0]


def greedy_clusters(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    sim: np.ndarray,
    order: np.ndarray,
    keep: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return each of `n` items' representative and its similarity to it (see greedy_nodes).

    `order` lists all the items from the one to keep first; `keep` marks those that always
    stay.
    """
    rep = np.arange(n, dtype=np.int64)  # an item without a verified edge stays
    to_rep = np.zeros(n)
    if not len(a):
        return rep, to_rep
    prio = np.empty(n, dtype=np.int64)
    prio[order] = np.arange(n)

    def never(nodes: np.ndarray) -> np.ndarray:
        return keep[nodes] if keep is not None else np.zeros(len(nodes), dtype=bool)

    nodes, node_rep, node_sim = greedy_nodes(a, b, sim, lambda nodes: prio[nodes], never)
    rep[nodes], to_rep[nodes] = node_rep, node_sim
    return rep, to_rep


def greedy_nodes(
    a: np.ndarray,
    b: np.ndarray,
    sim: np.ndarray,
    priority: Callable[[np.ndarray], np.ndarray],
    never: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster the items with a verified edge without chaining; return (nodes, rep, similarity).

    `(a[k], b[k])` are verified edges (similarity `sim[k]` >= the threshold). Only the items
    with an edge are walked (`nodes`, sorted), in the order of `priority(nodes)` (lowest
    first: the one to keep); an item not yet assigned becomes a representative and takes
    every unassigned neighbour (not those `never(nodes)` marks: they always stay). An item
    is thus dropped only for an edge to the copy that stays; one whose only edge leads to a
    dropped item stays, or joins another representative it reaches. Union-find components
    would merge A and C through B (two templated reports through a third). Memory follows
    the edges, not the items: an item without an edge is its own representative.
    """
    nodes = sorted_unique(np.concatenate((a, b)))[0]
    la, lb = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    node_prio = priority(nodes)
    src, dst = np.concatenate((la, lb)), np.concatenate((lb, la))
    both = np.concatenate((sim, sim))
    by = np.lexsort((node_prio[dst], src))  # neighbours in priority order: deterministic
    src, dst, both = src[by], dst[by], both[by]
    bounds = array("q", np.searchsorted(src, np.arange(len(nodes) + 1)).tobytes())
    # Compact arrays, not lists of Python numbers: 8 bytes an entry, not ~36.
    skip = bytearray(never(nodes).astype(np.uint8).tobytes())
    dst_l, sim_l = array("q", dst.astype(np.int64).tobytes()), array("d", both.tobytes())
    rep_l, to_l = array("q", [-1]) * len(nodes), array("d", [0.0]) * len(nodes)
    for v in np.argsort(node_prio, kind="stable").tolist():
        if rep_l[v] >= 0:
            continue
        rep_l[v] = v
        for k in range(bounds[v], bounds[v + 1]):
            u = dst_l[k]
            if rep_l[u] < 0 and not skip[u]:
                rep_l[u], to_l[u] = v, sim_l[k]
    rep = nodes[np.frombuffer(rep_l, dtype=np.int64)]
    return nodes, rep, np.frombuffer(to_l, dtype=np.float64).copy()


def check_pairs(
    pairs: np.ndarray,
    n: int,
    sigs: Rows,
    threshold: float,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
    chunk: int = 65536,
) -> tuple[np.ndarray, np.ndarray]:
    """Drop the pairs `fixed` and `group` forbid, verify the rest; return (pairs, passed).

    `pairs` are encoded first * n + member; the result keeps that encoding, and `passed` says
    which pairs estimate a Jaccard of at least `threshold`.
    """
    first = pairs // max(n, 1)
    member = pairs % max(n, 1)
    keep = np.ones(len(pairs), dtype=bool)
    if fixed is not None and len(first):
        keep &= ~(fixed[first] & fixed[member])
    if group is not None and len(first):
        gf, gm = group[first], group[member]
        keep &= (gf < 0) | (gf != gm)
    if not keep.all():
        pairs, first, member = pairs[keep], first[keep], member[keep]
    if threshold <= 0:  # candidates only: the caller verifies them (cluster)
        return pairs, np.ones(len(pairs), dtype=bool)
    ok = np.zeros(len(pairs), dtype=bool)
    for start in range(0, len(pairs), chunk):
        f = first[start : start + chunk]
        m = member[start : start + chunk]
        ok[start : start + chunk] = (sigs[f] == sigs[m]).mean(axis=1) >= threshold
    return pairs, ok


def local_edges(
    keys: Keys,
    sigs: Rows,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the checked candidate pairs and which passed, all in this process (the default)."""
    pairs = candidate_pairs(keys, rank)
    return check_pairs(pairs, keys.shape[0], sigs, threshold, fixed, group)


# find_edges(keys, sigs, threshold, rank, fixed, group) -> (pairs, passed), as local_edges:
# the unique encoded candidate pairs left after the fixed/group rules, and their verification.
FindEdges = Callable[
    [Keys, Rows, float, np.ndarray, np.ndarray | None, np.ndarray | None],
    tuple[np.ndarray, np.ndarray],
]


# verify(a, b, estimate) -> similarity of every candidate pair (a[k], b[k]): exact where the
# items' shingles are at hand, else the signature estimate, which `estimate(sel)` gives for
# the pairs a boolean mask selects (signatures may be on disk: only the rows asked for are read).
Estimate = Callable[[np.ndarray], np.ndarray]
Verify = Callable[[np.ndarray, np.ndarray, Estimate], np.ndarray]


@dataclass
class Edges:
    """Hold the verified edges of a candidate search: pairs at or above the threshold."""

    a: np.ndarray  # int64 items
    b: np.ndarray
    sim: np.ndarray  # their verified similarity
    comparisons: int  # candidate pairs verified


def verified_edges(
    keys: Keys,
    sigs: Rows,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
    find_edges: FindEdges | None = None,
    verify: Verify | None = None,
) -> Edges:
    """Find the candidate pairs of items sharing a band key and keep those verified >= threshold.

    `fixed` (bool per item) marks entries of a persistent state: pairs of two fixed items
    are skipped, since published documents are never compared with one another again.
    `group` (int per item, -1 for none) forbids pairing two items of the same group: a
    document and its own earlier version in the state are not duplicates of each other.
    `find_edges` (default: local_edges) lets an engine find the candidate pairs elsewhere,
    as partitioned_edges does. Every candidate is then verified by `verify` (default: the
    signature estimate).
    """
    n = keys.shape[0]
    pairs, _ = (find_edges or local_edges)(keys, sigs, 0.0, rank, fixed, group)
    found = len(pairs)
    a, b = np.divmod(pairs, max(n, 1))
    del pairs  # the candidates are the run's largest arrays: hold each once

    def estimate(sel: np.ndarray) -> np.ndarray:
        return estimates(sigs, a[sel], b[sel])

    sim = verify(a, b, estimate) if verify is not None else estimates(sigs, a, b)
    ok = sim >= threshold
    return Edges(a[ok], b[ok], sim[ok], found)


def cluster(
    keys: Keys,
    sigs: Rows,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
    find_edges: FindEdges | None = None,
    order: np.ndarray | None = None,
    verify: Verify | None = None,
    keep: np.ndarray | None = None,
) -> Clusters:
    """Cluster items whose signatures share a band key and verify at >= threshold.

    The edges are those verified_edges finds; the clusters are formed greedily in `order`
    (default: by `rank`), see greedy_nodes; items in `keep` (default: `fixed`) always stay.
    """
    edges = verified_edges(keys, sigs, threshold, rank, fixed, group, find_edges, verify)
    walk = order if order is not None else np.argsort(rank, kind="stable")
    labels, to_rep = greedy_clusters(
        keys.shape[0], edges.a, edges.b, edges.sim, walk, fixed if keep is None else keep
    )
    return Clusters(labels, to_rep, edges.comparisons, len(edges.a))


def estimates(sigs: Rows, a: np.ndarray, b: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Return the signature estimate of the Jaccard of every pair (a[k], b[k])."""
    out = np.zeros(len(a))
    for start in range(0, len(a), chunk):
        end = start + chunk
        out[start:end] = (sigs[a[start:end]] == sigs[b[start:end]]).mean(axis=1)
    return out


# Partitioned search ------------------------------------------------------------------
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
    return _pairs_with_first(items[order].astype(np.int64), new_run, n, BUCKET_HEADS)


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
    rank: np.ndarray,
    fixed: np.ndarray | None,
    group: np.ndarray | None,
    source: BandSource,
    parts: int,
    part: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the edges of the bands part, part + parts, ..., read from the band file (a task)."""
    mine = source.columns(range(part, source.bands, parts))
    return _column_edges(mine, sigs, threshold, rank, fixed, group)


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
        rank: np.ndarray,
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
        head = (sigs if threshold > 0 else unused, threshold, rank, fixed, group)
        source = keys.source() if isinstance(keys, BandFile) else None
        if source is not None:  # in scratch: each task reads its own bands from the file
            return merge_edges(
                self.executor.map_partitions(file_edges, (*head, source), self.parts)
            )
        if isinstance(keys, BandKeys):  # by band: each column read and shipped in turn
            shared_bands = _Concat(head, LazyColumns(keys))
            return merge_edges(self.executor.map_partitions(band_edges, shared_bands, self.parts))
        shared = (keys, sigs if threshold > 0 else unused, threshold, rank, fixed, group)
        return merge_edges(self.executor.map_partitions(part_edges, shared, self.parts))


def edges_finder(executor: Executor) -> PartitionedEdges | None:
    """Return the executor's partitioned search, or None (local_edges) for one partition."""
    parts = executor.partitions()
    return PartitionedEdges(executor, parts) if parts > 1 else None
