"""Run the per-document steps over batches on other processes, keeping input order.

Consecutive per-document steps form a segment that runs on the workers; a step that needs the
whole stream (corpus dedup) runs in this process between segments, bound with this engine as
its Executor (cleanup/executor.py), through which it hands per-document work (signatures)
back to the workers. When it maps over the output of a segment, the two are fused: one round
trip per batch does the segment's steps and the step's own work, so documents cross between
processes once, not twice. When a segment follows it, the step's `stream` variant is used: it
may yield Deferred items (dedup: a spooled batch and the decisions about it), which the next
segment resolves on its workers. A prelude (the runner's JSONL parsing) runs on the workers
ahead of the first segment and a postlude (the writer's encoding) after the last. Output is
byte-identical to one process because batches come back in the order they were sent. This
module knows nothing of what the steps do. See docs/architecture.md, "Engines".
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from typing import Any, TypeVar

from cleanup import stopsignals
from cleanup.document import Document
from cleanup.errors import CleanupError
from cleanup.executor import BATCH_DOCS, Deferred, Item, batches, home_of, resolved, set_worker
from cleanup.io.splits import Split
from cleanup.io.tasksource import PartRead, PartReader, SplitSource
from cleanup.pipeline import Context, Step, StepCall, build_chain, step_spec
from cleanup.scratch import Scratch

__all__ = ["BATCH_DOCS", "BatchEngine", "ProcessEngine", "WorkerFailed", "batches", "segments"]
T = TypeVar("T")
R = TypeVar("R")
_Key = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


class WorkerFailed(CleanupError):
    """Report a worker process that died while running a batch."""


def freeze(calls: list[StepCall]) -> _Key:
    """Return a hashable form of step calls (the cache key of a worker's chain)."""
    return tuple((name, tuple(sorted(opts.items()))) for name, opts in calls)


@lru_cache(maxsize=8)
def _chain_for(key: _Key) -> Step:
    """Build (once per worker process) the chain of a segment (per-document steps only)."""
    return build_chain([(name, dict(opts)) for name, opts in key])


Ends = tuple[Step | None, Step | None]  # what runs before and after a segment's steps
# A stage of the engine's chain: a segment on the workers, or a whole-stream step here.
Stage = Callable[[Iterable[Any]], Iterable[Item]]


def run_batch(ends: Ends, key: _Key, batch: list[Any]) -> list[Document]:
    """Run the prelude, a segment's steps, then the postlude over one batch (on a worker)."""
    prelude, postlude = ends
    if any(isinstance(item, Deferred) for item in batch):
        batch = [d for item in batch for d in _resolved(item)]
    docs: Iterable[Document] = prelude(batch) if prelude is not None else batch
    if key:
        docs = _chain_for(key)(docs)
    if postlude is not None:
        docs = postlude(docs)
    return list(docs)


def run_split(
    reader: PartReader,
    splits: Sequence[Split],
    fn: Callable[..., R],
    args: tuple[Any, ...],
    size: int,
) -> tuple[PartRead, list[R]]:
    """Read a task's splits, then run fn(*args, batch) per batch of them (on a worker).

    The records do not go back to the driver: only their count does (PartRead.count).
    """
    read = reader.read(splits)
    results = [fn(*args, batch) for batch in batches(read.items, size)]
    read.items = []
    return read, results


def run_fused(
    ends: Ends, key: _Key, fn: Callable[..., R], args: tuple[Any, ...], batch: list[Any]
) -> R:
    """Run a segment over one batch, then fn(*args, batch) on its output (on a worker)."""
    return fn(*args, run_batch(ends, key, batch))


class Segment:
    """The stream of documents out of a parallel segment: iterate it, or let the engine fuse
    the segment with the next per-batch job (see BatchEngine.map_batches)."""

    def __init__(self, engine: BatchEngine, source: Iterable[Any], ends: Ends, key: _Key):
        self.engine = engine
        self.source = source
        self.ends = ends
        self.key = key

    def __iter__(self) -> Iterator[Document]:
        for done in self.engine.map_batches(run_batch, self.source, self.ends, self.key):
            yield from done


def segments(calls: list[StepCall]) -> list[tuple[bool, list[StepCall]]]:
    """Group calls into (parallel?, calls) runs: per-document steps together, others alone."""
    groups: list[tuple[bool, list[StepCall]]] = []
    for call in calls:
        spec = step_spec(call[0])
        parallel = spec.per_document and not (spec.needs_context or spec.needs_executor)
        if parallel and groups and groups[-1][0]:
            groups[-1][1].append(call)
        else:
            groups.append((parallel, [call]))
    return groups


def _resolved(item: Any) -> list[Any]:
    return item.resolve() if isinstance(item, Deferred) else [item]


class BatchEngine:
    """Map batches over workers in order (an Executor); subclasses say how work is submitted."""

    remote = True  # results come back from other processes
    scratch: str | None = None  # a folder the workers leave results in (cleanup/scratch.py)
    machines = 1
    keeps = 0  # workers that may keep documents for a job sent back to them (Deferred.home)

    def __init__(
        self,
        calls: list[StepCall],
        context: Context,
        workers: int,
        prelude: Step | None = None,
        postlude: Step | None = None,
    ) -> None:
        self.calls = calls
        self.context = context
        self.workers = workers
        self.prelude = prelude
        self.postlude = postlude
        self.segments: list[tuple[Ends, _Key]] = []  # what the workers run (see warm)
        context.on_close.append(self.close)

    def submit(self, fn: Callable[..., R], *args: Any) -> Any:
        """Start fn(*args) on a worker and return a handle for `result`."""
        raise NotImplementedError

    def submit_to(self, home: int | None, fn: Callable[..., R], *args: Any) -> Any:
        """Start fn(*args) on worker `home` (None: any worker); here, on any worker."""
        return self.submit(fn, *args)

    def result(self, handle: Any) -> Any:
        """Wait for a handle's value."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers."""

    def map_batches(
        self, fn: Callable[..., R], items: Iterable[T], *args: Any, size: int = BATCH_DOCS
    ) -> Iterator[R]:
        """Yield fn(*args, batch) for each batch of `size` items, in order, a bounded window ahead.

        Items that are a Segment's output are fused with it (one job per batch). A stream of
        one batch runs right here: starting workers would cost more than it saves. An error
        while reading items is raised after the batches already sent, as one process would.
        """
        if isinstance(items, Segment) and items.engine is self:
            fused_args = (items.ends, items.key, fn, args)
            return self._map(run_fused, items.source, fused_args, size)
        return self._map(fn, items, args, size)

    def partitions(self) -> int:
        """Return 1: on one machine the one-piece search beats shipping arrays to processes."""
        return 1

    def map_partitions(self, fn: Callable[..., R], shared: Sequence[Any], parts: int) -> list[R]:
        """Run fn(*shared, parts, part) for every part on the workers; return results in order."""
        handles = [self.submit(fn, *shared, parts, part) for part in range(parts)]
        return [self.result(h) for h in handles]

    def _map(
        self, fn: Callable[..., Any], items: Iterable[Any], args: tuple[Any, ...], size: int
    ) -> Iterator[Any]:
        if (
            isinstance(items, SplitSource)
            and len(items.tasks) >= 2 * self.workers
            and self.tasks_can_read(items)
        ):
            yield from self._map_splits(fn, items, args, size)
            return
        failure: list[BaseException] = []
        stream = batches(_until_error(items, failure), size)
        first = next(stream, None)
        second = next(stream, None) if first is not None else None
        if first is None or second is None:
            home = home_of(first) if first is not None and self.keeps else None
            if first is not None and home is not None:
                yield self._wait(1, self.submit_to(home, fn, *args, first))
            elif first is not None:  # one batch: here (what it resolves is not on a worker)
                yield fn(*args, first)
            if failure:
                raise failure[0]
            return
        pending: deque[tuple[int, Any]] = deque()
        for number, batch in enumerate(itertools.chain([first, second], stream), 1):
            try:
                handle = self.submit_to(home_of(batch) if self.keeps else None, fn, *args, batch)
            except BrokenProcessPool:
                oldest = pending[0][0] if pending else number
                raise WorkerFailed(f"a worker process died while cleaning batch {oldest}") from None
            pending.append((number, handle))
            while self._window_full(len(pending)):
                yield self._wait(*pending.popleft())
        while pending:
            yield self._wait(*pending.popleft())
        if failure:
            raise failure[0]

    def _window_full(self, pending: int) -> bool:
        """Tell whether to wait for the oldest batch before sending more: two per worker are
        out, and no worker is short of work; one that is (the next batches are kept by another:
        Deferred.home) has the stream read ahead for its own, up to 8 per worker out."""
        if pending >= 8 * self.workers:
            return True
        return pending >= 2 * self.workers and not self.short_of_work()

    def short_of_work(self) -> bool:
        """Tell whether some worker has fewer than two jobs out (here: never said)."""
        return False

    def tasks_can_read(self, source: SplitSource) -> bool:
        """Tell whether the workers can read the input files themselves (here: same machine)."""
        return True

    def _map_splits(
        self, fn: Callable[..., Any], source: SplitSource, args: tuple[Any, ...], size: int
    ) -> Iterator[Any]:
        """Have each task read its splits and run fn per batch of them; yield results in order.

        What a task skipped or found bad is reported through the source's callbacks when its
        turn comes, so counts and --max-bad behave as when this process reads.
        """
        pending: deque[tuple[int, Any]] = deque()
        for number, group in enumerate(source.tasks, 1):
            pending.append((number, self.submit(run_split, source.reader, group, fn, args, size)))
            full = True
            while full:  # take the oldest results done; wait while no task may be sent
                full = not self._task_room(len(pending))
                for _ in range(self._done_first([handle for _, handle in pending], full)):
                    yield from self._split_done(source, *pending.popleft())
        while pending:
            yield from self._split_done(source, *pending.popleft())

    def _task_room(self, pending: int) -> bool:
        """Tell whether to send another task now: fewer than two per worker are out."""
        return pending < 2 * self.workers

    def _done_first(self, handles: Sequence[Any], wait: bool) -> int:
        """Count the oldest handles done, once one is if `wait` (here: 1, the oldest, or 0)."""
        return int(wait)

    def _split_done(self, source: SplitSource, number: int, handle: Any) -> list[Any]:
        read, results = self._wait(number, handle)
        source.arrived(read)
        return results

    def _wait(self, number: int, handle: Any) -> Any:
        try:
            return self.result(handle)
        except BrokenProcessPool:
            raise WorkerFailed(f"a worker process died while cleaning batch {number}") from None

    def __call__(self, docs: Iterable[Any]) -> Iterator[Document]:
        """Stream documents (or what the prelude turns into documents) through every segment.

        The prelude runs with the first segment and the postlude with the last, when those
        run on the workers; a prelude ahead of a whole-stream step runs alone on the workers,
        and a postlude after one is left to the caller (it only saves work there).
        """
        groups = segments(self.calls)
        if self.prelude is not None and not (groups and groups[0][0]):
            groups.insert(0, (True, []))  # the prelude alone, on the workers
        stages: list[Stage] = []
        last = len(groups) - 1
        for n, (parallel, calls) in enumerate(groups):
            if parallel:
                ends = (self.prelude if n == 0 else None, self.postlude if n == last else None)
                stages.append(self._parallel(ends, freeze(calls)))
            else:
                feeds_workers = n < last and groups[n + 1][0]
                stages.extend(self._whole_stream(call, feeds_workers) for call in calls)
        stream: Iterable[Any] = docs
        for stage in stages:
            stream = stage(stream)
        return resolved(stream)

    def _whole_stream(self, call: StepCall, feeds_workers: bool) -> Stage:
        """Bind a whole-stream step with this engine as its executor.

        Its `stream` variant (Deferred items left for the workers) only when workers follow.
        """
        name, opts = call
        spec = step_spec(name)
        if feeds_workers:
            return spec.bind_stream(self.context, self, **opts)
        return spec.bind(self.context, self, **opts)

    def _parallel(self, ends: Ends, key: _Key) -> Stage:
        self.segments.append((ends, key))

        def run(docs: Iterable[Any]) -> Iterable[Item]:
            return Segment(self, docs, ends, key)

        return run


def _until_error(items: Iterable[T], failure: list[BaseException]) -> Iterator[T]:
    """Yield items until reading them fails; keep the error in `failure` for later."""
    try:
        yield from items
    except Exception as exc:  # re-raised by the caller, after the batches read before it
        failure.append(exc)


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_WATCH_SECONDS = 0.2


def _start_worker(main_pid: int, start_method: str, index: int) -> None:
    """Prepare worker `index`: leave Ctrl-C, SIGTERM and SIGHUP to the main process, which stops the
    workers after their batch (no traceback from each), and die with that process if it dies
    first. The index is what a Deferred item's `home` names (executor.this_worker).

    Under forkserver the worker's parent is the fork server, which exits when the main process
    does; under fork and spawn it is the main process itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    stopsignals.release()
    set_worker(index)
    die_with_parent(os.getppid() if start_method == "forkserver" else main_pid)


def die_with_parent(parent: int) -> None:
    """Make this process end when `parent` does, so a killed run leaves no worker behind.

    On Linux the kernel sends SIGKILL at once (PR_SET_PDEATHSIG; it fires when the *thread*
    that forked us ends, which is the thread running the engine: it outlives the pool). A
    daemon thread watching os.getppid() covers other systems, and a parent that died before
    this ran: an orphan is adopted by another process, so its parent id changes.
    """
    _set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()


def _set_parent_death_signal(signum: int) -> bool:
    """Ask Linux to send `signum` when our parent ends; return False where that is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    """Exit this process as soon as its parent is no longer `parent`."""
    while os.getppid() == parent:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)


