"""Every live document's (site, paragraph) keys, in a temporary file, read a range at a time.

One key per kept paragraph (8 bytes; a news article has a dozen or so): at a million
documents they outweigh every other per-document number the read pass keeps, so they wait
on disk with only each document's end offset in memory. Boilerplate counting walks them a
block at a time, re-signing and verification read the ranges of the spooled token batches,
and the write pass reads the keys of a few thousand documents at once. See
docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

import numpy as np

from cleanup.dedup.columns import extend
from cleanup.dedup.rowfile import RowFile

KEY_BLOCK = 1 << 20  # keys read at once when all are walked (8 MiB)
DOC_BLOCK = 4096  # documents whose keys are read at once by `of`


class BoilerKeys:
    """Hold the keys of every live document in order (file), and where each document ends."""

    def __init__(self) -> None:
        self.file = RowFile(1, np.uint64)
        self._ends = array("q")  # where each document's keys end: the one per-document number
        self._view: np.ndarray | None = None  # `_ends` as numpy (it must not grow while viewed)
        self._lo = self._hi = 0  # documents whose keys `_held` holds
        self._held = np.zeros(0, np.uint64)

    def append(self, keys: np.ndarray, sizes: np.ndarray) -> None:
        """Append a batch's keys and the number of keys of each of its documents."""
        before = self._ends[-1] if self._ends else 0
        self.file.append(keys)
        self._view = None
        extend(self._ends, np.cumsum(sizes, dtype=np.int64) + before)

    def __len__(self) -> int:
        return len(self.file)

    @property
    def offsets(self) -> np.ndarray:
        """Return the documents' offsets into the keys (n + 1 values, from 0)."""
        return np.concatenate((np.zeros(1, np.int64), self.ends))

    @property
    def ends(self) -> np.ndarray:
        """Return where each document's keys end (cumulative counts, int64; a view: read it
        once every batch is in)."""
        if self._view is None:
            self._view = np.frombuffer(self._ends, dtype=np.int64)
        return self._view

    def _start(self, i: int) -> int:
        return int(self.ends[i - 1]) if i else 0

    def of(self, i: int) -> np.ndarray:
        """Return the keys of document i (documents are best asked for in order)."""
        if not self._lo <= i < self._hi:
            self._lo, self._hi = i, min(i + DOC_BLOCK, len(self.ends))
            first = self._start(self._lo)
            self._held = self.span(first, int(self.ends[self._hi - 1]))
        base = self._start(self._lo)
        return self._held[self._start(i) - base : int(self.ends[i]) - base]

    def span(self, start: int, stop: int) -> np.ndarray:
        """Return keys start..stop-1."""
        return self.file.span(start, stop - start).reshape(-1)

    def docs_of(self, start: int, stop: int) -> np.ndarray:
        """Return the document of each key start..stop-1."""
        return np.searchsorted(self.ends, np.arange(start, stop), side="right")

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (index of the first key, keys) for consecutive blocks of all the keys."""
        for start, block in self.file.blocks(KEY_BLOCK):  # read at call time (tests shrink it)
            yield start, block.reshape(-1)

    def close(self) -> None:
        """Delete the file."""
        self.file.close()
