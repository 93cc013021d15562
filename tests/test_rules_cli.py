"""`cleanup rules list|test` through click, as a user runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cleanup.cli import cli
from cleanup.rules import builtin_rules, load_rule_file, rule_language
from cleanup.steps.normalize import fold

GOOD = """\
[[rule]]
id = "my-newsletter"
description = "a newsletter sign-up prompt"
match = '''sign up for (?:our|the) (?P<name>[^.!]+) newsletter[.!]?'''
max_words = 3
examples_match = ["Sign up for our Morning Brief newsletter.", "Sign up for the Daily newsletter!"]
examples_keep = ["Sign up for our newsletter if you want more stories like this one every day."]
"""

FAILING = """\
[[rule]]
id = "my-promo"
description = "a promo line"
match = "promo: (?P<what>.+)"
max_words = 2
examples_match = ["Promo: two words", "Promo: far too many words here"]
examples_keep = ["Promo: ok"]
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _file(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_list_shows_every_builtin_rule_as_an_aligned_table(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "LANGUAGE", "ACTION", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == [r.id for r in builtin_rules()]
    starts = {line.index(line.split()[1], len(line.split()[0])) for line in lines}
    assert len(starts) == 1  # the language column starts at the same place on every line


def test_list_filters_by_language_as_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "list", "--lang", "de", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    expected = [r for r in builtin_rules() if rule_language(r) == "de"]
    assert [row["id"] for row in rows] == [r.id for r in expected] != []
    assert {row["language"] for row in rows} == {"de"}
    assert rows[0]["description"] == expected[0].description
    assert {row["source"] for row in rows} == {"built-in"}
    assert set(rows[0]) == {"id", "language", "action", "description", "source"}


def test_list_adds_the_users_rules(runner: CliRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD)
    result = runner.invoke(cli, ["rules", "list", "--rules-file", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {json.loads(line)["id"]: json.loads(line) for line in result.stdout.splitlines()}
    assert rows["my-newsletter"]["source"] == str(path)
    assert rows["my-newsletter"]["language"] == "any"
    assert len(rows) == len(builtin_rules()) + 1


def test_list_unknown_language_is_one_line_and_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "list", "--lang", "xx"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: --lang xx: no such language (choose any, de, en, es, fr)"
    ]


def test_test_passes_a_good_file(runner: CliRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD)
    before = path.read_bytes()
    result = runner.invoke(cli, ["rules", "test", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 rules, 3 examples: all pass\n"
    assert path.read_bytes() == before


def test_test_names_each_failing_example(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["rules", "test", str(_file(tmp_path, FAILING))])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("my-promo: match example 'Promo: far too many words here' ")
    assert "max_words 2" in lines[0]
    assert lines[1] == "my-promo: keep example 'Promo: ok' is removed by my-promo (its own rule)"
    assert lines[2:] == ["2 of 3 examples fail"]


def test_test_fails_a_keep_example_a_builtin_removes(runner: CliRunner, tmp_path: Path) -> None:
    text = GOOD.replace(
        '"Sign up for our newsletter if', '"Scroll down for video", "Sign up for our newsletter if'
    )
    result = runner.invoke(cli, ["rules", "test", str(_file(tmp_path, text))])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "my-newsletter: keep example 'Scroll down for video' is removed by en-video-prompt",
        "1 of 4 examples fail",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[rule]]\nid = 'x'\n", "'description'"),
        ("not toml = [", "not valid TOML"),
        ("[[rule]]\nid = 'x'\ndescription = 'd'\nmatch = '('\n", "bad regex"),
    ],
)
def test_test_broken_file_is_one_line_and_exit_2(
    runner: CliRunner, tmp_path: Path, text: str, problem: str
) -> None:
    path = _file(tmp_path, text)
    result = runner.invoke(cli, ["rules", "test", str(path)])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: rules file {path}") and problem in line
    assert result.stdout == ""


def test_test_missing_file_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["rules", "test", str(tmp_path / "absent.toml")])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert "absent.toml: cannot read" in line


def test_readme_rules_file_passes_as_the_readme_shows(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's complete rules file is real, and `cleanup rules test` prints what it says."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("### cleanup rules\n")
    section = readme[start : readme.index("\n## ", start)]
    (toml,) = re.findall(r"```toml\n(.*?)```", section, re.S)
    console = re.findall(r"```console\n(.*?)```", section, re.S)[0].splitlines()
    monkeypatch.chdir(tmp_path)
    _file(tmp_path, toml, "newsletter.toml")
    result = runner.invoke(cli, ["rules", "test", "newsletter.toml"])
    assert result.exit_code == 0, result.output
    assert console[:2] == ["$ cleanup rules test newsletter.toml", result.stdout.rstrip("\n")]
    (rule,) = load_rule_file(tmp_path / "newsletter.toml")
    assert not rule.matches(fold("Sign up for our free weekly politics and culture newsletter"))


def test_test_disable_rule_leaves_a_builtin_out(runner: CliRunner, tmp_path: Path) -> None:
    text = GOOD.replace("examples_keep = [", 'examples_keep = ["Scroll down for video", ')
    path = _file(tmp_path, text)
    args = ["rules", "test", str(path), "--disable-rule", "en-video-prompt"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 rules, 4 examples: all pass\n"
    result = runner.invoke(cli, [*args[:3], "--disable-rule", "en-nope"])
    assert result.exit_code == 2
    assert "no rule with id en-nope" in result.stderr