def warm(segments: Sequence[tuple[Ends, _Key]]) -> None:
    """Run each segment once over an empty batch, here, before the workers are forked.

    A step does its set-up (loading and compiling artifact rules, building tables) when it
    first runs, and caches it per process; done here once, every forked worker inherits it
    instead of each doing it again on its first batch (one set-up's CPU per extra worker).
    Only an optimization: a step whose set-up fails here fails again on its first batch,
    on a worker, and is reported from there as it always was.
    """
    for ends, key in segments:
        with contextlib.suppress(Exception):  # reported by a worker's first batch instead
            run_batch(ends, key, [])


class ProcessEngine(BatchEngine):
    """Run batches on local worker processes, one single-worker pool each, so that a job can
    be sent to the worker that holds its documents (Deferred.home); any other job goes to the
    worker with the fewest jobs outstanding."""

    pools: list[ProcessPoolExecutor] | None = None

    def __init__(
        self,
        calls: list[StepCall],
        context: Context,
        workers: int,
        prelude: Step | None = None,
        postlude: Step | None = None,
        scratch: str | None = None,
    ) -> None:
        """Make the run's scratch space under `scratch` (default: the temp folder) at once.

        First: an unusable folder is refused before anything is to be closed.
        """
        self.scratch_space = Scratch(scratch, context.run_id)
        self.scratch = self.scratch_space.path
        super().__init__(calls, context, workers, prelude, postlude)
        self.keeps = workers
        self.outstanding: set[Future[Any]] = set()  # submitted, not done (cancelled at close)
        self.queued: list[set[Future[Any]]] = [set() for _ in range(workers)]  # per worker

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        return self.submit_to(None, fn, *args)

    def submit_to(self, home: int | None, fn: Callable[..., R], *args: Any) -> Future[R]:
        pools = self._pools()
        if home is None:
            home = min(range(len(pools)), key=lambda n: len(self.queued[n]))
        with stopsignals.held():  # submit may fork a worker: no Stopped inside fork handlers
            future = pools[home].submit(fn, *args)
        for held in (self.outstanding, self.queued[home]):
            held.add(future)
            future.add_done_callback(held.discard)
        return future

    def _pools(self) -> list[ProcessPoolExecutor]:
        """Return the workers' pools, started on first use (after `warm`, under fork)."""
        if self.pools is None:
            context = multiprocessing.get_context()
            if context.get_start_method() == "fork":  # the workers inherit this memory
                warm(self.segments)
            start = (os.getpid(), context.get_start_method())
            self.pools = [
                ProcessPoolExecutor(
                    1, mp_context=context, initializer=_start_worker, initargs=(*start, n)
                )
                for n in range(self.workers)
            ]
        return self.pools

    def result(self, handle: Future[R]) -> R:
        return handle.result()

    def short_of_work(self) -> bool:
        """Tell whether a started worker has < 2 jobs out (with 1, it idled behind the other's)."""
        return self.pools is not None and any(len(jobs) < 2 for jobs in self.queued)

    def _done_first(self, handles: Sequence[Future[Any]], wait: bool) -> int:
        if wait:  # for one not done yet (a done one would return at once: a busy loop)
            futures.wait([f for f in handles if not f.done()], return_when=futures.FIRST_COMPLETED)
        return sum(1 for _ in itertools.takewhile(Future.done, handles))

    def _task_room(self, pending: int) -> bool:
        """A read task goes to a worker as it frees up (< 2 jobs out): no idle tail at the end."""
        free = any(sum(not f.done() for f in list(jobs)) < 2 for jobs in self.queued)
        return pending < 8 * self.workers and free

    def close(self) -> None:
        """Stop the workers, cancelling batches not started; each finishes the batch it holds.

        (Terminating a worker could leave half a result in the pool's pipe, which hangs it.)
        The batches are cancelled here, not by `shutdown(cancel_futures=True)`: that makes
        the pool's manager thread swap its table of pending work for a new one, while its
        sending thread still removes a batch that failed to pickle from the old one; the
        manager then waits forever for that batch (Python 3.11), and at exit
        multiprocessing waits forever for the idle workers it never stopped.
        """
        if self.pools is not None:
            for future in list(self.outstanding):
                future.cancel()  # only those not handed to the workers yet
            for pool in self.pools:
                pool.shutdown(wait=True)
        self.scratch_space.remove()
