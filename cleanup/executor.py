"""Where per-batch and per-partition work runs: the Executor protocol and its in-process form.

A step that needs the whole stream (corpus dedup) still has per-document work (signatures)
and, for a large corpus, a keyed shuffle (the LSH bucket search). It asks the executor it
was bound with (`StepSpec(needs_executor=True)`, `bind(executor=...)`) to run that work;
engines (cleanup/engines/) implement the protocol with worker processes or Ray tasks and
know nothing about the steps. See docs/architecture.md, "Engines".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from cleanup.document import Document

# Documents per batch: the unit a worker receives, and the unit numpy works on in one go.
BATCH_DOCS = 200
# Text per batch in this process (a few huge documents make a batch of their own).
BATCH_BYTES = 1 << 20

T = TypeVar("T")
R = TypeVar("R")


class Deferred:
    """Stand for len(self) documents in a stream, made by `resolve()` where it is cheap.

    A whole-stream step's `stream` variant yields these (dedup: a spooled batch and the
    decisions about it); the engine resolves them on its workers, so that documents are
    unpickled and edited there rather than in the main process. `home`, when set, is the
    worker that must resolve the item (its documents are in that worker's memory): an
    executor that `keeps` sends a batch of such items to that worker.
    """

    home: int | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    def resolve(self) -> list[Document]:
        """Return the documents this item stands for, in order."""
        raise NotImplementedError


# What flows between the stages of an engine: documents, or items standing for some.
Item = Document | Deferred

_worker: int | None = None  # this process's index among an engine's workers (None: not one)


def set_worker(index: int | None) -> None:
    """Record this process's index among the workers of an engine (set as a worker starts)."""
    global _worker
    _worker = index


def this_worker() -> int | None:
    """Return this process's index among an engine's workers; None in any other process."""
    return _worker


def home_of(batch: Sequence[Any]) -> int | None:
    """Return the worker every Deferred item of a batch names as its home, if they name one."""
    homes = {item.home for item in batch if isinstance(item, Deferred)}
    return homes.pop() if len(homes) == 1 else None


def resolved(items: Iterable[Item]) -> Iterator[Document]:
    """Yield the documents of a stream, resolving any Deferred item in place."""
    for item in items:
        if isinstance(item, Deferred):
            yield from item.resolve()
        else:
            yield item


class Executor(Protocol):
    """Run a step's per-batch and per-partition work: here, on processes, or on Ray tasks.

    Results always come back in order, so output never depends on where work ran.
    `remote` tells whether map_batches' results cross a process boundary (a job may then
    return its documents pickled, so that they are spooled without a second pickling).
    `scratch`, when set, is a folder the workers and this process all read and write
    (cleanup/scratch.py): a job may leave its documents there and return a reference.
    `machines` counts the machines the workers run on (a file on one machine's disk, such
    as a SQLite state, cannot serve the others).
    `keeps` counts the workers that may keep a job's documents in their memory for a later
    job (0: none): a Deferred item naming its `home` is then resolved on that worker.
    """

    remote: bool
    scratch: str | None
    machines: int
    keeps: int

    def map_batches(
        self, fn: Callable[..., R], items: Iterable[Any], *args: Any, size: int = BATCH_DOCS
    ) -> Iterator[R]:
        """Yield fn(*args, batch) for consecutive batches of `items`, in order."""
        ...

    def submit(self, fn: Callable[..., R], *args: Any) -> Any:
        """Start fn(*args) where this executor runs work; return a handle for `result`."""
        ...

    def result(self, handle: Any) -> Any:
        """Wait for the value of a handle `submit` returned."""
        ...

    def partitions(self) -> int:
        """Return how many partitions a keyed shuffle should use (1: do it in one piece)."""
        ...

    def map_partitions(self, fn: Callable[..., R], shared: Sequence[Any], parts: int) -> list[R]:
        """Return [fn(*shared, parts, part) for part in range(parts)], computed where it runs.

        `shared` is sent to the workers once and read by every partition: each partition
        selects its own keys from it (a keyed shuffle without moving the keys twice).
        """
        ...


def batches(items: Iterable[T], size: int, max_bytes: int | None = None) -> Iterator[list[T]]:
    """Yield lists of items standing for up to `size` documents (and `max_bytes` of text).

    A Deferred item weighs the documents it stands for; one item alone may exceed `size`.
    Deferred items with different homes never share a batch (each goes to its home).
    The byte bound counts the paragraphs of Document items (other items weigh nothing).
    """
    batch: list[T] = []
    weight = 0
    nbytes = 0
    homes: set[int | None] = set()  # of the batch's Deferred items (one at most)
    for item in items:
        w = len(item) if isinstance(item, Deferred) else 1
        moved = isinstance(item, Deferred) and bool(homes) and item.home not in homes
        if batch and (weight + w > size or moved):
            yield batch
            batch, weight, nbytes, homes = [], 0, 0, set()
        if isinstance(item, Deferred):
            homes.add(item.home)
        batch.append(item)
        weight += w
        if max_bytes is not None and isinstance(item, Document):
            nbytes += sum(map(len, item.paragraphs))
            if nbytes >= max_bytes:
                yield batch
                batch, weight, nbytes, homes = [], 0, 0, set()
    if batch:
        yield batch


class LocalExecutor:
    """Run everything in this process: the executor of a one-process run and of `Pipeline`."""

    remote = False
    scratch: str | None = None
    machines = 1
    keeps = 0

    def map_batches(
        self, fn: Callable[..., R], items: Iterable[Any], *args: Any, size: int = BATCH_DOCS
    ) -> Iterator[R]:
        """Yield fn(*args, batch) per batch, bounded by documents and by text size."""
        for batch in batches(items, size, BATCH_BYTES):
            yield fn(*args, batch)

    def submit(self, fn: Callable[..., R], *args: Any) -> tuple[Callable[..., R], tuple[Any, ...]]:
        """Return the call itself: it runs here when its result is asked for."""
        return fn, args

    def result(self, handle: tuple[Callable[..., R], tuple[Any, ...]]) -> R:
        """Run the call `submit` returned."""
        fn, args = handle
        return fn(*args)

    def partitions(self) -> int:
        """Return 1: in one process, the one-piece search is the fastest."""
        return 1

    def map_partitions(self, fn: Callable[..., R], shared: Sequence[Any], parts: int) -> list[R]:
        """Run every partition here, one after the other."""
        return [fn(*shared, parts, part) for part in range(parts)]
