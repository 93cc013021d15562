"""The command line through click's CliRunner: run, pipe, config, exit statuses."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cleanup import __version__
from cleanup.cli import cli
from cleanup.pipeline import DEFAULT_STEPS, all_specs

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def fixtures(tmp_path: Path) -> Path:
    target = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, target)
    return target


def _tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_version_says_whether_the_dedup_kernels_are_compiled(runner: CliRunner) -> None:
    from cleanup.dedup import kernels

    said = runner.invoke(cli, ["--version"]).output
    built = kernels.native is not None
    assert ("dedup kernels: compiled" in said) is built
    assert ("not compiled" in said) is not built


def test_stdin_record_keeps_id_and_fields(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["run", "-"], input='{"id":"a","text":"x","lang":"en"}\n')
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["id"] == "a" and record["lang"] == "en" and record["text"] == "x"


def test_no_input_reads_stdin(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["run"], input='{"id":"a","text":"hello"}\n')
    assert result.exit_code == 0 and json.loads(result.stdout)["id"] == "a"


def test_terminal_stdin_is_a_usage_error(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cleanup.cli.run._stdin_is_terminal", lambda: True)
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 2 and "standard input is a terminal" in result.output


def test_run_mirrors_tree_and_force_rerun_is_identical(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = runner.invoke(cli, ["run", str(fixtures), "-o", f"{out}/"])
    assert first.exit_code == 0, first.output
    assert sorted(_tree(out)) == ["cnn_sessions.txt", "dailymail_sessions.txt"]
    before = _tree(out)
    again = runner.invoke(cli, ["run", str(fixtures), "-o", f"{out}/"])
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(cli, ["run", "-o", f"{out}/", "--force", str(fixtures)])
    assert forced.exit_code == 0, forced.output
    assert _tree(out) == before


def test_pipe_with_default_steps_equals_run(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    runner.invoke(cli, ["run", str(fixtures), "-o", f"{tmp_path / 'a'}/"])
    result = runner.invoke(
        cli, ["pipe", "-i", str(fixtures), "-o", f"{tmp_path / 'b'}/", *DEFAULT_STEPS]
    )
    assert result.exit_code == 0, result.output
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_pipe_runs_a_subset_in_the_given_order(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["pipe", "normalize", "--keep-typography"], input='{"id":"a","text":"“x”\\u00a0 y"}\n'
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"] == "“x” y"


def test_summary_line_and_stats(runner: CliRunner, fixtures: Path, tmp_path: Path) -> None:
    stats = tmp_path / "stats.json"
    result = runner.invoke(
        cli, ["run", str(fixtures), "-o", str(tmp_path / "o.jsonl"), "--stats", str(stats)]
    )
    assert result.exit_code == 0
    assert "2 documents in, 2 out" in result.stderr
    data = json.loads(stats.read_text())
    assert data["documents_in"] == 2 and data["options"]["steps"][0]["step"] == "strip-html"


def test_empty_input_is_success_that_says_so(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    result = runner.invoke(cli, ["run", str(tmp_path / "in"), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0 and "no documents" in result.stderr


def test_bad_input_exit_1_names_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id":"a","text":"x"}\n{oops\n')
    result = runner.invoke(cli, ["run", str(bad), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert f"{bad}:2: malformed JSON" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o.jsonl").exists()


def test_skip_bad_names_and_counts(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id":"a","text":"x"}\n{oops\n')
    result = runner.invoke(cli, ["run", str(bad), "--skip-bad", "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0
    assert f"skipped: {bad}:2" in result.stderr and "1 bad input skipped" in result.stderr


def test_summary_of_one_document_is_singular(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["run", "-"], input='{"id":"a","text":"x","lang":"en"}\n')
    assert result.exit_code == 0, result.output
    assert "cleanup: 1 document in, 1 out, 0 dropped; 0 paragraphs removed; 1 -> 1 byte;" in (
        result.stderr
    )


def test_run_options_for_links_and_bad_input_limit(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["run", "--help"])
    assert "--follow-links" in result.output and "--max-bad N" in result.output
    result = runner.invoke(cli, ["run", "-", "--max-bad", "-1"], input="")
    assert result.exit_code == 2 and "--max-bad" in result.output


def test_max_bad_from_the_config_file(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id":"a","text":"x"}\n{oops\n{oops\n')
    config = tmp_path / "c.toml"
    config.write_text("[run]\nmax-bad = 1\n")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(cli, ["run", str(bad), "-o", str(out), "--config", str(config)])
    assert result.exit_code == 1 and f"{bad}:3" in result.output and not out.exists()


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["run", str(FIXTURES), "-o", str(tmp_path / "out.txt")])
    assert result.exit_code == 2 and "give a folder" in result.output
    result = runner.invoke(cli, ["run", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_config_file_and_command_line_precedence(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[normalize]\nkeep-typography = true\n[run]\nid-field = "key"\n')
    record = '{"key":"k1","text":"“quoted”"}\n'
    result = runner.invoke(cli, ["run", "--config", str(config)], input=record)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"] == "“quoted”"
    assert "id" not in json.loads(result.stdout)
    result = runner.invoke(cli, ["run", "--config", str(config), "--id-field", "id"], input=record)
    assert json.loads(result.stdout)["id"] == "stdin:1"  # command line beat the config
    result = runner.invoke(
        cli, ["run", "--config", str(config), "--no-keep-typography"], input=record
    )
    assert json.loads(result.stdout)["text"] == '"quoted"'


def test_config_unknown_key_is_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[normalize]\nno-such-option = 1\n")
    result = runner.invoke(cli, ["run", "--config", str(config)], input="")
    assert result.exit_code == 2 and "no-such-option" in result.output


def test_step_option_names_are_unique_and_not_run_wide() -> None:
    run_wide = {p.name for p in cli.commands["pipe"].params}  # type: ignore[attr-defined]
    seen: dict[str, str] = {}
    for spec in all_specs():
        for option in spec.options:
            assert option.keyword not in seen, (
                f"{option.name} in {spec.name} and {seen[option.keyword]}"
            )
            assert option.keyword not in run_wide, option.name
            seen[option.keyword] = spec.name


def test_run_accepts_every_step_option() -> None:
    names = {p.name for p in cli.commands["run"].params}
    for spec in all_specs():
        assert {o.keyword for o in spec.options} <= names


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize("name", [n for n, _ in _commands(cli)])
def test_every_command_has_help_and_a_readme_section(name: str) -> None:
    command = dict(_commands(cli))[name]
    assert command.help and len(command.help.strip()) > 20
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"cleanup {name}" in readme, f"README does not mention `cleanup {name}`"


def test_workers_output_identical_to_one_process(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    for i in range(30):
        (fixtures / f"copy{i}.txt").write_text(
            f"Paragraph {i} about “news”.\n\nScroll down for video\n"
        )
    one = runner.invoke(cli, ["run", str(fixtures), "-o", str(tmp_path / "one.jsonl")])
    two = runner.invoke(
        cli, ["run", str(fixtures), "-o", str(tmp_path / "two.jsonl"), "--workers", "2"]
    )
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_audit_names_every_removed_paragraph(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    from cleanup.paragraphing import split_paragraphs
    from cleanup.steps.normalize import fold

    audit = tmp_path / "audit.jsonl"
    out = tmp_path / "out"
    result = runner.invoke(cli, ["run", str(fixtures), "-o", f"{out}/", "--audit", str(audit)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    for name in ("cnn_sessions.txt", "dailymail_sessions.txt"):
        before = split_paragraphs((fixtures / name).read_text(encoding="utf-8"))[0]
        after = {fold(p) for p in split_paragraphs((out / name).read_text(encoding="utf-8"))[0]}
        gone = [p for p in before if fold(p.replace("\u00a0", " ")) not in after]
        removed = {
            fold(r["before"])
            for r in records
            if r["id"] == name and r["kind"] in ("remove", "move")
        }
        assert gone, name
        for paragraph in gone:
            assert fold(paragraph) in removed, f"{name}: not in the audit: {paragraph[:60]}"
        assert all(r["step"] and r["rule"] for r in records)


def test_run_report_is_one_self_contained_page(
    runner: CliRunner, fixtures: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    result = runner.invoke(
        cli, ["run", str(fixtures), "-o", f"{tmp_path / 'out'}/", "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "en-story-highlights" in page and "en-video-prompt" in page
    assert not re.search(r"""(src|href)=["']?https?://""", page), "report loads something remote"
