"""Killed runs: output and state always agree, after the next run's recovery if needed.

Real subprocesses: a `cleanup run --workers 2 --state` is killed (SIGKILL or SIGTERM of the
main process) at random points, and at each step of publishing; the next run completes a
publish that was cut half-way (its journal), and no worker outlives the run.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _cleanup(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "cleanup", "run", "-q", *map(str, args)]


def _runs(state: Path) -> int:
    if not state.exists():
        return 0
    with sqlite3.connect(state) as db:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def _processes_mentioning(marker: str) -> list[int]:
    """Return the pids whose command line mentions `marker` (the run and its workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if marker.encode() in cmdline and "State:\tZ" not in status:
            found.append(int(entry))
    return found


def _wait_until_gone(marker: str, seconds: float = 2.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while True:
        left = _processes_mentioning(marker)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("kill-corpus")
    script = ROOT / "scripts" / "gen_corpus.py"
    cmd = [sys.executable, str(script), "--docs", "1200", "--seed", "11", "--out", str(folder)]
    subprocess.run([*cmd, "-q"], check=True)
    return folder / "corpus.jsonl"


@pytest.fixture(scope="module")
def reference(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """The output and audit of an unkilled day-2 run (after a day-1 run)."""
    folder = tmp_path_factory.mktemp("kill-reference")
    _day_one(folder)
    out, audit = folder / "out.jsonl", folder / "audit.jsonl"
    cmd = _cleanup(corpus, "-o", out, "--audit", audit, "--state", folder / "st.sqlite")
    subprocess.run(cmd, check=True, cwd=ROOT)
    return out.read_bytes(), audit.read_bytes()


def _day_one(folder: Path) -> None:
    day1 = folder / "day1.jsonl"
    day1.write_text('{"id": "yesterday", "text": "A story published yesterday, once."}\n')
    subprocess.run(
        _cleanup(day1, "-o", folder / "day1.out.jsonl", "--state", folder / "st.sqlite"),
        check=True,
        cwd=ROOT,
    )


def _next_day(folder: Path) -> str:
    """Run the next day's job on the same state (it recovers first); return its stderr."""
    day3 = folder / "day3.jsonl"
    day3.write_text('{"id": "tomorrow", "text": "A story published the day after."}\n')
    cmd = [
        *_cleanup(day3, "-o", folder / "day3.out.jsonl", "--state", folder / "st.sqlite"),
        "--force",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stderr


def _check_agreement(folder: Path, reference: tuple[bytes, bytes]) -> bool:
    """Assert output and state agree after the next day's run; tell whether day 2 landed."""
    out, audit = folder / "out.jsonl", folder / "audit.jsonl"
    if out.exists():
        assert out.read_bytes() == reference[0], "a partial output under the final name"
    _next_day(folder)
    landed = out.exists()
    if landed:
        assert out.read_bytes() == reference[0]
        assert audit.read_bytes() == reference[1]
    # day 1 + day 3, and day 2 exactly when its output is in place
    assert _runs(folder / "st.sqlite") == 2 + landed
    assert not (folder / "st.sqlite.journal").exists()
    return landed


def test_kills_at_random_points_leave_output_and_state_in_agreement(
    corpus: Path, reference: tuple[bytes, bytes], tmp_path: Path
) -> None:
    rng = random.Random(20261205)
    started = time.monotonic()
    folder0 = tmp_path / "timing"
    folder0.mkdir()
    _day_one(folder0)
    cmd = _cleanup(corpus, "-o", folder0 / "out.jsonl", "--state", folder0 / "st.sqlite")
    subprocess.run([*cmd, "--workers", "2"], check=True, cwd=ROOT)
    duration = time.monotonic() - started
    outcomes = []
    for point in range(20):
        folder = tmp_path / f"kill-{point}"
        folder.mkdir()
        _day_one(folder)
        how = signal.SIGKILL if point % 2 == 0 else signal.SIGTERM
        cmd = _cleanup(
            corpus, "-o", folder / "out.jsonl", "--audit", folder / "audit.jsonl",
            "--state", folder / "st.sqlite", "--workers", "2",
        )  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.05, 1.1) * duration)
        proc.send_signal(how)
        _, err = proc.communicate(timeout=60)
        if how == signal.SIGTERM and proc.returncode != 0:
            # 143: stopped by our handler; -15: killed before Python had installed it.
            assert proc.returncode in (143, -signal.SIGTERM), err
            assert b"Traceback" not in err, err
        assert _wait_until_gone(str(folder)) == [], f"workers left after {how.name}"
        outcomes.append(_check_agreement(folder, reference))
    assert not all(outcomes), "no kill landed before the end of the run"


_DIE_AT = textwrap.dedent(
    """
    import os, signal, sys
    from cleanup.io import publish, writers
    from cleanup.dedup.stores.sqlite import SQLiteStore

    point = os.environ["DIE_AT"]
    die = lambda: os.kill(os.getpid(), signal.SIGKILL)
    real_journal, real_publish, real_end = publish.write_journal, writers.AtomicFile.publish, (
        SQLiteStore.end_commit)

    def write_journal(path, journal):
        real_journal(path, journal)
        if point == "journal":
            die()

    def publish_file(self):
        if point == "output" and self.final.endswith("out.jsonl"):
            die()
        real_publish(self)

    def end_commit(self):
        if point == "state":
            die()
        real_end(self)
        if point == "after-state":
            die()

    publish.write_journal = write_journal
    writers.AtomicFile.publish = publish_file
    SQLiteStore.end_commit = end_commit
    from cleanup.cli import main
    sys.argv = ["cleanup", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.parametrize("point", ["journal", "output", "state", "after-state"])
def test_a_run_killed_while_publishing_is_completed_by_the_next_run(
    corpus: Path, reference: tuple[bytes, bytes], tmp_path: Path, point: str
) -> None:
    _day_one(tmp_path)
    cmd = [
        sys.executable, "-c", _DIE_AT, "run", "-q", str(corpus), "-o", str(tmp_path / "out.jsonl"),
        "--audit", str(tmp_path / "audit.jsonl"), "--state", str(tmp_path / "st.sqlite"),
    ]  # fmt: skip
    killed = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "DIE_AT": point}, check=False)
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "st.sqlite.journal").exists()
    if point == "output":
        assert (tmp_path / "audit.jsonl").exists() and not (tmp_path / "out.jsonl").exists()
    err = _next_day(tmp_path)
    assert "completed the publish of run" in err
    assert (tmp_path / "out.jsonl").read_bytes() == reference[0]
    assert (tmp_path / "audit.jsonl").read_bytes() == reference[1]
    assert _runs(tmp_path / "st.sqlite") == 3


def test_a_damaged_journal_is_one_line_and_touches_nothing(tmp_path: Path) -> None:
    _day_one(tmp_path)
    journal = tmp_path / "st.sqlite.journal"
    journal.write_bytes(b"not a journal")
    day3 = tmp_path / "day3.jsonl"
    day3.write_text('{"id": "t", "text": "x"}\n')
    cmd = _cleanup(day3, "-o", tmp_path / "o.jsonl", "--state", tmp_path / "st.sqlite")
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "journal" in done.stderr, done.stderr
    assert journal.read_bytes() == b"not a journal"
    assert not (tmp_path / "o.jsonl").exists()
