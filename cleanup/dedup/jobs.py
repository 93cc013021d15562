"""Dedup's per-batch work: pure functions of a batch that an Executor runs on its workers.

Nothing here sees more than one batch: in-document paragraph dedup, the numbers the corpus
decisions need about each document (fingerprints, lengths, boilerplate keys, token hashes,
signatures) and signing documents from token hashes. Every corpus-wide decision is made
in one place (cleanup/dedup/decide.py), so the result is the same on any number of workers.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import xxhash

from cleanup.dedup.containment import sample
from cleanup.dedup.copies import remove_copies
from cleanup.dedup.keep import document_date
from cleanup.dedup.kept import KeptRef, keep
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.minhash import MinHasher
from cleanup.dedup.paragraphs import (
    WHY,
    BatchFeatures,
    ParagraphSettings,
    detail_of,
    features_batch,
    find_duplicates,
)
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.shingles import fingerprints, fmix64, shingle_hashes
from cleanup.dedup.site import site_of
from cleanup.document import Document
from cleanup.executor import Executor
from cleanup.gcpause import paused
from cleanup.scratch import ScratchRef, put

STEP = "dedup"
# Signatures, fingerprints and token counts of some documents.
DocArrays = tuple[np.ndarray, np.ndarray, np.ndarray]
# One batch of token hashes: tokens per paragraph, and the paragraphs' tokens in order.
TokenBatch = tuple[np.ndarray, np.ndarray]
# Removals of paragraphs by original index: (rule, why, detail).
Removals = dict[int, tuple[str, str, dict[str, Any]]]


def remove_paragraphs(doc: Document, removals: Removals) -> None:
    """Remove paragraphs by original index, each with its own rule, why and detail."""
    doc.remove_many(STEP, removals)


def dedup_paragraphs_batch(
    docs: list[Document], settings: ParagraphSettings, enabled: bool = True
) -> BatchFeatures:
    """Remove duplicate paragraphs inside each document of a batch; return the batch's features.

    Dropped documents are passed over (their features are computed but nothing is removed).
    The returned features describe the paragraphs as they were before removal; `kept`
    tells, per paragraph, whether it is still there.
    """
    feats = features_batch([d.paragraphs for d in docs], settings)
    if not enabled:
        return feats
    live = np.array([d.dropped is None for d in docs], dtype=bool)
    for k in np.flatnonzero(feats.suspect & feats.near & live).tolist():
        doc = docs[k]
        with paused(len(doc.paragraphs)):  # a duplicate and its edit per copy
            dups = find_duplicates(feats.docs[k], settings)
            if dups:
                remove_paragraphs(
                    doc,
                    {d.index: (d.rule, WHY[d.rule], detail_of(d, doc.paragraphs)) for d in dups},
                )
                first = feats.first_paragraph[k]
                feats.kept[[first + d.index for d in dups]] = False
    _remove_exact(docs, feats, live & ~feats.near)  # the other suspects hold exact copies only
    return feats


def _remove_exact(docs: list[Document], feats: BatchFeatures, wanted: np.ndarray) -> None:
    """Remove the exact repeats (feats.copy_of) from the `wanted` documents of a batch, as
    find_duplicates would, a batch at a time (exact_duplicates finds the same copies)."""
    firsts = feats.first_paragraph
    n_par = np.diff(np.array(firsts))
    gone = np.flatnonzero((feats.copy_of >= 0) & np.repeat(wanted, n_par))
    if not len(gone):
        return
    feats.kept[gone] = False
    doc = np.repeat(np.arange(len(docs)), n_par)[gone]
    bounds = np.flatnonzero(np.diff(doc)) + 1
    starts, stops = [0, *bounds.tolist()], [*bounds.tolist(), len(gone)]
    first = np.array(firsts)[doc]  # positions within each document, from here on
    paras, kept = (gone - first).tolist(), (feats.copy_of[gone] - first).tolist()
    why = WHY["exact-paragraph"]
    with paused(len(paras)):
        for k, a, z in zip(doc[starts].tolist(), starts, stops, strict=True):
            remove_copies(docs[k], STEP, why, paras[a:z], kept[a:z])


def paragraphs_job(settings: ParagraphSettings, batch: list[Document]) -> list[Document]:
    """Dedup paragraphs inside each document of a batch (scope=document)."""
    dedup_paragraphs_batch(batch, settings, True)
    return batch


def document_scope(
    docs: Iterable[Document], settings: ParagraphSettings, executor: Executor
) -> Iterator[Document]:
    """Remove duplicate paragraphs inside each document, streaming (scope=document)."""
    for batch in executor.map_batches(paragraphs_job, docs, settings):
        yield from batch


@lru_cache(maxsize=4)
def hasher(num_perm: int, seed: int, shingle_size: int) -> MinHasher:
    """Return a MinHasher, built once per process (permutations cost a little to make)."""
    return MinHasher(num_perm, seed, shingle_size)


def sign_job(settings: DedupSettings, jobs: list[tuple[np.ndarray, np.ndarray]]) -> list[DocArrays]:
    """Return signatures, fingerprints and lengths of documents given as (tokens, offsets)."""
    size = settings.documents.shingle_size
    minhash = hasher(settings.minhash.num_perm, settings.minhash.seed, size)
    out: list[DocArrays] = []
    for tokens, offsets in jobs:
        sh, sh_off = shingle_hashes(tokens, offsets, size)
        sigs = minhash.from_hashes(sh, sh_off)
        out.append((sigs, fingerprints(tokens, offsets), np.diff(offsets)))
    return out


@dataclass(frozen=True)
class TokenRef:
    """Name a batch's tokens a worker left in scratch, with their paragraph count (small).

    With scratch space the read pass leaves each batch's token hashes there (by far the
    largest part of its summary) and the tasks that sign read them back; the driver reads
    only the batches holding documents it verifies. See docs/architecture.md, "Dedup".
    """

    paragraphs: int
    ref: ScratchRef


Tokens = TokenBatch | TokenRef  # a batch's tokens, as the ledger keeps them


def paragraphs_in(tokens: Tokens) -> int:
    """Return how many kept paragraphs a batch's tokens are of."""
    return tokens.paragraphs if isinstance(tokens, TokenRef) else len(tokens[0])


