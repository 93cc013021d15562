"""Corpus-scope dedup: read the stream, decide, then write the spool out in input order.

Read pass: every batch goes to the executor (cleanup/dedup/jobs.py: in-document dedup and
the numbers about each document), comes back summarized, is spooled as it is
(cleanup/dedup/spool.py) and its numbers recorded (cleanup/dedup/ledger.py). Decide: site
boilerplate, signatures without it (cleanup/dedup/resign.py), near-duplicate clusters
against the state too, repeated paragraphs (cleanup/dedup/decide.py). Write pass: the
spooled batches go out in input order as DeferredBatch items with their verdicts, which the
engine resolves on its workers; the state learns what was kept (cleanup/dedup/staging.py).
The result depends on the input order only to break ties (two equally complete copies: the
first stays), and memory holds signatures, not texts. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from cleanup.dedup import heap
from cleanup.dedup.bandfile import BandFile
from cleanup.dedup.clusters import Estimate
from cleanup.dedup.containment import Search
from cleanup.dedup.decide import (
    Boilerplate,
    Owners,
    Verdicts,
    decide_boilerplate,
    exact_paragraph_owners,
    near_paragraph_owners,
)
from cleanup.dedup.documents import Containment, DocumentDecision, decide_documents
from cleanup.dedup.jobs import SummaryJob, Tokens, before_workers, summary_job
from cleanup.dedup.keep import keep_priority
from cleanup.dedup.ledger import Ledger
from cleanup.dedup.lookup import state_candidates
from cleanup.dedup.lsh import KEY_ROWS, band_keys
from cleanup.dedup.partitions import edges_finder
from cleanup.dedup.resign import shingle_sets, sign_all
from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.spool import SPOOL_MEMORY, BatchSpool, DeferredBatch, Spool
from cleanup.dedup.staging import StateStaging
from cleanup.dedup.store import Store, StoredEntries, state_key
from cleanup.dedup.verify import ShingleSets
from cleanup.document import Document
from cleanup.executor import Executor, Item


class CorpusDedup:
    """Run corpus-scope dedup over a stream, optionally against a persistent state."""

    def __init__(
        self,
        settings: DedupSettings,
        executor: Executor,
        store: Store | None = None,
        run_id: str = "",
        started: float = 0.0,
        on_workers: bool = False,
    ) -> None:
        """`on_workers`: the write pass's items are resolved on the executor's workers (the
        stream variant), so a worker may keep a batch in its memory between the passes."""
        self.settings = settings
        self.executor = executor
        self.keep = SPOOL_MEMORY // executor.keeps if on_workers and executor.keeps else 0
        # An executor that keeps (the process engine) runs each job once, so a batch left in
        # scratch can be deleted as soon as the write pass reads it (Ray may retry a task).
        self.once = executor.keeps > 0
        self.store = store
        self.lsh = settings.bands
        self.edges = edges_finder(executor)
        self.staging: StateStaging | None = None
        self.stats: dict[str, int] = {}
        if store is not None:
            store.check_settings(settings.state_settings())
            self.staging = StateStaging(store, settings.state_settings(), run_id, started)

    def run(
        self, docs: Iterable[Document], on_read: Callable[[int], None] | None = None
    ) -> Iterator[Item]:
        """Dedup the stream; yield every document, as DeferredBatch items of the spool.

        `on_read(n)` is called when the read pass has all n documents, before the decisions.
        """
        spool = BatchSpool(SPOOL_MEMORY, self.executor)
        ledger = Ledger(tokens=Spool[Tokens]("cleanup-dedup-tokens-"))
        try:
            job = SummaryJob(
                self.settings,
                sign=self.settings.boilerplate.min_docs <= 0,
                pickled=self.executor.remote,
                scratch=self.executor.scratch,
                keep=self.keep if self.executor.scratch else 0,
            )
            read = 0
            if self.executor.keeps:  # local workers, forked at the first batch: they inherit it
                before_workers()
            for summary in self.executor.map_batches(summary_job, docs, job):
                ledger.record(summary)
                spool.write(summary.docs)
                read += summary.count
            if on_read is not None:
                on_read(read)
            yield from self._decide_and_write(spool, ledger)
        finally:
            spool.close()
            ledger.close()

    def _decide_and_write(self, spool: BatchSpool, ledger: Ledger) -> Iterator[Item]:
        heap.map_large_arrays()  # the decisions' arrays give their pages back when freed
        n = len(ledger.ids)
        sigs, fps, lengths = ledger.take_arrays(self.settings.minhash.num_perm)
        keys_of, known, in_state, group = self._in_state(ledger, fps)
        # A document's identity is its text as it came in (after in-document dedup): what
        # boilerplate removal leaves may differ from run to run as counts accumulate.
        ident = fps
        seen_text = in_state.copy()
        if self.store is not None and n:
            seen_text |= self.store.known_fps(ident)
        boiler = decide_boilerplate(
            *ledger.boiler_table(),
            ident,
            seen_text,
            self.settings.boilerplate.min_docs,
            self.store.boiler_counts if self.store is not None else None,
        )
        signed_fps: np.ndarray | RowFile = fps  # what orders the candidate search's buckets
        if self.settings.boilerplate.min_docs > 0:  # the read pass left signing until now
            with heap.batch_work():  # batch arrays, from the heap (its outputs are files)
                sigs, signed_fps = sign_all(
                    spool, ledger, boiler, fps, lengths, self.settings, self.executor
                )
            ledger.replace_sigs(sigs)
        verify = DocumentVerifier(spool, ledger, boiler, self.settings, self.executor)
        decision = self._documents(
            ledger, sigs, signed_fps, lengths, ident, in_state, group, verify
        )
        verify.close()  # the write pass needs no shingle set, nor tokens
        ledger.drop_tokens()
        if isinstance(signed_fps, RowFile):
            signed_fps.close()
        heap.end_of_decisions()
        owners = self._owners(ledger, decision)
        self._count_stats()
        make = Verdicts.of(boiler, decision, owners, self.settings)
        live_pos = 0
        batches = zip(spool.read(), ledger.live_in_batches(), strict=True)
        for stored, (count, where) in batches:
            end = live_pos + len(where)  # this batch's live documents
            keys, key_ends = self._batch_keys(ledger, live_pos, end, bool(boiler.totals))
            verdicts = make.batch(live_pos, where, keys, key_ends, ledger.site)
            if self.staging is not None:  # their signatures and band keys, read at once
                sig_rows, key_rows = sigs[live_pos:end], decision.band_keys.block(live_pos, end)
                for i in range(live_pos, end):
                    self.staging.stage(
                        i,
                        ledger,
                        (sig_rows[i - live_pos], key_rows[i - live_pos]),
                        ident,
                        lengths,
                        keys_of,
                        known,
                        decision,
                        self.settings.mark,
                    )
            live_pos = end
            yield DeferredBatch(stored, count, verdicts, self.once)
        if self.staging is not None:
            count_boilerplate = self.settings.boilerplate.min_docs > 0
            self.staging.finish(ledger, ident, seen_text, decision, count_boilerplate)

    @staticmethod
    def _batch_keys(
        ledger: Ledger, first: int, end: int, wanted: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the boilerplate keys of live documents first..end-1 (one after the other)
        and where each document's end, from 0 (none read unless `wanted`)."""
        if not wanted or end <= first:
            return np.zeros(0, np.uint64), np.zeros(end - first, np.int64)
        ends = ledger.boiler.ends
        lo = int(ends[first - 1]) if first else 0
        return ledger.boiler.span(lo, int(ends[end - 1])), ends[first:end] - lo

    def _in_state(
        self, ledger: Ledger, fps: np.ndarray
    ) -> tuple[list[str], dict[str, tuple[int, int]], np.ndarray, np.ndarray | None]:
        """Return the documents' state keys, the entries found under them, which documents
        were published before with this very text (never duplicates, never counted twice),
        and each document's own entry (-1: none; None without a state: no entries at all).
        """
        n = len(ledger.ids)
        if self.store is None:  # nothing to look up: no per-document list or loop
            return [], {}, np.zeros(n, dtype=bool), None
        keys_of = [
            state_key(i, bool(e), int(f))
            for i, e, f in zip(ledger.ids, ledger.explicit, fps.tolist(), strict=True)
        ]
        known = self.store.find(keys_of)
        in_state = np.array(
            [
                k in known and known[k][1] == int(f)
                for k, f in zip(keys_of, fps.tolist(), strict=True)
            ],
            dtype=bool,
        )
        group = np.array([known[k][0] if k in known else -1 for k in keys_of], dtype=np.int64)
        return keys_of, known, in_state, group

    def _documents(
        self,
        ledger: Ledger,
        sigs: RowFile,
        fps: np.ndarray | RowFile,
        lengths: np.ndarray,
        ident: np.ndarray,
        in_state: np.ndarray,
        group: np.ndarray | None,
        verify: DocumentVerifier,
    ) -> DocumentDecision:
        """Fetch the state entries the documents may match, then decide about the documents."""
        if not ledger.ids:
            return DocumentDecision.empty(self.lsh[0])
        containment = self._containment(ledger, verify)  # on a worker while the search runs
        keys = ledger.bands  # made by sign_all's workers, or here
        if keys is None:
            keys = ledger.bands = BandFile(len(sigs), self.lsh[0], self.executor.scratch)
            for start, block in sigs.blocks(KEY_ROWS):  # a block of signatures at a time
                keys.put(start, band_keys(block, *self.lsh))
        stored = StoredEntries.empty(self.settings.minhash.num_perm)
        if self.store is not None:
            parts = self.edges.parts if self.edges is not None else 1
            handles = state_candidates(self.store, keys, lengths > 0, self.executor, parts)
            stored = self.store.fetch(handles, self.settings.minhash.num_perm)
        decision = decide_documents(
            ledger.ids,
            sigs,
            keys,
            fps,
            lengths,
            ident,
            in_state,
            group,
            stored,
            self.lsh,
            self.settings.documents.threshold,
            self.settings.mark,
            self.edges,
            verify,
            functools.partial(keep_priority, self.settings.documents.keep, lengths, ledger.dates),
            containment,
        )
        if decision.comparisons is not None:
            self.stats["comparisons"] = decision.comparisons
        return decision

    def _containment(
        self, ledger: Ledger, verify: DocumentVerifier
    ) -> Callable[[], Containment] | None:
        """Start the containment candidates' search (--doc-containment); return what gives
        them once found, announced to the verifier (which waits for them first)."""
        threshold = self.settings.documents.containment
        if threshold <= 0:
            return None
        verify.search = Search(self.executor, *ledger.take_samples(), threshold)

        def found() -> Containment:
            a, b = verify.containment_pairs()
            self.stats["containment candidates"] = len(a)
            return Containment(a, b, verify.exact, threshold)

        return found

    def _owners(self, ledger: Ledger, decision: DocumentDecision) -> Owners:
        """Return the owners of paragraphs repeated across documents (if that is on)."""
        cross = self.settings.cross
        if cross.mode == "exact":
            return exact_paragraph_owners(
                ledger.para_fps,
                ledger.para_words,
                decision.winner.dense(),
                self.settings.paragraphs.min_words,
            )
        if cross.mode != "near" or not ledger.para_sigs:
            return {}
        owners, comparisons = near_paragraph_owners(
            np.concatenate(ledger.para_sigs),
            np.concatenate(ledger.para_doc),
            np.concatenate(ledger.para_pos),
            decision.winner.dense(),
            cross.threshold,
            self.edges,
            paragraph_sets(ledger),
        )
        if comparisons is not None:
            self.stats["paragraph comparisons"] = comparisons
        return owners

    def _count_stats(self) -> None:
        """Put the partitioned search's task count first among the stats (as it was counted)."""
        if self.edges is not None and self.edges.tasks:
            self.stats = {"lsh tasks": self.edges.tasks, **self.stats}


