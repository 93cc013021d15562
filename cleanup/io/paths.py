"""Check every path a run will write before it reads anything (docs/architecture.md, "Safety").

A run writes its output, side files (audit, rejects, report, stats), a dedup state with its
lock, and a publish journal. Each must differ from every input and from each other, must not
lie inside an input folder or the output folder, and must have a parent folder it can write
to; missing parent folders are created, and removed again when the run fails. An existing
side file needs --force, like the output; the state and its lock exist from the second day
on. Everything found here is a usage problem (exit status 2) and costs nothing: no input was
read, no file was written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from cleanup.errors import UsageProblem
from cleanup.io.remote import check_target, is_remote, normalise

_URL_PREFIXES = ("redis://", "rediss://", "unix://")
# An output is renamed into place: over a device (/dev/null), a FIFO or a socket, as root, the
# rename would replace it with a regular file.
NOT_REGULAR = "not a regular file (a device such as /dev/null, a FIFO or a socket); give a file"


@dataclass(frozen=True)
class Target:
    """One path a run writes: the option that names it, the path, and whether it may exist."""

    option: str  # "-o", "--audit", "--state", ...
    path: str  # absolute
    may_exist: bool = False  # the state and its lock: reused run after run
    is_dir: bool = False  # the output folder

    @property
    def shown(self) -> str:
        """Return the target as messages name it: the option, then the path."""
        return f"{self.option} {self.path}"


def is_url(location: str) -> bool:
    """Tell whether a state location is a server URL rather than a file."""
    return location.startswith(_URL_PREFIXES)


def journal_path(state: str | None, output: str | None, sides: Iterable[str]) -> str | None:
    """Return where a run records its publish while it renames files and commits its state.

    Beside a file state (the next run with that state finds it); for a Redis state, in the
    user's state folder under a name derived from the URL (the next run on this machine
    finds it); without a state, beside the output, or the first side file.
    """
    if state and not is_url(state):
        return os.path.abspath(state) + ".journal"
    if state:
        base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
        digest = hashlib.sha256(state.encode()).hexdigest()[:16]
        return os.path.join(base, "cleanup", f"journal-{digest}")
    for path in (output, *sides):
        if path and path != "-" and not is_remote(path):
            folder, name = os.path.split(os.path.abspath(path.rstrip("/" + os.sep)))
            return os.path.join(folder, f".{name}.cleanup-journal")
    return None


@dataclass
class PathPlan:
    """Hold the run's targets, check them, and remember the folders the check created."""

    inputs: list[str]
    targets: list[Target]
    force: bool = False
    journal: str | None = None  # where the run records its publish (publish.py)
    sharded: bool = False  # the output folder gets parts and a manifest (--format)
    created: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Refuse paths that would lose or clobber data; create missing parent folders."""
        seen: dict[str, Target] = {}
        output_dir = next((t.path for t in self.targets if t.is_dir), None)
        if output_dir:
            output_dir = normalise(output_dir) if is_remote(output_dir) else output_dir
        for target in self.targets:
            if is_remote(target.path):  # an object store: cleanup/io/remote.py
                real = normalise(target.path)
                shown, path, is_dir = target.shown, target.path, target.is_dir
                check_target(shown, path, self.inputs, is_dir, self.force, self.sharded)
            else:
                real = os.path.realpath(target.path)
                refuse_inputs(target, real, self.inputs)
                refuse_temporary_inputs(target, self.inputs)
            if real in seen:
                raise UsageProblem(
                    f"{target.shown}: the same path as {seen[real].option}; give each its own"
                )
            seen[real] = target
            if output_dir and not target.is_dir and _inside(real, _real(output_dir)):
                raise UsageProblem(
                    f"{target.shown}: inside the output folder {output_dir}, which the run"
                    " replaces; write it elsewhere"
                )
            if not is_remote(target.path):
                self._check_existing(target)
        for target in self.targets:
            if not is_remote(target.path):
                self._make_parent(target)

    def _check_existing(self, target: Target) -> None:
        path = target.path
        if not os.path.lexists(path):
            return
        if target.is_dir:
            return  # the writer checks the output folder (empty, or --force)
        if os.path.isdir(path):
            raise UsageProblem(f"{target.shown}: is a folder; give a file name")
        if os.path.exists(path) and not os.path.isfile(path):  # the rename would replace it
            raise UsageProblem(f"{target.shown}: {NOT_REGULAR}")
        if not target.may_exist and not self.force and target.option != "-o":
            raise UsageProblem(f"{target.shown}: already exists (use --force to replace it)")

    def _make_parent(self, target: Target) -> None:
        """Create the target's missing parent folders, or refuse one that cannot hold it."""
        parent = os.path.dirname(target.path)
        missing: list[str] = []
        probe = parent
        while probe and not os.path.exists(probe):
            missing.append(probe)
            probe = os.path.dirname(probe)
        if probe and not os.path.isdir(probe):
            raise UsageProblem(f"{target.shown}: {probe} is a file, not a folder")
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except OSError as exc:
                raise UsageProblem(
                    f"{target.shown}: cannot create folder {folder}: {exc.strerror or exc}"
                ) from None
            self.created.append(folder)
        if not os.access(parent or ".", os.W_OK | os.X_OK):
            raise UsageProblem(f"{target.shown}: folder {parent} is not writable")

    def undo(self) -> None:
        """Remove the folders the check created, newest first, where they are still empty."""
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        self.created.clear()


