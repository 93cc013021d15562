"""Sign every live document without its boilerplate paragraphs, once boilerplate is known.

Shared boilerplate would otherwise make two different articles of one site look alike, so
with boilerplate detection on, the read pass leaves signing until the decisions start, and
no document is signed twice. The usual path signs from the spooled token hashes on the
executor's workers; documents whose paragraph separator could merge tokens are re-read
from the spool and tokenized again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from cleanup.dedup.bandfile import BandFile
from cleanup.dedup.decide import Boilerplate
from cleanup.dedup.jobs import (
    DocArrays,
    Tokens,
    load_tokens,
    paragraphs_in,
    sign_job,
    sign_tokens_job,
    take_tokens,
)
from cleanup.dedup.ledger import Ledger
from cleanup.dedup.lsh import KEY_ROWS, band_keys
from cleanup.dedup.minhash import MAX_HASH
from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.setfiles import SetFiles
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.shingles import shingle_hashes, token_hashes
from cleanup.dedup.spool import BatchSpool, Spool
from cleanup.dedup.verify import SETS_MEMORY, SetIndex, ShingleSets, unique_per_row
from cleanup.document import Document
from cleanup.executor import BATCH_DOCS, Executor
from cleanup.scratch import ScratchRef, put


def sign_all(
    spool: BatchSpool,
    ledger: Ledger,
    boiler: Boilerplate,
    fps: np.ndarray,
    lengths: np.ndarray,
    settings: DedupSettings,
    executor: Executor,
) -> tuple[RowFile, RowFile]:
    """Return the signatures and fingerprints of the live documents without boilerplate
    paragraphs (both on disk: the fingerprints only order the candidate search's buckets).

    `fps` (the texts as they came in) is left as it is; the lengths are redone in place.
    With workers, they make the band keys too, left in `ledger.bands`.
    """
    n = len(ledger.ids)
    signed = _Signed(settings.minhash.num_perm, fps, lengths)
    hits = _boiler_hits(ledger, boiler)
    if ledger.tokens is not None and ledger.tokens_usable:
        if executor.remote and n:  # the workers band what they sign
            signed.keys = _Keys(n, settings, executor.scratch)
        _from_tokens(ledger.tokens, hits, signed, settings, executor)
        if signed.keys is not None:
            ledger.bands = signed.keys.done(n)
    else:
        _from_texts(spool, ledger, boiler, signed, settings)
    return signed.done(n)


class _Signed:
    """Collect the documents signed again, in document order: signatures and fingerprints in
    temporary files (a document not signed keeps MAX_HASH and the read pass's fingerprint),
    lengths in place."""

    def __init__(self, num_perm: int, fps: np.ndarray, lengths: np.ndarray) -> None:
        self.sigs = RowFile(num_perm, np.uint32, int(MAX_HASH))  # empty texts: MAX
        self.fps = RowFile(1, np.uint64)
        self.before, self.lengths = fps, lengths
        self.keys: _Keys | None = None  # the band keys, when the signers make them

    def put(self, idx: np.ndarray, arrays: DocArrays, keys: np.ndarray | None = None) -> None:
        """Record documents `idx` (increasing, past those recorded) as signed again."""
        if len(idx) == 0:
            return
        new_sigs, new_fps, new_lengths = arrays
        self.sigs.put(idx, new_sigs)
        if self.keys is not None:
            assert keys is not None
            self.keys.put(idx, keys)
        start = len(self.fps)
        block = self.before[start : int(idx[-1]) + 1].copy()
        block[idx - start] = new_fps
        self.fps.append(block)
        self.lengths[idx] = new_lengths

    def done(self, n: int) -> tuple[RowFile, RowFile]:
        """Return the signatures and fingerprints of all `n` documents."""
        self.sigs.pad(n)
        self.fps.append(self.before[len(self.fps) : n])
        return self.sigs, self.fps


class _Keys:
    """Write band keys made by the signers to a BandFile in document order, KEY_ROWS rows or
    more at a time; a document not signed has the keys of its signature, all MAX_HASH."""

    def __init__(self, n: int, settings: DedupSettings, folder: str | None) -> None:
        bands, rows = settings.bands
        self.file = BandFile(n, bands, folder)
        unsigned = np.full((1, settings.minhash.num_perm), int(MAX_HASH), np.uint32)
        self.unsigned = band_keys(unsigned, bands, rows)
        self.written = 0  # rows in the file
        self.held: list[np.ndarray] = []  # rows after those, in order
        self.count = 0

    def put(self, idx: np.ndarray, keys: np.ndarray) -> None:
        """Add the keys of documents `idx` (increasing, past those added)."""
        start = self.written + self.count
        block = np.repeat(self.unsigned, int(idx[-1]) + 1 - start, axis=0)
        block[idx - start] = keys
        self.held.append(block)
        self.count += len(block)
        if self.count >= KEY_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.held:
            self.file.put(self.written, np.concatenate(self.held))
            self.written += self.count
            self.held, self.count = [], 0

    def done(self, n: int) -> BandFile:
        """Return the band keys of all `n` documents."""
        tail = n - self.written - self.count
        if tail:
            self.held.append(np.repeat(self.unsigned, tail, axis=0))
            self.count += tail
        self._flush()
        return self.file


def _from_tokens(
    tokens_spool: Spool[Tokens],
    hits: Hits,
    signed: _Signed,
    settings: DedupSettings,
    executor: Executor,
) -> None:
    """Sign from the spooled paragraph tokens, on the executor's workers.

    The tokens of a document's text without its boilerplate are the tokens of its other
    paragraphs in order (see jobs.joins_tokens), so this signs exactly what _from_texts
    signs, and no text is read or tokenized again. Each job gets a batch's tokens (or their
    place in scratch) with which of its paragraphs are boilerplate; the worker leaves those
    out and signs.
    """
    results: Iterable[list[tuple[np.ndarray, DocArrays, np.ndarray | None] | None]] = (
        executor.map_batches(
            sign_tokens_job,
            _with_hits(tokens_spool, hits),
            settings,
            signed.keys is not None,
            size=1,
        )
    )
    for (result,) in results:
        if result is not None:
            signed.put(*result)


def token_batches(
    tokens_spool: Spool[Tokens], hits: Hits, wanted: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (documents, tokens, offsets) of the `wanted` documents (bool per document), per
    spooled batch holding one, without the paragraphs `hits` says are boilerplate; the other
    batches are not read from scratch at all."""
    for tokens, hit, docs, mine in _wanted_batches(tokens_spool, hits, wanted):
        taken = take_tokens(load_tokens(tokens), hit, docs, mine)
        if taken is not None:
            yield taken


def _with_hits(
    tokens_spool: Spool[Tokens], hits: Hits
) -> Iterator[tuple[Tokens, np.ndarray, np.ndarray]]:
    """Yield each spooled batch's tokens with its paragraphs' boilerplate hits and documents."""
    start = 0
    for tokens in tokens_spool.read():
        end = start + paragraphs_in(tokens)
        yield (tokens, *hits(start, end))
        start = end


def shingle_sets(
    spool: BatchSpool,
    ledger: Ledger,
    boiler: Boilerplate,
    wanted: np.ndarray,
    settings: DedupSettings,
    executor: Executor | None = None,
) -> ShingleSets:
    """Return the distinct shingle hashes of the `wanted` live documents, as signed.

    The same tokens as sign_all (without boilerplate paragraphs), so a pair's exact Jaccard
    is the one its signatures estimate; read back from the spool for these documents only.
    With an executor that has scratch space and tokens left there, its workers build the
    sets and leave them in scratch, and compare the pairs too (see setfiles.py).
    """
    n = len(ledger.ids)
    size = settings.documents.shingle_size
    if ledger.tokens is not None and (ledger.tokens_usable or settings.boilerplate.min_docs <= 0):
        hits = _boiler_hits(ledger, boiler)
        if executor is not None and executor.scratch is not None:
            return _sets_in_scratch(ledger.tokens, hits, wanted, n, size, executor)
        batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]] = token_batches(
            ledger.tokens, hits, wanted
        )
    else:
        batches = _text_batches(spool, ledger, boiler, wanted)
    return ShingleSets.build(
        n,
        ((idx, *shingle_hashes(tokens, offsets, size)) for idx, tokens, offsets in batches),
        SETS_MEMORY,
    )


