"""Helpers shared by several test files: CLI runs, one-line errors, files, processes, corpora,
the environment of a local S3 server (its fixtures are in conftest.py)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cleanup.cli import cli
from cleanup.document import Document
from cleanup.engines import build_engine
from cleanup.pipeline import Context, StepCall


def invoke_run(*args: str | Path) -> Result:
    """Run `cleanup run -q ARGS` through CliRunner."""
    return CliRunner().invoke(cli, ["run", "-q", *map(str, args)])


def one_line_error(result: Result, code: int) -> str:
    """Assert the run failed with `code` and exactly one line, no traceback; return it."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


def files_under(folder: Path) -> dict[str, bytes]:
    """Return every file below `folder` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def aws_env(endpoint: str, credentials: bool = True) -> dict[str, str]:
    """Return the environment with AWS_* pointing at a local S3 server and nothing else's config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_CONFIG_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_DEFAULT_REGION="us-east-1",
    )
    if credentials:
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    return env


def descendants(root: int) -> set[int]:
    """Return the pids of every process below `root` (not `root` itself), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    new = {root}
    while new:
        new = {pid for pid, parent in parents.items() if parent in new} - found
        found |= new
    return found


def jsonl_with_bad_lines(tmp_path: Path, bad: set[int], total: int = 700) -> Path:
    """Write `total` JSONL records to in.jsonl, with a malformed line at each number in `bad`."""
    src = tmp_path / "in.jsonl"
    lines = [
        "{broken" if n in bad else json.dumps({"id": f"d{n}", "text": f"Story {n}.\n\nEnd {n}."})
        for n in range(1, total + 1)
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def skip_without_ray() -> None:
    """Skip the calling test when Ray is not installed.

    Checked with find_spec, not by importing Ray: Ray read before the engine has set its
    loopback environment would start with the wrong one.
    """
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")


def generated_corpus(folder: Path, docs: int, seed: int, *options: str) -> Path:
    """Write scripts/gen_corpus.py's corpus of `docs` documents in `folder`; return its JSONL."""
    cmd = [sys.executable, str(SCRIPTS / "gen_corpus.py"), "--docs", str(docs)]
    cmd += ["--seed", str(seed), "--out", str(folder), "-q", *options]
    subprocess.run(cmd, check=True)
    return folder / "corpus.jsonl"


def on_two_workers(calls: list[StepCall], docs: list[Document]) -> list[Document]:
    """Run `calls` over `docs` with the local engine's two worker processes, then close it."""
    context = Context()
    engine = build_engine("local", calls, context, workers=2)
    try:
        return list(engine(docs))
    finally:
        for close in context.on_close:
            close()
