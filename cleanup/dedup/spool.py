"""The spool: documents kept between dedup's read pass and its write pass, and what to do to them.

The read pass spools every batch (in memory up to SPOOL_MEMORY of text, then pickled to a
temporary file); the write pass reads the batches back in input order as DeferredBatch
items, each with the verdicts about its documents, resolved on a worker when the engine
has some. Memory holds numbers between the passes, not texts. See docs/architecture.md,
"Dedup".
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Generic, NamedTuple, TypeVar

import numpy as np

from cleanup.dedup.jobs import STEP, Removals, remove_paragraphs
from cleanup.dedup.kept import KeptRef, take, text_size
from cleanup.document import Document
from cleanup.executor import Deferred, Executor
from cleanup.scratch import ScratchRef, discard, put, release

# Text that the read pass keeps in memory (beyond it, batches are pickled to a temporary file).
SPOOL_MEMORY = 64 << 20
T = TypeVar("T")


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

    def close(self, later: bool = False) -> None:
        """Delete the spool file (`later`: on the reaper's thread, while the run goes on)."""
        if later:
            release(self.fh)
        else:
            self.fh.close()


# A batch of documents, the same batch pickled, pickled in a file a worker left in scratch,
# or kept in a worker's memory.
Batch = list[Document] | bytes | ScratchRef | KeptRef


def unpickled(batch: Batch) -> list[Document]:
    """Return the documents of a batch, unpickling (and reading) it if need be; a kept batch
    is taken from this worker's memory (kept.NotHeld if this process does not hold it)."""
    if isinstance(batch, KeptRef):
        return take(batch)
    if isinstance(batch, ScratchRef):
        loaded: list[Document] = batch.unpickle()
        return loaded
    return pickle.loads(batch) if isinstance(batch, bytes) else batch


class BatchSpool:
    """Keep the read pass's batches for the write pass: in memory up to `budget` bytes of text,
    then on disk.

    A corpus that fits the budget is never pickled in a single process (pickling and
    unpickling every document would cost more than some steps); past it, memory stays flat.
    Batches kept in a worker's memory (KeptRef) are only names here; reading the documents
    in this process (`documents`) first has their workers move them to scratch (`executor`).
    """

    def __init__(self, budget: int, executor: Executor | None = None) -> None:
        self.budget = budget
        self.executor = executor
        self.held = 0
        self.batches: list[Batch | None] = []  # None: the next batch on disk
        self.disk: Spool[Batch] | None = None

    def write(self, batch: Batch) -> None:
        """Keep one batch."""
        if isinstance(batch, ScratchRef | KeptRef):  # the documents are elsewhere: the name
            self.batches.append(batch)
            return
        size = len(batch) if isinstance(batch, bytes) else text_size(batch)
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
        """Yield every document, in order (kept batches moved to scratch first: read here)."""
        self._unkeep()
        for batch in self.read():
            yield from unpickled(batch)

    def _unkeep(self) -> None:
        """Have each worker move the batches it keeps to scratch; hold their names instead."""
        at = [n for n, batch in enumerate(self.batches) if isinstance(batch, KeptRef)]
        if not at:
            return
        executor = self.executor
        if executor is None or executor.scratch is None:
            raise RuntimeError("kept batches without an executor with scratch space to read them")
        items = [DeferredBatch(b, b.count, None) for b in self.batches if isinstance(b, KeptRef)]
        moved = executor.map_batches(to_scratch, items, executor.scratch, size=1)
        refs = [ref for job in moved for ref in job]
        for n, ref in zip(at, refs, strict=True):
            self.batches[n] = ref

    def close(self) -> None:
        """Release the batches and delete the disk file."""
        self.batches = []
        if self.disk is not None:
            self.disk.close()


def to_scratch(folder: str, batch: list[DeferredBatch]) -> list[ScratchRef]:
    """Take the kept batches of a job from this worker's memory and leave them in scratch."""
    return [put(folder, pickle.dumps(item.resolve(), pickle.HIGHEST_PROTOCOL)) for item in batch]


@dataclass
class Verdict:
    """What corpus dedup decided about one live document, to apply to it where it is."""

    removals: Removals  # paragraph: (rule, why, detail)
    drop: tuple[str, str, dict[str, Any]] | None = None  # (rule, why, detail)
    meta: dict[str, Any] | None = None  # --mark: duplicate_of, cluster, similarity

    def apply(self, doc: Document) -> None:
        """Make the decided edits to the document."""
        remove_paragraphs(doc, self.removals)
        if self.meta:
            doc.meta.update(self.meta)
        if self.drop is not None:
            doc.drop(STEP, *self.drop)


class Rules(NamedTuple):
    """The settings corpus dedup's verdicts read: their why texts, and --mark."""

    boilerplate: str  # why a site-boilerplate paragraph goes
    contained: str  # why a partial copy goes
    near: str  # why a near duplicate goes
    mark: bool  # --mark: copies get metadata instead of being dropped


BOILERPLATE = "site-boilerplate"
OWNED = "cross-document-paragraph"
OWNED_WHY = "paragraph already stands in another document of this run"
# {document k of a batch: {paragraph: (owner's id, similarity)}}
OwnedIds = dict[int, dict[int, tuple[str, float]]]


@dataclass
class BatchVerdicts:
    """What corpus dedup decided about one batch's live documents, as columns: cheap for the
    main process to make and pickle; `verdicts()` builds the per-document Verdicts where the
    batch is resolved. Document k of the batch is the live one at position `where[k]`.
    """

    where: np.ndarray  # position in the batch of each live document
    rules: Rules
    # boilerplate paragraphs, by document then paragraph: k, paragraph, documents holding
    # it; and the site of each document with some, in order
    boiler: tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]
    owned: OwnedIds  # paragraphs owned by another document
    # copies of a document that stays: k, the winner's id, contained, similarity, cluster
    copies: tuple[np.ndarray, list[str], np.ndarray, np.ndarray, np.ndarray]
    marked: tuple[np.ndarray, np.ndarray]  # --mark, clustered but no copy: k, cluster

    def apply(self, docs: list[Document]) -> None:
        """Make the decided edits to the batch's documents: a document that only loses
        boilerplate straight from the columns, the others by their verdict (the same edits)."""
        places = self.where.tolist()
        others = {*self.owned, *self.copies[0].tolist(), *self.marked[0].tolist()}
        why = self.rules.boilerplate
        for k, name, paras, ns in self._boiler_runs():
            if k not in others:
                details = [{"site": name, "documents": n} for n in ns]
                docs[places[k]].remove_each(STEP, BOILERPLATE, why, paras, details)
        if others:
            for at, verdict in self.verdicts(others).items():
                verdict.apply(docs[at])

    def verdicts(self, only: set[int] | None = None) -> dict[int, Verdict]:
        """Return {position in the batch: verdict} for the documents something was decided
        about (a verdict that would change nothing is left out), by position; `only`: for
        these documents k alone."""
        why = self.rules.boilerplate
        removals: dict[int, Removals] = {}
        for k, name, paras, ns in self._boiler_runs():
            if only is None or k in only:
                removals[k] = {
                    j: (BOILERPLATE, why, {"site": name, "documents": n})
                    for j, n in zip(paras, ns, strict=True)
                }
        at, winners, contained, similarity, cluster = self.copies
        columns = (winners, contained.tolist(), similarity.tolist(), cluster.tolist())
        copies = dict(zip(at.tolist(), zip(*columns, strict=True), strict=True))
        clusters = dict(zip(*(c.tolist() for c in self.marked), strict=True))
        needed = sorted({*removals, *self.owned, *copies, *clusters})
        places = self.where.tolist()
        out: dict[int, Verdict] = {}
        for k in needed:
            found = Verdict(removals.get(k, {}))
            owned = self.owned.get(k)
            if owned:
                _add_owned(found.removals, owned)
            copy = copies.get(k)
            if copy is not None:
                winner, part, sim, fp = copy
                _document_verdict(found, winner, part, sim, fp, self.rules)
            elif k in clusters:
                found.meta = {"cluster": f"{clusters[k]:016x}"}
            out[places[k]] = found
        return out

    def _boiler_runs(self) -> Iterator[tuple[int, str, list[int], list[int]]]:
        """Yield (document k, its site, its boilerplate paragraphs, the documents holding
        each) for the documents with some."""
        doc, para, counts, sites = self.boiler
        if not len(doc):
            return
        first, starts, stops = runs(doc)
        paras, ns = para.tolist(), counts.tolist()
        for k, name, a, z in zip(first.tolist(), sites, starts, stops, strict=True):
            yield k, name, paras[a:z], ns[a:z]


