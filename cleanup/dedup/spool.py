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
from typing import IO, Any, Generic, TypeVar

from cleanup.dedup.jobs import STEP, Removals, remove_paragraphs
from cleanup.document import Document
from cleanup.executor import Deferred
from cleanup.scratch import ScratchRef

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

    def close(self) -> None:
        """Delete the spool file."""
        self.fh.close()


# A batch of documents, the same batch pickled, or pickled in a file a worker left in scratch.
Batch = list[Document] | bytes | ScratchRef


def unpickled(batch: Batch) -> list[Document]:
    """Return the documents of a batch, unpickling (and reading) it if need be."""
    if isinstance(batch, ScratchRef):
        loaded: list[Document] = batch.unpickle()
        return loaded
    return pickle.loads(batch) if isinstance(batch, bytes) else batch


class BatchSpool:
    """Keep the read pass's batches for the write pass: in memory up to `budget` bytes of text,
    then on disk.

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
        if isinstance(batch, ScratchRef):  # the documents are in scratch: keep the name
            self.batches.append(batch)
            return
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
    return sum([sum(map(len, d.paragraphs)) for d in docs]) + 200 * len(docs)


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


class DeferredBatch(Deferred):
    """A spooled batch of documents with the verdicts still to apply (the write pass's unit).

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
