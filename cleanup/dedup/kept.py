"""Batches a worker keeps in its memory between dedup's read pass and the write pass.

With an executor that `keeps` (the process engine), the read pass's job leaves its batch of
documents in a table of the worker that ran it and returns a `KeptRef` (the worker's index
and a name); the write pass's job for that batch is sent back to that worker (the
DeferredBatch's `home`), which takes the documents out of the table. Neither pass pickles
them. Each worker keeps up to its budget of text (the measure BatchSpool uses); past it,
batches go to scratch as before, so memory stays flat however large the corpus. A table
dies with its process: a run that fails midway leaves nothing behind. See
docs/architecture.md, "Dedup".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from cleanup.document import Document
from cleanup.executor import this_worker


@dataclass(frozen=True)
class KeptRef:
    """Name a batch of documents kept in the memory of worker `worker` (picklable, small)."""

    worker: int
    name: int
    count: int  # documents in the batch


class NotHeld(RuntimeError):
    """A kept batch was asked of a process that does not hold it (a bug, never data)."""


_table: dict[int, list[Document]] = {}  # this worker's kept batches, by name
_sizes: dict[int, int] = {}
_held = 0  # text kept, as text_size measures it
_names = itertools.count()


def text_size(docs: list[Document]) -> int:
    """Return the weight of a batch in memory: its text, and 200 bytes per document."""
    return sum([sum(map(len, d.paragraphs)) for d in docs]) + 200 * len(docs)


def keep(docs: list[Document], budget: int) -> KeptRef | None:
    """Keep a batch in this worker's table if it fits `budget`; None if not (or not a worker)."""
    global _held
    worker = this_worker()
    if worker is None or budget <= 0:
        return None
    size = text_size(docs)
    if _held + size > budget:
        return None
    name = next(_names)
    _table[name] = docs
    _sizes[name] = size
    _held += size
    return KeptRef(worker, name, len(docs))


def take(ref: KeptRef) -> list[Document]:
    """Return a kept batch's documents and forget them (each batch is taken once)."""
    global _held
    if this_worker() != ref.worker or ref.name not in _table:
        where = this_worker()
        here = "the main process" if where is None else f"worker {where}"
        raise NotHeld(f"batch {ref.name} of worker {ref.worker} asked of {here}, which lacks it")
    _held -= _sizes.pop(ref.name)
    return _table.pop(ref.name)


def held() -> int:
    """Return how much text this process keeps (text_size's measure)."""
    return _held
