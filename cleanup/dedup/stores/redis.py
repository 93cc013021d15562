"""The shared state: the same entries in Redis, so several machines dedup against one index.

Layout under the prefix `cleanup:dedup:` of the chosen database:
    meta        hash   settings (JSON), schema version
    docs        hash   state key -> handle
    doc:H       hash   id, key, explicit, fp, length, sig, first_run, last_run, first/last_seen
    lsh:BK      set    handles of the entries with band key BK
    boiler      hash   (site, paragraph) key -> distinct documents
    runs        hash   run id -> JSON (started, committed, docs, dropped, new)
    next        int    last handle given out
    lock        str    the token of the run holding the lock (expires unless refreshed)

A run's changes go in one MULTI/EXEC transaction at commit, so a killed run changes
nothing. The lock is `SET NX PX` with a random token, refreshed by a daemon thread while
held and released by a compare-and-delete script; a killed run's lock expires LOCK_TTL
seconds after its last refresh (a next run with a longer `--wait` gets it then).
Memory: one Redis set per band key costs about 100 bytes per band per document, so a
million documents with 32 bands take ~3 GB of Redis; use SQLite (or prune) when one machine
is enough.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from cleanup.dedup.lsh import band_keys
from cleanup.dedup.store import (
    SCHEMA_VERSION,
    Staged,
    Store,
    StoredEntries,
    recorded_settings,
    settings_json,
)
from cleanup.errors import StateError

PREFIX = "cleanup:dedup:"
LOCK_TTL = 10.0  # a killed run's lock expires this many seconds after its last refresh
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_CHUNK = 5000


class RedisStore(Store):
    """Keep the dedup state in Redis (redis://HOST:PORT/DB)."""

    def __init__(self, url: str, wait: float = 0.0, lock: bool = True) -> None:
        try:
            import redis
        except ImportError:  # pragma: no cover - the extra is not installed
            raise StateError(
                "a redis:// state needs the redis package: pip install cleanup[redis]"
            ) from None
        self.location = url
        # Any: redis-py types replies as bytes | str (decode_responses is a runtime choice);
        # this client never decodes, so every reply is bytes.
        self.r: Any = redis.Redis.from_url(url)
        self.p = PREFIX
        self._token = secrets.token_hex(16)
        self._held = False
        self._pending: Any = None  # the transaction queued by begin_commit()
        self._stop = threading.Event()
        try:
            if lock:
                self._take_lock(wait)
            else:
                self.r.ping()
        except redis.RedisError as exc:
            raise StateError(f"cannot use {url} as a dedup state: {exc}") from None
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._beat.start()

    def _take_lock(self, wait: float) -> None:
        deadline = time.monotonic() + max(wait, 0.0)
        while not self.r.set(self.p + "lock", self._token, nx=True, px=int(LOCK_TTL * 1000)):
            if time.monotonic() >= deadline:
                raise StateError(
                    f"state {self.location} is in use by another run "
                    f"(waited {wait:g} s; use --wait SECONDS to wait longer)"
                )
            time.sleep(0.1)
        self._held = True

    def _heartbeat(self) -> None:
        """Keep the lock alive while this run holds it."""
        while not self._stop.wait(LOCK_TTL / 3):
            try:
                if self.r.get(self.p + "lock") == self._token.encode():
                    self.r.pexpire(self.p + "lock", int(LOCK_TTL * 1000))
            except Exception:
                return

    # Reading -----------------------------------------------------------------------
    def settings(self) -> dict[str, Any] | None:
        """Return the settings recorded in the state, or None for a new state."""
        return recorded_settings(self.r.hget(self.p + "meta", "settings"), self.location)

    def find(self, keys: list[str]) -> dict[str, tuple[int, int]]:
        """Return (handle, fingerprint) of each given state key that the state holds."""
        out: dict[str, tuple[int, int]] = {}
        for start in range(0, len(keys), _CHUNK):
            part = keys[start : start + _CHUNK]
            handles = self.r.hmget(self.p + "docs", part)
            found = [(k, int(h)) for k, h in zip(part, handles, strict=True) if h is not None]
            if not found:
                continue
            pipe = self.r.pipeline(transaction=False)
            for _, h in found:
                pipe.hget(f"{self.p}doc:{h}", "fp")
            for (k, h), fp in zip(found, pipe.execute(), strict=True):
                out[k] = (h, int(fp))
        return out

    def known_fps(self, fps: np.ndarray) -> np.ndarray:
        """Tell, for each text fingerprint, whether some entry of the state has that text."""
        values = np.asarray(fps, dtype=np.uint64).tolist()
        out: list[bool] = []
        for start in range(0, len(values), _CHUNK):
            part = values[start : start + _CHUNK]
            out.extend(bool(v) for v in self.r.smismember(self.p + "fps", part))
        return np.array(out, dtype=bool)

    def candidates(self, keys: np.ndarray) -> np.ndarray:
        """Return the handles of entries sharing at least one band key (unique)."""
        found: set[int] = set()
        uniq = np.unique(keys).tolist()
        for start in range(0, len(uniq), _CHUNK):
            pipe = self.r.pipeline(transaction=False)
            for bk in uniq[start : start + _CHUNK]:
                pipe.smembers(f"{self.p}lsh:{bk:x}")
            for members in pipe.execute():
                found.update(int(m) for m in members)
        return np.array(sorted(found), dtype=np.int64)

    def fetch(self, handles: np.ndarray, num_perm: int) -> StoredEntries:
        """Return the entries with these handles, in handle order."""
        if len(handles) == 0:
            return StoredEntries.empty(num_perm)
        hs = sorted(int(h) for h in handles)
        pipe = self.r.pipeline(transaction=False)
        for h in hs:
            pipe.hmget(f"{self.p}doc:{h}", ["id", "key", "fp", "length", "sig"])
        rows = pipe.execute()
        return StoredEntries(
            handles=np.array(hs, dtype=np.int64),
            ids=[r[0].decode() for r in rows],
            keys=[r[1].decode() for r in rows],
            fps=np.array([int(r[2]) for r in rows], dtype=np.uint64),
            lengths=np.array([int(r[3]) for r in rows], dtype=np.int64),
            sigs=np.frombuffer(b"".join(r[4] for r in rows), dtype=np.uint32)
            .reshape(-1, num_perm)
            .copy(),
        )

    def boiler_counts(self, keys: np.ndarray) -> np.ndarray:
        """Return how many distinct documents of earlier runs had each key."""
        values: list[int] = []
        ks = [f"{k:x}" for k in np.asarray(keys, dtype=np.uint64).tolist()]
        for start in range(0, len(ks), _CHUNK):
            got = self.r.hmget(self.p + "boiler", ks[start : start + _CHUNK])
            values.extend(int(v) if v is not None else 0 for v in got)
        return np.array(values, dtype=np.int64)

    # Writing -----------------------------------------------------------------------
    def begin_commit(self, staged: Staged, settings: dict[str, Any]) -> None:
        """Queue everything staged in one MULTI/EXEC transaction; end_commit() sends it."""
        if self.r.get(self.p + "lock") != self._token.encode():
            raise StateError(f"lost the lock on {self.location}: nothing committed")
        now = time.time()
        bands, rows = int(settings["bands"]), int(settings["rows"])
        existing = self.find([e.key for e in staged.entries])
        fresh = [e for e in staged.entries if e.key not in existing]
        last = self.r.incrby(self.p + "next", len(fresh)) if fresh else 0
        handles = iter(range(last - len(fresh) + 1, last + 1))
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(
            self.p + "meta", mapping={"settings": settings_json(settings), "schema": SCHEMA_VERSION}
        )
        for e in staged.entries:
            sig = np.ascontiguousarray(e.sig, dtype=np.uint32).tobytes()
            old = existing.get(e.key)
            if old is not None:
                h = old[0]
                old_sig = self.r.hget(f"{self.p}doc:{h}", "sig")
                pipe.srem(self.p + "fps", old[1])
                if old_sig:
                    for bk in band_keys(
                        np.frombuffer(old_sig, np.uint32).reshape(1, -1), bands, rows
                    )[0].tolist():
                        pipe.srem(f"{self.p}lsh:{bk:x}", h)
                first = {}
            else:
                h = next(handles)
                first = {"first_run": staged.run_id, "first_seen": now}
            pipe.hset(self.p + "docs", e.key, h)
            pipe.hset(
                f"{self.p}doc:{h}",
                mapping={
                    "id": e.id,
                    "key": e.key,
                    "explicit": int(e.explicit),
                    "fp": int(e.fp),
                    "length": int(e.length),
                    "sig": sig,
                    "last_run": staged.run_id,
                    "last_seen": now,
                    **first,
                },
            )
            for bk in e.band_keys.tolist():
                pipe.sadd(f"{self.p}lsh:{bk:x}", h)
            pipe.sadd(self.p + "fps", int(e.fp))
        seen = self.find(staged.seen_again)
        for h, _ in seen.values():
            pipe.hset(f"{self.p}doc:{h}", mapping={"last_run": staged.run_id, "last_seen": now})
        for k, n in zip(staged.boiler_keys.tolist(), staged.boiler_counts.tolist(), strict=True):
            if n:
                pipe.hincrby(self.p + "boiler", f"{k:x}", n)
        pipe.hset(
            self.p + "runs",
            staged.run_id,
            json.dumps(
                {
                    "started": staged.started,
                    "committed": now,
                    "docs": staged.docs,
                    "dropped": staged.dropped,
                    "new": len(fresh),
                }
            ),
        )
        self._pending = pipe

    def reband(self, bands: int, rows: int, settings: dict[str, Any]) -> int:
        """Replace every lsh:BK set by ones from the stored signatures in one MULTI/EXEC.

        The new sets are computed first; the transaction deletes the old ones, adds the new
        ones and records the settings, so readers see the old index or the new one.
        """
        if self.r.get(self.p + "lock") != self._token.encode():
            raise StateError(f"lost the lock on {self.location}: nothing changed")
        old = list(self.r.scan_iter(match=self.p + "lsh:*", count=_CHUNK))
        handles = [int(h) for _key, h in self.r.hscan_iter(self.p + "docs")]
        sigs: list[bytes] = []
        for start in range(0, len(handles), _CHUNK):
            read = self.r.pipeline(transaction=False)
            for h in handles[start : start + _CHUNK]:
                read.hget(f"{self.p}doc:{h}", "sig")
            sigs.extend(read.execute())
        pipe = self.r.pipeline(transaction=True)
        for start in range(0, len(old), _CHUNK):
            pipe.delete(*old[start : start + _CHUNK])
        if handles:
            matrix = np.frombuffer(b"".join(sigs), dtype=np.uint32).reshape(len(handles), -1)
            members: dict[int, list[int]] = {}
            for h, row in zip(handles, band_keys(matrix, bands, rows).tolist(), strict=True):
                for bk in row:
                    members.setdefault(bk, []).append(h)
            for bk, hs in members.items():
                pipe.sadd(f"{self.p}lsh:{bk:x}", *hs)
        pipe.hset(self.p + "meta", "settings", settings_json(settings))
        pipe.execute()
        return len(handles)

    def end_commit(self) -> None:
        """Send the transaction queued by begin_commit()."""
        pipe, self._pending = self._pending, None
        if pipe is not None:
            if self.r.get(self.p + "lock") != self._token.encode():
                raise StateError(f"lost the lock on {self.location}: nothing committed")
            pipe.execute()

    def cancel_commit(self) -> None:
        """Drop a transaction queued by begin_commit()."""
        self._pending = None

    def has_run(self, run_id: str) -> bool:
        """Tell whether the run `run_id` was committed to this state."""
        return bool(self.r.hexists(self.p + "runs", run_id))

    def close(self) -> None:
        """Release the lock and the connection; safe to call twice."""
        import redis

        self._stop.set()
        try:
            if self._held:
                self._held = False
                self.r.eval(_RELEASE, 1, self.p + "lock", self._token)
        except redis.RedisError:
            pass  # the server is gone; the lock expires by itself (LOCK_TTL)
        finally:
            self.r.close()

    # Maintenance -------------------------------------------------------------------
    def _runs(self) -> list[dict[str, Any]]:
        runs = [
            {"run_id": k.decode(), **json.loads(v)}
            for k, v in self.r.hgetall(self.p + "runs").items()
        ]
        return sorted(runs, key=lambda r: r["committed"], reverse=True)

    def info(self) -> dict[str, Any]:
        """Return settings, counts and the last runs."""
        docs = self.r.hlen(self.p + "docs")
        runs = self._runs()
        memory = self.r.info("memory").get("used_memory")
        return {
            "location": self.location,
            "backend": "redis",
            "settings": self.settings(),
            "documents": docs,
            "boilerplate_keys": self.r.hlen(self.p + "boiler"),
            "runs": len(runs),
            "last_runs": runs[:5],
            "redis_used_memory": memory,
        }

    def prune(self, older_than_days: float | None = None, keep_runs: int | None = None) -> int:
        """Remove entries last seen before a cutoff or outside the last N runs; return how many."""
        settings = self.settings() or {}
        cutoff = time.time() - older_than_days * 86400 if older_than_days is not None else None
        recent = {r["run_id"] for r in self._runs()[:keep_runs]} if keep_runs is not None else None
        doomed: list[tuple[str, int, bytes, int]] = []
        for key, h in self.r.hscan_iter(self.p + "docs"):
            last_seen, last_run, sig, fp = self.r.hmget(
                f"{self.p}doc:{int(h)}", ["last_seen", "last_run", "sig", "fp"]
            )
            old = cutoff is not None and float(last_seen) < cutoff
            gone = recent is not None and last_run.decode() not in recent
            if old or gone:
                doomed.append((key.decode(), int(h), sig, int(fp)))
        pipe = self.r.pipeline(transaction=True)
        for key, h, sig, fp in doomed:
            pipe.srem(self.p + "fps", fp)
            keys = band_keys(
                np.frombuffer(sig, np.uint32).reshape(1, -1),
                int(settings["bands"]),
                int(settings["rows"]),
            )[0]
            for bk in keys.tolist():
                pipe.srem(f"{self.p}lsh:{bk:x}", h)
            pipe.hdel(self.p + "docs", key)
            pipe.delete(f"{self.p}doc:{h}")
        if recent is not None:
            for run in self._runs()[keep_runs:]:
                pipe.hdel(self.p + "runs", run["run_id"])
        pipe.execute()
        return len(doomed)

    def export(self) -> Iterator[dict[str, Any]]:
        """Yield one JSON-ready dict per entry."""
        for _key, h in self.r.hscan_iter(self.p + "docs"):
            d = {k.decode(): v for k, v in self.r.hgetall(f"{self.p}doc:{int(h)}").items()}
            yield {
                "id": d["id"].decode(),
                "explicit_id": bool(int(d["explicit"])),
                "fingerprint": f"{int(d['fp']):016x}",
                "length": int(d["length"]),
                "first_run": d["first_run"].decode(),
                "last_run": d["last_run"].decode(),
                "first_seen": float(d["first_seen"]),
                "last_seen": float(d["last_seen"]),
                "minhash": d["sig"].hex(),
            }
