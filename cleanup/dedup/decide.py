"""Corpus dedup's decisions: pure functions over numpy arrays, each returning a frozen result.

Which (site, paragraph) keys are boilerplate; which documents are near duplicates and which
copy of each cluster stays; which document owns a paragraph repeated across documents; and
from these, the verdict about each document. Nothing here reads documents, the spool or a
state: the orchestrator (cleanup/dedup/corpus.py) gathers the arrays and the state's
entries, so every rule can be tested with a few arrays. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cleanup.dedup.bandfile import BandKeys
from cleanup.dedup.boilerkeys import BoilerKeys
from cleanup.dedup.clusters import (
    Estimate,
    FindEdges,
    Verify,
    cluster,
    greedy_nodes,
    verified_edges,
)
from cleanup.dedup.containment import contained_in
from cleanup.dedup.lsh import band_keys, recall_bands
from cleanup.dedup.names import Joined
from cleanup.dedup.rowfile import Rows, stack_rows
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.shingles import fmix64
from cleanup.dedup.sparse import Sparse
from cleanup.dedup.spool import Verdict
from cleanup.dedup.store import StoredEntries
from cleanup.dedup.verify import ShingleSets, sorted_unique

# {document: {paragraph: (owner document, similarity)}} for paragraphs repeated across documents.
Owners = dict[int, dict[int, tuple[int, float]]]


def count_distinct(
    keys: np.ndarray | BoilerKeys,
    offsets: np.ndarray,
    fps: np.ndarray,
    mask: np.ndarray,
    parts: int = 16,
    at_least: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Count, per key, the distinct document texts (fingerprints) among masked documents.

    `keys[offsets[i]:offsets[i + 1]]` are the keys of document i (in memory, or on disk and
    read a block at a time). Returns sorted unique keys and their counts, only those counted
    `at_least` times. The work goes by key range (`parts` slices of the key space by its top
    bits), so the sorting temporaries hold a slice of the corpus's paragraphs, not all of
    them at once; a key's document is found by binary search, so no paragraph-sized array of
    owners is built.
    """
    ends = offsets[1:]
    bits = max(1, (parts - 1).bit_length())  # slices: the next power of two, by the top bits
    shift = np.uint64(64 - bits)
    out_keys: list[np.ndarray] = []
    out_counts: list[np.ndarray] = []
    for part in range(1 << bits):
        picked: list[np.ndarray] = []
        docs: list[np.ndarray] = []
        for start, block in _key_blocks(keys):
            idx = np.flatnonzero((block >> shift) == part)
            picked.append(block[idx])
            docs.append(np.searchsorted(ends, idx + start, side="right"))
        if not picked:  # no key at all
            break
        k, doc = np.concatenate(picked), np.concatenate(docs)
        take = mask[doc] & (k != 0)
        k, own = k[take], fps[doc[take]]
        if len(k) == 0:
            continue
        with np.errstate(over="ignore"):
            pair = fmix64(k ^ fmix64(own + np.uint64(0x9E3779B97F4A7C15)))
        _, first = np.unique(pair, return_index=True)
        uniq, n = np.unique(k[first], return_counts=True)
        keep = n >= at_least
        out_keys.append(uniq[keep])
        out_counts.append(n[keep].astype(np.int64))
    if not out_keys:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate(out_keys), np.concatenate(out_counts)


def _key_blocks(keys: np.ndarray | BoilerKeys) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first index, keys) blocks: the array itself, or the file's blocks."""
    if isinstance(keys, BoilerKeys):
        yield from keys.blocks()
    else:
        yield 0, keys


@dataclass(frozen=True)
class Boilerplate:
    """Hold the boilerplate keys, each with the number of distinct documents that hold it."""

    totals: dict[int, int]

    def hits(self, keys: np.ndarray) -> dict[int, int]:
        """Return {paragraph index: key} for the boilerplate among one document's keys."""
        if not self.totals:
            return {}
        return {j: k for j, k in enumerate(keys.tolist()) if k in self.totals}


