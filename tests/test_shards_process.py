"""Sharded output in real processes: a SIGTERM mid-run, and the README's example as shown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_shards import leftovers


def test_sigterm_leaves_no_part_and_no_manifest(tmp_path: Path) -> None:
    """A run stopped by SIGTERM after parts were finished in staging publishes none of them."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "cleanup", "pipe", "-i", "-", "-o", f"{out}/", "--workers", "1"]
    cmd += ["--format", "jsonl", "--shard-size", "50", "normalize"]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    stop = threading.Event()

    def feed() -> None:
        assert proc.stdin is not None
        n = 0
        try:
            while not stop.is_set():
                block = "".join(
                    json.dumps({"id": f"d{n + k}", "text": f"Line {n + k}."}) + "\n"
                    for k in range(2000)
                )
                proc.stdin.write(block.encode())
                n += 2000
        except (BrokenPipeError, ValueError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        deadline = time.monotonic() + 120  # a cap on waiting, not a speed requirement
        while not list(tmp_path.glob(".out.cleanup-tmp-*/part-00001.jsonl")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        status = proc.wait(timeout=120)
    finally:
        stop.set()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert status == 143
    assert leftovers(tmp_path) == []


def _readme_example() -> list[tuple[str, str]]:
    """Return the README's sharded output example as (command, expected stdout) pairs."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Sharded output", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    steps: list[tuple[str, str]] = []
    lines = block.splitlines()
    while lines:
        command = lines.pop(0).removeprefix("$ ")
        while command.endswith("\\"):
            command = command[:-1] + lines.pop(0)
        expected = []
        while lines and not lines[0].startswith("$ "):
            expected.append(lines.pop(0))
        steps.append((command, "\n".join(expected)))
    return steps


def test_the_readme_example_runs_as_shown(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    pytest.importorskip("duckdb")
    bin_dir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    steps = _readme_example()
    assert len(steps) == 5
    for command, expected in steps:
        done = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (command, done.stderr)
        shown = done.stdout.split() if command.startswith("ls") else done.stdout.splitlines()
        assert shown == (expected.split() if command.startswith("ls") else expected.splitlines())
