"""Open a dedup state, commit a run's staged changes to it, and the `cleanup state` functions.

Kept apart from cleanup/dedup/store.py (what a state is) because opening a state picks a
backend (cleanup/dedup/stores/), and the backends build on store.py: this module imports
both, neither imports it. See docs/architecture.md, "State".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cleanup.dedup.store import Staged, Store, state_errors
from cleanup.errors import StateError, UsageProblem
from cleanup.io.paths import is_url
from cleanup.ranges import Range, check

# `state prune` limits: an age in days (0: everything not seen this instant), or a count
# of runs up to SQLite's integer limit.
OLDER_THAN = Range(min=0)
KEEP_RUNS = Range(min=1, max=2**63 - 1)


def open_store(location: str, wait: float = 0.0, create: bool = True, lock: bool = True) -> Store:
    """Open the state at `location` (a path, or redis://HOST:PORT/DB) and take its lock.

    `lock=False` opens it for reading only (info, export), which a running job never blocks.
    """
    if is_url(location):
        from cleanup.dedup.stores.redis import RedisStore

        return RedisStore(location, wait=wait, lock=lock)
    from cleanup.dedup.stores.sqlite import SQLiteStore

    return SQLiteStore(location, wait=wait, create=create, lock=lock)


@dataclass
class PendingCommit:
    """Hold a run's state commit, kept in its publish journal until it is applied (picklable).

    The run applies it itself once its output is in place; a run killed before that leaves
    it in the journal, and the next run applies it unless the state already holds the run.
    """

    location: str
    wait: float
    staged: Staged
    settings: dict[str, Any]

    def apply(self) -> bool:
        """Commit to the state unless it already holds this run; tell whether it did."""
        with state_errors(self.location):
            store = open_store(self.location, wait=self.wait)
            try:
                if store.has_run(self.staged.run_id):
                    return False
                store.commit(self.staged, self.settings)
                return True
            finally:
                store.close()


class StateCommit:
    """Commit a run's staged state in two phases around the publishing of its files.

    The runner calls prepare() before it renames any file (most failures show up there and
    publish nothing), writes pending() into its journal, renames the files, then calls
    commit(). Calling the object does both phases: what a library caller does once its
    output is in place.
    """

    def __init__(self, store: Store, pending: PendingCommit) -> None:
        self.store = store
        self.pending = pending
        self.location = store.location

    def prepare(self) -> None:
        """Write the state's transaction where nobody sees it yet."""
        with state_errors(self.location):
            self.store.begin_commit(self.pending.staged, self.pending.settings)

    def commit(self) -> None:
        """Make the prepared transaction visible and durable."""
        with state_errors(self.location):
            self.store.end_commit()

    def cancel(self) -> None:
        """Drop the prepared transaction."""
        with state_errors(self.location):
            self.store.cancel_commit()

    def __call__(self) -> None:
        self.prepare()
        self.commit()


# Library functions behind `cleanup state info|prune|export`.
def state_info(location: str, wait: float = 0.0) -> dict[str, Any]:
    """Return what a state holds: settings, entry counts, runs, size."""
    store = open_store(location, wait, create=False, lock=False)
    try:
        return store.info()
    finally:
        store.close()


def prune_state(
    location: str,
    older_than_days: float | None = None,
    keep_runs: int | None = None,
    wait: float = 0.0,
) -> int:
    """Remove entries last seen more than N days ago or not seen in the last N runs.

    Exactly one of the two, in range, or UsageProblem before the state is opened: a negative
    or NaN age, or both limits at once, must not quietly remove entries.
    """
    if (older_than_days is None) == (keep_runs is None):
        raise UsageProblem("prune needs exactly one of --older-than DAYS or --keep-runs N")
    if older_than_days is not None:
        check("older-than", older_than_days, float, OLDER_THAN, "prune: ")
    if keep_runs is not None:
        check("keep-runs", keep_runs, int, KEEP_RUNS, "prune: ")
    check("wait", wait, float, Range(min=0), "prune: ")
    store = open_store(location, wait, create=False)
    try:
        return store.prune(older_than_days, keep_runs)
    finally:
        store.close()


# Settings that make the signatures themselves: a state made with others must be rebuilt.
SIGNATURE_SETTINGS = ("num-perm", "minhash-seed", "doc-shingle-size", "tokenizer")


def migrate_state(location: str, settings: dict[str, Any], wait: float = 0.0) -> str:
    """Re-band a state for `settings` (DedupSettings.state_settings()) from its signatures.

    Why: a state keeps every published document's signature, so new LSH bands (a new
    threshold, or new band defaults) need no text; other signatures do, which the state does
    not keep, so then it says in one line how to rebuild. Returns what was done.
    """
    store = open_store(location, wait, create=False)
    try:
        recorded = store.settings()
        if recorded is None:
            held = store.info()
            if held.get("documents") or held.get("runs"):
                raise StateError(
                    f"state {location} is damaged: it holds {held['documents']:,} documents from"
                    f" {held['runs']:,} runs but no settings; rebuild it with `cleanup run`"
                )
            raise StateError(f"state {location} holds no settings yet: nothing to migrate")
        if recorded == settings:
            return f"state {location} already has these settings: nothing to do"
        diffs = [k for k in SIGNATURE_SETTINGS if recorded.get(k) != settings.get(k)]
        if diffs:
            what = ", ".join(f"{k} {recorded.get(k)!r} -> {settings.get(k)!r}" for k in diffs)
            keep = " ".join(
                f"--{k} {recorded[k]}" for k in diffs if k != "tokenizer" and k in recorded
            )
            raise StateError(
                f"cannot migrate {location} ({what}): signatures cannot be recomputed from a "
                "state, which keeps no text; rebuild it by running the corpora you published "
                "through `cleanup run ... --state NEW`"
                + (f", or keep the state's {keep} (in migrate and every run)" if keep else "")
            )
        bands, rows = int(settings["bands"]), int(settings["rows"])
        before = f"{recorded.get('bands')}x{recorded.get('rows')}"
        done = store.reband(bands, rows, settings)
        return (
            f"re-banded {done:,} entries of {location}: bands x rows {before} -> "
            f"{bands}x{rows}; settings recorded"
        )
    finally:
        store.close()


def export_state(location: str, out: Any, wait: float = 0.0) -> int:
    """Write one JSON line per state entry to `out`; return how many."""
    store = open_store(location, wait, create=False, lock=False)
    n = 0
    try:
        for entry in store.export():
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            n += 1
    finally:
        store.close()
    return n
