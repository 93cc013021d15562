"""Dedup batches kept on the worker that read them: the write job goes back to that worker,
a bounded amount of text is kept per worker (past it: scratch), and a batch is taken once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import on_two_workers

from cleanup.dedup import corpus as corpus_module
from cleanup.dedup import kept
from cleanup.dedup import spool as spool_module
from cleanup.dedup.jobs import SummaryJob, summary_job
from cleanup.dedup.kept import KeptRef, NotHeld
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.spool import BatchSpool
from cleanup.document import Document
from cleanup.engines.processes import ProcessEngine
from cleanup.executor import Deferred, set_worker, this_worker
from cleanup.pipeline import Context, build_chain
from cleanup.scratch import ScratchRef


def _docs(n: int, sep: str = "\n\n") -> list[Document]:
    return [
        Document(
            id=f"d{i}",
            paragraphs=[f"story {i % 150} tells of {i % 13} things", "a site footer", f"end {i}"],
            sep=sep,
            fields={"url": f"https://site{i % 3}.example/{i}"},
        )
        for i in range(n)
    ]


@pytest.fixture
def as_worker() -> Iterator[None]:
    set_worker(0)
    try:
        yield
    finally:
        set_worker(None)


def test_a_kept_batch_is_taken_once_by_its_worker_only(as_worker: None) -> None:
    docs = _docs(3)
    ref = kept.keep(docs, 1 << 20)
    assert ref == KeptRef(0, ref.name, 3) if ref else False
    set_worker(1)
    with pytest.raises(NotHeld, match="worker 1"):
        kept.take(ref)
    set_worker(None)
    with pytest.raises(NotHeld, match="main process"):
        kept.take(ref)
    set_worker(0)
    assert kept.take(ref) is docs
    assert kept.held() == 0
    with pytest.raises(NotHeld):  # never twice
        kept.take(ref)


def test_only_a_worker_keeps_and_only_within_its_budget(as_worker: None) -> None:
    docs = _docs(4)
    size = kept.text_size(docs)
    first = kept.keep(docs, size + 10)
    assert first is not None and kept.held() == size
    assert kept.keep(_docs(1), size + 10) is None  # over the budget
    kept.take(first)
    set_worker(None)
    assert kept.keep(docs, 1 << 30) is None  # the main process never keeps


def test_the_read_pass_falls_back_to_scratch_past_the_budget(
    as_worker: None, tmp_path: Path
) -> None:
    batch = _docs(5)
    job = SummaryJob(DedupSettings(), sign=True, pickled=True, scratch=str(tmp_path), keep=1)
    assert isinstance(summary_job(job, batch).docs, ScratchRef)
    job = SummaryJob(DedupSettings(), sign=True, pickled=True, scratch=str(tmp_path), keep=1 << 20)
    summary = summary_job(job, batch)
    assert isinstance(summary.docs, KeptRef)
    deferred = spool_module.DeferredBatch(summary.docs, 5, None)
    assert deferred.home == 0
    assert [d.id for d in deferred.resolve()] == [d.id for d in batch]


class _Where(Deferred):
    def __init__(self, home: int) -> None:
        self.home = home

    def __len__(self) -> int:
        return 1


def _where(batch: list[_Where]) -> list[int | None]:
    return [this_worker() for _ in batch]


def test_the_engine_sends_a_batch_to_its_home_even_alone() -> None:
    context = Context()
    engine = ProcessEngine([], context, workers=2)
    try:
        homes = [1, 1, 0, 1, 0, 0, 1]
        got = [w for ws in engine.map_batches(_where, [_Where(h) for h in homes]) for w in ws]
        assert got == homes  # each batch one home: a change of home cuts a batch
        assert list(engine.map_batches(_where, [_Where(1)])) == [[1]]
        assert list(engine.map_batches(_where, [_Where(0), _Where(0)])) == [[0, 0]]
    finally:
        engine.close()


def _meet(flag: str, batch: list[_Where]) -> bool:
    """Home 1 raises the flag; home 0 waits for it (a minute at most: then False)."""
    if batch[0].home == 1:
        Path(flag).touch()
        return True
    for _ in range(6000):
        if Path(flag).exists():
            return True
        time.sleep(0.01)
    return False


def test_an_idle_worker_has_the_stream_read_ahead_for_its_batches(tmp_path: Path) -> None:
    """Batches 1-5 are worker 0's, 6 worker 1's: past the usual window of two per worker,
    the engine reads on for worker 1 (idle) instead of waiting for worker 0's oldest."""
    engine = ProcessEngine([], Context(), workers=2)
    try:
        items = [_Where(0) for _ in range(5)] + [_Where(1)]
        assert all(engine.map_batches(_meet, items, str(tmp_path / "flag"), size=1))
    finally:
        engine.close()


CALLS = [("dedup", {"boilerplate_min_docs": 2}), ("normalize", {})]


def _plain(docs: list[Document]) -> list[tuple[object, ...]]:
    return [(d.id, d.paragraphs, d.dropped, d.edits, d.meta) for d in docs]


def _two_workers(docs: list[Document]) -> list[Document]:
    return on_two_workers(CALLS, docs)


@pytest.mark.parametrize(("budget", "sep"), [("all", "\n\n"), ("some", "\n\n"), ("all", " | ")])
def test_two_workers_keep_batches_and_write_them_where_they_were_read(
    monkeypatch: pytest.MonkeyPatch, budget: str, sep: str
) -> None:
    """Every batch is taken by the worker holding it (any other process raises NotHeld), so
    the same output means each write job went home. A separator that is not whitespace
    makes this process sign texts from the spool: the workers move their batches to scratch.
    """
    spooled: list[object] = []
    write = BatchSpool.write

    def spy(self: BatchSpool, batch: spool_module.Batch) -> None:
        spooled.append(batch)
        write(self, batch)

    monkeypatch.setattr(BatchSpool, "write", spy)
    if budget == "some":  # a worker keeps about two batches, the rest go to scratch
        monkeypatch.setattr(corpus_module, "SPOOL_MEMORY", 2 * 2 * kept.text_size(_docs(200)))
    expected = _plain(list(build_chain(CALLS, Context())(_docs(1600, sep))))
    spooled.clear()
    assert _plain(_two_workers(_docs(1600, sep))) == expected
    kept_refs = [b for b in spooled if isinstance(b, KeptRef)]
    assert {b.worker for b in kept_refs} == {0, 1}
    if budget == "some":
        assert len(kept_refs) <= 5 and any(isinstance(b, ScratchRef) for b in spooled)
    else:
        assert len(kept_refs) == len(spooled) == 8
