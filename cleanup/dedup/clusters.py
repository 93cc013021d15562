"""Candidate pairs from LSH buckets, verified, then grouped greedily around the copies that stay.

See docs/architecture.md, "Dedup". In every band, each member of a bucket (documents sharing
a band key) is paired with the bucket's first BUCKET_HEADS members, never with all of them:
a bucket of 10,000 identical documents costs ~40,000 checks, not 50 million. "First" is a
canonical order the caller chooses (a content hash, not the input position), so the pairs
do not depend on the order documents came in. Every candidate is verified (exactly, by the
caller's `verify`), and clusters are formed greedily from the copy to keep first
(greedy_clusters): an item is dropped only for its own verified similarity to the one that
stays, never through a chain.

The candidate search can also run in partitions, as tasks of an engine, with exactly the
pairs of the one-process search (cleanup/dedup/partitions.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cleanup.dedup.bandfile import BandKeys, column_of
from cleanup.dedup.columns import compact
from cleanup.dedup.rowfile import RowFile, Rows
from cleanup.dedup.verify import sorted_unique

# Members of a bucket compared with each member: its first BUCKET_HEADS members (in rank
# order). A bucket whose first member is a chance collision (a templated report sharing a
# band with a real copy pair) would otherwise hide the pair; the work stays bounded by
# documents x bands x BUCKET_HEADS comparisons however crowded a bucket is.
BUCKET_HEADS = 4
# Band keys as the search takes them: an (items, bands) array, or read band by band.
Keys = np.ndarray | BandKeys


@dataclass(frozen=True)
class CanonicalRank:
    """The order inside an LSH bucket, made where the search runs: the state entries (items
    n and up) first, in order, then the live documents by fingerprint, then input order.

    Holds the fingerprints (not a copy), not the rank: partition tasks that read them from
    scratch make the rank themselves (partitions.RankFile), so the driver never holds it.
    """

    fps: np.ndarray | RowFile  # uint64 per live document (in memory or in a file)
    m: int  # state entries after them

    def array(self) -> np.ndarray:
        """Return every item's rank (int64)."""
        fps = self.fps
        if isinstance(fps, RowFile):
            fps = fps.span(0, len(fps)).reshape(-1)
        n = len(fps)
        rank = np.empty(n + self.m, dtype=np.int64)
        rank[n:] = np.arange(self.m)
        rank[np.argsort(fps, kind="stable")] = np.arange(self.m, n + self.m)
        return rank


class LazyRank(Protocol):
    """A rank made when the search needs it (CanonicalRank, partitions.RankFile)."""

    def array(self) -> np.ndarray: ...


# The order inside a bucket as the search takes it: an array, or made when needed.
Rank = np.ndarray | LazyRank


def rank_array(rank: Rank) -> np.ndarray:
    """Return the rank as an array (made now if it is lazy)."""
    return rank if isinstance(rank, np.ndarray) else rank.array()


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
        shared = shared_keys(col)  # a key held by one item pairs nothing: sort the others
        if len(shared) == 0:
            continue
        order = shared[np.lexsort((rank[shared], col[shared]))]
        sk = col[order]
        new_run = np.empty(len(order), dtype=bool)
        new_run[0] = True
        new_run[1:] = sk[1:] != sk[:-1]
        found.append(pairs_with_first(order, new_run, n, heads))
    if not found:
        return np.zeros(0, dtype=np.int64)
    return sorted_unique(np.concatenate(found))[0]


def shared_keys(col: np.ndarray) -> np.ndarray:
    """Return the items (increasing) whose key some other item holds too.

    Most keys of a band are held by one item. Counting the items per low bits of their
    key (a table of about 8 slots per item) leaves the few that may share theirs, and
    only those are sorted and looked up (~3x faster than sorting and searching them all;
    two items with equal keys always share a slot, so none is missed).
    """
    n = len(col)
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    mask = (1 << max(10, (n - 1).bit_length() + 3)) - 1
    slot = (col & mask).astype(np.intp)
    maybe = np.flatnonzero(np.bincount(slot, minlength=mask + 1)[slot] > 1)
    return maybe[_repeated_in(col[maybe])]


def _repeated_in(keys: np.ndarray) -> np.ndarray:
    """Tell, per key, whether another of `keys` is equal to it (one sort, one search)."""
    s = np.sort(keys)
    repeated = s[1:][s[1:] == s[:-1]]
    if len(repeated) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(repeated, keys), len(repeated) - 1)
    return repeated[pos] == keys


def pairs_with_first(items: np.ndarray, new_run: np.ndarray, n: int, heads: int = 1) -> np.ndarray:
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
    bounds = compact("q", np.searchsorted(src, np.arange(len(nodes) + 1)))
    # Compact arrays, not lists of Python numbers: 8 bytes an entry, not ~36.
    skip = bytearray(never(nodes).astype(np.uint8).tobytes())
    dst_l, sim_l = compact("q", dst), compact("d", both)
    rep_l, to_l = array("q", [-1]) * len(nodes), array("d", [0.0]) * len(nodes)
    for v in compact("q", np.argsort(node_prio, kind="stable")):
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
    rank: Rank,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the checked candidate pairs and which passed, all in this process (the default)."""
    pairs = candidate_pairs(keys, rank_array(rank))
    return check_pairs(pairs, keys.shape[0], sigs, threshold, fixed, group)


# find_edges(keys, sigs, threshold, rank, fixed, group) -> (pairs, passed), as local_edges:
# the unique encoded candidate pairs left after the fixed/group rules, and their verification.
FindEdges = Callable[
    [Keys, Rows, float, Rank, np.ndarray | None, np.ndarray | None],
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
    rank: Rank,
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
    del rank, fixed, group  # the search's inputs (one per item): not held while verifying
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
