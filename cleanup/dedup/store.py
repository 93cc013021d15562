"""The persistent dedup state: what a store keeps, how a run stages changes, how it opens.

A state holds, between runs, every published document's signature and band keys (the LSH
index), the site-boilerplate counts and the settings that make signatures comparable.
A run reads it freely but writes nothing until `commit()`, which the dedup step registers
as a publish callback: the runner calls it only after the output is in place, so a run
that fails or is killed leaves the state exactly as it was. One run at a time holds the
state's lock; another waits up to `wait` seconds and then fails with StateError.

State keys: a document with an explicit id (an id field) is keyed by that id, so a new
text under the same id is an updated version that replaces the old entry. A derived id
(path, line number) is keyed by id and text fingerprint: the same path with other text
on another day is another document, never a replacement, while a rerun over the same
text finds its own entry again (runs are idempotent).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sqlite3
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cleanup.errors import StateError

SCHEMA_VERSION = 1


def state_key(doc_id: str, explicit: bool, fp: int) -> str:
    """Return the key a document has in a state (see the module docstring)."""
    return doc_id if explicit else f"{doc_id}\x1f{fp:016x}"


@dataclass
class StoredEntries:
    """Hold state entries fetched for comparison: parallel arrays, one row per entry."""

    handles: np.ndarray  # int64 store-specific handles
    ids: list[str]
    keys: list[str]
    fps: np.ndarray  # uint64
    lengths: np.ndarray  # int64
    sigs: np.ndarray  # (m, num_perm) uint32

    @classmethod
    def empty(cls, num_perm: int) -> StoredEntries:
        """Return an empty set of entries."""
        return cls(
            np.zeros(0, np.int64),
            [],
            [],
            np.zeros(0, np.uint64),
            np.zeros(0, np.int64),
            np.zeros((0, num_perm), np.uint32),
        )


@dataclass
class NewEntry:
    """Describe one document to write into the state at commit."""

    key: str
    id: str
    explicit: bool
    fp: int
    length: int
    sig: np.ndarray
    band_keys: np.ndarray


@dataclass
class Staged:
    """Collect what a run will write at commit, in memory until then."""

    run_id: str = ""
    started: float = 0.0
    entries: list[NewEntry] = field(default_factory=list)
    seen_again: list[str] = field(default_factory=list)  # keys already in the state
    boiler_keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    boiler_counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    docs: int = 0
    dropped: int = 0


class Store:
    """Define what every state backend provides (SQLite, Redis)."""

    location: str

    def settings(self) -> dict[str, Any] | None:
        """Return the settings recorded in the state, or None for a new state."""
        raise NotImplementedError

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Refuse settings that differ from the recorded ones, naming each difference."""
        recorded = self.settings()
        if recorded is None:
            return
        diffs = [
            f"{k}: state has {recorded.get(k)!r}, this run {settings.get(k)!r}"
            for k in sorted(set(recorded) | set(settings))
            if recorded.get(k) != settings.get(k)
        ]
        if diffs:
            raise StateError(
                f"state {self.location} was built with other dedup settings ("
                + "; ".join(diffs)
                + f"): run `cleanup state migrate --state {self.location}` with this run's "
                "dedup options to re-band it, rerun with the state's settings, or use a new state"
            )

    def find(self, keys: list[str]) -> dict[str, tuple[int, int]]:
        """Return (handle, fingerprint) of each given state key that the state holds."""
        raise NotImplementedError

    def reband(self, bands: int, rows: int, settings: dict[str, Any]) -> int:
        """Replace the LSH index by one of `bands` x `rows` from the stored signatures, and record
        `settings`, atomically (`cleanup state migrate`); return how many entries were banded."""
        raise NotImplementedError

    def known_fps(self, fps: np.ndarray) -> np.ndarray:
        """Tell, for each text fingerprint, whether some entry of the state has that text."""
        raise NotImplementedError

    def candidates(self, band_keys: np.ndarray) -> np.ndarray:
        """Return the handles of entries sharing at least one of `band_keys` (unique)."""
        raise NotImplementedError

    def fetch(self, handles: np.ndarray, num_perm: int) -> StoredEntries:
        """Return the entries with these handles."""
        raise NotImplementedError

    def boiler_counts(self, keys: np.ndarray) -> np.ndarray:
        """Return how many distinct documents of earlier runs had each (site, paragraph) key."""
        raise NotImplementedError

    def commit(self, staged: Staged, settings: dict[str, Any]) -> None:
        """Write everything staged in one transaction, with the settings."""
        self.begin_commit(staged, settings)
        self.end_commit()

    def begin_commit(self, staged: Staged, settings: dict[str, Any]) -> None:
        """Prepare the transaction of commit(): write it where others cannot see it yet.

        Most failures (a full disk, a damaged file, a lost server) show up here, before the
        runner publishes any file; end_commit() then only makes it visible and durable.
        """
        raise NotImplementedError

    def end_commit(self) -> None:
        """Make the transaction prepared by begin_commit() visible and durable."""
        raise NotImplementedError

    def cancel_commit(self) -> None:
        """Drop a transaction prepared by begin_commit() (nothing of it is kept)."""
        raise NotImplementedError

    def has_run(self, run_id: str) -> bool:
        """Tell whether the run `run_id` was committed to this state."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the lock and the connection; safe to call twice."""
        raise NotImplementedError

    # Maintenance (the `cleanup state` commands).
    def info(self) -> dict[str, Any]:
        """Return counts and settings for `cleanup state info`."""
        raise NotImplementedError

    def prune(self, older_than_days: float | None = None, keep_runs: int | None = None) -> int:
        """Remove entries last seen before a cutoff or outside the last N runs; return how many."""
        raise NotImplementedError

    def export(self) -> Any:
        """Yield one JSON-ready dict per entry."""
        raise NotImplementedError


