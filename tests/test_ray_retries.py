"""Ray retries a task whose worker died: the run still gives the local engine's output.

Every task's writes are safe to do twice (scratch files under fresh names, written
atomically), and whatever Ray prints about the dead worker goes to standard error, never into
an output written to standard output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import descendants, generated_corpus, skip_without_ray

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
    skip_without_ray()
    corpus = str(generated_corpus(tmp_path / "c", 6000, 9))
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
