"""`cleanup diff` and `cleanup explain` through click: formats, exit statuses, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report import make_corpora

from cleanup.cli import cli

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def corpora(tmp_path: Path) -> tuple[Path, Path, Path]:
    return make_corpora(tmp_path)


def test_diff_of_a_corpus_with_itself_exits_0(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["diff", str(FIXTURES), str(FIXTURES)])
    assert result.exit_code == 0, result.output
    assert "0 changed, 2 unchanged, 0 dropped, 0 added" in result.output


def test_diff_with_differences_exits_1(runner: CliRunner, corpora: tuple[Path, ...]) -> None:
    before, after, audit = corpora
    result = runner.invoke(cli, ["diff", str(before), str(after), "--audit", str(audit)])
    assert result.exit_code == 1, result.output
    assert "- Story highlights\n    # strip-artifacts/short-line:" in result.output
    assert "2 changed, 0 unchanged, 1 dropped, 0 added" in result.output
    assert "\x1b[" not in result.output  # not a terminal: plain


def test_diff_color_and_stat_and_context(runner: CliRunner, corpora: tuple[Path, ...]) -> None:
    before, after, _ = corpora
    colored = runner.invoke(cli, ["diff", str(before), str(after), "--color", "--context", "0"])
    assert colored.exit_code == 1 and "\x1b[31m- Story highlights" in colored.output
    stat = runner.invoke(cli, ["diff", str(before), str(after), "--stat"])
    assert stat.exit_code == 1
    assert " copies/cnn_copy.txt | dropped" in stat.output and "\n- " not in stat.output


def test_diff_json_and_html_to_a_file(
    runner: CliRunner, corpora: tuple[Path, ...], tmp_path: Path
) -> None:
    before, after, audit = corpora
    result = runner.invoke(cli, ["diff", str(before), str(after), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["summary"]["dropped"] == 1
    page = tmp_path / "diff.html"
    result = runner.invoke(
        cli, ["diff", str(before), str(after), "--format", "html", "-o", str(page),
              "--audit", str(audit)]
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.output == ""
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_diff_trouble_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(cli, ["diff", str(FIXTURES), str(tmp_path / "nope")])
    assert missing.exit_code == 2
    assert "nope: no such file or folder" in missing.output
    bad_audit = tmp_path / "audit.jsonl"
    bad_audit.write_text("not json\n")
    result = runner.invoke(cli, ["diff", str(FIXTURES), str(FIXTURES), "--audit", str(bad_audit)])
    assert result.exit_code == 2 and "audit.jsonl: not an audit trail" in result.output
    bad_audit.write_text('{"id": "x", "rule": "r"}\nnot json\n')
    result = runner.invoke(cli, ["diff", str(FIXTURES), str(FIXTURES), "--audit", str(bad_audit)])
    assert result.exit_code == 2 and "audit.jsonl:2: malformed audit line" in result.output
    usage = runner.invoke(cli, ["diff", str(FIXTURES)])
    assert usage.exit_code == 2


def test_explain_prints_one_documents_edits(runner: CliRunner, corpora: tuple[Path, ...]) -> None:
    _, _, audit = corpora
    result = runner.invoke(cli, ["explain", "cnn_sessions.txt", "--audit", str(audit)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("cnn_sessions.txt: ")
    assert "strip-artifacts/short-line: removed paragraph 1" in result.output


def test_explain_unknown_id_fails_with_a_message(
    runner: CliRunner, corpora: tuple[Path, ...]
) -> None:
    _, _, audit = corpora
    result = runner.invoke(cli, ["explain", "nothing-like-it", "--audit", str(audit)])
    assert result.exit_code != 0
    assert "'nothing-like-it' is not in the audit trail" in result.output
    assert "Traceback" not in result.output


def test_explain_with_a_malformed_audit_fails_with_a_message(
    runner: CliRunner, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    audit.write_text('{"id": "x", "rule": "r"}\n{oops\n')
    result = runner.invoke(cli, ["explain", "x", "--audit", str(audit)])
    assert result.exit_code == 1
    assert "audit.jsonl:2: malformed audit line" in result.output
    assert "Traceback" not in result.output
