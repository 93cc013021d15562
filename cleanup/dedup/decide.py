"""Corpus dedup's decisions: pure functions over numpy arrays, each returning a frozen result.

Which (site, paragraph) keys are boilerplate; which document owns a paragraph repeated across
documents; and from these and the near-duplicate documents (cleanup/dedup/documents.py), the
verdict about each document. Nothing here reads documents, the spool or a
state: the orchestrator (cleanup/dedup/corpus.py) gathers the arrays and the state's
entries, so every rule can be tested with a few arrays. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cleanup.dedup.boilerkeys import BoilerKeys
from cleanup.dedup.clusters import Estimate, FindEdges, cluster
from cleanup.dedup.documents import DocumentDecision
from cleanup.dedup.lsh import band_keys, recall_bands
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.shingles import fmix64
from cleanup.dedup.slices import key_slices
from cleanup.dedup.spool import BatchVerdicts, Rules, runs
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
    rules: Rules

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
        return cls(boiler, decision, owners, settings, keys, owned, counts, rules_of(settings))

    def batch(
        self, first: int, where: np.ndarray, keys: np.ndarray, key_ends: np.ndarray, site: Site
    ) -> BatchVerdicts:
        """Return the verdicts about one batch's live documents first, first + 1, ..., by their
        position in the batch (`where`), in the compact form the batch carries to where it is
        resolved (BatchVerdicts.verdicts() gives the per-document ones, which
        tests/decide_reference.py keeps the one-document-at-a-time form of).

        `keys` are those documents' boilerplate keys one after the other, document k's
        ending at `key_ends[k]`. Only a few array operations over the batch run here: the
        boilerplate hits, the copies and the marked clusters go as columns, the paragraphs
        owned elsewhere as they were decided, and the per-paragraph removals are built by
        the worker that applies them.
        """
        end = first + len(where)
        decision = self.decision
        winner = decision.winner.span(first, end)
        copy = np.flatnonzero(winner >= 0)
        rows = first + copy
        marked = np.zeros(0, dtype=np.int64)
        if self.settings.mark:
            marked = np.flatnonzero(decision.clustered.span(first, end) & (winner < 0))
        lo, hi = np.searchsorted(self.owned, (first, end))
        ids, owners = decision.ids, self.owners
        owned = {
            i - first: {j: (ids[o], sim) for j, (o, sim) in owners[i].items()}
            for i in self.owned[lo:hi].tolist()
        }
        doc, para, counts = self._boilerplate(keys, key_ends)
        sites = [site(first + k) for k in runs(doc)[0].tolist()]
        return BatchVerdicts(
            where,
            self.rules,
            (doc, para, counts, sites),
            owned,
            (
                copy,
                [ids[w] for w in winner[copy].tolist()],
                decision.contained[rows],
                decision.similarity[rows],
                decision.cluster_fp[rows],
            ),
            (marked, decision.cluster_fp[first + marked]),
        )

    def _boilerplate(
        self, keys: np.ndarray, key_ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the boilerplate paragraphs among the batch's documents' keys as columns
        (document k of the batch, paragraph, documents holding it), in order of document and
        paragraph, all found with a few array operations."""
        wanted = self.boiler_keys
        none = np.zeros(0, np.int64)
        if not len(wanted) or not len(keys):
            return none, none, none
        pos = np.minimum(np.searchsorted(wanted, keys), len(wanted) - 1)
        at = np.flatnonzero(wanted[pos] == keys)
        if not len(at):
            return none, none, none
        doc = np.searchsorted(key_ends, at, side="right")
        para = at - np.concatenate(([0], key_ends))[doc]
        return doc, para, self.boiler_counts[pos[at]]


# site(i) -> the site of live document i.
Site = Callable[[int], str]


def rules_of(settings: DedupSettings) -> Rules:
    """Return the settings the verdicts' rules read: their why texts, and --mark."""
    return Rules(
        boilerplate=(
            f"paragraph recurs in at least {settings.boilerplate.min_docs} documents of "
            "the same site (site boilerplate)"
        ),
        contained=(
            f"{settings.documents.containment:g} or more of the document's word pairs "
            "stand in a longer document that stays (a partial copy)"
        ),
        near=(
            "document is a near duplicate (shingle Jaccard >= "
            f"{settings.documents.threshold}) of the copy that stays "
            f"(--keep {settings.documents.keep}, or published before)"
        ),
        mark=settings.mark,
    )