def _real(path: str) -> str:
    """Return a path resolved as the check compares it: a URL normalised, a path real."""
    return normalise(path) if is_remote(path) else os.path.realpath(path)


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def refuse_inputs(target: Target, real: str, inputs: Iterable[str]) -> None:
    """Refuse a target that is an input, lies inside an input folder, or holds an input.

    An input under another name (a hard link) counts as the input: SQLite writes a state in
    place, and a rename over it would replace that name of the input.
    """
    for given in inputs:
        if given == "-" or is_url(given) or is_remote(given):
            continue
        path = os.path.realpath(given)
        if real == path or is_hard_link_of(real, path):  # the input, or a file in it
            raise UsageProblem(f"{target.shown}: refusing to write over the input {given}")
        if os.path.isdir(path) and _inside(real, path):
            raise UsageProblem(f"{target.shown}: refusing to write inside the input folder {given}")
        if _inside(path, real):
            holds = f"refusing to replace a folder that holds input {given}"
            raise UsageProblem(f"{target.shown}: {holds}")


def refuse_temporary_inputs(target: Target, inputs: Iterable[str]) -> None:
    """Refuse an input named as a temporary of the target (`.NAME.cleanup-tmp-PID`, or one
    inside such a folder): before writing NAME a run removes those of processes that are
    gone, so the input (the staging folder of a killed run, say) would be lost unread."""
    from cleanup.io.temporaries import temporary_of

    folder = os.path.realpath(os.path.dirname(target.path))
    name = os.path.basename(target.path)
    for given in inputs:
        if given == "-" or is_url(given) or is_remote(given):
            continue
        first = os.path.relpath(os.path.realpath(given), folder).split(os.sep)[0]
        if temporary_of(first, name) is not None:
            raise UsageProblem(
                f"{target.shown}: the input {given} is named as a temporary of it, which a run"
                " removes; rename or move the input"
            )


def is_hard_link_of(target: str, given: str) -> bool:
    """Tell whether the existing file `target` is, under another name, the input file `given`
    or a file inside the input folder `given`."""
    linked = _linked_file(target)
    return linked is not None and _holds_file(given, linked)


def _linked_file(path: str) -> tuple[int, int] | None:
    """Return (device, inode) of an existing file that has more than one name, else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st.st_nlink > 1 and not os.path.isdir(path) else None


def _holds_file(path: str, key: tuple[int, int]) -> bool:
    """Tell whether the input `path` is the file `key`, or a folder holding it (the folder is
    walked only for a target that has another name: rare)."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if (st.st_dev, st.st_ino) == key:
        return True
    if not os.path.isdir(path) or st.st_dev != key[0]:
        return False
    for folder, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                inner = os.stat(os.path.join(folder, name), follow_symlinks=False)
                if (inner.st_dev, inner.st_ino) == key:
                    return True
    return False


def plan_paths(
    inputs: list[str],
    *,
    output: str | None,
    output_is_dir: bool,
    sides: dict[str, str | None],
    states: Iterable[str],
    force: bool,
    sharded: bool = False,
    scratch: str | None = None,
) -> PathPlan:
    """Return the plan of every path a run writes (`sides` maps an option to its file).

    `sharded`: the output folder gets parts and a manifest (--format), which a URL allows.
    `scratch`: the run's scratch folder (cleanup/scratch.py), checked like the others so that
    it never lands in an input folder.
    """
    targets: list[Target] = []
    if output and output != "-":
        targets.append(Target("-o", _abs(output), is_dir=output_is_dir))
    for option, path in sides.items():
        if path:
            targets.append(Target(option, _abs(path)))
    for state in states:
        if is_remote(state):
            raise UsageProblem(
                f"--state {state}: give a local file (SQLite needs one) or a redis:// URL"
                " (Redis is the state to share between machines)"
            )
    state_files = [s for s in states if s and not is_url(s)]
    for state in state_files:
        targets.append(Target("--state", _abs(state), may_exist=True))
        targets.append(Target("--state", _abs(state) + ".lock", may_exist=True))
    journal = journal_path(
        next(iter(s for s in states if s), None), output, [p for p in sides.values() if p]
    )
    if journal:
        targets.append(Target("journal", journal, may_exist=True))
    if scratch:
        targets.append(Target("--scratch", _abs(scratch)))
    return PathPlan(list(inputs), targets, force, journal, sharded=sharded)


def _abs(path: str) -> str:
    if is_remote(path):
        return path
    return os.path.abspath(path.rstrip("/" + os.sep) or path)
