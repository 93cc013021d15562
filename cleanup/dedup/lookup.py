"""Look the run's band keys up in the state: here, or band by band in partition tasks.

A state's LSH index is keyed by band key, and a band key belongs to one band, so the lookup
partitions the way the candidate search does (cleanup/dedup/partitions.py, `file_edges`):
partition `part` asks the state for the keys of bands part, part + parts, ..., read by the
task itself from the run's band file in scratch. The driver then holds only the handles
found, not 16 bands of keys per document at a time. Tasks open the state read-only and
without its lock (the run's driver holds it); a SQLite state is a file on one machine, so a
cluster of several machines needs a Redis state (`check_shared`). See docs/architecture.md,
"State".
"""

from __future__ import annotations

import os

import numpy as np

from cleanup.dedup.bandfile import BandFile, BandKeys, BandSource
from cleanup.dedup.state import open_store
from cleanup.dedup.store import Store, state_errors
from cleanup.errors import UsageProblem
from cleanup.executor import Executor
from cleanup.io.paths import is_url

GROUP_BANDS = 16  # bands' keys asked for at once (a column each)


def check_shared(location: str, machines: int) -> None:
    """Refuse a state file when the workers run on several machines (one line, before reading)."""
    if machines > 1 and not is_url(location):
        raise UsageProblem(
            f"--state {location}: a SQLite state is a file on one machine, and this Ray "
            f"cluster has {machines}; use a Redis state every machine reaches "
            "(--state redis://HOST:PORT/DB)"
        )


def state_candidates(
    store: Store,
    keys: BandKeys,
    valid: np.ndarray,
    executor: Executor | None = None,
    parts: int = 1,
) -> np.ndarray:
    """Return the handles of state entries sharing a band key with a valid document (unique).

    With an executor, `parts` > 1 and the keys in a named band file, partition tasks look
    their own bands up; otherwise this process does, GROUP_BANDS bands at a time.
    """
    source = keys.source() if isinstance(keys, BandFile) else None
    if executor is None or parts < 2 or source is None:
        return _candidates(store, keys, valid)
    where = _shared_location(store.location)
    return _unique(executor.map_partitions(partition_candidates, (where, source, valid), parts))


def partition_candidates(
    location: str, source: BandSource, valid: np.ndarray, parts: int, part: int
) -> np.ndarray:
    """Return the state's handles under the keys of bands part, part + parts, ... (a task)."""
    mine = _groups(range(part, source.bands, parts))
    with state_errors(location):
        store = open_store(location, create=False, lock=False)
        try:
            return _unique([_ask(store, source.columns(g).columns, valid) for g in mine])
        finally:
            store.close()


def _candidates(store: Store, keys: BandKeys, valid: np.ndarray) -> np.ndarray:
    """Ask the store for these keys' entries, GROUP_BANDS bands (columns) at a time."""
    groups = _groups(range(keys.shape[1]))
    return _unique([_ask(store, [keys.column(b) for b in g], valid) for g in groups])


def _groups(bands: range) -> list[range]:
    """Cut bands into groups of GROUP_BANDS, whose keys are asked for at once."""
    return [bands[lo : lo + GROUP_BANDS] for lo in range(0, len(bands), GROUP_BANDS)]


def _ask(store: Store, columns: list[np.ndarray], valid: np.ndarray) -> np.ndarray:
    """Return the handles of entries under these columns' keys of valid documents."""
    n = len(valid)  # stacked rows after the documents' (state entries) are not asked for
    return store.candidates(np.concatenate([c[:n][valid] for c in columns]))


def _unique(found: list[np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)


def _shared_location(location: str) -> str:
    """Return the state's location as a task elsewhere in the file system reads it."""
    return location if is_url(location) else os.path.abspath(location)
