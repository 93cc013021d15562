"""Shingle sets kept in the run's scratch space: one file per batch, read as one array.

Exact verification (cleanup/dedup/verify.py) reads the distinct shingles of the documents in
candidate pairs, about a gigabyte of them for a million news documents. With scratch space
(a folder the workers and the driver all see, cleanup/scratch.py) the tasks that build the
sets write each batch's values to a file there (cleanup/dedup/resign.py, `set_job`), and the
tasks that compare pairs read them back; the driver holds only where each set starts, never a
shingle. `SetFiles` names those files and reads runs of values from them as if they were one
array, so the comparison code does not care where the values are. See docs/architecture.md,
"Dedup".
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field

import numpy as np

from cleanup.dedup.rowfile import read_into
from cleanup.scratch import discard

ITEM = np.dtype(np.uint32).itemsize  # one shingle hash


@dataclass
class SetFiles:
    """Name the files holding the sets' values: file k holds values starts[k]..stops[k]-1.

    Picklable and small: a task gets the files its pairs need (`covering`), not all of them.
    """

    paths: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    stops: list[int] = field(default_factory=list)

    def add(self, path: str, count: int) -> None:
        """Append a file holding the next `count` values."""
        first = self.stops[-1] if self.stops else 0
        self.paths.append(path)
        self.starts.append(first)
        self.stops.append(first + count)

    def read_runs(self, starts: np.ndarray, counts: np.ndarray, out: np.ndarray) -> None:
        """Fill `out` with the runs of values (start, count), one after the other.

        A run may straddle files; each file is opened once.
        """
        fds: dict[int, int] = {}
        pos = 0
        try:
            for start, count in zip(starts.tolist(), counts.tolist(), strict=True):
                while count > 0:
                    k = bisect.bisect_right(self.starts, start) - 1
                    assert k >= 0 and start < self.stops[k], f"value {start} in no file"
                    take = min(count, self.stops[k] - start)
                    if k not in fds:
                        fds[k] = os.open(self.paths[k], os.O_RDONLY)
                    where = (start - self.starts[k]) * ITEM
                    read_into(fds[k], out[pos : pos + take], where, "dedup shingle-set file")
                    pos, start, count = pos + take, start + take, count - take
        finally:
            for fd in fds.values():
                os.close(fd)

    def covering(self, starts: np.ndarray, counts: np.ndarray) -> SetFiles:
        """Return the files holding the runs of values (start, count), the others left out."""
        firsts = np.asarray(self.starts, dtype=np.int64)
        starts, counts = starts[counts > 0], counts[counts > 0]  # an empty run reads nothing
        lo = np.searchsorted(firsts, starts, side="right") - 1
        hi = np.searchsorted(firsts, starts + counts - 1, side="right") - 1
        marks = np.zeros(len(firsts) + 1, dtype=np.int64)
        np.add.at(marks, lo, 1)
        np.add.at(marks, hi + 1, -1)
        keep = np.flatnonzero(np.cumsum(marks)[:-1] > 0).tolist()
        return SetFiles(
            [self.paths[k] for k in keep],
            [self.starts[k] for k in keep],
            [self.stops[k] for k in keep],
        )

    def close(self) -> None:
        """Delete the files, while the run goes on (the scratch folder goes at its end anyway)."""
        discard(self.paths)
        self.paths, self.starts, self.stops = [], [], []
