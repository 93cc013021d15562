"""Corpus dedup's decisions: pure functions over numpy arrays, each returning a frozen result.

Which (site, paragraph) keys are boilerplate; which document owns a paragraph repeated across
documents; and from these and the near-duplicate documents (cleanup/dedup/documents.py), the
verdict about each document. Nothing here reads documents, the spool or a
state: the orchestrator (cleanup/dedup/corpus.py) gathers the arrays and the state's
entries, so every rule can be tested with a few arrays. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cleanup.dedup.boilerkeys import BoilerKeys
from cleanup.dedup.clusters import Estimate, FindEdges, cluster
from cleanup.dedup.documents import DocumentDecision
from cleanup.dedup.jobs import Removals
from cleanup.dedup.lsh import band_keys, recall_bands
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.shingles import fmix64
from cleanup.dedup.slices import key_slices
from cleanup.dedup.spool import Verdict
from cleanup.dedup.verify import ShingleSets

# {document: {paragraph: (owner document, similarity)}} for paragraphs repeated across documents.
Owners = dict[int, dict[int, tuple[int, float]]]


def count_distinct(
    keys: np.ndarray | BoilerKeys,
    ends: np.ndarray,
    fps: np.ndarray,
    mask: np.ndarray,
    parts: int = 16,
    at_least: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Count, per key, the distinct document texts (fingerprints) among masked documents.

    `keys[ends[i - 1]:ends[i]]` (from 0 for i = 0) are the keys of document i (in memory, or
    on disk and read a block at a time). Returns sorted unique keys and their counts, only
    those counted `at_least` times. The work goes by key range (at least `parts` slices of
    the key space by its top bits, more for many keys: about PART_KEYS keys each), so the
    sorting temporaries hold a slice of the corpus's paragraphs, not all at once. Keys on
    disk are dealt to their slices in one pass (cleanup/dedup/slices.py); a key's document
    is found by binary search, so no paragraph-sized array of owners is built.
    """
    out_keys: list[np.ndarray] = []
    out_counts: list[np.ndarray] = []
    for k, own in key_slices(keys, ends, fps, mask, parts):
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
    ends: np.ndarray,
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
    uniq, run_counts = count_distinct(keys, ends, fps, np.ones(len(fps), dtype=bool), 16, floor)
    if earlier is not None:
        nk, ncount = count_distinct(keys, ends, fps, ~seen_text)
        new_counts = np.zeros(len(uniq), np.int64)
        new_counts[np.searchsorted(uniq, nk)] = ncount
        total = earlier(uniq) + new_counts
    else:
        total = run_counts
    is_boiler = total >= min_docs
    return Boilerplate(dict(zip(uniq[is_boiler].tolist(), total[is_boiler].tolist(), strict=True)))


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