def _sets_in_scratch(
    tokens_spool: Spool[Tokens],
    hits: Hits,
    wanted: np.ndarray,
    n: int,
    size: int,
    executor: Executor,
) -> ShingleSets:
    """Have the executor's workers build the wanted documents' sets into its scratch space;
    return them as the driver holds them: where each document's set is, no shingle."""
    assert executor.scratch is not None
    index, files = SetIndex(n), SetFiles()
    jobs = _wanted_batches(tokens_spool, hits, wanted)
    try:
        for (built,) in executor.map_batches(set_job, jobs, size, executor.scratch, size=1):
            if built is not None:
                idx, sizes, ref = built
                index.add(idx, sizes)
                files.add(ref.path, int(sizes.sum()))
    except BaseException:
        files.close()
        raise
    return ShingleSets(np.zeros(0, np.uint32), index.offsets(), index.row, files, executor)


def _wanted_batches(
    tokens_spool: Spool[Tokens], hits: Hits, wanted: np.ndarray
) -> Iterator[tuple[Tokens, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (tokens, boilerplate hits, paragraphs' documents, wanted paragraphs) of the
    spooled batches that hold a wanted document."""
    for tokens, hit, docs in _with_hits(tokens_spool, hits):
        mine = wanted[docs]
        if mine.any():
            yield tokens, hit, docs, mine


def set_job(
    size: int, folder: str, jobs: list[tuple[Tokens, np.ndarray, np.ndarray, np.ndarray]]
) -> list[tuple[np.ndarray, np.ndarray, ScratchRef] | None]:
    """Build the shingle sets of batches given as (tokens, boilerplate hits, paragraphs'
    documents, paragraphs of wanted documents) and leave their values in `folder` (a task).

    Returns each batch's documents, the size of each one's set, and the file of the values.
    """
    out: list[tuple[np.ndarray, np.ndarray, ScratchRef] | None] = []
    for tokens, hit, docs, wanted in jobs:
        taken = take_tokens(load_tokens(tokens), hit, docs, wanted)
        if taken is None:
            out.append(None)
            continue
        idx, kept, offsets = taken
        values, sizes = unique_per_row(*shingle_hashes(kept, offsets, size))
        out.append((idx, sizes, put(folder, values.astype(np.uint32, copy=False).tobytes())))
    return out


# hits(start, stop) -> (is boilerplate, document) of the kept paragraphs start..stop-1.
Hits = Callable[[int, int], tuple[np.ndarray, np.ndarray]]


def _boiler_hits(ledger: Ledger, boiler: Boilerplate) -> Hits:
    """Return what says, for a range of the live documents' kept paragraphs, which are
    boilerplate and whose they are (read from the keys' file range by range)."""
    keys = ledger.boiler
    wanted = np.sort(np.fromiter(boiler.totals, dtype=np.uint64, count=len(boiler.totals)))

    def hits(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        if len(wanted):  # sorted once: a binary search per range, not a sort
            k = keys.span(start, stop)
            pos = np.minimum(np.searchsorted(wanted, k), len(wanted) - 1)
            hit = wanted[pos] == k
        else:
            hit = np.zeros(stop - start, dtype=bool)
        return hit, keys.docs_of(start, stop)

    return hits


def live_documents(spool: BatchSpool, ledger: Ledger) -> Iterator[tuple[int, Document]]:
    """Yield (live index, document) for every spooled live document, in input order (a
    batch's positions at a time: no map over the corpus)."""
    documents = iter(spool.documents())
    i = 0
    for count, where in ledger.live_in_batches():
        live = set(where.tolist())
        for pos in range(count):
            doc = next(documents)
            if pos in live:
                yield i, doc
                i += 1


def _text_batches(
    spool: BatchSpool, ledger: Ledger, boiler: Boilerplate, wanted: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (documents, tokens, offsets) of the wanted documents' texts without boilerplate."""
    pending: list[tuple[int, str]] = []
    for i, doc in live_documents(spool, ledger):
        if wanted[i]:
            hits = boiler.hits(ledger.boiler_of(i))
            pending.append(
                (i, doc.sep.join(p for j, p in enumerate(doc.paragraphs) if j not in hits))
            )
        if len(pending) >= BATCH_DOCS:
            yield np.array([i for i, _ in pending]), *token_hashes([t for _, t in pending])
            pending = []
    if pending:
        yield np.array([i for i, _ in pending]), *token_hashes([t for _, t in pending])


def _from_texts(
    spool: BatchSpool,
    ledger: Ledger,
    boiler: Boilerplate,
    signed: _Signed,
    settings: DedupSettings,
) -> None:
    """Sign by tokenizing the spooled texts without boilerplate (any separator)."""
    pending: list[tuple[int, str]] = []
    for i, doc in live_documents(spool, ledger):
        hits = boiler.hits(ledger.boiler_of(i))
        text = doc.sep.join(p for j, p in enumerate(doc.paragraphs) if j not in hits)
        pending.append((i, text))
        if len(pending) >= BATCH_DOCS:
            _sign_texts(pending, signed, settings)
            pending = []
    if pending:
        _sign_texts(pending, signed, settings)


def _sign_texts(pending: list[tuple[int, str]], signed: _Signed, settings: DedupSettings) -> None:
    """Sign one batch of (document, text) pairs by tokenizing the texts."""
    idx = np.array([i for i, _ in pending])
    (arrays,) = sign_job(settings, [token_hashes([t for _, t in pending])])
    signed.put(idx, arrays)
