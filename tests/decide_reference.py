"""Dedup's candidate searches as they were before issue 18's decision-phase speed-ups.

Frozen copies of clusters.candidate_pairs, containment._posting_pairs, jobs.take_tokens (the
tokens signing reads back) and the write pass's loop of verdicts
(corpus.CorpusDedup._decide_and_write) at 309e7fb, and of clusters.shared_keys and
lsh.band_keys at 129f23d, and of decide.verdict (one call per document) at b144f35, so tests
can check that the faster code finds exactly the same pairs, in the same order, the same band
keys, tokens and verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cleanup.dedup.bandfile import column_of
from cleanup.dedup.clusters import Keys, pairs_with_first
from cleanup.dedup.containment import MAX_POSTING
from cleanup.dedup.decide import Boilerplate, Owners
from cleanup.dedup.documents import DocumentDecision
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.shingles import fmix64
from cleanup.dedup.spool import Verdict
from cleanup.dedup.verify import sorted_unique


def candidate_pairs(keys: Keys, rank: np.ndarray, heads: int) -> np.ndarray:
    """Return unique (head, member) pairs, encoded as head * n + member (int64)."""
    n = keys.shape[0]
    if n < 2:
        return np.zeros(0, dtype=np.int64)
    found: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        col = column_of(keys, band)
        order = np.lexsort((rank, col))
        sk = col[order]
        new_run = np.empty(n, dtype=bool)
        new_run[0] = True
        new_run[1:] = sk[1:] != sk[:-1]
        if not new_run.all():
            found.append(pairs_with_first(order.astype(np.int64), new_run, n, heads))
    if not found:
        return np.zeros(0, dtype=np.int64)
    return sorted_unique(np.concatenate(found))[0]


def posting_pairs(samples: np.ndarray, doc: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct document pairs sharing a short posting list, and how many."""
    none = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(samples) < 2:
        return none
    order = np.lexsort((doc, samples))
    s, d = samples[order], doc[order]
    start = np.ones(len(s), dtype=bool)
    start[1:] = s[1:] != s[:-1]
    run = np.cumsum(start) - 1
    size = np.bincount(run)
    ok = (size[run] >= 2) & (size[run] <= MAX_POSTING)
    d, run = d[ok], run[ok]
    first = np.searchsorted(run, run)
    after = size[run] - (np.arange(len(d)) - first) - 1
    total = int(after.sum())
    if total == 0:
        return none
    left = np.repeat(np.arange(len(d)), after)
    step = np.arange(total) - np.repeat(np.cumsum(after) - after, after)
    return sorted_unique(d[left] * n + d[left + 1 + step])


def batch_verdicts(
    first: int,
    where: np.ndarray,
    keys_of: list[list[int]],
    site: Callable[[int], str],
    boiler: Boilerplate,
    decision: DocumentDecision,
    owners: Owners,
    settings: DedupSettings,
) -> dict[int, Verdict]:
    """Return one batch's verdicts as the write pass made them, one call per document, less
    the verdicts that change nothing (no removal, no metadata, no drop)."""
    verdicts: dict[int, Verdict] = {}
    for i, pos in zip(range(first, first + len(where)), where.tolist(), strict=True):
        keys = np.array(keys_of[i], dtype=np.uint64)
        hits = boiler.hits(keys) if boiler.totals else {}
        verdicts[pos] = verdict(i, site(i), hits, boiler, decision, owners, settings)
    return {pos: v for pos, v in verdicts.items() if v.removals or v.meta or v.drop is not None}


def take_tokens(
    batch: tuple[np.ndarray, np.ndarray],
    hit: np.ndarray,
    docs: np.ndarray,
    wanted: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return (documents, tokens, offsets) of a batch without the paragraphs `hit` marks."""
    counts, tokens = batch
    take = ~hit
    if wanted is not None:
        take = take & wanted
        batch_docs = np.unique(docs[wanted])
    else:
        batch_docs = np.unique(docs)
    if not len(batch_docs):
        return None
    per_doc = np.zeros(len(batch_docs), dtype=np.int64)
    np.add.at(per_doc, np.searchsorted(batch_docs, docs[take]), counts[take])
    offsets = np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64)
    return batch_docs, tokens[np.repeat(take, counts)], offsets


def shared_keys(col: np.ndarray) -> np.ndarray:
    """Return the items (increasing) whose key some other item holds too (as at 129f23d)."""
    s = np.sort(col)
    repeated = s[1:][s[1:] == s[:-1]]
    if len(repeated) == 0:
        return np.zeros(0, dtype=np.int64)
    pos = np.minimum(np.searchsorted(repeated, col), len(repeated) - 1)
    return np.flatnonzero(repeated[pos] == col)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Return the (n, bands) uint64 band keys of signatures (n, num_perm) (as at 129f23d)."""
    n = sigs.shape[0]
    keys = np.empty((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            block = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
            acc = np.full(n, np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
            for j in range(rows):
                acc = fmix64(acc ^ block[:, j])
            keys[:, band] = acc
    return keys


def verdict(
    i: int,
    site: str,
    hits: dict[int, int],
    boiler: Boilerplate,
    decision: DocumentDecision,
    owners: Owners,
    settings: DedupSettings,
) -> Verdict:
    """Return the decisions about live document i: boilerplate, paragraphs, the document (as
    at b144f35).

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
