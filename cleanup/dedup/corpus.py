"""Corpus-scope dedup: spool, fingerprint, decide, then stream the spool out in input order.

Pass 1 reads the documents the step receives, removes duplicate paragraphs inside each
one, spools them by batch (in memory up to SPOOL_MEMORY of text, then pickled to a temporary
file) and keeps numbers: a fingerprint and a length per document, (site, paragraph) keys
for the boilerplate count, and the paragraphs' token hashes on disk. Then it decides: which
paragraphs are site boilerplate; the MinHash signature of each document without them (each
document is signed once, here); which documents form near-duplicate clusters (LSH +
verified union-find, against the persistent state too) and which copy of each stays. Pass 3
streams the spool out in input order, applying the decisions as edits (on the workers, when
the engine takes DeferredBatch items). The result depends on the input order only to break ties (two
equally complete copies: the first stays), and memory holds signatures, not texts.
"""

from __future__ import annotations

import pickle
import sys
import tempfile
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import IO, Any, Generic, TypeVar

import numpy as np
import xxhash

from cleanup.dedup.clusters import FindEdges, cluster
from cleanup.dedup.lsh import band_keys, optimal_bands
from cleanup.dedup.minhash import MAX_HASH, MinHasher
from cleanup.dedup.paragraphs import (
    WHY,
    BatchFeatures,
    ParagraphSettings,
    detail_of,
    features_batch,
    find_duplicates,
)
from cleanup.dedup.shingles import fingerprints, fmix64, shingle_hashes, token_hashes
from cleanup.dedup.site import site_of
from cleanup.dedup.store import (
    NewEntry,
    PendingCommit,
    Staged,
    Store,
    StoredEntries,
    state_key,
)
from cleanup.document import Document, Edit
from cleanup.errors import UsageProblem
from cleanup.pipeline import Deferred

STEP = "dedup"
BATCH_DOCS = 512
# --cross-doc-paragraphs near keeps num_perm * 4 bytes per long paragraph in memory:
# 2,000,000 paragraphs (about 150,000 news articles) take 1 GiB with 128 permutations.
NEAR_PARAGRAPH_LIMIT = 2_000_000
BATCH_BYTES = 1 << 20
# Text that pass 1 keeps in memory (beyond it, batches are pickled to a temporary file).
SPOOL_MEMORY = 64 << 20
TOKENIZER_VERSION = 1
T = TypeVar("T")


@dataclass(frozen=True)
class DedupSettings:
    """Hold every option of the dedup step that changes what it decides."""

    paragraphs: ParagraphSettings = field(default_factory=ParagraphSettings)
    paragraph_dedup: bool = True
    doc_threshold: float = 0.4
    doc_shingle_size: int = 2
    num_perm: int = 128
    seed: int = 1
    boilerplate_min_docs: int = 10
    site_field: str = ""
    cross_doc_paragraphs: str = "off"
    mark: bool = False

    @property
    def bands(self) -> tuple[int, int]:
        """Return the LSH (bands, rows) for the document threshold."""
        return optimal_bands(self.doc_threshold, self.num_perm)

    def state_settings(self) -> dict[str, Any]:
        """Return the settings a state records: those that make its signatures comparable."""
        bands, rows = self.bands
        return {
            "doc-shingle-size": self.doc_shingle_size,
            "num-perm": self.num_perm,
            "minhash-seed": self.seed,
            "doc-threshold": self.doc_threshold,
            "bands": bands,
            "rows": rows,
            "tokenizer": TOKENIZER_VERSION,
        }


def remove_paragraphs(doc: Document, removals: dict[int, tuple[str, str, dict[str, Any]]]) -> None:
    """Remove paragraphs by original index, each with its own rule, why and detail.

    Document.remove takes one rule per call and renumbers after it; recording all edits
    against the original indices keeps the audit trail's indices meaningful.
    """
    if not removals:
        return
    for i in sorted(removals):
        rule, why, detail = removals[i]
        doc.edits.append(Edit(STEP, rule, doc.paragraphs[i], "", why, i, detail, "remove"))
    doc.paragraphs = [p for i, p in enumerate(doc.paragraphs) if i not in removals]


def dedup_paragraphs_batch(
    docs: list[Document], settings: ParagraphSettings, enabled: bool = True
) -> BatchFeatures:
    """Remove duplicate paragraphs inside each document of a batch; return the batch's features.

    Dropped documents are passed over (their features are computed but nothing is removed).
    The returned features describe the paragraphs as they were before removal; `kept`
    tells, per paragraph, whether it is still there.
    """
    feats = features_batch([d.paragraphs for d in docs], settings)
    for k, (doc, feat) in enumerate(zip(docs, feats.docs, strict=True)):
        if not enabled or doc.dropped is not None or not feats.suspect[k]:
            continue
        dups = find_duplicates(feat, settings)
        if dups:
            remove_paragraphs(
                doc, {d.index: (d.rule, WHY[d.rule], detail_of(d, doc.paragraphs)) for d in dups}
            )
            first = feats.first_paragraph[k]
            feats.kept[[first + d.index for d in dups]] = False
    return feats


def stream_batches(docs: Iterable[Document]) -> Iterator[list[Document]]:
    """Group documents into batches of bounded count and size (numpy works per batch)."""
    batch: list[Document] = []
    size = 0
    for doc in docs:
        batch.append(doc)
        size += sum(len(p) for p in doc.paragraphs)
        if len(batch) >= BATCH_DOCS or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


# What a worker needs to sign documents: permutations, seed, words per shingle.
Signer = tuple[int, int, int]
DocArrays = tuple[np.ndarray, np.ndarray, np.ndarray]
# One batch of token hashes: tokens per paragraph, and the paragraphs' tokens in order.
TokenBatch = tuple[np.ndarray, np.ndarray]


