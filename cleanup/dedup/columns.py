"""Growing per-document columns: one `array.array` buffer per number, filled batch by batch.

The read pass keeps a few numbers per live document until the decisions; a million documents
come in thousands of batches, and one small numpy array per batch kept that long pins the heap
pages around it. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

_DTYPES = {"Q": np.uint64, "q": np.int64, "d": np.float64}


def extend(column: array[Any], values: np.ndarray) -> None:
    """Append a batch's values to a column (converted to the column's type)."""
    typed = np.ascontiguousarray(values, dtype=_DTYPES[column.typecode])
    column.frombytes(typed.data.cast("B"))


def compact(typecode: str, values: np.ndarray) -> array[Any]:
    """Return a new column holding `values` (converted to the typecode's type)."""
    column: array[Any] = array(typecode)
    extend(column, values)
    return column


def take(column: array[Any]) -> np.ndarray:
    """Return a column's values as a numpy array of its own (a copy: the column may grow)."""
    return np.frombuffer(column, dtype=_DTYPES[column.typecode]).copy()
