"""Which live documents are near duplicates, of what, and which copy of each cluster stays.

A pure function over numpy arrays returning a frozen result (as cleanup/dedup/decide.py's
other decisions): the candidate search over the band keys, verification, the greedy walk
(cleanup/dedup/clusters.py) and, with --doc-containment, partial copies. Past the candidate
search, arrays are held only for the documents a verified edge or a containment pair
touched (cleanup/dedup/sparse.py): memory follows the duplicates, not the corpus. See
docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cleanup.dedup.bandfile import BandKeys
from cleanup.dedup.clusters import (
    CanonicalRank,
    FindEdges,
    Verify,
    greedy_nodes,
    verified_edges,
)
from cleanup.dedup.containment import contained_in
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.names import Joined
from cleanup.dedup.rowfile import RowFile, Rows, stack_rows
from cleanup.dedup.shingles import fmix64
from cleanup.dedup.sparse import Sparse
from cleanup.dedup.store import StoredEntries
from cleanup.dedup.verify import sorted_unique


@dataclass(frozen=True)
class DocumentDecision:
    """Say which live documents are near duplicates, of what, and in which cluster.

    Columns have one value per live document of the run, held only for the documents a
    cluster or a containment pair touched (Sparse); `winner` indexes `ids` (the run's live
    documents, then the state entries it was compared with).
    """

    dropped: Sparse  # bool: removed from the output
    winner: Sparse  # int64: the copy that stays, -1 where this document stays
    similarity: Sparse  # float: verified similarity with the winner
    cluster_fp: Sparse  # uint64: the cluster's id, its kept copy's fingerprint (if clustered)
    clustered: Sparse  # bool: in a cluster of two or more
    ids: Sequence[str]
    contained: Sparse  # bool: dropped as contained in its winner (--doc-containment)
    band_keys: BandKeys  # (n, bands) uint64: what a state stores of each document
    comparisons: int | None  # signature pairs verified (None: no search ran)

    @classmethod
    def empty(cls, bands: int) -> DocumentDecision:
        """Return the decision about a run without live documents."""
        none = Sparse(0, np.zeros(0, np.int64), np.zeros(0, bool), False)
        keys = BandKeys(np.zeros((0, bands), np.uint64))
        return cls(none, none, none, none, none, [], none, keys, None)


@dataclass(frozen=True)
class _Rows:
    """The decided values of the live documents some cluster or containment pair touched."""

    rows: np.ndarray  # sorted live documents
    winner: np.ndarray  # the copy each follows (itself where it stays)
    similarity: np.ndarray
    contained: np.ndarray

    @classmethod
    def none(cls) -> _Rows:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))


# priority(items) -> the --keep policy's priority of these live documents (lower stays): only
# the order among the items asked about matters (cleanup/dedup/keep.py).
Priority = Callable[[np.ndarray], np.ndarray]


def decide_documents(
    ids: Sequence[str],
    sigs: Rows,
    keys: np.ndarray | BandKeys,
    fps: np.ndarray | RowFile,
    lengths: np.ndarray,
    ident: np.ndarray,
    in_state: np.ndarray,
    group: np.ndarray | None,
    stored: StoredEntries,
    lsh: tuple[int, int],
    threshold: float,
    mark: bool,
    find_edges: FindEdges | None = None,
    verify: Verify | None = None,
    priority: Priority | None = None,
    containment: Containment | Callable[[], Containment] | None = None,
) -> DocumentDecision:
    """Cluster near-duplicate documents (with state entries) and pick the copy that stays.

    `keys` are the band keys of `sigs` for `lsh` (bands, rows); `fps` order the bucket
    members canonically and `ident` (the text as it came in) names clusters across runs;
    `in_state` marks documents published before with this text (never duplicates); `group`
    is each document's own state entry (never compared with it), -1 for none (None: no
    document has one). `verify`
    gives the similarity of candidate pairs (exact for two live documents; default: the
    signature estimate). The copy that stays is a published one first, then the lowest
    `priority` (the keep policy; default: the longest), then the earliest in input order.
    `containment` (--doc-containment) then drops documents contained in a longer one that
    stays (see apply_containment); given as a callable, it is asked once the edges are
    verified (its candidates may be searched elsewhere until then). The rows of empty
    documents in `keys` are given unique keys in place (a copy would double the largest
    array of the run). Past the candidate search, arrays are held only for the documents
    with a verified edge or containment pair.
    """
    n = len(ids)
    if n == 0:
        return DocumentDecision.empty(lsh[0])
    valid = lengths > 0
    m = len(stored.ids)
    all_sigs = stack_rows(sigs, stored.sigs)  # on disk, the state entries' in memory
    live_keys = keys if isinstance(keys, BandKeys) else BandKeys(keys)
    # No state entries to compare with: no copy of the corpus-sized keys.
    all_keys = live_keys.stacked(band_keys(stored.sigs, *lsh)) if m else live_keys
    # Items that must not match anything get unique keys (empty texts).
    with np.errstate(over="ignore"):
        noise = fmix64(np.arange(n, dtype=np.uint64)[~valid, None] + np.uint64(1 << 62))
    all_keys.set_rows(
        np.flatnonzero(~valid), np.broadcast_to(noise, (len(noise), all_keys.shape[1]))
    )
    del noise
    fixed = np.concatenate((np.zeros(n, bool), np.ones(m, bool))) if m else None
    if group is None and m:
        group = np.full(n, -1, dtype=np.int64)
    all_group = _then(group, stored.handles.astype(np.int64)) if group is not None else None
    edges = verified_edges(
        all_keys, all_sigs, threshold, CanonicalRank(fps, m), fixed, all_group, find_edges, verify
    )
    del fixed, all_group
    items = _Items(n, lengths, in_state, stored, priority)
    r = _Rows.none()
    if len(edges.a):
        nodes, rep, sim = greedy_nodes(edges.a, edges.b, edges.sim, items.order, items.published)
        live = nodes < n
        r = _Rows(nodes[live], rep[live], sim[live], np.zeros(int(live.sum()), bool))
    if containment is not None:
        c = containment if isinstance(containment, Containment) else containment()
        r = apply_containment(c, r, lengths, in_state, threshold)
    is_dup = (r.winner != r.rows) & ~in_state[r.rows] & valid[r.rows]
    w = r.winner
    cluster_fp = np.empty(len(w), dtype=np.uint64)  # the kept copy's text: stable across runs
    cluster_fp[w < n], cluster_fp[w >= n] = ident[w[w < n]], stored.fps[w[w >= n] - n]

    def col(values: np.ndarray, default: Any) -> Sparse:
        return Sparse(n, r.rows, values, default)

    return DocumentDecision(
        dropped=col(is_dup & (not mark), False),
        winner=col(np.where(is_dup, w, -1), -1),
        similarity=col(np.where(is_dup, r.similarity, 0.0), 0.0),
        cluster_fp=col(cluster_fp, 0),
        clustered=col(_members(r.rows, w) > 1, False),
        ids=Joined(ids, stored.ids),
        contained=col(r.contained & is_dup, False),
        band_keys=live_keys,
        comparisons=edges.comparisons,
    )


def _members(rows: np.ndarray, winner: np.ndarray) -> np.ndarray:
    """Return, per row, how many items follow its winner (the winner itself included).

    An item that is no row follows itself, so a winner outside the rows counts itself once.
    """
    heads, counts = sorted_unique(winner)
    outside = ~np.isin(winner, rows)
    return counts[np.searchsorted(heads, winner)] + outside


class _Items:
    """What the greedy walk asks about the items with an edge: live documents, then state
    entries (index n and up)."""

    def __init__(
        self,
        n: int,
        lengths: np.ndarray,
        in_state: np.ndarray,
        stored: StoredEntries,
        priority: Priority | None,
    ) -> None:
        self.n, self.lengths, self.in_state, self.stored = n, lengths, in_state, stored
        self.priority = priority

    def published(self, items: np.ndarray) -> np.ndarray:
        """Return which items were published before: state entries, and live documents seen
        again with the same text. They always stay."""
        live = items < self.n
        out = np.ones(len(items), dtype=bool)
        out[live] = self.in_state[items[live]]
        return out

    def order(self, items: np.ndarray) -> np.ndarray:
        """Return the items' keep order (0: kept first). Published copies first; among them
        this run's documents (seen again: their own entries are the same text, and a live
        copy's similarity is verified exactly); then the keep priority, the longest, the
        earliest."""
        live = items < self.n
        length = np.empty(len(items), dtype=np.int64)
        length[live] = self.lengths[items[live]]
        length[~live] = self.stored.lengths[items[~live] - self.n]
        prio = np.zeros(len(items), dtype=np.int64)
        if self.priority is not None:
            prio[live] = self.priority(items[live])
        else:
            prio[live] = -length[live]
        walk = np.lexsort((items, -length, prio, ~live, ~self.published(items)))
        out = np.empty(len(items), dtype=np.int64)
        out[walk] = np.arange(len(items))
        return out


@dataclass(frozen=True)
class Containment:
    """Say which live documents may contain one another, and how to measure a pair exactly."""

    a: np.ndarray  # candidate pairs of live documents
    b: np.ndarray
    exact: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # (jaccard, cont.)
    threshold: float


def apply_containment(
    c: Containment, r: _Rows, lengths: np.ndarray, in_state: np.ndarray, threshold: float
) -> _Rows:
    """Drop live documents contained in a longer one that stays; return the rows decided.

    Near copies (Jaccard >= threshold) were decided by --keep; here a document that stays
    and is contained at >= c.threshold in a longer one that stays becomes its duplicate.
    The near copies that had it as their winner follow it to its container when they are
    themselves verified near or contained there, else they stay (a drop always names a
    document that stays, with the similarity measured between the two). The rows grow by
    the documents of the candidate pairs.
    """
    if not len(c.a):
        return r
    rows = sorted_unique(np.concatenate((r.rows, c.a, c.b)))[0]
    winner, similarity = rows.copy(), np.zeros(len(rows))
    at = np.searchsorted(rows, r.rows)
    winner[at], similarity[at] = r.winner, r.similarity
    contained = np.zeros(len(rows), dtype=bool)
    jac, cont = c.exact(c.a, c.b)
    stays = winner == rows
    holder, share = contained_in(
        np.searchsorted(rows, c.a),
        np.searchsorted(rows, c.b),
        cont,
        jac,
        lengths[rows],
        stays,
        in_state[rows],
        c.threshold,
        threshold,
    )
    took = np.flatnonzero(holder >= 0)
    if not len(took):
        return _Rows(rows, winner, similarity, contained)
    winner[took], similarity[took], contained[took] = rows[holder[took]], share[took], True
    orphans = np.flatnonzero(np.isin(winner, rows[took]) & ~contained)
    if len(orphans):
        doc = rows[orphans]
        target = rows[holder[np.searchsorted(rows, winner[orphans])]]
        j, k = c.exact(doc, target)
        inside = (k >= c.threshold) & (lengths[target] > lengths[doc])
        near = j >= threshold
        follow = near | inside
        winner[orphans] = np.where(follow, target, doc)
        similarity[orphans] = np.where(near, j, np.where(inside, k, 0.0))
        contained[orphans] = inside & ~near
    return _Rows(rows, winner, similarity, contained)


def _then(live: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Return the live documents' values followed by the state entries' (no copy without)."""
    return np.concatenate((live, stored)) if len(stored) else live
