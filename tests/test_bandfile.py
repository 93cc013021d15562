"""Band keys on disk (cleanup/dedup/bandfile.py) read as the in-memory keys they replace, and
the by-band partitioned search gives the one-process pairs."""

from __future__ import annotations

import os
import pickle
import tempfile

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.bandfile import BandFile, BandKeys, LazyColumns, column_of
from cleanup.dedup.clusters import local_edges
from cleanup.dedup.partitions import PartitionedEdges


@st.composite
def keys_cases(draw: st.DrawFn) -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Draw keys, the block sizes they are written in, rows to replace, and rows to stack."""
    n = draw(st.integers(0, 30))
    bands = draw(st.integers(1, 5))
    keys = np.array(
        draw(st.lists(st.integers(0, 2**64 - 1), min_size=n * bands, max_size=n * bands)),
        dtype=np.uint64,
    ).reshape(n, bands)
    sizes = []
    left = n
    while left:
        size = draw(st.integers(1, left))
        sizes.append(size)
        left -= size
    fixed = np.array(sorted(draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))), np.int64)
    fixed = fixed[fixed < n]
    noise = np.arange(len(fixed) * bands, dtype=np.uint64).reshape(len(fixed), bands) + 7
    more = np.array(
        draw(st.lists(st.integers(0, 9), max_size=3 * bands).filter(lambda x: len(x) % bands == 0)),
        dtype=np.uint64,
    ).reshape(-1, bands)
    return keys, sizes, fixed, noise, more


@settings(max_examples=150, deadline=None)
@given(keys_cases(), st.data())
def test_a_band_file_reads_what_the_keys_in_memory_read(case, data) -> None:  # type: ignore[no-untyped-def]
    keys, sizes, fixed, noise, more = case
    n, bands = keys.shape
    folder = tempfile.mkdtemp() if data.draw(st.booleans()) else None  # scratch, or anonymous
    f = BandFile(n, bands, folder)
    start = 0
    for size in sizes:
        f.put(start, keys[start : start + size])
        start += size
    memory = BandKeys(keys.copy())
    for kf in (f, memory):
        kf.set_rows(fixed, noise)
    both_f, both_m = f.stacked(more), memory.stacked(more)
    assert both_f.shape == both_m.shape
    for b in range(bands):
        assert np.array_equal(both_f.column(b), both_m.column(b))
    total = both_m.shape[0]
    lo = data.draw(st.integers(0, total))
    hi = data.draw(st.integers(lo, total))
    assert np.array_equal(both_f.block(lo, hi), both_m.block(lo, hi))
    assert np.array_equal(column_of(both_m.keys, 0), both_m.column(0))
    source = both_f.source() if isinstance(both_f, BandFile) else None
    if folder is None:
        assert source is None  # an anonymous file cannot be named to a worker
    else:
        assert source is not None
        wanted = data.draw(st.lists(st.integers(0, bands - 1), max_size=bands))
        got = pickle.loads(pickle.dumps(source)).columns(wanted)  # as a worker reads it
        assert [c.tolist() for c in got.columns] == [both_m.column(b).tolist() for b in wanted]
    f.close()
    if folder is not None:
        assert os.listdir(folder) == []  # closing deletes the named file
        os.rmdir(folder)


class _InProcess:
    """An executor that runs partitions here, iterating the shared sequence as Ray does."""

    scratch = None  # no scratch folder of its own (the band file names the one it is in)

    def __init__(self) -> None:
        self.puts = 0

    def partitions(self) -> int:
        return 3

    def map_partitions(self, fn, shared, parts):  # type: ignore[no-untyped-def]
        refs = []
        for item in shared:  # one element at a time, as RayEngine puts them
            refs.append(item)
            self.puts += 1
        return [fn(*refs, parts, part) for part in range(parts)]


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 40), st.integers(1, 7), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_partitions_by_band_give_the_local_pairs(n: int, bands: int, parts: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 4, size=(n, bands)).astype(np.uint64)  # crowded buckets
    rank = rng.integers(0, 5, size=n)  # ties on purpose
    group = rng.integers(-1, 2, size=n)
    sigs = np.zeros((n, 4), np.uint32)
    f = BandFile(n, bands)
    f.put(0, keys)
    executor = _InProcess()
    found = PartitionedEdges(executor, parts)(f, sigs, 0.0, rank, None, group)  # type: ignore[arg-type]
    expect = local_edges(keys, sigs, 0.0, rank, None, group)
    assert found[0].tolist() == expect[0].tolist()
    assert executor.puts == 5 + bands  # the columns went one by one, not as one array
    f.close()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.integers(1, 7), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_partitions_read_a_band_file_in_scratch_themselves(
    n: int, bands: int, parts: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 4, size=(n, bands)).astype(np.uint64)
    rank = rng.integers(0, 5, size=n)
    group = rng.integers(-1, 2, size=n)
    sigs = np.zeros((n, 4), np.uint32)
    with tempfile.TemporaryDirectory() as scratch:
        f = BandFile(n, bands, scratch)
        f.put(0, keys)
        f.set_rows(np.array([0]), np.full((1, bands), 99, np.uint64))  # as an empty text's row
        expect_keys = keys.copy()
        expect_keys[0] = 99
        executor = _InProcess()
        found = PartitionedEdges(executor, parts)(f, sigs, 0.0, rank, None, group)  # type: ignore[arg-type]
        expect = local_edges(expect_keys, sigs, 0.0, rank, None, group)
        assert found[0].tolist() == expect[0].tolist()
        assert executor.puts == 6  # the five shared arrays and the file's name: no column
        f.close()


def test_lazy_columns_read_one_band_per_item() -> None:
    keys = BandKeys(np.arange(6, dtype=np.uint64).reshape(3, 2))
    cols = LazyColumns(keys)
    assert len(cols) == 2
    assert [c.tolist() for c in cols] == [[0, 2, 4], [1, 3, 5]]
    assert [c.tolist() for c in cols[1:]] == [[1, 3, 5]]