@contextlib.contextmanager
def state_errors(location: str) -> Iterator[None]:
    """Turn a backend's failure (a damaged SQLite file, a lost Redis server) into StateError.

    The message names the state, so the user sees one line instead of a traceback.
    """
    try:
        yield
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:  # not damage
            raise StateError(f"state {location}: no space left on device ({exc})") from None
        raise StateError(f"state {location}: {exc} (is it a cleanup state, and intact?)") from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] != "redis":
            raise
        raise StateError(f"state {location}: lost the Redis server: {exc}") from None


def recorded_settings(raw: str | bytes | None, location: str) -> dict[str, Any] | None:
    """Return the settings a state recorded (`raw`: their JSON text), None when it has none;
    StateError naming the state when they are not a JSON object (a damaged state)."""
    if not raw:
        return None
    try:
        settings = json.loads(raw)
    except (ValueError, RecursionError):
        settings = None
    if not isinstance(settings, dict):
        raise StateError(f"state {location} is damaged: its settings are not a JSON object")
    return settings


def settings_json(settings: dict[str, Any]) -> str:
    """Serialize settings canonically (sorted keys) for storage."""
    return json.dumps(settings, sort_keys=True)


def to_i64(values: np.ndarray) -> list[int]:
    """Return uint64 values as signed Python ints (SQLite and Redis store signed 64-bit)."""
    return np.asarray(values, dtype=np.uint64).view(np.int64).tolist()


def from_i64(values: list[int]) -> np.ndarray:
    """Return signed 64-bit ints as uint64 values."""
    return np.asarray(values, dtype=np.int64).view(np.uint64)


# Moved to cleanup.dedup.state (opening a state needs the backends, which import this module).
_MOVED = frozenset(
    {"open_store", "PendingCommit", "StateCommit", "state_info", "prune_state", "export_state"}
    | {"OLDER_THAN", "KEEP_RUNS"}
)


def __getattr__(name: str) -> Any:
    """Return a name that moved to cleanup.dedup.state, with a DeprecationWarning.

    Why: code (and publish journals pickled by an earlier version) may still look them up
    here; the import happens on first use, so this module never imports a backend.
    """
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"cleanup.dedup.store.{name} moved to cleanup.dedup.state", DeprecationWarning, stacklevel=2
    )
    return getattr(importlib.import_module("cleanup.dedup.state"), name)