@dataclass(frozen=True)
class Verdicts:
    """Make the write pass's verdicts a batch at a time, from the decisions and the lookups
    they need made once (the boilerplate keys sorted with their counts, the documents owning
    nothing sorted)."""

    boiler: Boilerplate
    decision: DocumentDecision
    owners: Owners
    settings: DedupSettings
    boiler_keys: np.ndarray  # uint64, sorted
    owned: np.ndarray  # int64, sorted: documents with a paragraph owned by another
    boiler_counts: np.ndarray  # int64: the documents holding each of boiler_keys

    @classmethod
    def of(
        cls,
        boiler: Boilerplate,
        decision: DocumentDecision,
        owners: Owners,
        settings: DedupSettings,
    ) -> Verdicts:
        """Return the maker of verdicts from these decisions."""
        totals = boiler.totals
        keys = np.sort(np.fromiter(totals, dtype=np.uint64, count=len(totals)))
        counts = np.array([totals[k] for k in keys.tolist()], dtype=np.int64)
        owned = np.array(sorted(i for i, paragraphs in owners.items() if paragraphs), np.int64)
        return cls(boiler, decision, owners, settings, keys, owned, counts)

    def batch(
        self, first: int, where: np.ndarray, keys: np.ndarray, key_ends: np.ndarray, site: Site
    ) -> dict[int, Verdict]:
        """Return the verdicts about one batch's live documents first, first + 1, ..., by their
        position in the batch (`where`), for the documents something was decided about
        (tests/decide_reference.py keeps the one-document-at-a-time form they equal).

        `keys` are those documents' boilerplate keys one after the other, document k's
        ending at `key_ends[k]`. A document with no boilerplate paragraph, no paragraph
        owned elsewhere, no copy that stays and no cluster to mark gets no verdict (its
        verdict would change nothing): most documents are found so by a few array
        operations over the batch, not by a call each, and the others' columns are read a
        batch at a time.
        """
        end = first + len(where)
        decision = self.decision
        winner = decision.winner.span(first, end)
        needed = winner >= 0
        marked = np.zeros(0, dtype=bool)
        if self.settings.mark:
            marked = decision.clustered.span(first, end) & ~needed
            needed |= marked
        lo, hi = np.searchsorted(self.owned, (first, end))
        needed[self.owned[lo:hi] - first] = True
        removals = self._boilerplate(first, keys, key_ends, site)
        needed[list(removals)] = True
        copies = self._copies(first, winner)
        clusters = self._clusters(first, marked)
        out: dict[int, Verdict] = {}
        places = where.tolist()
        owners, ids, settings = self.owners, decision.ids, self.settings
        for k in np.flatnonzero(needed).tolist():
            found = Verdict(removals.get(k, {}))
            owned = owners.get(first + k)
            if owned:
                _add_owned(found.removals, owned, ids)
            copy = copies.get(k)
            if copy is not None:
                _document_verdict(found, ids[copy[0]], *copy[1:], settings)
            elif k in clusters:
                found.meta = {"cluster": f"{clusters[k]:016x}"}
            out[places[k]] = found
        return out

    def _copies(self, first: int, winner: np.ndarray) -> dict[int, tuple[int, bool, float, int]]:
        """Return {document k of the batch: (its winner, contained, similarity, cluster)} for
        the batch's documents that are copies of one that stays (their columns read at once)."""
        k = np.flatnonzero(winner >= 0)
        if not len(k):
            return {}
        rows, d = first + k, self.decision
        columns = (winner[k], d.contained[rows], d.similarity[rows], d.cluster_fp[rows])
        values = zip(*(c.tolist() for c in columns), strict=True)
        return dict(zip(k.tolist(), values, strict=True))

    def _clusters(self, first: int, marked: np.ndarray) -> dict[int, int]:
        """Return {document k of the batch: its cluster} for the `marked` ones."""
        k = np.flatnonzero(marked)
        if not len(k):
            return {}
        return dict(zip(k.tolist(), self.decision.cluster_fp[first + k].tolist(), strict=True))

    def _boilerplate(
        self, first: int, keys: np.ndarray, key_ends: np.ndarray, site: Site
    ) -> dict[int, Removals]:
        """Return the removals of boilerplate paragraphs of the batch's documents that hold
        some ({document k of the batch: removals}), all found with a few array operations."""
        wanted = self.boiler_keys
        if not len(wanted) or not len(keys):
            return {}
        pos = np.minimum(np.searchsorted(wanted, keys), len(wanted) - 1)
        at = np.flatnonzero(wanted[pos] == keys)
        if not len(at):
            return {}
        doc = np.searchsorted(key_ends, at, side="right")
        para = (at - np.concatenate(([0], key_ends))[doc]).tolist()
        counts = self.boiler_counts[pos[at]].tolist()
        # The hits run document by document: where each document's run starts and ends.
        bounds = np.flatnonzero(np.diff(doc)) + 1
        starts = [0, *bounds.tolist()]
        stops = [*bounds.tolist(), len(at)]
        why = _boiler_why(self.settings)
        out: dict[int, Removals] = {}
        for k, a, z in zip(doc[starts].tolist(), starts, stops, strict=True):
            name = site(first + k)
            out[k] = {
                j: (BOILERPLATE, why, {"site": name, "documents": n})
                for j, n in zip(para[a:z], counts[a:z], strict=True)
            }
        return out


# site(i) -> the site of live document i.
Site = Callable[[int], str]
BOILERPLATE = "site-boilerplate"


def _boiler_why(settings: DedupSettings) -> str:
    return (
        f"paragraph recurs in at least {settings.boilerplate.min_docs} documents of "
        "the same site (site boilerplate)"
    )


def _add_owned(removals: Removals, owned: dict[int, tuple[int, float]], ids: Sequence[str]) -> None:
    """Add the removals of a document's paragraphs owned by another document (each paragraph
    removed once: as boilerplate if it is both)."""
    for j, (owner, sim) in owned.items():
        if j not in removals:
            removals[j] = (
                "cross-document-paragraph",
                "paragraph already stands in another document of this run",
                {"duplicate_of": ids[owner], "similarity": sim},
            )


def _document_verdict(
    out: Verdict,
    winner: str,
    contained: bool,
    similarity: float,
    cluster: int,
    settings: DedupSettings,
) -> None:
    """Decide about a live document that is a copy of `winner` (its id), which stays: drop it
    or mark it (`contained`: a partial copy; `similarity`, `cluster`: its decision's)."""
    measure = "containment" if contained else "similarity"
    detail = {
        "duplicate_of": winner,
        measure: round(float(similarity), 3),
        "cluster": f"{int(cluster):016x}",
    }
    if settings.mark:
        out.meta = {key: detail[key] for key in ("duplicate_of", "cluster", measure)}
    elif contained:
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
