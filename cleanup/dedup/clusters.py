"""Candidate pairs from LSH buckets, verified and joined into clusters, never pairwise in a bucket.

DESIGN.md, dedup step 3: in every band, the members of a bucket (documents sharing a band
key) are joined to the bucket's *first* member, after checking their estimated Jaccard
against that one member. A bucket of 10,000 identical documents therefore costs 10,000
checks, not 50 million. "First" is a canonical order the caller chooses (a content hash,
not the input position), so clusters do not depend on the order documents came in.
Components are found with vectorized hook-and-compress union-find over numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Clusters:
    """Hold the outcome of clustering: a component label per item and the work it took."""

    labels: np.ndarray  # int64, the smallest item index of each item's component
    comparisons: int  # signature pairs verified
    joined: int  # pairs that passed verification


def candidate_pairs(keys: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Return unique (first, member) pairs, encoded as first * n + member (int64).

    `keys` is (n, bands); `rank` orders items inside a bucket (lowest first).
    """
    n = keys.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    found: list[np.ndarray] = []
    positions = np.arange(n)
    for band in range(keys.shape[1]):
        col = keys[:, band]
        order = np.lexsort((rank, col))
        sk = col[order]
        new_run = np.empty(n, dtype=bool)
        new_run[0] = True
        new_run[1:] = sk[1:] != sk[:-1]
        if new_run.all():
            continue
        run_start = np.maximum.accumulate(np.where(new_run, positions, 0))
        inside = ~new_run
        firsts = order[run_start[inside]].astype(np.int64)
        members = order[inside].astype(np.int64)
        found.append(np.unique(firsts * n + members))
    if not found:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(found))


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return, for n items joined by edges (a[i], b[i]), the smallest item of each component."""
    labels = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return labels
    while True:
        la, lb = labels[a], labels[b]
        if np.array_equal(la, lb):
            return labels
        low = np.minimum(la, lb)
        np.minimum.at(labels, la, low)
        np.minimum.at(labels, lb, low)
        while True:  # pointer jumping until every item points at a root
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt


def cluster(
    keys: np.ndarray,
    sigs: np.ndarray,
    threshold: float,
    rank: np.ndarray,
    fixed: np.ndarray | None = None,
    group: np.ndarray | None = None,
    chunk: int = 65536,
) -> Clusters:
    """Cluster items whose signatures share a band key and agree at >= threshold.

    `fixed` (bool per item) marks entries of a persistent state: pairs of two fixed items
    are skipped, since published documents are never compared with one another again.
    `group` (int per item, -1 for none) forbids joining two items of the same group: a
    document and its own earlier version in the state are not duplicates of each other.
    """
    n = keys.shape[0]
    pairs = candidate_pairs(keys, rank)
    first = pairs // max(n, 1)
    member = pairs % max(n, 1)
    if fixed is not None and len(first):
        keep = ~(fixed[first] & fixed[member])
        first, member = first[keep], member[keep]
    if group is not None and len(first):
        gf, gm = group[first], group[member]
        keep = (gf < 0) | (gf != gm)
        first, member = first[keep], member[keep]
    ok = np.zeros(len(first), dtype=bool)
    for start in range(0, len(first), chunk):
        f = first[start : start + chunk]
        m = member[start : start + chunk]
        ok[start : start + chunk] = (sigs[f] == sigs[m]).mean(axis=1) >= threshold
    labels = components(n, first[ok], member[ok])
    return Clusters(labels, len(first), int(ok.sum()))
