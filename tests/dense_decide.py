"""The document decisions as they were written over every document (dense arrays): the reference.

cleanup/dedup/decide.py keeps arrays only for the documents a cluster or a containment pair
touches; tests/test_sparse_decisions.py checks that it decides exactly what this does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cleanup.dedup.bandfile import BandKeys
from cleanup.dedup.clusters import FindEdges, Verify, cluster
from cleanup.dedup.containment import contained_in
from cleanup.dedup.documents import Containment
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.rowfile import Rows, stack_rows
from cleanup.dedup.shingles import fmix64
from cleanup.dedup.store import StoredEntries


def decide_documents(
    ids: Sequence[str],
    sigs: Rows,
    keys: np.ndarray | BandKeys,
    fps: np.ndarray,
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
    priority: np.ndarray | None = None,
    containment: Containment | None = None,
) -> dict[str, np.ndarray]:
    """Cluster near-duplicate documents (with state entries) and pick the copy that stays.

    `keys` are the band keys of `sigs` for `lsh` (bands, rows); `fps` order the bucket
    members canonically and `ident` (the text as it came in) names clusters across runs;
    `in_state` marks documents published before with this text (never duplicates); `group`
    is each document's own state entry (never compared with it), -1 for none (None: no
    document has one). `verify`
    gives the similarity of candidate pairs (exact for two live documents; default: the
    signature estimate). The copy that stays is a published one first, then the lowest
    `priority` (the keep policy; default: the longest, then the earliest in input order).
    `containment` (--doc-containment) then drops documents contained in a longer one that
    stays (see apply_containment). The rows of empty documents in `keys` are given unique
    keys in place (a copy would double the largest array of the run).
    """
    n = len(ids)
    if n == 0:
        return {}
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
    rank = _then(np.argsort(np.argsort(fps, kind="stable"), kind="stable") + m, np.arange(m))
    fixed = np.concatenate((np.zeros(n, bool), np.ones(m, bool)))
    if group is None and m:
        group = np.full(n, -1, dtype=np.int64)
    all_group = _then(group, stored.handles.astype(np.int64)) if group is not None else None
    published = fixed.copy()
    published[:n] = in_state
    all_len = _then(lengths, stored.lengths)
    live_prio = priority if priority is not None else keep_longest(lengths)
    prio = _then(live_prio, np.zeros(m, dtype=live_prio.dtype))
    # Published copies first; among them this run's documents (seen again: their own
    # entries are the same text, and a live copy's similarity is verified exactly).
    order = np.lexsort((np.arange(n + m), -all_len, prio, fixed, ~published))
    result = cluster(
        all_keys, all_sigs, threshold, rank, fixed, all_group, find_edges, order, verify, published
    )
    winner, similarity = result.labels, result.similarity
    contained = np.zeros(n, dtype=bool)
    if containment is not None:
        winner, similarity, contained = apply_containment(
            containment, winner, similarity, lengths, in_state, threshold
        )
    is_dup = (winner[:n] != np.arange(n)) & ~in_state & valid
    all_fps = np.concatenate((ident, stored.fps))  # cluster ids: stable across runs
    members = np.bincount(winner, minlength=n + m)
    return {
        "dropped": is_dup & (not mark),
        "winner": np.where(is_dup, winner[:n], -1),
        "similarity": np.where(is_dup, similarity[:n], 0.0),
        "cluster_fp": all_fps[winner[:n]],
        "clustered": members[winner[:n]] > 1,
        "contained": contained & is_dup,
    }


def apply_containment(
    c: Containment,
    winner: np.ndarray,
    similarity: np.ndarray,
    lengths: np.ndarray,
    in_state: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop live documents contained in a longer one that stays; return the new winners.

    Near copies (Jaccard >= threshold) were decided by --keep; here a document that stays
    and is contained at >= c.threshold in a longer one that stays becomes its duplicate.
    The near copies that had it as their winner follow it to its container when they are
    themselves verified near or contained there, else they stay (a drop always names a
    document that stays, with the similarity measured between the two).
    """
    n = len(lengths)
    winner, similarity = winner.copy(), similarity.copy()
    contained = np.zeros(n, dtype=bool)
    if not len(c.a):
        return winner, similarity, contained
    jac, cont = c.exact(c.a, c.b)
    stays = winner[:n] == np.arange(n)
    holder, share = contained_in(
        c.a, c.b, cont, jac, lengths, stays, in_state, c.threshold, threshold
    )
    took = np.flatnonzero(holder >= 0)
    if not len(took):
        return winner, similarity, contained
    winner[took], similarity[took], contained[took] = holder[took], share[took], True
    orphans = np.flatnonzero(np.isin(winner[:n], took) & ~contained)
    if len(orphans):
        target = holder[winner[orphans]]
        j, k = c.exact(orphans, target)
        inside = (k >= c.threshold) & (lengths[target] > lengths[orphans])
        near = j >= threshold
        follow = near | inside
        winner[orphans] = np.where(follow, target, orphans)
        similarity[orphans] = np.where(near, j, np.where(inside, k, 0.0))
        contained[orphans] = inside & ~near
    return winner, similarity, contained


def _then(live: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Return the live documents' values followed by the state entries' (no copy without)."""
    return np.concatenate((live, stored)) if len(stored) else live


def keep_longest(lengths: np.ndarray) -> np.ndarray:
    """Return the keep priority of --keep longest: the most tokens first (lower stays)."""
    return -lengths.astype(np.int64)


def keep_priority(policy: str, lengths: np.ndarray, dates: np.ndarray | None) -> np.ndarray:
    """Return each live document's priority under `policy` (lower stays; ties: input order)."""
    n = len(lengths)
    if policy == "longest":
        return -lengths.astype(np.int64)
    if policy == "first" or dates is None:
        return np.arange(n, dtype=np.int64)
    undated = np.isnan(dates)
    order = np.lexsort((np.arange(n), np.where(undated, 0.0, dates), undated))
    prio = np.empty(n, dtype=np.int64)
    prio[order] = np.arange(n)
    return prio
