"""Ray retries a task whose worker died: the run still gives the local engine's output.

Every task's writes are safe to do twice (scratch files under fresh names, written
atomically), and whatever Ray prints about the dead worker goes to standard error, never into
an output written to standard output.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import descendants

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
WAIT = 180.0  # a cap on waiting for a task to start, not a speed requirement


def _task_process(root: int, proc: subprocess.Popen[bytes]) -> int:
    """Return the pid of a Ray worker running one of the run's tasks."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and proc.poll() is None:
        for pid in descendants(root):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(b"ray::_call"):
                return pid
        time.sleep(0.02)
    raise AssertionError(f"no task seen running (run status {proc.poll()})")


def test_a_killed_task_is_retried_and_standard_output_stays_clean(tmp_path: Path) -> None:
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")
    cmd = [sys.executable, str(SCRIPTS / "gen_corpus.py"), "--docs", "6000", "--seed", "9"]
    subprocess.run([*cmd, "--out", str(tmp_path / "c"), "-q"], check=True)
    corpus = str(tmp_path / "c" / "corpus.jsonl")
    run = [sys.executable, "-m", "cleanup", "run", corpus]
    local = subprocess.run([*run, "--workers", "1"], capture_output=True, check=True).stdout
    with open(tmp_path / "ray.jsonl", "wb") as out:
        proc = subprocess.Popen(
            [*run, "--engine", "ray", "--workers", "2"], stdout=out, stderr=subprocess.PIPE
        )
        try:
            os.kill(_task_process(proc.pid, proc), signal.SIGKILL)
            _, err = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err.decode()
    assert (tmp_path / "ray.jsonl").read_bytes() == local
    assert b"Traceback" not in err
