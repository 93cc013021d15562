"""A per-document column held only where it differs from a default value.

Most documents of a corpus are in no near-duplicate cluster, so the decisions about them
are the defaults (not dropped, no winner): the decisions keep their values only for the
documents some cluster or containment pair touched, and memory follows the duplicates,
not the corpus (docs/architecture.md, "Dedup").
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Documents read into a dense window at once when the column is read one document at a time
# (the write pass walks the documents in order: one search per window, not per document).
WINDOW = 4096


class Sparse:
    """A read-only column of `n` values: `values[k]` at row `rows[k]` (sorted), else `default`."""

    def __init__(self, n: int, rows: np.ndarray, values: np.ndarray, default: Any) -> None:
        self.n, self.rows, self.values = n, rows, values
        self.default = values.dtype.type(default)
        self._lo, self._hi = 0, 0
        self._window = values[:0]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        """Return the value at row i, or the values at an array of rows."""
        if isinstance(i, int | np.integer):
            if not 0 <= i < self.n:
                raise IndexError(i)
            if not self._lo <= i < self._hi:
                self._lo, self._hi = int(i), min(int(i) + WINDOW, self.n)
                self._window = self.span(self._lo, self._hi)
            return self._window[i - self._lo]
        idx = np.asarray(i, dtype=np.int64)
        out = np.full(idx.shape, self.default, dtype=self.values.dtype)
        if len(self.rows) and idx.size:
            k = np.minimum(np.searchsorted(self.rows, idx), len(self.rows) - 1)
            hit = self.rows[k] == idx
            out[hit] = self.values[k[hit]]
        return out

    def span(self, start: int, end: int) -> np.ndarray:
        """Return rows start..end-1 as a dense array."""
        out = np.full(max(end - start, 0), self.default, dtype=self.values.dtype)
        lo, hi = np.searchsorted(self.rows, (start, end))
        out[self.rows[lo:hi] - start] = self.values[lo:hi]
        return out

    def dense(self) -> np.ndarray:
        """Return every row's value (n of them)."""
        return self.span(0, self.n)

    def tolist(self) -> list[Any]:
        """Return every row's value as a Python list."""
        return self.dense().tolist()

    def count(self) -> int:
        """Return how many rows hold a true (non-zero) value."""
        held = int(np.count_nonzero(self.values))
        return held + (self.n - len(self.rows) if self.default else 0)
