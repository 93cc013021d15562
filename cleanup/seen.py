"""A set of 64-bit keys in 8 bytes each, told in batches which keys it has seen before.

Why not a Python set: a set of ints costs about 70 bytes a key (the int object and the
table's slot), and the run's summary keeps the hash of every explicit id to count duplicate
ids: 70 MB per million documents in the process that writes the output. Here the keys live
in sorted numpy runs, each more than twice as long as the next (a log-structured set):
adding n keys costs O(n log n) in all, looking a batch up one binary search per run (at
most log2(n) + 1 runs). See docs/architecture.md, "Data flow".
"""

from __future__ import annotations

import numpy as np


class SeenKeys:
    """Remember int64 keys; `add` tells which of a batch were seen before, in the batch too."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []  # sorted, unique, disjoint; longest first

    def __len__(self) -> int:
        return sum(len(run) for run in self.runs)

    def add(self, keys: np.ndarray) -> np.ndarray:
        """Add `keys` in order; return, for each, whether an earlier key had its value."""
        keys = np.asarray(keys, dtype=np.int64)
        seen = np.ones(len(keys), dtype=bool)
        new, first = np.unique(keys, return_index=True)
        seen[first] = False  # a key's first place in the batch
        known = self._known(new)
        seen[first[known]] = True
        self._push(new[~known])
        return seen

    def _known(self, keys: np.ndarray) -> np.ndarray:
        """Tell which of these (sorted, unique) keys some run holds."""
        found = np.zeros(len(keys), dtype=bool)
        for run in self.runs:
            at = np.minimum(np.searchsorted(run, keys), len(run) - 1)
            found |= run[at] == keys
        return found

    def _push(self, run: np.ndarray) -> None:
        """Add a sorted run of new keys, merging the runs not more than twice as long as it.

        So each run is more than twice as long as the next: at most log2(n) + 1 runs.
        """
        if not len(run):
            return
        while self.runs and len(self.runs[-1]) <= 2 * len(run):
            run = np.sort(np.concatenate((self.runs.pop(), run)), kind="stable")  # two runs: linear
        self.runs.append(run)