def decide_boilerplate(
    keys: np.ndarray | BoilerKeys,
    offsets: np.ndarray,
    fps: np.ndarray,
    seen_text: np.ndarray,
    min_docs: int,
    earlier: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Boilerplate:
    """Return the keys held by at least `min_docs` distinct documents (0: none is boilerplate).

    Documents with the same text (fingerprint `fps`) count once: ten copies of one article
    are one document, and its paragraphs are not boilerplate for being copied. With a state,
    `earlier(keys)` gives the counts of earlier runs, to which only the documents whose text
    is new (`~seen_text`) add.
    """
    if min_docs <= 0 or len(fps) == 0:
        return Boilerplate({})
    # Without earlier runs, keys below min_docs can never be boilerplate: not kept at all.
    floor = 1 if earlier is not None else min_docs
    uniq, run_counts = count_distinct(keys, offsets, fps, np.ones(len(fps), dtype=bool), 16, floor)
    if earlier is not None:
        nk, ncount = count_distinct(keys, offsets, fps, ~seen_text)
        new_counts = np.zeros(len(uniq), np.int64)
        new_counts[np.searchsorted(uniq, nk)] = ncount
        total = earlier(uniq) + new_counts
    else:
        total = run_counts
    is_boiler = total >= min_docs
    return Boilerplate(dict(zip(uniq[is_boiler].tolist(), total[is_boiler].tolist(), strict=True)))


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
        return cls.of(0, _Rows.none(), False, [], BandKeys(np.zeros((0, bands), np.uint64)), None)

    @classmethod
    def of(
        cls,
        n: int,
        r: _Rows,
        mark: bool,
        ids: Sequence[str],
        keys: BandKeys,
        comparisons: int | None,
    ) -> DocumentDecision:
        """Return the decision about `n` live documents from the rows a cluster touched."""

        def col(values: np.ndarray, default: Any) -> Sparse:
            return Sparse(n, r.rows, values, default)

        return cls(
            dropped=col(r.is_dup & (not mark), False),
            winner=col(np.where(r.is_dup, r.winner, -1), -1),
            similarity=col(np.where(r.is_dup, r.similarity, 0.0), 0.0),
            cluster_fp=col(r.cluster_fp, 0),
            clustered=col(r.clustered, False),
            ids=ids,
            contained=col(r.contained & r.is_dup, False),
            band_keys=keys,
            comparisons=comparisons,
        )


@dataclass(frozen=True)
class _Rows:
    """The decided values of the live documents some cluster or containment pair touched."""

    rows: np.ndarray  # sorted live documents
    winner: np.ndarray  # the copy each follows (itself where it stays)
    similarity: np.ndarray
    contained: np.ndarray
    is_dup: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    cluster_fp: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    clustered: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

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
    priority: Priority | None = None,
    containment: Containment | None = None,
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
    stays (see apply_containment). The rows of empty documents in `keys` are given unique
    keys in place (a copy would double the largest array of the run). Past the candidate
    search, arrays are held only for the documents with a verified edge or containment pair.
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
        all_keys, all_sigs, threshold, _rank(fps, m), fixed, all_group, find_edges, verify
    )
    del fixed, all_group
    items = _Items(n, lengths, in_state, stored, priority)
    r = _Rows.none()
    if len(edges.a):
        nodes, rep, sim = greedy_nodes(edges.a, edges.b, edges.sim, items.order, items.published)
        live = nodes < n
        r = _Rows(nodes[live], rep[live], sim[live], np.zeros(int(live.sum()), bool))
    if containment is not None:
        r = apply_containment(containment, r, lengths, in_state, threshold)
    is_dup = (r.winner != r.rows) & ~in_state[r.rows] & valid[r.rows]
    w = r.winner
    cluster_fp = np.empty(len(w), dtype=np.uint64)  # the kept copy's text: stable across runs
    cluster_fp[w < n], cluster_fp[w >= n] = ident[w[w < n]], stored.fps[w[w >= n] - n]
    r = _Rows(r.rows, w, r.similarity, r.contained, is_dup, cluster_fp, _members(r.rows, w) > 1)
    return DocumentDecision.of(n, r, mark, Joined(ids, stored.ids), live_keys, edges.comparisons)


def _rank(fps: np.ndarray, m: int) -> np.ndarray:
    """Return the items' canonical rank, the order inside an LSH bucket: the state entries
    (items n and up) first, in order, then the live documents by fingerprint, then input order."""
    n = len(fps)
    rank = np.empty(n + m, dtype=np.int64)
    rank[n:] = np.arange(m)
    rank[np.argsort(fps, kind="stable")] = np.arange(m, n + m)
    return rank


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