def runs(doc: np.ndarray) -> tuple[np.ndarray, list[int], list[int]]:
    """Return the values of a sorted column's runs, where each starts and where it stops."""
    bounds = np.flatnonzero(np.diff(doc)) + 1
    cut = bounds.tolist()
    return doc[[0, *cut]] if len(doc) else doc, [0, *cut], [*cut, len(doc)]


def _add_owned(removals: Removals, owned: dict[int, tuple[str, float]]) -> None:
    """Add the removals of a document's paragraphs owned by another document (each paragraph
    removed once: as boilerplate if it is both)."""
    for j, (owner, sim) in owned.items():
        if j not in removals:
            removals[j] = (OWNED, OWNED_WHY, {"duplicate_of": owner, "similarity": sim})


def _document_verdict(
    out: Verdict, winner: str, contained: bool, similarity: float, cluster: int, rules: Rules
) -> None:
    """Decide about a live document that is a copy of `winner` (its id), which stays: drop it
    or mark it (`contained`: a partial copy; `similarity`, `cluster`: its decision's)."""
    measure = "containment" if contained else "similarity"
    detail = {
        "duplicate_of": winner,
        measure: round(float(similarity), 3),
        "cluster": f"{int(cluster):016x}",
    }
    if rules.mark:
        out.meta = {key: detail[key] for key in ("duplicate_of", "cluster", measure)}
    elif contained:
        out.drop = ("contained-document", rules.contained, detail)
    else:
        out.drop = ("near-duplicate-document", rules.near, detail)


class DeferredBatch(Deferred):
    """A spooled batch of documents with the verdicts still to apply (the write pass's unit).

    Yielded as is when the next steps run on workers (which resolve it there: unpickling
    and editing documents are then off this process); else resolved right here.
    """

    def __init__(
        self, batch: Batch, count: int, verdicts: BatchVerdicts | None, once: bool = False
    ) -> None:
        self.batch = batch
        self.count = count
        self.verdicts = verdicts  # None: nothing to apply
        self.home = batch.worker if isinstance(batch, KeptRef) else None  # who holds it
        self.once = once  # resolved once, never retried: a file in scratch goes once read

    def __len__(self) -> int:
        return self.count

    def resolve(self) -> list[Document]:
        """Return the batch's documents with the verdicts applied."""
        docs = unpickled(self.batch)
        if self.once and isinstance(self.batch, ScratchRef):
            discard([self.batch.path])  # deleted while the batch is written, not at the end
        if self.verdicts is not None:
            self.verdicts.apply(docs)
        return docs
