"""The process engine sends read tasks to whichever worker frees up, not in a fixed turn."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleanup.engines.processes import ProcessEngine
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
