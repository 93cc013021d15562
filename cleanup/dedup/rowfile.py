"""Fixed-width rows kept in a temporary file, read back by row number: dedup's signatures.

A million documents' signatures take 1 GiB (256 x 4 bytes each); the decisions need them
only in slices (band keys, a block at a time), for a few rows (pairs with state entries,
the entries a state learns) or not at all (pairs verified exactly). So the read pass and
re-signing append them here, in document order, and memory holds one block at a time.
Reads are plain positioned reads, not a memory map: pages read stay in the page cache,
not in the process. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import IO

import numpy as np

# Rows read or written at once when a whole file is walked (16 MiB of 256 x 4-byte rows).
BLOCK_ROWS = 16384


class RowFile:
    """Hold rows of `width` values of `dtype` in a temporary file, in row order.

    Rows are appended in increasing row number; rows skipped over hold `fill`. `rows(idx)`
    and `row(i)` read some back; `blocks()` walks them all. Indexing (`f[idx]`, `f[i]`)
    reads rows, so code written for an in-memory array of rows works unchanged.
    """

    def __init__(self, width: int, dtype: type = np.uint32, fill: int = 0) -> None:
        self.width = width
        self.dtype = np.dtype(dtype)
        self.fill = fill
        self.row_bytes = width * self.dtype.itemsize
        self.count = 0
        self.fh: IO[bytes] = tempfile.TemporaryFile(prefix="cleanup-dedup-rows-")  # noqa: SIM115

    @classmethod
    def reading(cls, path: str, width: int = 1, dtype: type = np.uint32) -> RowFile:
        """Open the rows another process wrote to `path` (read only; `close` leaves the file)."""
        rows = cls.__new__(cls)
        rows.width, rows.dtype, rows.fill = width, np.dtype(dtype), 0
        rows.row_bytes = width * rows.dtype.itemsize
        rows.fh = open(path, "rb")  # noqa: SIM115
        rows.count = os.fstat(rows.fh.fileno()).st_size // rows.row_bytes
        return rows

    @property
    def shape(self) -> tuple[int, int]:
        """Return (rows, width), as an array of the same rows has."""
        return self.count, self.width

    def __len__(self) -> int:
        return self.count

    def put(self, idx: np.ndarray, rows: np.ndarray) -> None:
        """Write rows at increasing row numbers `idx`, all at or past the end (gaps: fill)."""
        if len(idx) == 0:
            return
        first, last = int(idx[0]), int(idx[-1])
        assert first >= self.count and bool(np.all(np.diff(idx) > 0)), "rows out of order"
        if last - self.count + 1 == len(idx) and first == self.count:
            block = np.ascontiguousarray(rows, dtype=self.dtype)
        else:
            block = np.full((last - self.count + 1, self.width), self.fill, dtype=self.dtype)
            block[idx - self.count] = rows
        self.append(block)

    def append(self, rows: np.ndarray) -> None:
        """Append rows after the last one."""
        block = np.ascontiguousarray(rows, dtype=self.dtype).reshape(-1, self.width)
        self.fh.seek(self.count * self.row_bytes)
        self.fh.write(block.tobytes())
        self.count += len(block)

    def pad(self, count: int) -> None:
        """Grow to `count` rows, the new ones holding fill."""
        while self.count < count:
            take = min(BLOCK_ROWS, count - self.count)
            self.append(np.full((take, self.width), self.fill, dtype=self.dtype))

    def blocks(self, size: int = BLOCK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (first row, rows) for consecutive blocks of at most `size` rows."""
        self.fh.flush()
        for start in range(0, self.count, size):
            yield start, self._read(start, min(size, self.count - start))

    def row(self, i: int) -> np.ndarray:
        """Return row i."""
        assert 0 <= i < self.count, f"row {i} of {self.count}"
        self.fh.flush()
        return self._read(i, 1)[0]

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """Return the rows `idx` (any order, repeats allowed), reading each distinct run once."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty((len(idx), self.width), dtype=self.dtype)
        if len(idx) == 0:
            return out
        assert idx.min() >= 0 and idx.max() < self.count, "row out of range"
        self.fh.flush()
        uniq, inverse = np.unique(idx, return_inverse=True)
        starts = np.flatnonzero(np.diff(uniq, prepend=-2) != 1)  # runs of consecutive rows
        ends = np.append(starts[1:], len(uniq))
        got = np.empty((len(uniq), self.width), dtype=self.dtype)
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            got[s:e] = self._read(int(uniq[s]), e - s)
        out[:] = got[inverse.reshape(-1)]
        return out

    def __getitem__(self, key: int | np.ndarray | slice) -> np.ndarray:
        if isinstance(key, slice):
            return self.rows(np.arange(self.count)[key])
        if isinstance(key, (int, np.integer)):
            return self.row(int(key))
        return self.rows(np.asarray(key))

    def span(self, start: int, count: int) -> np.ndarray:
        """Return `count` rows from row `start` (a file of width 1: a run of values)."""
        self.fh.flush()
        return self._read(start, count)

    def span_into(self, start: int, out: np.ndarray) -> None:
        """Fill `out` (contiguous) with len(out) values from row `start` (a file of width 1)."""
        self.fh.flush()
        read_into(self.fh.fileno(), out, start * self.row_bytes, "dedup row file")

    def _read(self, start: int, count: int) -> np.ndarray:
        out = np.empty((count, self.width), dtype=self.dtype)
        read_into(self.fh.fileno(), out, start * self.row_bytes, "dedup row file")
        return out

    def close(self) -> None:
        """Delete the file (a file opened by `reading`: close it)."""
        self.fh.close()


class StackedRows:
    """Read rows of a RowFile followed by the rows of an in-memory array, as one array.

    Corpus dedup compares the run's documents (on disk) with state entries (fetched, few).
    """

    def __init__(self, first: RowFile, then: np.ndarray) -> None:
        self.first, self.then = first, then
        self.shape = (len(first) + len(then), first.width)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: np.ndarray) -> np.ndarray:
        idx = np.asarray(key, dtype=np.int64)
        n = len(self.first)
        out = np.empty((len(idx), self.shape[1]), dtype=self.first.dtype)
        low = idx < n
        out[low] = self.first.rows(idx[low])
        out[~low] = self.then[idx[~low] - n]
        return out


# Signatures as dedup's decisions take them: in memory, on disk, or the two stacked.
Rows = np.ndarray | RowFile | StackedRows


def stack_rows(first: Rows, then: np.ndarray) -> Rows:
    """Return the rows of `first` followed by `then` (a copy only when both are in memory)."""
    if not len(then):
        return first
    if isinstance(first, np.ndarray):
        return np.concatenate((first, then))
    assert isinstance(first, RowFile), "stack a file's rows once"
    return StackedRows(first, then)


def read_into(fd: int, out: np.ndarray, offset: int, what: str) -> None:
    """Fill the contiguous array `out` from file `fd` at `offset` (no bytes object in between)."""
    if out.size == 0:
        return
    view = out.data.cast("B")
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], offset + done)
        if got == 0:
            raise OSError(f"{what} cut short: {done} of {len(view)} bytes")
        done += got
