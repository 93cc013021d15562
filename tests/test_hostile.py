"""Hostile files given where a run expects its own kind of file (an audit trail, a config, a
rules file): each is one `Error:` line naming the file, with the exit status of its kind, never
a bare Python message such as "maximum recursion depth exceeded"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from helpers import one_line_error

from cleanup.cli import cli

ROOT = Path(__file__).parent.parent
DEEP_JSON = '{"id": "a", "rule": "r", "n": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
DEEP_TOML = "a = " + "[" * 100_000 + "]" * 100_000 + "\n"


def _invoke(*args: str | Path) -> str:
    return one_line_error(CliRunner().invoke(cli, [*map(str, args)]), 2)


def test_a_deeply_nested_audit_line_is_named_by_explain_and_diff(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    audit.write_text(DEEP_JSON)
    line = _invoke("explain", "a", "--audit", audit)
    assert "not an audit trail" in line and "nested too deep" in line
    page = tmp_path / "a.txt"
    page.write_text("Hello.\n")
    line = _invoke("diff", page, page, "--audit", audit)
    assert str(audit) in line and "nested too deep" in line
    record = {"id": "a", "rule": "r", "step": "s"}
    audit.write_text(json.dumps(record) + "\n" + DEEP_JSON)  # damage to a real audit: line 2
    result = CliRunner().invoke(cli, ["explain", "a", "--audit", str(audit)])
    assert f"{audit}:2: malformed audit line" in one_line_error(result, 1)


def test_a_deeply_nested_or_undecodable_toml_file_is_one_usage_line(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text('{"id": "a", "text": "Hello."}\n')
    deep, latin = tmp_path / "deep.toml", tmp_path / "latin.toml"
    deep.write_text(DEEP_TOML)
    latin.write_bytes(b'a = "caf\xe9"\n')
    for path, why in ((deep, "nested too deep"), (latin, "can't decode")):
        line = _invoke("run", corpus, "--config", path)
        assert f"--config {path}: not valid TOML" in line and why in line
        line = _invoke("run", corpus, "--rules-file", path)
        assert f"rules file {path}: not valid TOML" in line and why in line
        assert f"rules file {path}: not valid TOML" in _invoke("rules", "test", path)


def test_a_reader_of_standard_output_that_goes_away_ends_the_run_with_141(tmp_path: Path) -> None:
    # click turned the BrokenPipeError into exit status 1, the status of bad input.
    corpus = tmp_path / "in.jsonl"
    lines = (json.dumps({"id": f"d{i}", "text": f"Document {i} here."}) for i in range(20_000))
    corpus.write_text("\n".join(lines) + "\n")
    cmd = [sys.executable, "-m", "cleanup", "run", "-q", str(corpus), "--scope", "document"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b'{"id": "d0"')
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read()
    assert proc.wait() == 141 and err == b""
