"""The run's band keys, read band by band: in memory, or band-major in a temporary file.

85 band keys per document are 680 MB for a million documents, and the candidate search
(cleanup/dedup/clusters.py, partitions.py) reads them one band at a time: so at corpus scale
they are written band-major to a temporary file as the signatures are read block by block,
and memory holds one band's column (8 bytes per document) at a time. Rows given unique keys
(empty texts) and the state entries the run is compared with are small and stay in memory,
applied on read.
When the engine has scratch space (a folder its workers see), the file is made there, so
the candidate search's partition tasks read their own bands from it (`BandSource`) instead
of being sent every column through the engine. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, overload

import numpy as np

from cleanup.dedup.rowfile import read_into

_ITEM = 8  # bytes per key


class BandKeys:
    """Hold (rows, bands) uint64 band keys in memory, read as columns and blocks of rows."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys

    @property
    def shape(self) -> tuple[int, int]:
        """Return (rows, bands)."""
        return int(self.keys.shape[0]), int(self.keys.shape[1])

    def column(self, band: int) -> np.ndarray:
        """Return every row's key in `band`."""
        return self.keys[:, band]

    def block(self, start: int, stop: int) -> np.ndarray:
        """Return the rows start..stop-1, every band."""
        return self.keys[start:stop]

    def set_rows(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Replace some rows' keys (rows below the stacked ones)."""
        self.keys[rows] = values

    def stacked(self, more: np.ndarray) -> BandKeys:
        """Return these keys followed by the rows `more`."""
        return BandKeys(np.concatenate((self.keys, more))) if len(more) else self

    def close(self) -> None:
        """Let go of the keys."""


class BandFile(BandKeys):
    """Hold the band keys of `n` rows band-major in a temporary file (see the module doc).

    With `folder` (the run's scratch space) the file has a name there, which `source()`
    passes to workers; without, it is anonymous. Either way `close()` deletes it.
    """

    def __init__(self, n: int, bands: int, folder: str | None = None) -> None:
        super().__init__(np.zeros((0, bands), np.uint64))
        self.n, self.bands = n, bands
        self.path: str | None = None
        self.fh: BinaryIO
        if folder is None:
            self.fh = tempfile.TemporaryFile(prefix="cleanup-dedup-bands-")  # noqa: SIM115
        else:
            fd, self.path = tempfile.mkstemp(prefix="dedup-bands-", dir=folder)
            self.fh = os.fdopen(fd, "w+b")
        self.fh.truncate(n * bands * _ITEM)
        self.fixed_rows = np.zeros(0, np.int64)  # rows whose keys were replaced, sorted
        self.fixed_keys = np.zeros((0, bands), np.uint64)
        self.extra = np.zeros((0, bands), np.uint64)  # rows stacked after the n

    @property
    def shape(self) -> tuple[int, int]:
        return self.n + len(self.extra), self.bands

    def put(self, start: int, keys: np.ndarray) -> None:
        """Write the keys of rows start..start+len(keys)-1 (every band)."""
        fd = self.fh.fileno()
        for band in range(self.bands):
            data = np.ascontiguousarray(keys[:, band], dtype=np.uint64).tobytes()
            os.pwrite(fd, data, (band * self.n + start) * _ITEM)

    def _read(self, band: int, start: int, stop: int) -> np.ndarray:
        out = np.empty(stop - start, dtype=np.uint64)
        read_into(self.fh.fileno(), out, (band * self.n + start) * _ITEM, "dedup band-key file")
        return out

    def column(self, band: int) -> np.ndarray:
        return _column(self.fh.fileno(), self.n, band, self.fixed_rows, self.fixed_keys, self.extra)

    def block(self, start: int, stop: int) -> np.ndarray:
        low = min(stop, self.n)
        out = np.empty((max(0, stop - start), self.bands), dtype=np.uint64)
        if start < low:
            for band in range(self.bands):
                out[: low - start, band] = self._read(band, start, low)
            lo, hi = np.searchsorted(self.fixed_rows, [start, low])
            out[self.fixed_rows[lo:hi] - start] = self.fixed_keys[lo:hi]
        if stop > self.n:
            first = max(start, self.n)
            out[first - start :] = self.extra[first - self.n : stop - self.n]
        return out

    def set_rows(self, rows: np.ndarray, values: np.ndarray) -> None:
        assert len(rows) == 0 or int(np.max(rows)) < self.n, "only the file's rows"
        rows_all = np.concatenate((self.fixed_rows, rows.astype(np.int64)))
        keys_all = np.concatenate((self.fixed_keys, values.astype(np.uint64)))
        last = np.unique(rows_all[::-1], return_index=True)[1]  # the latest key of each row
        keep = len(rows_all) - 1 - last
        self.fixed_rows, self.fixed_keys = rows_all[keep], keys_all[keep]

    def stacked(self, more: np.ndarray) -> BandKeys:
        if not len(more):
            return self
        view = BandFile.__new__(BandFile)
        view.__dict__.update(self.__dict__)
        view.extra = np.concatenate((self.extra, more))
        return view

    def source(self) -> BandSource | None:
        """Return what a worker needs to read these keys itself (None: the file has no name)."""
        if self.path is None:
            return None
        # On the disk before another machine opens it: a shared file system (NFS) promises a
        # reader only what the writer synced or closed, and this file stays open.
        os.fsync(self.fh.fileno())
        return BandSource(
            self.path, self.n, self.bands, self.fixed_rows, self.fixed_keys, self.extra
        )

    def close(self) -> None:
        self.fh.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


@dataclass(frozen=True)
class BandSource:
    """Name a BandFile in scratch, with its in-memory rows: picklable, read by partition tasks.

    `columns(bands)` gives the same columns as BandFile.column, read from the file by the
    worker itself; only the few replaced rows and stacked state rows travel with it.
    """

    path: str
    n: int
    bands: int
    fixed_rows: np.ndarray
    fixed_keys: np.ndarray
    extra: np.ndarray

    def columns(self, bands: Sequence[int]) -> Columns:
        """Return these bands' columns of every row (the file's, then the stacked ones)."""
        with open(self.path, "rb") as fh:
            fd = fh.fileno()
            return Columns(
                [
                    _column(fd, self.n, b, self.fixed_rows, self.fixed_keys, self.extra)
                    for b in bands
                ]
            )


def _column(
    fd: int, n: int, band: int, fixed_rows: np.ndarray, fixed_keys: np.ndarray, extra: np.ndarray
) -> np.ndarray:
    """Return one band's keys of every row: the file's n, replaced rows applied, then `extra`."""
    col = np.empty(n, dtype=np.uint64)
    read_into(fd, col, band * n * _ITEM, "dedup band-key file")
    col[fixed_rows] = fixed_keys[:, band]
    return np.concatenate((col, extra[:, band])) if len(extra) else col


class Columns(BandKeys):
    """Hold band keys as a list of columns (one array per band), as a partition task gets them."""

    def __init__(self, columns: list[np.ndarray]) -> None:
        super().__init__(np.zeros((0, len(columns)), np.uint64))
        self.columns = columns

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.columns[0]) if self.columns else 0), len(self.columns)

    def column(self, band: int) -> np.ndarray:
        return self.columns[band]

    def block(self, start: int, stop: int) -> np.ndarray:
        return np.stack([c[start:stop] for c in self.columns], axis=1)


class LazyColumns(Sequence[np.ndarray]):
    """Read the columns of BandKeys one at a time, as a sequence (an engine puts each in turn)."""

    def __init__(self, keys: BandKeys) -> None:
        self.keys = keys

    def __len__(self) -> int:
        return self.keys.shape[1]

    @overload
    def __getitem__(self, i: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[np.ndarray]: ...
    def __getitem__(self, i: int | slice) -> np.ndarray | Sequence[np.ndarray]:
        if isinstance(i, slice):
            return [self.keys.column(b) for b in range(len(self))[i]]
        if not 0 <= i < len(self):
            raise IndexError(i)  # ends iteration over the sequence
        return self.keys.column(i)


def column_of(keys: np.ndarray | BandKeys, band: int) -> np.ndarray:
    """Return one band's keys of every row, from an array (rows, bands) or BandKeys."""
    return keys.column(band) if isinstance(keys, BandKeys) else keys[:, band]
