"""Publish a run as one unit: files renamed into place, then the state committed.

Every file of a run is written under a temporary name and fsynced first (see writers.py).
Only then does publishing start: the state's transaction is prepared (invisible to others),
a journal naming every rename and the state's pending commit is written, the side files are
renamed into place, then the output, the folders are fsynced, the state is committed, and
the journal is removed. A failure before the journal leaves no new file and the state
untouched. A run killed after it leaves the journal, which the next run that writes to the
same state (or output) finds before it reads anything: it completes the renames whose
temporaries remain and commits the state unless the state already holds that run. So after
a kill at any point, output and state agree.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cleanup import stopsignals
from cleanup.errors import CleanupError, JournalError

JOURNAL_VERSION = 1


class Finished(Protocol):
    """A file written in full under a temporary name, ready to be renamed into place."""

    tmp: str
    final: str

    def publish(self) -> None: ...


class PendingState(Protocol):
    """A state commit that can be applied later, by another process (it is pickled)."""

    location: str

    def apply(self) -> bool: ...


@runtime_checkable
class TwoPhase(Protocol):
    """A state commit in two phases: prepare (invisible), then commit; `pending` for later."""

    pending: PendingState

    def prepare(self) -> None: ...
    def commit(self) -> None: ...


@dataclass
class Journal:
    """What a run publishes: renames (temporary -> final) and the pending state commits."""

    run_id: str
    renames: list[tuple[str, str]] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)
    version: int = JOURNAL_VERSION


def fsync_path(path: str) -> None:
    """Flush a file's or folder's data to disk (folders: the names in them)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_parents(paths: Sequence[str]) -> None:
    """Flush the folders holding `paths`, so renames inside them survive a power cut."""
    for folder in sorted({os.path.dirname(p) or "." for p in paths}):
        with contextlib.suppress(OSError):  # some file systems cannot fsync a folder
            fsync_path(folder)


def write_journal(path: str, journal: Journal) -> None:
    """Write the journal atomically (temporary, fsync, rename, fsync the folder)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as fh:
            pickle.dump(journal, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        message = f"cannot write the publish journal {path}: {exc.strerror or exc}"
        raise JournalError(message) from None
    fsync_parents([path])


def publish(
    journal_path: str | None,
    run_id: str,
    files: Sequence[Finished],
    callbacks: Sequence[Callable[[], None] | TwoPhase],
    remote: Callable[[], None] | None = None,
) -> None:
    """Rename `files` into place in order (the output last), then commit the state.

    `remote` publishes the run's files on object storage (cleanup/io/remote.py): it runs
    after the state commits are prepared and before the journal, so that a failure there
    publishes nothing and a prepared state is not lost to it.

    `callbacks` run after the renames; a two-phase one (a StateCommit) is prepared before
    the first rename, so that a full disk or a lost server stops the run with nothing
    published. With a journal path, the journal (renames and pending commits) is written
    before the first rename and removed after the commit, so that a run killed in between
    is completed by the next one. Ctrl-C and SIGTERM wait until publishing is over (a kill
    cannot: the journal covers it); a failure after the journal was written leaves the
    temporaries for the next run to complete.
    """
    states = [c for c in callbacks if isinstance(c, TwoPhase)]
    with stopsignals.held():
        for state in states:
            state.prepare()
        if remote is not None:
            remote()
        if journal_path and (files or states):
            renames = [(f.tmp, f.final) for f in files]
            write_journal(journal_path, Journal(run_id, renames, [s.pending for s in states]))
        else:
            journal_path = None
        try:
            for f in files:
                f.publish()
            fsync_parents([f.final for f in files])
            for callback in callbacks:
                (callback.commit if isinstance(callback, TwoPhase) else callback)()
        except CleanupError as exc:
            if journal_path is None:
                raise
            raise JournalError(
                f"{exc}; publishing stopped half-way: the next run with the same "
                f"{'state' if states else 'output'} completes it (journal {journal_path})"
            ) from None
        if journal_path:
            with contextlib.suppress(FileNotFoundError):
                os.remove(journal_path)


def recover(journal_path: str | None, note: Callable[[str], None] | None = None) -> bool:
    """Complete the publish of a run killed while publishing; tell whether there was one."""
    if not journal_path or not os.path.exists(journal_path):
        return False
    try:
        with open(journal_path, "rb") as fh:
            journal = pickle.load(fh)
        if not isinstance(journal, Journal) or journal.version != JOURNAL_VERSION:
            raise ValueError("not a cleanup publish journal")
    except Exception as exc:  # a damaged journal: say so, touch nothing
        raise JournalError(
            f"{journal_path}: cannot read the publish journal of an earlier run ({exc}); "
            "check that run's output, then move the journal aside"
        ) from None
    from cleanup.io.temporaries import replace_into_place

    done = 0
    for tmp, final in journal.renames:
        if os.path.lexists(tmp):
            try:
                replace_into_place(tmp, final)
            except OSError as exc:
                raise JournalError(
                    f"{journal_path}: cannot complete the earlier run's rename of {final}: "
                    f"{exc.strerror or exc}"
                ) from None
            done += 1
    fsync_parents([final for _, final in journal.renames])
    committed = sum(1 for state in journal.states if state.apply())
    os.remove(journal_path)
    if note:
        note(
            f"completed the publish of run {journal.run_id}, which was stopped while publishing:"
            f" {done} file(s) renamed into place, {committed} state commit(s) applied"
        )
    return True


def sync_tree(folder: str) -> None:
    """Flush a folder's files and subfolders to disk.

    On Linux one syncfs(2) call flushes the whole file system holding the folder, which is
    far cheaper than one fsync per file for thousands of small files; elsewhere each file
    and folder is fsynced.
    """
    if _syncfs(folder):
        return
    for here, _dirs, files in os.walk(folder):
        for name in files:
            fsync_path(os.path.join(here, name))
        fsync_path(here)


def _syncfs(folder: str) -> bool:
    """Call syncfs(2) on the folder's file system; tell whether it was available."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno), folder)
    finally:
        os.close(fd)
    return True
