"""The embedded state: one SQLite file, written in one transaction per published run.

Kill safety comes from SQLite itself: everything a run learned is written inside one
`BEGIN IMMEDIATE ... COMMIT` in `commit()`, so a run killed at any point leaves either the
old state or the new one. The lock is an advisory POSIX lock (lockf) on `PATH.lock`, held
from open to close; the kernel releases it when a process dies, so a killed run never
leaves a stale lock, and forked workers do not inherit it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

import numpy as np

from cleanup.dedup.lsh import band_keys
from cleanup.dedup.store import (
    SCHEMA_VERSION,
    Staged,
    Store,
    StoredEntries,
    from_i64,
    recorded_settings,
    settings_json,
    to_i64,
)
from cleanup.errors import StateError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    h INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    id TEXT NOT NULL,
    explicit INTEGER NOT NULL,
    fp INTEGER NOT NULL,
    length INTEGER NOT NULL,
    sig BLOB NOT NULL,
    first_run TEXT NOT NULL,
    last_run TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_fp ON docs (fp);
CREATE TABLE IF NOT EXISTS lsh (bk INTEGER NOT NULL, h INTEGER NOT NULL, PRIMARY KEY (bk, h))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS boiler (k INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    committed REAL NOT NULL,
    docs INTEGER NOT NULL,
    dropped INTEGER NOT NULL,
    new INTEGER NOT NULL
);
"""
_CHUNK = 50_000


