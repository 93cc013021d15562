"""Run the per-document steps in worker processes over batches, keeping input order.

Consecutive per-document steps form a segment that runs in the workers; a step that needs the
whole stream (corpus dedup) runs in this process between segments. Output is byte-identical to
one process because batches come back in the order they were sent.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

from cleanup.document import Document
from cleanup.errors import CleanupError
from cleanup.pipeline import Context, Step, StepCall, build_chain, pipeline, step_spec

BATCH_DOCS = 200
_Key = tuple[tuple[str, tuple[tuple[str, object], ...]], ...]


class WorkerFailed(CleanupError):
    """Report a worker process that died while running a batch."""


def _freeze(calls: list[StepCall]) -> _Key:
    return tuple((name, tuple(sorted(opts.items()))) for name, opts in calls)


@lru_cache(maxsize=8)
def _chain_for(key: _Key) -> Step:
    """Build (once per worker process) the chain of a segment."""
    return build_chain([(name, dict(opts)) for name, opts in key], Context())


def _run_batch(key: _Key, batch: list[Document]) -> list[Document]:
    return list(_chain_for(key)(batch))


def segments(calls: list[StepCall]) -> list[tuple[bool, list[StepCall]]]:
    """Group calls into (parallel?, calls) runs: per-document steps together, others alone."""
    groups: list[tuple[bool, list[StepCall]]] = []
    for call in calls:
        spec = step_spec(call[0])
        parallel = spec.per_document and not spec.needs_context
        if parallel and groups and groups[-1][0]:
            groups[-1][1].append(call)
        else:
            groups.append((parallel, [call]))
    return groups


class ProcessEngine:
    """Run a pipeline with `workers` processes; close() shuts the pool down."""

    def __init__(self, calls: list[StepCall], context: Context, workers: int) -> None:
        self.calls = calls
        self.context = context
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers)
        context.on_close.append(self.close)

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        """Stream documents through every segment."""
        steps: list[Step] = []
        for parallel, calls in segments(self.calls):
            if parallel:
                steps.append(self._parallel(calls))
            else:
                steps.append(build_chain(calls, self.context))
        return pipeline(*steps)(docs)

    def _parallel(self, calls: list[StepCall]) -> Step:
        key = _freeze(calls)

        def run(docs: Iterable[Document]) -> Iterator[Document]:
            pending: deque[tuple[int, Future[list[Document]]]] = deque()
            it = iter(docs)
            for number in itertools.count(1):
                batch = list(itertools.islice(it, BATCH_DOCS))
                if batch:
                    pending.append((number, self.pool.submit(_run_batch, key, batch)))
                while pending and (len(pending) >= 2 * self.workers or not batch):
                    yield from self._result(*pending.popleft())
                if not batch:
                    return

        return run

    @staticmethod
    def _result(number: int, future: Future[list[Document]]) -> list[Document]:
        try:
            return future.result()
        except BrokenProcessPool:
            raise WorkerFailed(f"a worker process died while cleaning batch {number}") from None

    def close(self) -> None:
        """Stop the workers, cancelling batches not started."""
        self.pool.shutdown(wait=True, cancel_futures=True)