def load_tokens(tokens: Tokens) -> TokenBatch:
    """Return a batch's (token counts per paragraph, tokens), read from scratch if left there."""
    if isinstance(tokens, TokenRef):
        loaded: TokenBatch = tokens.ref.unpickle()
        return loaded
    return tokens


def take_tokens(
    batch: TokenBatch, hit: np.ndarray, docs: np.ndarray, wanted: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return (documents, tokens, offsets) of a batch without the paragraphs `hit` marks.

    `docs` is each paragraph's document; `wanted` (bool per paragraph) keeps only the
    documents of the paragraphs it marks. None when no document is left.
    """
    counts, tokens = batch
    take = ~hit
    if wanted is not None:
        take = take & wanted
        batch_docs = np.unique(docs[wanted])
    else:
        batch_docs = np.unique(docs)
    if not len(batch_docs):
        return None
    per_doc = np.bincount(
        np.searchsorted(batch_docs, docs[take]), weights=counts[take], minlength=len(batch_docs)
    ).astype(np.int64)  # exact: token counts are far below 2^53
    offsets = np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64)
    return batch_docs, tokens[np.repeat(take, counts)], offsets


def sign_tokens_job(
    settings: DedupSettings, keyed: bool, jobs: list[tuple[Tokens, np.ndarray, np.ndarray]]
) -> list[tuple[np.ndarray, DocArrays, np.ndarray | None] | None]:
    """Sign batches given as (tokens, boilerplate hits, paragraphs' documents), on a worker.

    Returns each batch's documents with their signatures, fingerprints and lengths, and if
    `keyed` the signatures' band keys (made on the workers, not in the main process).
    """
    out: list[tuple[np.ndarray, DocArrays, np.ndarray | None] | None] = []
    for tokens, hit, docs in jobs:
        taken = take_tokens(load_tokens(tokens), hit, docs)
        if taken is None:
            out.append(None)
            continue
        batch_docs, kept, offsets = taken
        arrays = sign_job(settings, [(kept, offsets)])[0]
        keys = band_keys(arrays[0], *settings.bands) if keyed else None
        out.append((batch_docs, arrays, keys))
    return out


def doc_arrays(
    tokens: np.ndarray, offsets: np.ndarray, settings: DedupSettings, sign: bool
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Return the live documents' signatures (None unless `sign`), fingerprints and lengths,
    from their tokens (doc_tokens: the paragraph token hashes of in-document dedup, so no
    text is tokenized twice)."""
    if sign:
        return sign_job(settings, [(tokens, offsets)])[0]
    return None, fingerprints(tokens, offsets), np.diff(offsets)


def doc_tokens(live: np.ndarray, feats: BatchFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Return the live documents' tokens (their kept paragraphs' tokens in order) and offsets.

    `live` tells, per document of the batch, whether it is live (not dropped).
    """
    n_par = np.diff(np.array(feats.first_paragraph))
    para_live = np.repeat(live, n_par) & feats.kept
    tok_counts = np.diff(feats.offsets)
    tokens = feats.tokens[np.repeat(para_live, tok_counts)]
    kept_counts = np.where(para_live, tok_counts, 0)
    per_doc = np.add.reduceat(np.append(kept_counts, 0), np.array(feats.first_paragraph[:-1]))
    per_doc = np.where(n_par > 0, per_doc, 0)[live]
    return tokens, np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64)


@dataclass(frozen=True)
class SummaryJob:
    """Say what the read pass computes per batch (sent to the workers with each batch)."""

    settings: DedupSettings
    sign: bool  # False: signatures wait until boilerplate is known (resign.sign_all)
    pickled: bool  # return the batch pickled (it crosses processes to be spooled as is)
    scratch: str | None = None  # with pickled: leave the batch in this folder, return its name
    keep: int = 0  # on a worker: keep batches in its memory up to this much text (kept.py)


@dataclass
class BatchSummary:
    """Hold what the read pass keeps of one batch: its documents, and numbers about the live ones.

    Computed where the batch was processed (a worker, when there are several), so that
    the orchestrator only appends arrays and spools the pickled documents as they are.
    """

    docs: list[Document] | bytes | ScratchRef | KeptRef  # the batch (from a worker: pickled,
    # in scratch or kept in its memory)
    count: int  # documents in the batch (live or not)
    live: np.ndarray  # bool per document
    ids: list[str]  # live documents only, from here on
    explicit: list[bool]
    sites: list[str]
    joins: bool  # every live document's separator keeps its paragraphs' tokens apart
    sigs: np.ndarray | None
    fps: np.ndarray
    lengths: np.ndarray
    boiler_keys: np.ndarray  # kept paragraphs' (site, paragraph) keys, in order
    boiler_sizes: np.ndarray  # kept paragraphs per document
    tokens: Tokens  # kept paragraphs' token counts and tokens (or where they are in scratch)
    para_fps: list[np.ndarray] = field(default_factory=list)  # cross-document paragraphs
    para_words: list[np.ndarray] = field(default_factory=list)
    para_sigs: np.ndarray | None = None  # near mode: long paragraphs' signatures,
    para_doc: np.ndarray | None = None  # their document (among the batch's live ones)
    para_pos: np.ndarray | None = None  # and their place among its kept paragraphs
    para_shingles: TokenBatch | None = None  # and their shingle hashes (hashes, offsets)
    dates: np.ndarray | None = None  # --keep earliest: POSIX seconds per live document, NaN: none
    samples: TokenBatch | None = None  # --doc-containment: sampled shingles, count per document


def before_workers() -> None:
    """Import here, before the workers are forked, what each would import on its first batch:
    `np.unique` imports numpy.ma when first called (~10 ms), and this process needs it anyway
    (the decisions' verification)."""
    import numpy.ma  # noqa: F401


def summary_job(job: SummaryJob, batch: list[Document]) -> BatchSummary:
    """Dedup paragraphs inside a batch and summarize it for the corpus decisions."""
    s = job.settings
    feats = dedup_paragraphs_batch(batch, s.paragraphs, s.paragraph_dedup)
    live = np.array([d.dropped is None for d in batch], dtype=bool)
    live_docs = [d for d in batch if d.dropped is None]
    sigs: np.ndarray | None = None
    if live_docs:  # their tokens, made once for their numbers, the samples and the ledger
        tokens, offsets = doc_tokens(live, feats)
        sigs, fps, lengths = doc_arrays(tokens, offsets, s, job.sign)
    else:
        tokens = np.zeros(0, np.uint64)
        fps, lengths = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    sites = [site_of(d, s.boilerplate.site_field) for d in live_docs]
    n_par = np.diff(np.array(feats.first_paragraph))
    para_live = np.repeat(live, n_par) & feats.kept
    site_h = np.zeros(len(batch), dtype=np.uint64)
    hashes = {site: site_hash(site) for site in set(sites)}  # a batch holds a few sites
    site_h[live] = [hashes[site] for site in sites]
    all_fps = feats.paragraph_fps()
    with np.errstate(over="ignore"):
        all_keys = fmix64(all_fps ^ np.repeat(site_h, n_par)) | np.uint64(1)
    all_keys[all_fps == 0] = 0
    tok_counts = np.diff(feats.offsets)
    kept_per_doc = np.add.reduceat(
        np.append(para_live, False).astype(np.int64), np.array(feats.first_paragraph[:-1])
    )
    kept_per_doc = np.where(n_par > 0, kept_per_doc, 0)
    out = BatchSummary(
        docs=_spooled(batch, job),
        count=len(batch),
        live=live,
        ids=[d.id for d in live_docs],
        explicit=[d.explicit_id for d in live_docs],
        sites=sites,
        joins=all(joins_tokens(sep) for sep in {d.sep for d in live_docs}),
        sigs=sigs,
        fps=fps,
        lengths=lengths,
        boiler_keys=all_keys[para_live],
        boiler_sizes=kept_per_doc[live].astype(np.int64),
        tokens=_tokens_out((tok_counts[para_live], tokens), job),
    )
    if s.documents.containment > 0 and live_docs:
        out.samples = sample(*shingle_hashes(tokens, offsets, s.documents.shingle_size))
    if s.documents.keep == "earliest":
        out.dates = np.array(
            [document_date(d, s.documents.date_field) for d in live_docs], dtype=np.float64
        )
    if s.cross.mode != "off":
        nwords = np.diff(feats.offsets).astype(np.int32)
        for k in np.flatnonzero(live).tolist():
            first, end = feats.first_paragraph[k], feats.first_paragraph[k + 1]
            keep = feats.kept[first:end]
            out.para_fps.append(all_fps[first:end][keep])
            out.para_words.append(nwords[first:end][keep])
    if s.cross.mode == "near":
        _paragraph_signatures(s, feats, live, out)
    return out


def _spooled(
    batch: list[Document], job: SummaryJob
) -> list[Document] | bytes | ScratchRef | KeptRef:
    """Return the batch as the read pass spools it: as is, kept in this worker's memory,
    pickled, or left in scratch."""
    if not job.pickled:
        return batch
    kept = keep(batch, job.keep) if job.keep else None
    if kept is not None:
        return kept
    data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    return put(job.scratch, data) if job.scratch else data


def _tokens_out(batch: TokenBatch, job: SummaryJob) -> Tokens:
    """Return the batch's tokens as the ledger keeps them: as they are, or left in scratch."""
    if not (job.pickled and job.scratch):
        return batch
    data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    return TokenRef(len(batch[0]), put(job.scratch, data))


def _paragraph_signatures(
    settings: DedupSettings, feats: BatchFeatures, live: np.ndarray, out: BatchSummary
) -> None:
    """Sign the long kept paragraphs of live documents (cross-document paragraphs, near)."""
    n_par = np.diff(np.array(feats.first_paragraph))
    live_rank = np.cumsum(live) - 1
    nwords = np.diff(feats.offsets)
    pick = np.repeat(live, n_par) & feats.kept & (nwords >= settings.paragraphs.min_words)
    if not pick.any():
        return
    idx = np.flatnonzero(pick)
    counts = np.diff(feats.shingle_offsets)[idx]
    starts = feats.shingle_offsets[:-1][idx]
    gather = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    gather += np.arange(int(counts.sum()))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    m = settings.minhash
    shingles = feats.shingles[gather]
    out.para_sigs = hasher(m.num_perm, m.seed, settings.paragraphs.shingle_size).from_hashes(
        shingles, offsets
    )
    out.para_shingles = (shingles, offsets)
    doc_of = np.repeat(np.arange(len(n_par)), n_par)[idx]
    out.para_doc = live_rank[doc_of].astype(np.int64)
    # Position among the document's kept paragraphs (what the spooled document holds).
    kept_before = np.concatenate(([0], np.cumsum(feats.kept)))
    doc_first = np.array(feats.first_paragraph[:-1])[doc_of]
    out.para_pos = (kept_before[idx] - kept_before[doc_first]).astype(np.int64)


def site_hash(site: str) -> int:
    """Return the 64-bit hash of a site name (mixed into its paragraphs' boilerplate keys)."""
    return xxhash.xxh64_intdigest(site.encode("utf-8", "surrogatepass"))


def joins_tokens(sep: str) -> bool:
    """Tell whether joining paragraphs with `sep` leaves their tokens as they are.

    ASCII whitespace separates tokens, never deletes and is not case-ignorable (so
    `str.lower` treats a final sigma before it as before the end of a text): the tokens of
    `sep.join(paragraphs)` are then the paragraphs' tokens, one after the other.
    """
    return sep != "" and sep.isascii() and sep.isspace()