def _refuse_other_databases(db: sqlite3.Connection, path: str, create: bool) -> None:
    """Refuse a SQLite file that holds tables but is not a cleanup state (never add ours),
    and one without tables (an empty file) unless a state may be created there."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and not {"meta", "docs", "runs"} <= tables:
        raise StateError(f"{path} is a SQLite database but not a cleanup state; not touching it")
    if not tables and not create:
        what = "an empty file" if os.path.getsize(path) == 0 else "a SQLite database, no tables"
        raise StateError(f"{path} is not a cleanup state ({what}); not touching it")


class SQLiteStore(Store):
    """Keep the dedup state in one SQLite file (the embedded default for cron jobs)."""

    def __init__(
        self, path: str, wait: float = 0.0, create: bool = True, lock: bool = True
    ) -> None:
        self.location = path
        if not create and not os.path.exists(path):
            raise StateError(f"no state at {path}")
        self._lock: IO[bytes] | None = None
        try:
            # One run uses the connection at a time; the runner may close from another thread.
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            _refuse_other_databases(self.db, path, create)  # before a lock file is made beside
            self._lock = _take_lock(path + ".lock", wait) if lock else None
            self.db.executescript(SCHEMA)
        except StateError:
            self.close()
            raise
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StateError(f"cannot use {path} as a dedup state: {exc}") from None

    # Reading -----------------------------------------------------------------------
    def settings(self) -> dict[str, Any] | None:
        """Return the settings recorded in the state, or None for a new state."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
        return recorded_settings(row[0] if row else None, self.location)

    def find(self, keys: list[str]) -> dict[str, tuple[int, int]]:
        """Return (handle, fingerprint) of each given state key that the state holds."""
        out: dict[str, tuple[int, int]] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            for key, h, fp in self.db.execute(
                f"SELECT key, h, fp FROM docs WHERE key IN ({marks})", part
            ):
                out[key] = (h, int(from_i64([fp])[0]))
        return out

    def known_fps(self, fps: np.ndarray) -> np.ndarray:
        """Tell, for each text fingerprint, whether some entry of the state has that text."""
        found: set[int] = set()
        if len(fps) and self.db.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is not None:
            with self._temp_ints("q_fp", np.unique(fps)) as table:
                for (fp,) in self.db.execute(
                    f"SELECT docs.fp FROM {table} JOIN docs ON docs.fp = {table}.v"
                ):
                    found.add(fp)
        signed = np.asarray(fps, dtype=np.uint64).view(np.int64)
        return np.array([f in found for f in signed.tolist()], dtype=bool)

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        """Return the handles of entries sharing at least one band key (unique)."""
        if len(keys) == 0 or self.db.execute("SELECT 1 FROM lsh LIMIT 1").fetchone() is None:
            return np.zeros(0, np.int64)
        found: set[int] = set()
        with self._temp_ints("q_bk", np.unique(keys)) as table:
            for (h,) in self.db.execute(
                f"SELECT DISTINCT lsh.h FROM {table} JOIN lsh ON lsh.bk = {table}.v"
            ):
                found.add(h)
        return np.array(sorted(found), dtype=np.int64)

    def fetch(self, handles: np.ndarray, num_perm: int) -> StoredEntries:
        """Return the entries with these handles, in handle order."""
        if len(handles) == 0:
            return StoredEntries.empty(num_perm)
        rows: list[tuple[Any, ...]] = []
        with self._temp_ints("q_h", handles, signed=True) as table:
            rows = self.db.execute(
                f"SELECT h, id, key, fp, length, sig FROM docs JOIN {table} ON docs.h = {table}.v "
                "ORDER BY h"
            ).fetchall()
        sigs = np.frombuffer(b"".join(r[5] for r in rows), dtype=np.uint32).reshape(-1, num_perm)
        return StoredEntries(
            handles=np.array([r[0] for r in rows], dtype=np.int64),
            ids=[r[1] for r in rows],
            keys=[r[2] for r in rows],
            fps=from_i64([r[3] for r in rows]),
            lengths=np.array([r[4] for r in rows], dtype=np.int64),
            sigs=sigs.copy(),
        )

    def boiler_counts(self, keys: np.ndarray) -> np.ndarray:
        """Return how many distinct documents of earlier runs had each key."""
        counts = np.zeros(len(keys), dtype=np.int64)
        if len(keys) == 0 or self.db.execute("SELECT 1 FROM boiler LIMIT 1").fetchone() is None:
            return counts
        found: dict[int, int] = {}
        with self._temp_ints("q_bp", np.unique(keys)) as table:
            for k, n in self.db.execute(
                f"SELECT boiler.k, boiler.n FROM {table} JOIN boiler ON boiler.k = {table}.v"
            ):
                found[k] = n
        signed = np.asarray(keys, dtype=np.uint64).view(np.int64)
        for i, k in enumerate(signed.tolist()):
            counts[i] = found.get(k, 0)
        return counts

    @contextlib.contextmanager
    def _temp_ints(self, name: str, values: np.ndarray, signed: bool = False) -> Iterator[str]:
        """Load integers into a temporary table for a join, and drop it afterwards."""
        self.db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (v INTEGER PRIMARY KEY)")
        self.db.execute(f"DELETE FROM {name}")
        ints = np.asarray(values).tolist() if signed else to_i64(values)
        self.db.execute("BEGIN")
        self.db.executemany(f"INSERT OR IGNORE INTO {name} (v) VALUES (?)", ((v,) for v in ints))
        self.db.execute("COMMIT")
        try:
            yield name
        finally:
            self.db.execute(f"DELETE FROM {name}")

    # Writing -----------------------------------------------------------------------
    def begin_commit(self, staged: Staged, settings: dict[str, Any]) -> None:
        """Write everything staged inside one open transaction, with the settings.

        Nothing is visible to others (nor survives a kill) until end_commit(); a failure
        here (disk full, a damaged file) rolls back and leaves the state as it was.
        """
        now = time.time()
        bands, rows = int(settings["bands"]), int(settings["rows"])
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('settings', ?), ('schema', ?)",
                (settings_json(settings), str(SCHEMA_VERSION)),
            )
            new = self._write_entries(staged, bands, rows, now)
            db.executemany(
                "UPDATE docs SET last_run = ?, last_seen = ? WHERE key = ?",
                ((staged.run_id, now, key) for key in staged.seen_again),
            )
            db.executemany(
                "INSERT INTO boiler (k, n) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET n = n + "
                "excluded.n",
                zip(to_i64(staged.boiler_keys), staged.boiler_counts.tolist(), strict=True),
            )
            db.execute(
                "INSERT OR REPLACE INTO runs (run_id, started, committed, docs, dropped, new) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (staged.run_id, staged.started, now, staged.docs, staged.dropped, new),
            )
        except BaseException:
            if db.in_transaction:  # SQLite rolls back by itself on a full disk, for one
                db.execute("ROLLBACK")
            raise

    def end_commit(self) -> None:
        """Make the transaction begun by begin_commit() durable."""
        try:
            self.db.execute("COMMIT")
        except BaseException:
            self.cancel_commit()
            raise

    def cancel_commit(self) -> None:
        """Roll back a transaction begun by begin_commit(), if one is open."""
        if self.db is not None and self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def has_run(self, run_id: str) -> bool:
        """Tell whether the run `run_id` was committed to this state."""
        row = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row is not None

    def reband(self, bands: int, rows: int, settings: dict[str, Any]) -> int:
        """Build the LSH table anew from the stored signatures in one transaction, then swap it in.

        Readers see the old table and settings until COMMIT; a kill before it leaves them.
        """
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DROP TABLE IF EXISTS lsh_new")
            db.execute(
                "CREATE TABLE lsh_new (bk INTEGER NOT NULL, h INTEGER NOT NULL, "
                "PRIMARY KEY (bk, h)) WITHOUT ROWID"
            )
            done, last = 0, -(2**63)
            while chunk := db.execute(
                "SELECT h, sig FROM docs WHERE h > ? ORDER BY h LIMIT ?", (last, _CHUNK)
            ).fetchall():
                hs = np.array([h for h, _ in chunk], dtype=np.int64)
                sigs = np.frombuffer(b"".join(sig for _, sig in chunk), dtype=np.uint32)
                keys = band_keys(sigs.reshape(len(chunk), -1), bands, rows).view(np.int64)
                bks, owners = keys.reshape(-1), np.repeat(hs, bands)
                order = np.argsort(bks, kind="stable")
                db.executemany(
                    "INSERT OR IGNORE INTO lsh_new (bk, h) VALUES (?, ?)",
                    zip(bks[order].tolist(), owners[order].tolist(), strict=True),
                )
                done += len(chunk)
                last = int(hs[-1])
            db.execute("DROP TABLE lsh")
            db.execute("ALTER TABLE lsh_new RENAME TO lsh")
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('settings', ?)",
                (settings_json(settings),),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return done

    def _write_entries(self, staged: Staged, bands: int, rows: int, now: float) -> int:
        """Insert new entries and replace updated versions in bulk; return how many are new."""
        db = self.db
        existing = self.find([e.key for e in staged.entries])
        next_h = db.execute("SELECT COALESCE(MAX(h), 0) + 1 FROM docs").fetchone()[0]
        doc_rows: list[tuple[Any, ...]] = []
        lsh_keys: list[np.ndarray] = []
        lsh_handles: list[np.ndarray] = []
        new = 0
        for e in staged.entries:
            sig = np.ascontiguousarray(e.sig, dtype=np.uint32).tobytes()
            fp = to_i64(np.array([e.fp], dtype=np.uint64))[0]
            old = existing.get(e.key)
            if old is not None:  # an updated version of an explicit id replaces the old one
                h = old[0]
                (old_sig,) = db.execute("SELECT sig FROM docs WHERE h = ?", (h,)).fetchone()
                self._delete_lsh(h, old_sig, bands, rows)
                db.execute(
                    "UPDATE docs SET id = ?, fp = ?, length = ?, sig = ?, last_run = ?, "
                    "last_seen = ? WHERE h = ?",
                    (e.id, fp, e.length, sig, staged.run_id, now, h),
                )
            else:
                h = next_h
                next_h += 1
                new += 1
                doc_rows.append(
                    (h, e.key, e.id, int(e.explicit), fp, e.length, sig, staged.run_id,
                     staged.run_id, now, now)
                )  # fmt: skip
            lsh_keys.append(np.asarray(e.band_keys, dtype=np.uint64).view(np.int64))
            lsh_handles.append(np.full(len(e.band_keys), h, dtype=np.int64))
        db.executemany(
            "INSERT INTO docs (h, key, id, explicit, fp, length, sig, first_run, last_run, "
            "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            doc_rows,
        )
        if lsh_keys:  # insert in key order: the B-tree fills sequentially, much faster
            bks, hs = np.concatenate(lsh_keys), np.concatenate(lsh_handles)
            order = np.lexsort((hs, bks))
            db.executemany(
                "INSERT OR IGNORE INTO lsh (bk, h) VALUES (?, ?)",
                zip(bks[order].tolist(), hs[order].tolist(), strict=True),
            )
        return new

    def _delete_lsh(self, h: int, sig: bytes, bands: int, rows: int) -> None:
        """Delete an entry's band keys, recomputed from its signature (no index on h needed)."""
        keys = band_keys(np.frombuffer(sig, dtype=np.uint32).reshape(1, -1), bands, rows)[0]
        self.db.executemany(
            "DELETE FROM lsh WHERE bk = ? AND h = ?", ((bk, h) for bk in to_i64(keys))
        )

    def close(self) -> None:
        """Close the connection and release the lock; safe to call twice."""
        db = getattr(self, "db", None)
        try:
            if db is not None:
                del self.db  # a second close finds no connection
                db.close()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            _release_lock(self._lock)
            self._lock = None

    # Maintenance -------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """Return settings, counts, the last runs and the file size."""
        q = self.db.execute
        docs = q("SELECT COUNT(*) FROM docs").fetchone()[0]
        size = os.path.getsize(self.location)
        runs = [
            dict(zip(("run_id", "started", "committed", "docs", "dropped", "new"), r, strict=True))
            for r in q("SELECT * FROM runs ORDER BY committed DESC LIMIT 5")
        ]
        return {
            "location": self.location,
            "backend": "sqlite",
            "settings": self.settings(),
            "documents": docs,
            "explicit_ids": q("SELECT COUNT(*) FROM docs WHERE explicit").fetchone()[0],
            "band_keys": q("SELECT COUNT(*) FROM lsh").fetchone()[0],
            "boilerplate_keys": q("SELECT COUNT(*) FROM boiler").fetchone()[0],
            "runs": q("SELECT COUNT(*) FROM runs").fetchone()[0],
            "last_runs": runs,
            "bytes": size,
            "bytes_per_document": round(size / docs, 1) if docs else None,
        }

    def prune(self, older_than_days: float | None = None, keep_runs: int | None = None) -> int:
        """Remove entries last seen before a cutoff or outside the last N runs; return how many."""
        settings = self.settings() or {}
        where: list[str] = []
        args: list[Any] = []
        if older_than_days is not None:
            where.append("last_seen < ?")
            args.append(time.time() - older_than_days * 86400)
        if keep_runs is not None:
            where.append(
                "last_run NOT IN (SELECT run_id FROM runs ORDER BY committed DESC LIMIT ?)"
            )
            args.append(keep_runs)
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            doomed = db.execute(f"SELECT h, sig FROM docs WHERE {' OR '.join(where)}", args)
            doomed_rows = doomed.fetchall()
            for h, sig in doomed_rows:
                self._delete_lsh(h, sig, int(settings["bands"]), int(settings["rows"]))
            db.executemany("DELETE FROM docs WHERE h = ?", ((h,) for h, _ in doomed_rows))
            if keep_runs is not None:
                db.execute(
                    "DELETE FROM runs WHERE run_id NOT IN "
                    "(SELECT run_id FROM runs ORDER BY committed DESC LIMIT ?)",
                    (keep_runs,),
                )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite rolls back by itself on a full disk, for one
                db.execute("ROLLBACK")
            raise
        if doomed_rows:
            db.execute("VACUUM")
        return len(doomed_rows)

    def export(self) -> Iterator[dict[str, Any]]:
        """Yield one JSON-ready dict per entry, oldest first."""
        cur = self.db.execute(
            "SELECT id, key, explicit, fp, length, sig, first_run, last_run, first_seen, "
            "last_seen FROM docs ORDER BY h"
        )
        for row in cur:
            yield {
                "id": row[0],
                "explicit_id": bool(row[2]),
                "fingerprint": f"{int(from_i64([row[3]])[0]):016x}",
                "length": row[4],
                "first_run": row[6],
                "last_run": row[7],
                "first_seen": row[8],
                "last_seen": row[9],
                "minhash": row[5].hex(),
            }


