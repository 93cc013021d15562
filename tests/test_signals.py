"""Signals and exit statuses: a stopped run publishes nothing and leaves no worker behind.

The runs here read JSONL from a pipe that a thread of the test keeps feeding, so each run is
still busy (workers included) when it is signalled, whatever the speed of the machine. Each
child sets its own signal dispositions, so the tests also pass when pytest itself was started
with SIGINT ignored (a background job, some CI runners).
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import descendants

from cleanup import cli as cli_module
from cleanup.cli import signals as cli_signals

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
WAIT_FOR_WORKERS = 120.0  # a cap on waiting for the run to start, not a speed requirement


@pytest.fixture(scope="module")
def corpus_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    out = tmp_path_factory.mktemp("corpus")
    cmd = [sys.executable, str(SCRIPTS / "gen_corpus.py"), "--docs", "600", "--seed", "3"]
    subprocess.run([*cmd, "--out", str(out), "-q"], check=True)
    return (out / "corpus.jsonl").read_bytes().splitlines(keepends=True)


def _reset_signals() -> None:
    """Give the child default SIGINT, SIGTERM and SIGHUP, whatever pytest was started with."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class Run:
    """A `cleanup run` of standard input in its own session, fed until it stops reading."""

    def __init__(
        self,
        out: Path,
        lines: list[bytes],
        *options: str,
        rounds: int | None = None,
        preexec: Callable[[], None] = _reset_signals,
    ) -> None:
        cmd = [sys.executable, "-m", "cleanup", "run", "-", "-o", str(out), *options]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=preexec,
        )
        self.release = threading.Event()
        self.feeder = threading.Thread(target=self._feed, args=(lines, rounds), daemon=True)
        self.feeder.start()

    def _feed(self, lines: list[bytes], rounds: int | None) -> None:
        """Write the corpus again and again under fresh ids (dedup drops the repeated texts);
        after `rounds` rounds, wait for `release` and close the input."""
        assert self.proc.stdin is not None
        try:
            for n in itertools.count() if rounds is None else range(rounds):
                prefix = b'{"id": "r%d-' % n
                self.proc.stdin.write(b"".join(prefix + line[8:] for line in lines))
            self.release.wait()
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def wait_for_workers(self, count: int = 2) -> set[int]:
        """Return the run's processes below it, once `count` of them exist."""
        deadline = time.monotonic() + WAIT_FOR_WORKERS
        found: set[int] = set()
        while len(found) < count and time.monotonic() < deadline:
            assert self.proc.poll() is None, self.stderr()
            found = descendants(self.proc.pid)
            time.sleep(0.05)
        assert len(found) >= count, "the run's workers never started"
        return found

    def stderr(self) -> str:
        """Return what the run wrote on stderr (once it and its workers have ended)."""
        if self.proc.poll() is None:
            return ""
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode()

    def wait(self) -> int:
        """Wait for the main process to end (it must: a cap, not a speed requirement)."""
        return self.proc.wait(timeout=WAIT_FOR_WORKERS)

    def kill(self) -> None:
        """End whatever is left of the run's session (workers that outlived it included)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def alive(pid: int) -> bool:
    """Return whether `pid` runs (a zombie nobody reaped yet has stopped running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def left_alive(pids: set[int], seconds: float) -> set[int]:
    """Poll up to `seconds` for every pid to end; return those still running then."""
    deadline = time.monotonic() + seconds
    running = {pid for pid in pids if alive(pid)}
    while running and time.monotonic() < deadline:
        time.sleep(0.02)
        running = {pid for pid in running if alive(pid)}
    return running


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    out = tmp_path / "out"
    out.mkdir()
    yield out


def test_sigkill_of_the_main_process_leaves_no_worker(
    run_dir: Path, corpus_lines: list[bytes]
) -> None:
    """SIGKILL cannot be handled: the workers must notice on their own, within 2 seconds."""
    run = Run(run_dir / "clean.jsonl", corpus_lines, "--workers", "2")
    try:
        workers = run.wait_for_workers()
        os.kill(run.proc.pid, signal.SIGKILL)
        assert not left_alive(workers, 2.0)
    finally:
        run.kill()
    assert not (run_dir / "clean.jsonl").exists()


def _state_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("target", ["process", "group"])
def test_sigterm_stops_the_run_like_ctrl_c(
    tmp_path: Path, run_dir: Path, corpus_lines: list[bytes], target: str
) -> None:
    """SIGTERM (a timeout of cron, systemd, Kubernetes) to the main process or to the whole group
    (systemd's default): exit 143, one line, nothing published, the dedup state as it was, no
    worker left 2 s later."""
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    state = state_dir / "st.sqlite"
    first = tmp_path / "first.jsonl"
    first.write_bytes(b"".join(corpus_lines[:20]))
    cmd = [
        sys.executable,
        "-m",
        "cleanup",
        "run",
        "-q",
        str(first),
        "-o",
        str(tmp_path / "f.jsonl"),
    ]
    subprocess.run([*cmd, "--state", str(state)], check=True)
    before = _state_files(state_dir)
    options = ("--workers", "2", "--stats", str(run_dir / "s.json"), "--state", str(state))
    run = Run(run_dir / "clean.jsonl", corpus_lines, *options)
    try:
        workers = run.wait_for_workers()
        if target == "group":
            os.killpg(run.proc.pid, signal.SIGTERM)
        else:
            os.kill(run.proc.pid, signal.SIGTERM)
        status = run.wait()
        assert not left_alive(workers, 2.0)
        err = run.stderr()
    finally:
        run.kill()
    assert status == 143, err
    assert err == "Stopped by SIGTERM.\n"
    assert list(run_dir.iterdir()) == []
    assert _state_files(state_dir) == before


@pytest.mark.parametrize(
    ("signum", "status", "said", "extra"),
    [
        # The terminal or SSH session closed (SIGHUP to the group). Before, the default action
        # killed the main process at once and left its temporary files.
        (signal.SIGHUP, 129, "Stopped by SIGHUP.\n", ("--audit", "a.jsonl")),
        # Ctrl-C in a terminal signals the whole process group.
        (signal.SIGINT, 130, "Stopped by Ctrl-C.\n", ()),
    ],
)
def test_a_signal_to_the_group_stops_the_run_and_its_workers_quietly(
    run_dir: Path,
    corpus_lines: list[bytes],
    signum: signal.Signals,
    status: int,
    said: str,
    extra: tuple[str, ...],
) -> None:
    """One line, no worker traceback, no worker left behind, nothing published (no output
    under the final name, no side file)."""
    side = [str(run_dir / arg) if arg.endswith(".jsonl") else arg for arg in extra]
    run = Run(run_dir / "clean.jsonl", corpus_lines, "--workers", "2", *side)
    try:
        workers = run.wait_for_workers()
        os.killpg(run.proc.pid, signum)
        got = run.wait()
        assert not left_alive(workers, 2.0)
        err = run.stderr()
    finally:
        run.kill()
    assert got == status, err
    assert err == said
    assert list(run_dir.iterdir()) == []


_ORPHAN = """
import os, sys, time
from cleanup.engines import processes
processes._set_parent_death_signal = lambda signum: False  # as off Linux
if os.fork() == 0:
    processes.die_with_parent(os.getppid())
    print(os.getpid(), flush=True)
    time.sleep(600)
    os._exit(0)
time.sleep(600)
"""


def test_a_worker_off_linux_notices_its_parent_died() -> None:
    """The fallback without PR_SET_PDEATHSIG: a thread that sees the parent id change."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN], stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], WAIT_FOR_WORKERS)
        assert ready, "the child never got ready"
        child = int(proc.stdout.readline())
        assert alive(child)
        os.kill(proc.pid, signal.SIGKILL)
        assert not left_alive({child}, 2.0)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _ignore_sigint() -> None:
    _reset_signals()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ignore_sighup() -> None:
    _reset_signals()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("signum", "ignore"), [(signal.SIGINT, _ignore_sigint), (signal.SIGHUP, _ignore_sighup)]
)
def test_a_run_started_with_a_stop_signal_ignored_keeps_ignoring_it(
    run_dir: Path, corpus_lines: list[bytes], signum: int, ignore: Callable[[], None]
) -> None:
    """`nohup cleanup ... &` must survive a Ctrl-C at the terminal it was started from, and
    the terminal closing (SIGHUP, which nohup ignores).

    (A guard on the choice to honour an inherited SIG_IGN rather than reset the signal.)"""
    out = run_dir / "clean.jsonl"
    run = Run(out, corpus_lines, "--workers", "2", rounds=3, preexec=ignore)
    try:
        run.wait_for_workers()
        os.killpg(run.proc.pid, signum)
        run.release.set()
        status = run.wait()
        err = run.stderr()
    finally:
        run.kill()
    assert status == 0, err
    assert "Stopped" not in err
    assert out.read_bytes().startswith(b'{"id": "r0-doc-0000000"')


@pytest.fixture
def main_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Call main() here without leaving its signal handlers in the test process."""
    monkeypatch.setattr(cli_module, "catch_stop_signals", lambda: None)


@pytest.mark.usefixtures("main_in_process")
def test_main_turns_an_unexpected_error_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**_: object) -> None:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(cli_module, "cli", broken)
    monkeypatch.setattr(sys, "argv", ["cleanup", "run", "in.jsonl", "-q"])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == 1
    assert capsys.readouterr().err == "Error: the disk caught fire\n"