class DocumentVerifier:
    """Verify candidate document pairs exactly, from shingle sets read back from the spool.

    The sets are read once, for the documents in some candidate pair: the LSH candidates
    this is called with first, and the containment candidates announced beforehand
    (`also`). A state keeps signatures, not tokens, so a pair with a state entry keeps its
    signature estimate (standard error ~0.03 with 256 permutations), and state entries are
    not containment candidates.
    """

    def __init__(
        self,
        spool: BatchSpool,
        ledger: Ledger,
        boiler: Boilerplate,
        settings: DedupSettings,
        executor: Executor | None = None,
    ) -> None:
        self.spool, self.ledger, self.boiler, self.settings = spool, ledger, boiler, settings
        self.executor = executor  # with scratch space: sets built and compared on its workers
        self.n = len(ledger.ids)
        self.also = np.zeros(self.n, dtype=bool)
        self.sets: ShingleSets | None = None
        self.search: Search | None = None  # the containment candidates, maybe on a worker

    def containment_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the containment candidates, announced if the sets are not built yet."""
        assert self.search is not None
        with heap.batch_work():  # slice-sized temporaries (the pairs found are few)
            a, b = self.search.pairs()
        if self.sets is None:
            self.also[a] = True
            self.also[b] = True
        return a, b

    def _sets(self, a: np.ndarray, b: np.ndarray) -> ShingleSets:
        if self.sets is None:
            if self.search is not None:
                self.containment_pairs()  # their documents' sets are built with these
            wanted = self.also.copy()
            wanted[a] = True
            wanted[b] = True
            with heap.batch_work():  # batch arrays (the sets: freed before the last trim)
                self.sets = shingle_sets(
                    self.spool, self.ledger, self.boiler, wanted, self.settings, self.executor
                )
        return self.sets

    def __call__(self, a: np.ndarray, b: np.ndarray, estimate: Estimate) -> np.ndarray:
        """Return the similarity of candidate pairs: exact between two live documents."""
        live = (a < self.n) & (b < self.n)
        if live.all():  # no state entry: no copy of the (corpus-sized) pair arrays
            return self._sets(a, b).jaccard(a, b)
        out = np.zeros(len(a))
        if live.any():
            la, lb = a[live], b[live]
            out[live] = self._sets(la, lb).jaccard(la, lb)
        out[~live] = estimate(~live)
        return out

    def exact(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the exact Jaccard and containment (smaller in larger) of live pairs."""
        return self._sets(a, b).similarity(a, b)

    def close(self) -> None:
        """Let go of the shingle sets (and their file), and of the samples' copy."""
        if self.search is not None:
            self.search.close()
        if self.sets is not None:
            self.sets.close()
            self.sets = None


def paragraph_sets(ledger: Ledger) -> ShingleSets:
    """Return the shingle sets of the long paragraphs signed for --cross-doc-paragraphs near."""
    total = sum(len(offsets) - 1 for _, offsets in ledger.para_shingles)
    parts = []
    first = 0
    for hashes, offsets in ledger.para_shingles:
        count = len(offsets) - 1
        parts.append((np.arange(first, first + count), hashes, offsets))
        first += count
    return ShingleSets.build(total, parts)