_HELD: set[str] = set()  # lock files this process holds (POSIX locks are per process)
_HELD_GUARD = threading.Lock()


def _take_lock(path: str, wait: float) -> IO[bytes]:
    """Take an exclusive lock on `path`, polling up to `wait` seconds, else raise StateError.

    A POSIX record lock (lockf), not flock: worker processes forked while the lock is held
    do not inherit it, so a killed run's workers never keep the state locked. POSIX locks
    belong to a process, so a second open in the same process is refused here by name.
    """
    key = os.path.realpath(path)
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        with _HELD_GUARD:
            if key not in _HELD:
                fh = _try_lock(path)
                if fh is not None:
                    _HELD.add(key)
                    return fh
        if time.monotonic() >= deadline:
            raise StateError(
                f"state {path[: -len('.lock')]} is in use by another run "
                f"(waited {wait:g} s; use --wait SECONDS to wait longer)"
            ) from None
        time.sleep(0.1)


def _try_lock(path: str) -> IO[bytes] | None:
    """Return the lock file with the lock taken, or None when another process holds it."""
    fh = open(path, "ab")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fh
    except OSError as exc:
        fh.close()
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return None
        raise StateError(f"cannot lock {path}: {exc.strerror or exc}") from None


def _release_lock(fh: IO[bytes]) -> None:
    """Release a lock taken by _take_lock."""
    with _HELD_GUARD:
        _HELD.discard(os.path.realpath(fh.name))
        fcntl.lockf(fh, fcntl.LOCK_UN)
        fh.close()