def exact_paragraph_owners(
    para_fps: list[np.ndarray], para_words: list[np.ndarray], winner: np.ndarray, min_words: int
) -> Owners:
    """Return the owners of long paragraphs found in several documents, by fingerprint.

    The owner is the first kept document in input order; a duplicate document owns nothing
    and loses nothing. Scales to any corpus (8 bytes per long paragraph in memory).
    """
    fp_list: list[np.ndarray] = []
    doc_list: list[np.ndarray] = []
    for i, (p, w) in enumerate(zip(para_fps, para_words, strict=True)):
        if winner[i] >= 0:
            continue
        long = np.unique(p[(w >= min_words) & (p != 0)])
        if len(long):
            fp_list.append(long)
            doc_list.append(np.full(len(long), i, dtype=np.int64))
    out: Owners = {}
    if not fp_list:
        return out
    allfp = np.concatenate(fp_list)
    alldoc = np.concatenate(doc_list)
    order = np.lexsort((alldoc, allfp))
    sfp, sdoc = allfp[order], alldoc[order]
    first = np.ones(len(sfp), dtype=bool)
    first[1:] = sfp[1:] != sfp[:-1]
    shared = np.zeros(len(sfp), dtype=bool)
    shared[:-1] = first[:-1] & ~first[1:]
    by_fp = dict(zip(sfp[shared].tolist(), sdoc[shared].tolist(), strict=True))
    if not by_fp:
        return out
    for i, p in enumerate(para_fps):
        if winner[i] >= 0:
            continue
        for j, fp in enumerate(p.tolist()):
            owner = by_fp.get(fp)
            if owner is not None and owner != i:
                out.setdefault(i, {})[j] = (owner, 1.0)
    return out


def near_paragraph_owners(
    sigs: np.ndarray,
    doc: np.ndarray,
    pos: np.ndarray,
    winner: np.ndarray,
    threshold: float,
    find_edges: FindEdges | None = None,
    sets: ShingleSets | None = None,
) -> tuple[Owners, int | None]:
    """Cluster long paragraphs across documents by MinHash; the earliest document keeps each.

    `sigs[k]` is the signature of paragraph `pos[k]` of document `doc[k]`, `sets` (if given)
    their shingle sets, which verify every candidate exactly. A paragraph is removed only
    for its own verified similarity to the copy that stays (the earliest), never through a
    chain. Returns the owners and the pairs verified (None: no search ran).
    """
    out: Owners = {}
    ok = winner[doc] < 0  # duplicate documents own nothing and lose nothing
    items = np.flatnonzero(ok)
    sigs, doc, pos = sigs[ok], doc[ok], pos[ok]
    if len(doc) < 2:
        return out, None
    bands, rows = recall_bands(threshold, sigs.shape[1])
    rank = doc * (1 << 20) + pos
    keys = band_keys(sigs, bands, rows)
    verify = None
    if sets is not None:

        def verify(a: np.ndarray, b: np.ndarray, estimate: Estimate) -> np.ndarray:
            return sets.jaccard(items[a], items[b])

    result = cluster(keys, sigs, threshold, rank, find_edges=find_edges, verify=verify)
    owner_item = result.labels
    lose = doc[owner_item] != doc
    for item in np.flatnonzero(lose).tolist():
        o = int(owner_item[item])
        sim = float(result.similarity[item])
        out.setdefault(int(doc[item]), {})[int(pos[item])] = (int(doc[o]), round(sim, 3))
    return out, result.comparisons


def verdict(
    i: int,
    site: str,
    hits: dict[int, int],
    boiler: Boilerplate,
    decision: DocumentDecision,
    owners: Owners,
    settings: DedupSettings,
) -> Verdict:
    """Return the decisions about live document i: boilerplate, paragraphs, the document.

    `hits` are its boilerplate paragraphs ({index: key}), `site` its site.
    """
    out = Verdict({})
    why = (
        f"paragraph recurs in at least {settings.boilerplate.min_docs} documents of "
        "the same site (site boilerplate)"
    )
    for j, key in hits.items():
        detail: dict[str, Any] = {"site": site, "documents": boiler.totals.get(key, 0)}
        out.removals[j] = ("site-boilerplate", why, detail)
    for j, (owner, sim) in owners.get(i, {}).items():
        if j not in out.removals:
            out.removals[j] = (
                "cross-document-paragraph",
                "paragraph already stands in another document of this run",
                {"duplicate_of": decision.ids[owner], "similarity": sim},
            )
    w = int(decision.winner[i])
    if w < 0:
        if settings.mark and decision.clustered[i]:
            out.meta = {"cluster": f"{int(decision.cluster_fp[i]):016x}"}
        return out
    measure = "containment" if decision.contained[i] else "similarity"
    detail = {
        "duplicate_of": decision.ids[w],
        measure: round(float(decision.similarity[i]), 3),
        "cluster": f"{int(decision.cluster_fp[i]):016x}",
    }
    if settings.mark:
        out.meta = {key: detail[key] for key in ("duplicate_of", "cluster", measure)}
    elif decision.contained[i]:
        out.drop = (
            "contained-document",
            f"{settings.documents.containment:g} or more of the document's word pairs "
            "stand in a longer document that stays (a partial copy)",
            detail,
        )
    else:
        out.drop = (
            "near-duplicate-document",
            "document is a near duplicate (shingle Jaccard >= "
            f"{settings.documents.threshold}) of the copy that stays "
            f"(--keep {settings.documents.keep}, or published before)",
            detail,
        )
    return out
