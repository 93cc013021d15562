"""Document ids held compactly: one UTF-8 blob and the end of each id, since dedup's ledger
keeps every live document's id until the write pass names the copies that stay. The blob
goes to a temporary file past BLOB_MEMORY bytes, with the ends of the ids in it, so memory
holds the last megabyte of ids whatever their number and length (URLs are 60 bytes and
more); ids are read back rarely (the copies a drop names, the state's keys) and in order.
See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np

from cleanup.dedup.rowfile import RowFile

# Bytes of ids kept in memory before they are appended to the temporary file.
BLOB_MEMORY = 1 << 20
# Bytes read at once when the ids are walked in order.
READ_CHUNK = 1 << 20
# Ends of ids read at once from the file (ids are asked for mostly in order).
ENDS_WINDOW = 4096


class _Strings(Sequence[str]):
    """A read-only sequence of strings: subclasses give `__len__` and `_at` (0 <= i < len)."""

    def _at(self, i: int) -> str:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._at(k) for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._at(i)

    def __iter__(self) -> Iterator[str]:
        return (self._at(i) for i in range(len(self)))


class Names(_Strings):
    """Hold a growing list of strings as one blob (any string, lone surrogates included)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._blob = bytearray()  # the ids after the first `_flushed` bytes
        self._ends = array("q")  # their ends (offsets into the whole blob)
        self._flushed = self._flushed_ids = 0
        self._file: RowFile | None = None  # the ids' bytes past the first BLOB_MEMORY
        self._file_ends: RowFile | None = None  # the ends of the ids in the file
        self._lo = self._hi = 0  # ids whose ends `_window` holds (read from the file)
        self._window = np.zeros(0, np.int64)
        self.extend(names)

    def extend(self, names: Iterable[str]) -> None:
        """Append these strings."""
        blob, ends, base = self._blob, self._ends, self._flushed
        for name in names:
            blob += name.encode("utf-8", "surrogatepass")
            ends.append(base + len(blob))
        if len(blob) > BLOB_MEMORY:
            if self._file is None or self._file_ends is None:
                self._file, self._file_ends = RowFile(1, np.uint8), RowFile(1, np.int64)
            self._file.append(np.frombuffer(blob, dtype=np.uint8))
            self._file_ends.append(np.frombuffer(ends, dtype=np.int64))
            self._flushed += len(blob)
            self._flushed_ids += len(ends)
            self._blob, self._ends = bytearray(), array("q")

    def __len__(self) -> int:
        return self._flushed_ids + len(self._ends)

    def _end(self, i: int) -> int:
        """Return where id i ends in the whole blob (-1: 0, the start)."""
        if i < 0:
            return 0
        if i >= self._flushed_ids:
            return self._ends[i - self._flushed_ids]
        if not self._lo <= i < self._hi:  # ends read ENDS_WINDOW at a time from the file
            assert self._file_ends is not None
            self._lo, self._hi = i, min(i + ENDS_WINDOW, self._flushed_ids)
            self._window = self._file_ends.span(self._lo, self._hi - self._lo).reshape(-1)
        return int(self._window[i - self._lo])

    def _at(self, i: int) -> str:
        return self._span(self._end(i - 1), self._end(i)).decode("utf-8", "surrogatepass")

    def _span(self, start: int, end: int) -> bytes:
        """Return blob bytes start..end (all in memory or all in the file: ids never straddle)."""
        if start >= self._flushed:
            return bytes(self._blob[start - self._flushed : end - self._flushed])
        assert self._file is not None
        return self._file.span(start, end - start).tobytes()

    def __iter__(self) -> Iterator[str]:
        i, n = 0, len(self)
        while i < n:  # whole ids, up to READ_CHUNK bytes (at least one), read at once
            first = self._end(i - 1)
            stop = self._flushed if first < self._flushed else first + READ_CHUNK
            stop = min(stop, first + READ_CHUNK)
            j = i + 1
            while j < n and self._end(j) <= stop:
                j += 1
            chunk = self._span(first, self._end(j - 1))
            start = first
            for k in range(i, j):
                end = self._end(k)
                yield chunk[start - first : end - first].decode("utf-8", "surrogatepass")
                start = end
            i = j

    def close(self) -> None:
        """Delete the temporary files (the ids are gone)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._file_ends is not None:
            self._file_ends.close()
            self._file_ends = None


class Joined(_Strings):
    """Two sequences of strings read as one (the run's ids, then the state entries')."""

    def __init__(self, first: Sequence[str], second: Sequence[str]) -> None:
        self.first, self.second = first, second

    def __len__(self) -> int:
        return len(self.first) + len(self.second)

    def _at(self, i: int) -> str:
        n = len(self.first)
        return self.first[i] if i < n else self.second[i - n]
