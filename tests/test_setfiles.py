"""Shingle sets in scratch (issue 17: verification on the workers): built by tasks into files,
read back as one array, compared chunk by chunk in tasks; the same measures as sets in memory."""

from __future__ import annotations

import itertools
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import verify
from cleanup.dedup.setfiles import SetFiles
from cleanup.dedup.verify import ShingleSets
from cleanup.executor import BATCH_DOCS, LocalExecutor, batches
from cleanup.scratch import settle


def _files(folder: Path, values: np.ndarray, cuts: list[int]) -> SetFiles:
    """Write `values` to files split at `cuts` (sorted positions); return them as SetFiles."""
    files = SetFiles()
    bounds = [0, *cuts, len(values)]
    for k, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        path = folder / f"part{k}"
        path.write_bytes(values[lo:hi].astype(np.uint32).tobytes())
        files.add(str(path), hi - lo)
    return files


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 60),
    st.lists(st.integers(0, 60), max_size=6),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), max_size=8),
)
def test_runs_read_across_files_as_one_array(
    tmp_path_factory: Any, total: int, cuts: list[int], runs: list[tuple[int, int]]
) -> None:
    folder = tmp_path_factory.mktemp("sets")
    values = np.arange(1000, 1000 + total, dtype=np.uint32)
    files = _files(folder, values, sorted(min(c, total) for c in cuts))  # empty files included
    runs = [(s % max(total, 1), c) for s, c in runs]
    runs = [(s, min(c, total - s)) for s, c in runs if total]
    first = np.array([s for s, _ in runs], dtype=np.int64)
    count = np.array([c for _, c in runs], dtype=np.int64)
    want = np.concatenate([values[s : s + c] for s, c in runs] or [np.zeros(0, np.uint32)])
    for source in (files, files.covering(first, count)):
        got = np.empty(int(count.sum()), np.uint32)
        source.read_runs(first, count, got)
        assert np.array_equal(got, want)
    needed = files.covering(first, count)
    for lo, hi in zip(needed.starts, needed.stops, strict=True):
        assert any(s < hi and s + c > lo for s, c in runs if c), "a file no run reads"
    files.close()
    settle()  # deleted on the reaper's thread
    assert not os.listdir(folder)


class _Tasks(LocalExecutor):
    """Run batches here, but only what survives pickling reaches the job (as on Ray)."""

    def __init__(self) -> None:
        self.jobs = 0

    def map_batches(
        self, fn: Callable[..., Any], items: Iterable[Any], *args: Any, size: int = 200
    ) -> Iterator[Any]:
        for batch in batches(items, size):
            self.jobs += 1
            yield fn(*pickle.loads(pickle.dumps((*args, batch))))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sets(st.integers(0, 40), max_size=25), min_size=2, max_size=12),
    st.lists(st.integers(0, 12), max_size=4),
    st.integers(1, 4),
    st.integers(0, 200),
    st.data(),
)
def test_sets_in_scratch_compared_in_tasks_measure_what_sets_in_memory_measure(
    tmp_path_factory: Any,
    sets: list[set[int]],
    cuts: list[int],
    chunk: int,
    disk_bytes: int,
    data: st.DataObject,
) -> None:
    """Items without a set, files cut between any two sets, chunks of any size."""
    n = len(sets)
    with_set = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1)))
    chosen = [sorted(sets[i]) for i in with_set]
    values = np.array([x for s in chosen for x in s], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(s) for s in chosen]))).astype(np.int64)
    rows_cut = sorted({min(c, len(chosen)) for c in cuts})  # files hold whole sets
    files = _files(tmp_path_factory.mktemp("sets"), values, [int(offsets[c]) for c in rows_cut])
    row = np.full(n, -1, dtype=np.int32)
    row[with_set] = np.arange(len(with_set))
    tasks = _Tasks()
    scratch = ShingleSets(np.zeros(0, np.uint32), offsets, row, files, tasks)
    memory = ShingleSets.build(n, [(np.array(with_set), values, offsets)])
    a = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=20)))
    b = np.array([data.draw(st.integers(0, n - 1)) for _ in a])
    with patch.object(verify, "DISK_CHUNK", chunk), patch.object(verify, "DISK_BYTES", disk_bytes):
        got = scratch.similarity(a, b)
    assert tasks.jobs >= -(-len(a) // chunk)  # compared in tasks, a chunk each
    for x, y in zip(got, memory.similarity(a, b), strict=True):
        assert np.array_equal(x, y)
    scratch.close()


@pytest.mark.parametrize("n", [300, 150])
def test_the_pairs_of_one_call_are_cut_into_tasks_for_every_worker(tmp_path: Path, n: int) -> None:
    """1,100 pairs (one DISK_CHUNK) go to TASK_SPLIT tasks, not to one run in this process,
    past one batch of documents (else the engine started no worker); the same measures as
    sets in memory."""
    rng = np.random.default_rng(5)
    chosen = [np.unique(rng.integers(0, 400, int(rng.integers(1, 60)))) for _ in range(n)]
    values = np.concatenate(chosen).astype(np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(s) for s in chosen]))).astype(np.int64)
    files = _files(tmp_path, values, [int(offsets[n // 2])])
    row = np.arange(n, dtype=np.int32)
    tasks = _Tasks()
    scratch = ShingleSets(np.zeros(0, np.uint32), offsets, row, files, tasks)
    memory = ShingleSets.build(n, [(np.arange(n), values, offsets)])
    a, b = rng.integers(0, n, (2, 1100))
    got = scratch.similarity(a, b)
    assert tasks.jobs == (verify.TASK_SPLIT if n > BATCH_DOCS else 1)
    for x, y in zip(got, memory.similarity(a, b), strict=True):
        assert np.array_equal(x, y)
    scratch.close()
