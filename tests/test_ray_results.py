"""A Ray task's large result comes back as a file in scratch (cleanup/engines/ray.py, _call).

Read from the object store, a result maps store pages into the driver; a file in the run's
scratch space is read, unpickled and deleted. Small results, and runs without scratch, still
come back through Ray as pickled bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cleanup.engines.ray import RESULT_INLINE, _call, _load
from cleanup.scratch import ScratchRef


def _array(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64)


def test_a_large_result_goes_through_a_file_that_reading_deletes(tmp_path: Path) -> None:
    n = RESULT_INLINE // 8 + 1000
    got = _call(_array, str(tmp_path), n)
    assert isinstance(got, ScratchRef)
    assert Path(got.path).parent == tmp_path and got.size > RESULT_INLINE
    assert np.array_equal(_load(got), _array(n))
    assert list(tmp_path.iterdir()) == []  # read once, then gone


def test_small_results_and_runs_without_scratch_come_back_as_bytes(tmp_path: Path) -> None:
    small = _call(_array, str(tmp_path), 10)
    assert isinstance(small, bytes) and np.array_equal(_load(small), _array(10))
    big = _call(_array, None, RESULT_INLINE)  # no scratch space: through Ray as before
    assert isinstance(big, bytes) and np.array_equal(_load(big), _array(RESULT_INLINE))
    assert list(tmp_path.iterdir()) == []