@pytest.mark.usefixtures("main_in_process")
@pytest.mark.parametrize("flag", ["-v", "--verbose", "-qv"])
def test_main_shows_the_traceback_under_verbose(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    def broken(**_: object) -> None:
        raise KeyError("dedup")

    monkeypatch.setattr(cli_module, "cli", broken)
    monkeypatch.setattr(sys, "argv", ["cleanup", "run", "in.jsonl", flag])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert err.endswith("\nError: 'dedup'\n")


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["run", "x", "-ov"], False),  # -o's value is "v"
        (["pipe", "-i", "x", "normalize", "--", "-v"], False),
        (["run", "x", "--verbose"], True),
        (["run", "x", "-q"], False),
    ],
)
def test_verbose_is_read_from_the_command_line(argv: list[str], verbose: bool) -> None:
    assert cli_module._wants_traceback(argv) is verbose


@pytest.mark.usefixtures("main_in_process")
@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_main_exits_128_plus_the_signal(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    signum: int,
    status: int,
) -> None:
    def stopped(**_: object) -> None:
        raise cli_module.Stopped(signum)

    monkeypatch.setattr(cli_module, "cli", stopped)
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == status
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.usefixtures("main_in_process")
def test_a_stop_signal_wins_over_the_error_c_code_made_of_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stopped raised inside C code (Ray's, numpy's) can come out as a SystemError."""

    def mangled(**_: object) -> None:
        raise SystemError("<built-in method __new__> returned a result with an exception set")

    monkeypatch.setattr(cli_module, "cli", mangled)
    monkeypatch.setattr(cli_signals, "received", [signal.SIGTERM])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    assert exited.value.code == 143
    assert capsys.readouterr().err == "Stopped by SIGTERM.\n"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _ray_processes(run: Run) -> set[int]:
    """Wait until Ray runs the run's tasks; return every process below the driver then."""
    deadline = time.monotonic() + WAIT_FOR_WORKERS
    while time.monotonic() < deadline:
        assert run.proc.poll() is None, run.stderr()
        found = descendants(run.proc.pid)
        if any(_cmdline(pid).startswith("ray::_call") for pid in found):
            return found
        time.sleep(0.1)
    raise AssertionError("Ray never ran a task")


needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is not installed (pip install 'cleanup[ray]')",
)


@needs_ray
def test_sigterm_of_a_ray_driver_publishes_nothing_and_stops_ray(
    run_dir: Path, corpus_lines: list[bytes]
) -> None:
    """ray.init installs its own SIGTERM handler (sys.exit(15)); ours must stay in charge."""
    run = Run(run_dir / "clean.jsonl", corpus_lines, "--workers", "2", "--engine", "ray")
    try:
        ray_processes = _ray_processes(run)
        os.kill(run.proc.pid, signal.SIGTERM)
        status = run.wait()
        assert not left_alive(ray_processes, 2.0)
        err = run.stderr()
    finally:
        run.kill()
    assert status == 143, err
    assert err.splitlines()[-1] == "Stopped by SIGTERM.", err  # after any notice of Ray
    assert "Traceback" not in err
    assert list(run_dir.iterdir()) == []