@lru_cache(maxsize=4)
def _hasher(num_perm: int, seed: int, shingle_size: int) -> MinHasher:
    """Return a MinHasher, built once per process (permutations cost a little to make)."""
    return MinHasher(num_perm, seed, shingle_size)


def doc_arrays(
    docs: list[Document], feats: BatchFeatures, signer: Signer, sign: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Return the live documents' MinHash signatures (None unless `sign`), fingerprints and
    token counts.

    Reuses the paragraph token hashes of in-document dedup: a document's tokens are its
    kept paragraphs' tokens in order, so no text is tokenized twice.
    """
    live = np.array([d.dropped is None for d in docs], dtype=bool)
    n_par = np.diff(np.array(feats.first_paragraph))
    para_live = np.repeat(live, n_par) & feats.kept
    tok_counts = np.diff(feats.offsets)
    tokens = feats.tokens[np.repeat(para_live, tok_counts)]
    kept_counts = np.where(para_live, tok_counts, 0)
    per_doc = np.add.reduceat(np.append(kept_counts, 0), np.array(feats.first_paragraph[:-1]))
    per_doc = np.where(n_par > 0, per_doc, 0)[live]
    offsets = np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64)
    if sign:
        return sign_job(signer, [(tokens, offsets)])[0]
    return None, fingerprints(tokens, offsets), np.diff(offsets)


def paragraphs_job(settings: ParagraphSettings, batch: list[Document]) -> list[Document]:
    """Dedup paragraphs inside each document of a batch (runs on a worker)."""
    dedup_paragraphs_batch(batch, settings, True)
    return batch


MapBatches = Callable[..., Iterator[Any]]


@dataclass(frozen=True)
class PassOne:
    """Say what pass 1 computes per batch (sent to the workers with each batch)."""

    paragraphs: ParagraphSettings
    paragraph_dedup: bool
    num_perm: int
    seed: int
    doc_shingle_size: int
    site_field: str
    cross: str  # cross_doc_paragraphs: off, exact or near
    sign: bool  # False: signatures wait until boilerplate is known (CorpusDedup._sign_all)
    pickled: bool  # return the batch pickled (it goes back from a worker to be spooled)


@dataclass
class BatchSummary:
    """What pass 1 keeps of one batch: its documents pickled, and numbers about the live ones.

    Computed where the batch was processed (a worker, when there are several), so that
    this process only appends arrays and spools the pickled documents as they are.
    """

    docs: list[Document] | bytes  # the batch (pickled when made on a worker: spooled as is)
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
    tokens: TokenBatch  # kept paragraphs' token counts and tokens
    para_fps: list[np.ndarray] = field(default_factory=list)  # cross-document paragraphs
    para_words: list[np.ndarray] = field(default_factory=list)
    para_sigs: np.ndarray | None = None  # near mode: long paragraphs' signatures,
    para_doc: np.ndarray | None = None  # their document (among the batch's live ones)
    para_pos: np.ndarray | None = None  # and their place among its kept paragraphs


def pass_one_job(job: PassOne, batch: list[Document]) -> BatchSummary:
    """Dedup paragraphs inside a batch and summarize it for the corpus decisions."""
    feats = dedup_paragraphs_batch(batch, job.paragraphs, job.paragraph_dedup)
    live = np.array([d.dropped is None for d in batch], dtype=bool)
    live_docs = [d for d in batch if d.dropped is None]
    signer = (job.num_perm, job.seed, job.doc_shingle_size)
    sigs: np.ndarray | None = None
    if live_docs:
        sigs, fps, lengths = doc_arrays(batch, feats, signer, job.sign)
    else:
        fps, lengths = np.zeros(0, np.uint64), np.zeros(0, np.int64)
    sites = [site_of(d, job.site_field) for d in live_docs]
    n_par = np.diff(np.array(feats.first_paragraph))
    para_live = np.repeat(live, n_par) & feats.kept
    site_h = np.zeros(len(batch), dtype=np.uint64)
    site_h[live] = [_site_hash(s) for s in sites]
    all_fps = np.concatenate([f.fps for f in feats.docs]) if batch else np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        all_keys = fmix64(all_fps ^ np.repeat(site_h, n_par)) | np.uint64(1)
    all_keys[all_fps == 0] = 0
    tok_counts = np.diff(feats.offsets)
    kept_per_doc = np.add.reduceat(
        np.append(para_live, False).astype(np.int64), np.array(feats.first_paragraph[:-1])
    )
    kept_per_doc = np.where(n_par > 0, kept_per_doc, 0)
    out = BatchSummary(
        docs=pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL) if job.pickled else batch,
        count=len(batch),
        live=live,
        ids=[d.id for d in live_docs],
        explicit=[d.explicit_id for d in live_docs],
        sites=sites,
        joins=all(joins_tokens(d.sep) for d in live_docs),
        sigs=sigs,
        fps=fps,
        lengths=lengths,
        boiler_keys=all_keys[para_live],
        boiler_sizes=kept_per_doc[live].astype(np.int64),
        tokens=(tok_counts[para_live], feats.tokens[np.repeat(para_live, tok_counts)]),
    )
    if job.cross != "off":
        for k in np.flatnonzero(live).tolist():
            keep = feats.kept[feats.first_paragraph[k] : feats.first_paragraph[k + 1]]
            out.para_fps.append(feats.docs[k].fps[keep])
            out.para_words.append(feats.docs[k].nwords[keep].astype(np.int32))
    if job.cross == "near":
        _paragraph_signatures(job, feats, live, out)
    return out


def _paragraph_signatures(
    job: PassOne, feats: BatchFeatures, live: np.ndarray, out: BatchSummary
) -> None:
    """Sign the long kept paragraphs of live documents (cross-document paragraphs, near)."""
    n_par = np.diff(np.array(feats.first_paragraph))
    live_rank = np.cumsum(live) - 1
    nwords = np.diff(feats.offsets)
    pick = np.repeat(live, n_par) & feats.kept & (nwords >= job.paragraphs.min_words)
    if not pick.any():
        return
    idx = np.flatnonzero(pick)
    counts = np.diff(feats.shingle_offsets)[idx]
    starts = feats.shingle_offsets[:-1][idx]
    gather = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    gather += np.arange(int(counts.sum()))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    hasher = _hasher(job.num_perm, job.seed, job.paragraphs.shingle_size)
    out.para_sigs = hasher.from_hashes(feats.shingles[gather], offsets)
    doc_of = np.repeat(np.arange(len(n_par)), n_par)[idx]
    out.para_doc = live_rank[doc_of].astype(np.int64)
    # Position among the document's kept paragraphs (what the spooled document holds).
    kept_before = np.concatenate(([0], np.cumsum(feats.kept)))
    doc_first = np.array(feats.first_paragraph[:-1])[doc_of]
    out.para_pos = (kept_before[idx] - kept_before[doc_first]).astype(np.int64)


def sign_job(signer: Signer, jobs: list[tuple[np.ndarray, np.ndarray]]) -> list[DocArrays]:
    """Return signatures, fingerprints and lengths of documents given as (tokens, offsets)."""
    num_perm, seed, shingle_size = signer
    hasher = _hasher(num_perm, seed, shingle_size)
    out: list[DocArrays] = []
    for tokens, offsets in jobs:
        sh, sh_off = shingle_hashes(tokens, offsets, shingle_size)
        sigs = hasher.from_hashes(sh, sh_off)
        out.append((sigs, fingerprints(tokens, offsets), np.diff(offsets)))
    return out


def dedup_documents_stream(
    docs: Iterable[Document], settings: ParagraphSettings, map_batches: MapBatches | None = None
) -> Iterator[Document]:
    """Remove duplicate paragraphs inside each document, streaming (scope=document)."""
    if map_batches is None:
        for batch in stream_batches(docs):
            yield from paragraphs_job(settings, batch)
    else:
        for batch in map_batches(paragraphs_job, docs, settings):
            yield from batch


def _site_hash(site: str) -> int:
    return xxhash.xxh64_intdigest(site.encode("utf-8", "surrogatepass"))


def _count_distinct(
    keys: np.ndarray, offsets: np.ndarray, fps: np.ndarray, mask: np.ndarray, parts: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Count, per key, the distinct document texts (fingerprints) among masked documents.

    `keys[offsets[i]:offsets[i + 1]]` are the keys of document i. Returns sorted unique keys
    and their counts. The work goes by key range (`parts` slices of the top bits), so the
    sorting temporaries hold a slice of the corpus's paragraphs, not all of them at once.
    """
    counts = np.diff(offsets)
    owner = np.repeat(fps, counts)
    chosen = np.repeat(mask, counts) & (keys != 0)
    top = (keys >> np.uint64(60)).astype(np.uint8)
    out_keys: list[np.ndarray] = []
    out_counts: list[np.ndarray] = []
    for part in range(parts):
        sel = chosen & (top == part)
        k, own = keys[sel], owner[sel]
        if len(k) == 0:
            continue
        with np.errstate(over="ignore"):
            pair = fmix64(k ^ fmix64(own + np.uint64(0x9E3779B97F4A7C15)))
        _, first = np.unique(pair, return_index=True)
        uniq, n = np.unique(k[first], return_counts=True)
        out_keys.append(uniq)
        out_counts.append(n.astype(np.int64))
    if not out_keys:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate(out_keys), np.concatenate(out_counts)


class Spool(Generic[T]):
    """Keep items in a temporary file between passes (pickled, read back in order).

    The dedup step spools documents, and the token hashes of live documents' paragraphs
    (re-signing documents that lose boilerplate reads those back instead of unpickling and
    re-tokenizing texts, for ~8 bytes of disk per token); memory holds neither between passes.
    """

    def __init__(self, prefix: str = "cleanup-dedup-") -> None:
        self.fh: IO[bytes] = tempfile.TemporaryFile(prefix=prefix)  # noqa: SIM115

    def write(self, item: T) -> None:
        """Append one item."""
        pickle.dump(item, self.fh, protocol=pickle.HIGHEST_PROTOCOL)

    def read(self) -> Iterator[T]:
        """Yield every item written, in order (each pass rereads the file)."""
        self.fh.flush()
        self.fh.seek(0)
        while True:
            try:
                yield pickle.load(self.fh)
            except EOFError:
                return

    def close(self) -> None:
        """Delete the spool file."""
        self.fh.close()


Batch = list[Document] | bytes  # a batch of documents, or the same batch pickled


def unpickled(batch: Batch) -> list[Document]:
    """Return the documents of a batch, unpickling it if need be."""
    return pickle.loads(batch) if isinstance(batch, bytes) else batch


class BatchSpool:
    """Keep pass 1's batches for pass 2: in memory up to `budget` bytes of text, then on disk.

    A corpus that fits the budget is never pickled in a single process (pickling and
    unpickling every document would cost more than some steps); past it, memory stays flat.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self.batches: list[Batch | None] = []  # None: the next batch on disk
        self.disk: Spool[Batch] | None = None

    def write(self, batch: Batch) -> None:
        """Keep one batch."""
        size = len(batch) if isinstance(batch, bytes) else _text_size(batch)
        if self.held + size <= self.budget:
            self.held += size
            self.batches.append(batch)
            return
        if self.disk is None:
            self.disk = Spool()
        self.disk.write(batch)
        self.batches.append(None)

    def read(self) -> Iterator[Batch]:
        """Yield the batches in order (each pass rereads the disk part)."""
        disk = self.disk.read() if self.disk is not None else iter(())
        for batch in self.batches:
            yield batch if batch is not None else next(disk)

    def documents(self) -> Iterator[Document]:
        """Yield every document, in order."""
        for batch in self.read():
            yield from unpickled(batch)

    def close(self) -> None:
        """Release the batches and delete the disk file."""
        self.batches = []
        if self.disk is not None:
            self.disk.close()


def _text_size(docs: list[Document]) -> int:
    return sum(len(p) for d in docs for p in d.paragraphs) + 200 * len(docs)


@dataclass
class Verdict:
    """What corpus dedup decided about one live document, to apply to it where it is."""

    removals: dict[int, tuple[str, str, dict[str, Any]]]  # paragraph: (rule, why, detail)
    drop: tuple[str, str, dict[str, Any]] | None = None  # (rule, why, detail)
    meta: dict[str, Any] | None = None  # --mark: duplicate_of, cluster, similarity

    def apply(self, doc: Document) -> None:
        """Make the decided edits to the document."""
        remove_paragraphs(doc, self.removals)
        if self.meta:
            doc.meta.update(self.meta)
        if self.drop is not None:
            doc.drop(STEP, *self.drop)


class DeferredBatch(Deferred):
    """A spooled batch of documents with the verdicts still to apply: pass 2's unit of work.

    Yielded as is when the next steps run on workers (which resolve it there: unpickling
    and editing documents are then off this process); else resolved right here.
    """

    def __init__(self, batch: Batch, count: int, verdicts: dict[int, Verdict]) -> None:
        self.batch = batch
        self.count = count
        self.verdicts = verdicts  # by position in the batch

    def __len__(self) -> int:
        return self.count

    def resolve(self) -> list[Document]:
        """Return the batch's documents with the verdicts applied."""
        docs = unpickled(self.batch)
        for k, verdict in self.verdicts.items():
            verdict.apply(docs[k])
        return docs


def joins_tokens(sep: str) -> bool:
    """Tell whether joining paragraphs with `sep` leaves their tokens as they are.

    ASCII whitespace separates tokens, never deletes and is not case-ignorable (so
    `str.lower` treats a final sigma before it as before the end of a text): the tokens of
    `sep.join(paragraphs)` are then the paragraphs' tokens, one after the other.
    """
    return sep != "" and sep.isascii() and sep.isspace()


@dataclass
class _Corpus:
    """Hold what pass 1 learns about the live documents: numbers only, no texts."""

    ids: list[str] = field(default_factory=list)
    explicit: list[bool] = field(default_factory=list)  # shared True/False objects: 8 B each
    sites: list[str] = field(default_factory=list)
    sigs: list[np.ndarray] = field(default_factory=list)
    fps: list[np.ndarray] = field(default_factory=list)
    lengths: list[np.ndarray] = field(default_factory=list)
    # Per paragraph of every live document, in order: (site, paragraph) keys, 0 for empty
    # paragraphs; one array per batch (few large arrays, not one small array per document),
    # joined by `boiler_table` when pass 1 is done.
    boiler_parts: list[np.ndarray] = field(default_factory=list)
    boiler_sizes: array = field(default_factory=lambda: array("q"))
    boiler_keys: np.ndarray | None = None
    boiler_offsets: np.ndarray | None = None
    # Per document, per paragraph, only with cross-document paragraph dedup.
    para_fps: list[np.ndarray] = field(default_factory=list)
    para_words: list[np.ndarray] = field(default_factory=list)
    # Only with --cross-doc-paragraphs near: signatures of long paragraphs, their document
    # and their position in it.
    para_sigs: list[np.ndarray] = field(default_factory=list)
    para_doc: list[np.ndarray] = field(default_factory=list)
    para_pos: list[np.ndarray] = field(default_factory=list)
    spool_index: array = field(default_factory=lambda: array("q"))
    batch_counts: list[int] = field(default_factory=list)  # documents per spooled batch
    # Token hashes of the paragraphs behind `boiler_parts`, for re-signing; usable only
    # when every live document's separator keeps its paragraphs' tokens apart.
    tokens: Spool[TokenBatch] | None = None
    tokens_usable: bool = True

    def boiler_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Return all (site, paragraph) keys and per-document offsets into them."""
        if self.boiler_keys is None or self.boiler_offsets is None:
            parts = self.boiler_parts
            self.boiler_keys = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
            sizes = np.frombuffer(self.boiler_sizes, dtype=np.int64)
            self.boiler_offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
            self.boiler_parts = []
        return self.boiler_keys, self.boiler_offsets

    def boiler_of(self, i: int) -> np.ndarray:
        """Return the (site, paragraph) keys of live document i, paragraph by paragraph."""
        keys, offsets = self.boiler_table()
        return keys[offsets[i] : offsets[i + 1]]


class CorpusDedup:
    """Run corpus-scope dedup over a stream, optionally against a persistent state."""

    def __init__(
        self,
        settings: DedupSettings,
        store: Store | None = None,
        run_id: str = "",
        started: float = 0.0,
        map_batches: MapBatches | None = None,
        defer: bool = False,
        find_edges: FindEdges | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.bands, self.rows = settings.bands
        self.staged = Staged(run_id=run_id, started=started)
        self.map_batches = map_batches
        # Yield spooled batches unresolved (DeferredBatch): only when the engine resolves them.
        self.defer = defer
        self.find_edges = find_edges
        self._new_docs: list[int] = []
        self.stats: dict[str, int] = {}
        if store is not None:
            store.check_settings(settings.state_settings())

    # Pass 1 ------------------------------------------------------------------------
    def _pass_one(self, docs: Iterable[Document]) -> Iterator[BatchSummary]:
        """Yield the summary of each batch, computed here or on the engine's workers.

        Workers only do per-document work (in-document dedup, tokens, signatures); every
        corpus decision stays in this process, so the result is the same with any number
        of workers.
        """
        s = self.settings
        job = PassOne(
            s.paragraphs,
            s.paragraph_dedup,
            s.num_perm,
            s.seed,
            s.doc_shingle_size,
            s.site_field,
            s.cross_doc_paragraphs,
            sign=s.boilerplate_min_docs <= 0,
            pickled=self.map_batches is not None,
        )
        if self.map_batches is None:
            for batch in stream_batches(docs):
                yield pass_one_job(job, batch)
        else:
            yield from self.map_batches(pass_one_job, docs, job)

    def _record(self, summary: BatchSummary, corpus: _Corpus, first: int) -> None:
        """Keep the numbers of one batch's live documents (`first`: its first spool index)."""
        first_live = len(corpus.ids)
        corpus.ids.extend(summary.ids)
        corpus.explicit.extend(summary.explicit)
        corpus.sites.extend(sys.intern(site) for site in summary.sites)
        corpus.spool_index.extend((np.flatnonzero(summary.live) + first).tolist())
        corpus.tokens_usable = corpus.tokens_usable and summary.joins
        if not summary.ids:
            return
        if summary.sigs is not None:
            corpus.sigs.append(summary.sigs)
        corpus.fps.append(summary.fps)
        corpus.lengths.append(summary.lengths)
        corpus.boiler_parts.append(summary.boiler_keys)
        corpus.boiler_sizes.extend(summary.boiler_sizes.tolist())
        if corpus.tokens is not None:
            corpus.tokens.write(summary.tokens)
        corpus.para_fps.extend(summary.para_fps)
        corpus.para_words.extend(summary.para_words)
        if summary.para_sigs is not None:
            assert summary.para_doc is not None and summary.para_pos is not None
            corpus.para_sigs.append(summary.para_sigs)
            corpus.para_doc.append(summary.para_doc + first_live)
            corpus.para_pos.append(summary.para_pos)
            total = sum(len(s) for s in corpus.para_sigs)
            if total > NEAR_PARAGRAPH_LIMIT:
                raise UsageProblem(
                    "dedup: --cross-doc-paragraphs near holds one signature per long paragraph "
                    f"and this corpus has more than {NEAR_PARAGRAPH_LIMIT:,}; use exact"
                )

    def run(self, docs: Iterable[Document]) -> Iterator[Document]:
        """Dedup the stream and yield every document (dropped ones with `dropped` set)."""
        spool = BatchSpool(SPOOL_MEMORY)
        corpus = _Corpus(tokens=Spool[TokenBatch]("cleanup-dedup-tokens-"))
        try:
            count = 0
            for summary in self._pass_one(docs):
                self._record(summary, corpus, count)
                spool.write(summary.docs)
                corpus.batch_counts.append(summary.count)
                count += summary.count
            yield from self._decide_and_emit(spool, corpus)
        finally:
            spool.close()
            if corpus.tokens is not None:
                corpus.tokens.close()

    # Decisions ---------------------------------------------------------------------
    def _decide_and_emit(self, spool: BatchSpool, corpus: _Corpus) -> Iterator[Document]:
        n = len(corpus.ids)
        num_perm = self.settings.num_perm
        sigs = np.concatenate(corpus.sigs) if corpus.sigs else np.zeros((0, num_perm), np.uint32)
        fps = np.concatenate(corpus.fps) if corpus.fps else np.zeros(0, np.uint64)
        lengths = np.concatenate(corpus.lengths) if corpus.lengths else np.zeros(0, np.int64)
        corpus.sigs, corpus.fps, corpus.lengths = [], [], []  # one copy of each, not two
        keys_of = (
            [
                state_key(i, e, int(f))
                for i, e, f in zip(corpus.ids, corpus.explicit, fps.tolist(), strict=True)
            ]
            if self.store is not None
            else [""] * n  # no state: no keys to look up (a shared empty string per document)
        )
        known = self.store.find(keys_of) if self.store is not None else {}
        # Published before with this very text: never a duplicate, never counted twice.
        in_state = np.array(
            [
                k in known and known[k][1] == int(f)
                for k, f in zip(keys_of, fps.tolist(), strict=True)
            ],
            dtype=bool,
        )
        # A document's identity is its text as it came in (after in-document dedup): what
        # boilerplate removal leaves may differ from run to run as counts accumulate.
        ident = fps.copy()
        seen_text = in_state.copy()
        if self.store is not None and n:
            seen_text |= self.store.known_fps(ident)
        boiler, boiler_total = self._boilerplate(corpus, seen_text, ident)
        if self.settings.boilerplate_min_docs > 0:  # pass 1 left signing until now
            sigs = self._sign_all(spool, corpus, boiler, fps, lengths)
        decision = self._clusters(corpus, sigs, fps, lengths, keys_of, known, in_state, ident)
        owners = (
            self._paragraph_owners(corpus, decision)
            if self.settings.cross_doc_paragraphs != "off"
            else {}
        )
        live_pos = 0
        start = 0
        for stored, count in zip(spool.read(), corpus.batch_counts, strict=True):
            verdicts: dict[int, Verdict] = {}
            while live_pos < n and corpus.spool_index[live_pos] < start + count:
                i = live_pos
                k = corpus.spool_index[i] - start
                verdicts[k] = self._verdict(i, corpus, boiler, boiler_total, decision, owners)
                self._stage(i, corpus, sigs, ident, lengths, keys_of, known, decision)
                live_pos += 1
            start += count
            batch = DeferredBatch(stored, count, verdicts)
            if self.defer:
                yield batch  # type: ignore[misc]  # resolved by the engine, on a worker
            else:
                yield from batch.resolve()
        self.staged.docs = n
        self.staged.dropped = int(decision["dropped"].sum()) if n else 0
        if self.settings.boilerplate_min_docs > 0:
            # The state counts only documents it keeps, each text once: a rerun or a
            # dropped copy never counts twice.
            mask = np.zeros(n, dtype=bool)
            mask[self._new_docs] = True
            mask &= ~seen_text
            self.staged.boiler_keys, self.staged.boiler_counts = _count_distinct(
                *corpus.boiler_table(), ident, mask
            )

    def _boilerplate(
        self, corpus: _Corpus, seen_text: np.ndarray, fps: np.ndarray
    ) -> tuple[set[int], dict[int, int]]:
        """Return the boilerplate keys and the total distinct-document count of each.

        Documents with the same text count once: ten copies of one article are one
        document, and its paragraphs are not boilerplate for being copied.
        """
        k = self.settings.boilerplate_min_docs
        if k <= 0 or len(fps) == 0:
            return set(), {}
        table = corpus.boiler_table()
        uniq, run_counts = _count_distinct(*table, fps, np.ones(len(fps), dtype=bool))
        nk, ncount = _count_distinct(*table, fps, ~seen_text)
        new_counts = np.zeros(len(uniq), np.int64)
        new_counts[np.searchsorted(uniq, nk)] = ncount
        if self.store is not None:
            total = self.store.boiler_counts(uniq) + new_counts
        else:
            total = run_counts
        is_boiler = total >= k
        totals = dict(zip(uniq[is_boiler].tolist(), total[is_boiler].tolist(), strict=True))
        return set(totals), totals

    def _sign_all(
        self,
        spool: BatchSpool,
        corpus: _Corpus,
        boiler: set[int],
        fps: np.ndarray,
        lengths: np.ndarray,
    ) -> np.ndarray:
        """Sign every live document without its boilerplate paragraphs; return the signatures.

        Shared boilerplate would otherwise make two different articles of one site look
        alike. Documents that lose paragraphs also get their fingerprint and length redone
        (in place). Signing waits until now so that no document is signed twice.
        """
        n = len(corpus.ids)
        sigs = np.full((n, self.settings.num_perm), MAX_HASH, dtype=np.uint32)  # empty texts
        keys, offsets = corpus.boiler_table()
        wanted = np.fromiter(boiler, dtype=np.uint64, count=len(boiler))
        hit = np.isin(keys, wanted) if len(wanted) else np.zeros(len(keys), dtype=bool)
        doc_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        if corpus.tokens is not None and corpus.tokens_usable:
            self._sign_from_tokens(corpus.tokens, hit, doc_of, sigs, fps, lengths)
        else:
            self._sign_from_texts(spool, corpus, boiler, sigs, fps, lengths)
        return sigs

    @property
    def _signer(self) -> Signer:
        return (self.settings.num_perm, self.settings.seed, self.settings.doc_shingle_size)

    def _sign_from_tokens(
        self,
        tokens_spool: Spool[TokenBatch],
        hit: np.ndarray,
        doc_of: np.ndarray,
        sigs: np.ndarray,
        fps: np.ndarray,
        lengths: np.ndarray,
    ) -> None:
        """Sign from the spooled paragraph tokens, on the workers when there are some.

        The tokens of a document's text without its boilerplate are the tokens of its other
        paragraphs in order (see joins_tokens), so this signs exactly what _sign_from_texts
        signs, and no text is read or tokenized again.
        """
        targets: deque[np.ndarray] = deque()  # the documents of each job, in order

        def jobs() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            start = 0
            for counts, tokens in tokens_spool.read():
                end = start + len(counts)
                docs, take = doc_of[start:end], ~hit[start:end]
                start = end
                batch_docs = np.unique(docs)
                if len(batch_docs):
                    per_doc = np.zeros(len(batch_docs), dtype=np.int64)
                    np.add.at(per_doc, np.searchsorted(batch_docs, docs[take]), counts[take])
                    offsets = np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64)
                    targets.append(batch_docs)
                    yield tokens[np.repeat(take, counts)], offsets

        if self.map_batches is None:
            results: Iterable[list[DocArrays]] = (sign_job(self._signer, [j]) for j in jobs())
        else:
            results = self.map_batches(sign_job, jobs(), self._signer, size=1)
        for ((new_sigs, new_fps, new_lengths),) in results:
            idx = targets.popleft()
            sigs[idx], fps[idx], lengths[idx] = new_sigs, new_fps, new_lengths

    def _sign_from_texts(
        self,
        spool: BatchSpool,
        corpus: _Corpus,
        boiler: set[int],
        sigs: np.ndarray,
        fps: np.ndarray,
        lengths: np.ndarray,
    ) -> None:
        """Sign by tokenizing the spooled texts without boilerplate (any separator)."""
        spool_pos = np.frombuffer(corpus.spool_index, dtype=np.int64)
        live = {pos: i for i, pos in enumerate(spool_pos.tolist())}
        pending: list[tuple[int, str]] = []
        for pos, doc in enumerate(spool.documents()):
            i = live.get(pos)
            if i is None:
                continue
            hits = self._boiler_hits(corpus, i, boiler)
            text = doc.sep.join(p for j, p in enumerate(doc.paragraphs) if j not in hits)
            pending.append((i, text))
            if len(pending) >= BATCH_DOCS:
                self._sign_texts(pending, sigs, fps, lengths)
                pending = []
        if pending:
            self._sign_texts(pending, sigs, fps, lengths)

    def _sign_texts(
        self, pending: list[tuple[int, str]], sigs: np.ndarray, fps: np.ndarray, lengths: np.ndarray
    ) -> None:
        """Sign one batch of (document, text) pairs by tokenizing the texts."""
        idx = np.array([i for i, _ in pending])
        ((new_sigs, new_fps, new_lengths),) = sign_job(
            self._signer, [token_hashes([t for _, t in pending])]
        )
        sigs[idx], fps[idx], lengths[idx] = new_sigs, new_fps, new_lengths

    def _boiler_hits(self, corpus: _Corpus, i: int, boiler: set[int]) -> dict[int, int]:
        """Return {paragraph index: boilerplate key} for the boilerplate paragraphs of doc i."""
        if not boiler:
            return {}
        return {j: k for j, k in enumerate(corpus.boiler_of(i).tolist()) if k in boiler}

    def _clusters(
        self,
        corpus: _Corpus,
        sigs: np.ndarray,
        fps: np.ndarray,
        lengths: np.ndarray,
        keys_of: list[str],
        known: dict[str, tuple[int, int]],
        in_state: np.ndarray,
        ident: np.ndarray,
    ) -> dict[str, Any]:
        """Cluster near-duplicate documents (with state entries) and pick who stays."""
        n = len(corpus.ids)
        dropped = np.zeros(n, dtype=bool)
        winner_of = np.full(n, -1, dtype=np.int64)
        decision: dict[str, Any] = {
            "dropped": dropped,
            "winner": winner_of,
            "similarity": np.zeros(n),
        }
        if n == 0:
            return decision
        valid = lengths > 0
        keys = band_keys(sigs, self.bands, self.rows)
        stored = StoredEntries.empty(self.settings.num_perm)
        if self.store is not None:
            handles = self.store.candidates(keys[valid].ravel())
            stored = self.store.fetch(handles, self.settings.num_perm)
        m = len(stored.ids)
        if m:
            all_sigs = np.concatenate((sigs, stored.sigs))
            all_keys = np.concatenate((keys, band_keys(stored.sigs, self.bands, self.rows)))
        else:  # no state entries to compare with: no copies of the corpus-sized arrays
            all_sigs, all_keys = sigs, keys
        # Items that must not match anything get unique keys (empty texts).
        with np.errstate(over="ignore"):
            noise = fmix64(np.arange(n, dtype=np.uint64)[~valid, None] + np.uint64(1 << 62))
        all_keys[:n][~valid] = noise
        fp_rank = np.argsort(np.argsort(fps, kind="stable"), kind="stable")
        rank = np.concatenate((fp_rank + m, np.arange(m)))
        fixed = np.concatenate((np.zeros(n, bool), np.ones(m, bool)))
        group = np.full(n + m, -1, dtype=np.int64)
        for j, h in enumerate(stored.handles.tolist()):
            group[n + j] = h
        # A document is never compared with its own entry (itself, or its earlier version).
        group[:n] = np.array([known[k][0] if k in known else -1 for k in keys_of], dtype=np.int64)
        threshold = self.settings.doc_threshold
        result = cluster(all_keys, all_sigs, threshold, rank, fixed, group, self.find_edges)
        self.stats["comparisons"] = result.comparisons
        labels = result.labels
        all_len = np.concatenate((lengths, stored.lengths))
        published = fixed.copy()
        published[:n] = in_state
        order = np.lexsort((np.arange(n + m), -all_len, ~published, labels))
        sorted_labels = labels[order]
        head = np.empty(n + m, dtype=bool)
        head[0] = True
        head[1:] = sorted_labels[1:] != sorted_labels[:-1]
        winner_sorted = order[np.maximum.accumulate(np.where(head, np.arange(n + m), 0))]
        winner = np.empty(n + m, dtype=np.int64)
        winner[order] = winner_sorted
        cur_winner = winner[:n]
        is_dup = (cur_winner != np.arange(n)) & ~in_state & valid
        dropped[:] = is_dup & (not self.settings.mark)
        winner_of[:] = np.where(is_dup, cur_winner, -1)
        sim = np.zeros(n)
        idx = np.flatnonzero(is_dup)
        if len(idx):
            sim[idx] = (all_sigs[idx] == all_sigs[cur_winner[idx]]).mean(axis=1)
        decision["similarity"] = sim
        all_ids = corpus.ids + stored.ids
        all_fps = np.concatenate((ident, stored.fps))  # cluster ids: stable across runs
        decision["ids"] = all_ids
        decision["cluster_fp"] = all_fps[winner[:n]]  # cluster id: the kept copy's fingerprint
        decision["clustered"] = np.bincount(labels, minlength=n + m)[labels][:n] > 1
        decision["keys"] = keys
        return decision

    def _paragraph_owners(
        self, corpus: _Corpus, decision: dict[str, Any]
    ) -> dict[int, dict[int, tuple[int, float]]]:
        """Return {document: {paragraph: (owner document, similarity)}} for repeated paragraphs.

        The owner is the first kept document in input order. exact: fingerprints, so this
        scales to any corpus (8 bytes per long paragraph in memory); near: paragraph MinHash
        clusters (see NEAR_PARAGRAPH_LIMIT).
        """
        if self.settings.cross_doc_paragraphs == "near":
            return self._near_paragraph_owners(corpus, decision)
        by_fp = self._exact_paragraph_owners(corpus, decision)
        out: dict[int, dict[int, tuple[int, float]]] = {}
        if not by_fp:
            return out
        for i, p in enumerate(corpus.para_fps):
            if decision["winner"][i] >= 0:
                continue
            for j, fp in enumerate(p.tolist()):
                owner = by_fp.get(fp)
                if owner is not None and owner != i:
                    out.setdefault(i, {})[j] = (owner, 1.0)
        return out

    def _near_paragraph_owners(
        self, corpus: _Corpus, decision: dict[str, Any]
    ) -> dict[int, dict[int, tuple[int, float]]]:
        """Cluster long paragraphs across documents by MinHash; the earliest document keeps."""
        out: dict[int, dict[int, tuple[int, float]]] = {}
        if not corpus.para_sigs:
            return out
        sigs = np.concatenate(corpus.para_sigs)
        doc = np.concatenate(corpus.para_doc)
        pos = np.concatenate(corpus.para_pos)
        ok = decision["winner"][doc] < 0  # duplicate documents own nothing and lose nothing
        sigs, doc, pos = sigs[ok], doc[ok], pos[ok]
        if len(doc) < 2:
            return out
        threshold = self.settings.paragraphs.threshold
        bands, rows = optimal_bands(threshold, self.settings.num_perm)
        rank = doc * (1 << 20) + pos
        keys = band_keys(sigs, bands, rows)
        result = cluster(keys, sigs, threshold, rank, find_edges=self.find_edges)
        self.stats["paragraph comparisons"] = result.comparisons
        labels = result.labels
        order = np.lexsort((rank, labels))
        head = np.ones(len(order), dtype=bool)
        head[1:] = labels[order][1:] != labels[order][:-1]
        first = order[np.maximum.accumulate(np.where(head, np.arange(len(order)), 0))]
        owner_item = np.empty(len(order), dtype=np.int64)
        owner_item[order] = first
        lose = doc[owner_item] != doc
        for item in np.flatnonzero(lose).tolist():
            o = int(owner_item[item])
            sim = float((sigs[item] == sigs[o]).mean())
            out.setdefault(int(doc[item]), {})[int(pos[item])] = (int(doc[o]), round(sim, 3))
        return out

    def _exact_paragraph_owners(self, corpus: _Corpus, decision: dict[str, Any]) -> dict[int, int]:
        """Return {paragraph fingerprint: owner document} for fingerprints in several documents."""
        winner = decision["winner"]
        min_words = self.settings.paragraphs.min_words
        fp_list: list[np.ndarray] = []
        doc_list: list[np.ndarray] = []
        for i, (p, w) in enumerate(zip(corpus.para_fps, corpus.para_words, strict=True)):
            if winner[i] >= 0:
                continue  # a duplicate document owns nothing
            long = np.unique(p[(w >= min_words) & (p != 0)])
            if len(long):
                fp_list.append(long)
                doc_list.append(np.full(len(long), i, dtype=np.int64))
        if not fp_list:
            return {}
        allfp = np.concatenate(fp_list)
        alldoc = np.concatenate(doc_list)
        order = np.lexsort((alldoc, allfp))
        sfp, sdoc = allfp[order], alldoc[order]
        first = np.ones(len(sfp), dtype=bool)
        first[1:] = sfp[1:] != sfp[:-1]
        shared = np.zeros(len(sfp), dtype=bool)
        shared[:-1] = first[:-1] & ~first[1:]
        return dict(zip(sfp[shared].tolist(), sdoc[shared].tolist(), strict=True))

    # Pass 3 ------------------------------------------------------------------------
    def _verdict(
        self,
        i: int,
        corpus: _Corpus,
        boiler: set[int],
        totals: dict[int, int],
        decision: dict[str, Any],
        owners: dict[int, dict[int, tuple[int, float]]],
    ) -> Verdict:
        """Return the decisions about one live document: boilerplate, paragraphs, the document."""
        verdict = Verdict({})
        why = (
            f"paragraph recurs in at least {self.settings.boilerplate_min_docs} documents of "
            "the same site (site boilerplate)"
        )
        for j, key in self._boiler_hits(corpus, i, boiler).items():
            detail = {"site": corpus.sites[i], "documents": totals.get(key, 0)}
            verdict.removals[j] = ("site-boilerplate", why, detail)
        for j, (owner, sim) in owners.get(i, {}).items():
            if j not in verdict.removals:
                verdict.removals[j] = (
                    "cross-document-paragraph",
                    "paragraph already stands in another document of this run",
                    {"duplicate_of": corpus.ids[owner], "similarity": sim},
                )
        w = int(decision["winner"][i])
        if w < 0:
            if self.settings.mark and decision["clustered"][i]:
                verdict.meta = {"cluster": f"{int(decision['cluster_fp'][i]):016x}"}
            return verdict
        detail = {
            "duplicate_of": decision["ids"][w],
            "similarity": round(float(decision["similarity"][i]), 3),
            "cluster": f"{int(decision['cluster_fp'][i]):016x}",
        }
        if self.settings.mark:
            verdict.meta = {key: detail[key] for key in ("duplicate_of", "cluster", "similarity")}
        else:
            verdict.drop = (
                "near-duplicate-document",
                "document is a near duplicate (estimated Jaccard >= "
                f"{self.settings.doc_threshold}) "
                "of a more complete or earlier published document",
                detail,
            )
        return verdict

    def _stage(
        self,
        i: int,
        corpus: _Corpus,
        sigs: np.ndarray,
        fps: np.ndarray,
        lengths: np.ndarray,
        keys_of: list[str],
        known: dict[str, tuple[int, int]],
        decision: dict[str, Any],
    ) -> None:
        """Stage what the state learns from one document (written only at commit)."""
        if self.store is None or decision["dropped"][i] or lengths[i] == 0:
            return
        if self.settings.mark and decision["winner"][i] >= 0:
            return
        key = keys_of[i]
        if key in known and known[key][1] == int(fps[i]):
            self.staged.seen_again.append(key)
            return
        if key not in known:
            self._new_docs.append(i)
        self.staged.entries.append(
            NewEntry(
                key=key,
                id=corpus.ids[i],
                explicit=corpus.explicit[i],
                fp=int(fps[i]),
                length=int(lengths[i]),
                sig=sigs[i],
                band_keys=decision["keys"][i],
            )
        )

    def pending(self, wait: float = 0.0) -> PendingCommit | None:
        """Return what commit() will write, for the run's publish journal."""
        if self.store is None:
            return None
        # One id twice in a run (a page scraped twice): the later version is the entry.
        self.staged.entries = list({e.key: e for e in self.staged.entries}.values())
        return PendingCommit(self.store.location, wait, self.staged, self.settings.state_settings())

    def commit(self) -> None:
        """Write what this run staged into the state (called once the output is published)."""
        pending = self.pending()
        if pending is not None and self.store is not None:
            self.store.commit(pending.staged, pending.settings)
