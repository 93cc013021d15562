"""The process engine's workers: read tasks go to whichever frees up, kept batches to their
worker two ahead; what they inherit."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleanup.engines.processes import ProcessEngine
from cleanup.executor import Deferred
from cleanup.io.tasksource import PartRead
from cleanup.pipeline import Context

WAIT_SECONDS = 30.0  # only reached when the engine never sends the task that frees task 1


class Reader:
    """A task's 'splits' are its numbers; reading them gives them back as records."""

    def read(self, splits: Sequence[int]) -> PartRead:
        return PartRead(items=list(splits), count=len(splits))  # type: ignore[arg-type]


@dataclass
class Source:
    """What _map_splits asks of a SplitSource."""

    tasks: list[tuple[int, ...]]
    reader: Reader = field(default_factory=Reader)
    arrived_counts: list[int] = field(default_factory=list)

    def arrived(self, read: PartRead) -> None:
        self.arrived_counts.append(read.count)


def _job(folder: str, batch: list[int]) -> list[Any]:
    """Task 1 holds its worker until task 6 has run (on the other worker), then says so."""
    (number,) = batch
    if number == 6:
        (Path(folder) / "six").touch()
    if number == 1:
        end = time.monotonic() + WAIT_SECONDS
        while not (Path(folder) / "six").exists() and time.monotonic() < end:
            time.sleep(0.01)
        return ["six ran first" if (Path(folder) / "six").exists() else "six never sent"]
    return [number]


def test_a_busy_worker_does_not_hold_back_tasks_the_other_could_run(tmp_path: Path) -> None:
    """Tasks 1 and 3 go to one worker, 2 and 4 to the other. Task 1 ends only once task 6
    has run: sending tasks in turn (two per worker out, waiting for the oldest) never sends
    task 6, so the worker that finished 2 and 4 sat idle. Results still come in order."""
    engine = ProcessEngine([], Context(), workers=2)
    source = Source([(n,) for n in range(1, 9)])
    try:
        out = list(engine._map_splits(_job, source, (str(tmp_path),), 1))  # type: ignore[arg-type]
    finally:
        engine.close()
    assert out == [["six ran first"], *[[n] for n in range(2, 9)]]
    assert source.arrived_counts == [1] * 8


class Homed(Deferred):
    """A batch kept by worker `home`: the write pass sends it back there."""

    def __init__(self, home: int, number: int) -> None:
        self.home = home
        self.number = number

    def __len__(self) -> int:
        return 1


def _homed_job(folder: str, batch: list[Homed]) -> list[Any]:
    """Batch 1 (worker 0's first) holds its worker until batch 9 (worker 1's second) ran."""
    (item,) = batch
    if item.number == 9:
        (Path(folder) / "nine").touch()
    if item.number == 1:
        end = time.monotonic() + WAIT_SECONDS
        while not (Path(folder) / "nine").exists() and time.monotonic() < end:
            time.sleep(0.01)
        return ["nine ran first" if (Path(folder) / "nine").exists() else "nine never sent"]
    return [item.number]


def test_a_worker_gets_its_next_batch_while_the_other_works_through_a_run_of_its_own(
    tmp_path: Path,
) -> None:
    """Batches 1-7 are kept by worker 0, 8-14 by worker 1 (each read a run of the input).
    Sent while some worker was idle only, worker 1 got batch 8 and then each of its next
    batches only when the oldest of worker 0's was taken: half idle in the write pass.
    Now each worker gets a second batch ahead, so batch 9 runs while batch 1 waits for it."""
    engine = ProcessEngine([], Context(), workers=2)
    items = [Homed(0 if n <= 7 else 1, n) for n in range(1, 15)]
    try:
        out = list(engine._map(_homed_job, items, (str(tmp_path),), 1))
    finally:
        engine.close()
    assert out == [["nine ran first"], *[[n] for n in range(2, 15)]]


WATCH_IMPORTS = """
import os, runpy, sys
main = os.getpid()
def hook(event, args):
    if event == "import" and os.getpid() != main and args[0].startswith("numpy.ma"):
        sys.stderr.write("worker imported " + args[0] + "\\n")
sys.addaudithook(hook)
sys.argv = ["cleanup", "run", *sys.argv[1:]]
runpy.run_module("cleanup", run_name="__main__")
"""


def test_workers_inherit_what_dedup_imports_on_its_first_batch(tmp_path: Path) -> None:
    """numpy.ma (imported by np.unique's first call) is imported once, before the fork, not
    again in each worker."""
    corpus = tmp_path / "in.jsonl"
    lines = [
        f'{{"id": "d{i}", "text": "Story {i} of the day.\\n\\nIt was {i % 7}."}}'
        for i in range(3000)
    ]
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    argv = [str(corpus), "-o", str(out), "-q", "--workers", "2"]
    done = subprocess.run(
        [sys.executable, "-c", WATCH_IMPORTS, *argv], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert out.exists() and "worker imported" not in done.stderr
