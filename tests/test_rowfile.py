"""Signatures on disk (cleanup/dedup/rowfile.py) read back as the in-memory rows they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.rowfile import RowFile, StackedRows, stack_rows

FILL = 0xFFFFFFFF


@st.composite
def puts(draw: st.DrawFn) -> tuple[int, list[tuple[np.ndarray, np.ndarray]], int]:
    """Draw a width, batches of increasing row numbers with their rows, and a final length."""
    width = draw(st.integers(1, 5))
    batches = []
    start = 0
    for _ in range(draw(st.integers(0, 6))):
        gap = draw(st.integers(0, 3))
        taken = draw(st.lists(st.booleans(), min_size=1, max_size=8))
        idx = np.array([start + gap + k for k, t in enumerate(taken) if t], dtype=np.int64)
        if not len(idx):
            continue
        rows = draw(
            st.lists(
                st.lists(st.integers(0, FILL), min_size=width, max_size=width),
                min_size=len(idx),
                max_size=len(idx),
            )
        )
        batches.append((idx, np.array(rows, dtype=np.uint32)))
        start = int(idx[-1]) + 1
    return width, batches, start + draw(st.integers(0, 3))


@settings(max_examples=150, deadline=None)
@given(puts(), st.data())
def test_rows_read_back_are_the_rows_put_and_gaps_hold_the_fill(case, data) -> None:  # type: ignore[no-untyped-def]
    width, batches, total = case
    expect = np.full((total, width), FILL, dtype=np.uint32)
    f = RowFile(width, np.uint32, FILL)
    for idx, rows in batches:
        f.put(idx, rows)
        expect[idx] = rows
    f.pad(total)
    assert f.shape == expect.shape
    assert np.array_equal(np.concatenate([b for _, b in f.blocks(3)] or [expect[:0]]), expect)
    if total:
        idx = np.array(data.draw(st.lists(st.integers(0, total - 1), max_size=20)), dtype=np.int64)
        assert np.array_equal(f[idx], expect[idx])
        i = data.draw(st.integers(0, total - 1))
        assert np.array_equal(f[i], expect[i])
    f.close()


def test_blocks_start_where_the_previous_block_ended() -> None:
    f = RowFile(2)
    f.append(np.arange(14, dtype=np.uint32).reshape(7, 2))
    starts = [(s, len(b)) for s, b in f.blocks(3)]
    assert starts == [(0, 3), (3, 3), (6, 1)]


def test_stacked_rows_read_the_file_then_the_array() -> None:
    f = RowFile(2)
    f.append(np.array([[1, 2], [3, 4]], dtype=np.uint32))
    then = np.array([[5, 6]], dtype=np.uint32)
    both = stack_rows(f, then)
    assert isinstance(both, StackedRows)
    assert both.shape == (3, 2)
    assert np.array_equal(both[np.array([2, 0, 2, 1])], [[5, 6], [1, 2], [5, 6], [3, 4]])
    assert stack_rows(f, then[:0]) is f
    mem = np.array([[9, 9]], dtype=np.uint32)
    assert np.array_equal(stack_rows(mem, then), [[9, 9], [5, 6]])


class _Unread(RowFile):
    """Signatures that must not be read (every pair is verified exactly)."""

    def rows(self, idx: np.ndarray) -> np.ndarray:
        raise AssertionError("signature rows read")


def test_pairs_verified_exactly_read_no_signature() -> None:
    from cleanup.dedup.clusters import cluster

    keys = np.array([[1, 7], [1, 8], [2, 9]], dtype=np.uint64)  # items 0 and 1 share a bucket
    sigs = _Unread(4)
    sigs.pad(3)
    seen: list[int] = []

    def verify(a: np.ndarray, b: np.ndarray, estimate) -> np.ndarray:  # type: ignore[no-untyped-def]
        seen.append(len(a))
        return np.ones(len(a))

    result = cluster(keys, sigs, 0.5, np.arange(3), verify=verify)
    assert seen == [1]
    assert result.labels.tolist() == [0, 0, 2]


def test_a_file_cut_short_is_an_error_naming_it() -> None:
    import pytest

    rows = RowFile(4, np.uint32)
    rows.append(np.arange(40, dtype=np.uint32).reshape(10, 4))
    assert rows.span(2, 3).tolist() == np.arange(8, 20).reshape(3, 4).tolist()
    rows.fh.flush()
    rows.fh.truncate(5 * 16 + 3)  # half a row past row 5
    with pytest.raises(OSError, match="dedup row file cut short: 35 of 64 bytes"):
        rows.span(3, 4)
    rows.close()


def test_empty_reads_give_empty_arrays() -> None:
    rows = RowFile(3, np.uint32)
    assert rows.span(0, 0).shape == (0, 3)
    rows.append(np.zeros((0, 3), np.uint32))
    assert [b.shape for _, b in rows.blocks()] == []
    rows.close()


def test_rows_another_process_wrote_read_back_a_block_at_a_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`RowFile.reading` opens a file of values (the containment samples a worker reads):
    the same rows, in blocks, by span and by index; closing it leaves the file."""
    values = np.arange(1000, dtype=np.uint32) * np.uint32(7)
    path = tmp_path / "samples"
    path.write_bytes(values.tobytes() + b"\x01")  # a torn last value is not a row
    rows = RowFile.reading(str(path))
    assert len(rows) == 1000 and rows.shape == (1000, 1)
    got = np.concatenate([block.reshape(-1) for _, block in rows.blocks(300)])
    assert got.tolist() == values.tolist()
    assert rows.span(10, 5).reshape(-1).tolist() == values[10:15].tolist()
    assert rows[np.array([3, 999])].reshape(-1).tolist() == [21, 6993]
    rows.close()
    assert path.exists()
