"""Run-scoped scratch space: where workers leave what they made instead of sending it back.

With `--engine ray`, dedup's read pass has each task write its batch of documents (pickled)
to the run's scratch folder and return a `ScratchRef` of ~100 bytes, so documents never
travel through the driver or its share of the object store; the write pass's tasks read them
back. The folder is `cleanup-scratch-RUNID` under `--scratch` (default: the system's temp
folder; on a cluster of several machines, a path every machine mounts). It is removed when
the run ends, however it ends; a run killed outright leaves it behind, and the next run that
uses the same base folder removes it (its owner file names a process of this machine that no
longer exists). Writes are atomic (temporary name, then rename) under fresh names, so a task
Ray retries never reads half a file. See docs/architecture.md, "Engines".
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import pickle
import queue
import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

from cleanup.errors import UsageProblem

PREFIX = "cleanup-scratch-"
OWNER = "owner.json"


@dataclass(frozen=True)
class ScratchRef:
    """Name a file a worker wrote to scratch (picklable, small: what crosses instead of data)."""

    path: str
    size: int

    def read(self) -> bytes:
        """Return the file's bytes."""
        with open(self.path, "rb") as fh:
            return fh.read()

    def unpickle(self) -> Any:
        """Return the object pickled in the file, read as it is unpickled (the file's bytes
        are never all in memory beside the object)."""
        with open(self.path, "rb") as fh:
            return pickle.load(fh)


def put(folder: str, data: bytes) -> ScratchRef:
    """Write `data` to a new file in `folder` atomically; return its reference."""
    return put_parts(folder, [data])


def put_parts(folder: str, parts: Iterable[bytes | memoryview]) -> ScratchRef:
    """Write the parts, one after the other, to a new file in `folder` atomically."""
    name = uuid.uuid4().hex
    final = os.path.join(folder, name)
    tmp = os.path.join(folder, f".{name}.tmp")
    size = 0
    with open(tmp, "wb") as fh:
        for part in parts:
            size += fh.write(part)
    os.replace(tmp, final)
    return ScratchRef(final, size)


class _Reaper:
    """Delete files on a thread of its own, so the run goes on while the disk frees them.

    On a file system mounted with `discard` (common on cloud disks) deleting a file that was
    written back waits for its blocks to be trimmed: 3.5 GB in 5,000 files took 5.5 s on the
    machine the benchmarks run on. Files a run is done with (a million documents' shingle sets
    and token hashes: gigabytes) are handed here as soon as it is, and deleted while it
    goes on; what is left when the run ends goes with the folder (`Scratch.remove`).
    """

    def __init__(self) -> None:
        self.pid = -1
        self.work: queue.Queue[Callable[[], None]] = queue.Queue()

    def put(self, work: Callable[[], None]) -> None:
        """Run `work` (which deletes something) on the thread soon."""
        if self.pid != os.getpid():  # first use in this process (a fork copies no thread)
            self.pid = os.getpid()
            self.work = queue.Queue()
            threading.Thread(target=self._run, args=(self.work,), daemon=True).start()
        self.work.put(work)

    def settle(self) -> None:
        """Wait until everything handed over in this process is done."""
        if self.pid == os.getpid():
            self.work.join()

    @staticmethod
    def _run(work: queue.Queue[Callable[[], None]]) -> None:
        while True:
            job = work.get()
            with contextlib.suppress(OSError):
                job()
            work.task_done()


_REAPER = _Reaper()


def discard(paths: Iterable[str]) -> None:
    """Delete files in scratch that the run is done with, on a thread of their own (_Reaper)."""
    _REAPER.put(functools.partial(_unlink_each, list(paths)))


def release(fh: IO[bytes]) -> None:
    """Close a temporary file the run is done with (freeing its blocks) on the reaper's thread."""
    _REAPER.put(fh.close)


def settle() -> None:
    """Wait until what `discard` and `release` were given is deleted (tests; not the run)."""
    _REAPER.settle()


def _unlink_each(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


class Scratch:
    """Own one run's scratch folder: create it (after removing stale ones), remove it at the end."""

    def __init__(self, base: str | None, run_id: str) -> None:
        base = check_base(base)
        self.removed_stale = remove_stale(base)
        self.path = os.path.join(base, PREFIX + (run_id or uuid.uuid4().hex))
        try:
            os.mkdir(self.path, 0o700)
            owner = {"host": socket.gethostname(), "pid": os.getpid()}
            with open(os.path.join(self.path, OWNER), "w", encoding="utf-8") as fh:
                json.dump(owner, fh)
        except OSError as exc:
            self.remove()
            raise UsageProblem(
                f"--scratch {base}: cannot create the run's scratch folder ({exc.strerror})"
            ) from None

    def remove(self) -> None:
        """Delete the folder and everything in it."""
        shutil.rmtree(self.path, ignore_errors=True)


def check_base(base: str | None) -> str:
    """Return the base folder of scratch space (default: temp), refused in one line if unusable."""
    base = base or tempfile.gettempdir()
    if not os.path.isdir(base):
        raise UsageProblem(f"--scratch {base}: no such folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageProblem(f"--scratch {base}: cannot write there")
    return base


def remove_stale(base: str) -> int:
    """Remove the scratch folders under `base` whose run was on this machine and has ended."""
    host = socket.gethostname()
    removed = 0
    with contextlib.suppress(OSError), os.scandir(base) as entries:
        for entry in entries:
            if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
                continue
            owner = _owner(entry.path)
            if owner is not None and owner[0] == host and not _alive(owner[1]):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
    return removed


def _owner(folder: str) -> tuple[str, int] | None:
    """Return (host, pid) from a scratch folder's owner file; None if it is not one of ours."""
    try:
        with open(os.path.join(folder, OWNER), encoding="utf-8") as fh:
            owner = json.load(fh)
        return str(owner["host"]), int(owner["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    """Tell whether process `pid` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
