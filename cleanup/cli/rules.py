"""`cleanup rules list|test`: show the artifact rules, and run a user's rules file's examples.

The rules load as the strip-artifacts step loads them (cleanup.rules); the examples run with
the checker the built-ins' tests use (cleanup.steps.artifacts.examples).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from cleanup.cli.app import cli
from cleanup.errors import UsageProblem
from cleanup.rules import RULES_DIR, Rule, languages, load_rule_file, load_rules, rule_language

_COLUMNS = ("id", "language", "action", "description")


@cli.group()
def rules() -> None:
    """List the artifact rules (built-in and your own) and test a rules file's examples."""


@rules.command("list")
@click.option(
    "--lang",
    default=None,
    metavar="LANG",
    help="Only the rules filed under this language (any, de, en, es, fr).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="An aligned table, or one JSON object per line.",
)
@click.option(
    "--rules-file",
    "rules_files",
    multiple=True,
    metavar="FILE",
    help="Also list the [[rule]] tables of this TOML file (repeatable), as --rules-file "
    "adds them to a run: a rule with a built-in's id replaces it.",
)
def rules_list(lang: str | None, fmt: str, rules_files: tuple[str, ...]) -> None:
    """Print every rule with its id, language, action and description."""
    if lang is not None and lang not in languages():
        raise UsageProblem(f"--lang {lang}: no such language (choose {', '.join(languages())})")
    shown = [r for r in load_rules(rules_files) if lang is None or rule_language(r) == lang]
    rows = [_row(r) for r in shown]
    if fmt == "json":
        for rule, row in zip(shown, rows, strict=True):
            click.echo(json.dumps({**row, "source": _source(rule)}, ensure_ascii=False))
    else:
        for line in _table(rows):
            click.echo(line)


def _row(rule: Rule) -> dict[str, str]:
    """Return the listed fields of one rule."""
    return {
        "id": rule.id,
        "language": rule_language(rule),
        "action": rule.action,
        "description": rule.description,
    }


def _source(rule: Rule) -> str:
    """Return where a rule comes from: 'built-in' or the user's rules file as given."""
    return "built-in" if Path(rule.source).parent == RULES_DIR else rule.source


def _table(rows: Sequence[dict[str, str]]) -> list[str]:
    """Return `rows` as lines of a table under a header, every column but the last padded."""
    lines = [{c: c.upper() for c in _COLUMNS}, *rows]
    widths = {c: max(len(line[c]) for line in lines) for c in _COLUMNS[:-1]}
    return [
        "  ".join([*(line[c].ljust(widths[c]) for c in _COLUMNS[:-1]), line[_COLUMNS[-1]]])
        for line in lines
    ]


@rules.command("test")
@click.argument("rules_file", metavar="FILE.toml")
@click.option(
    "--disable-rule",
    "disabled",
    multiple=True,
    metavar="ID",
    help="Leave out a built-in rule (repeatable), as the run you test for would.",
)
def rules_test(rules_file: str, disabled: tuple[str, ...]) -> None:
    """Run the examples of a rules file: examples_match must be removed, examples_keep stay.

    The file loads as --rules-file loads it, with the built-in rules in effect too, so a
    keep example another rule would remove fails (unless --disable-rule leaves that rule
    out). Exit status 0 when every example passes, 1 when some fail, 2 when the file cannot
    be loaded.
    """
    from cleanup.steps.artifacts import REPEATED
    from cleanup.steps.artifacts.examples import check_examples, count_examples

    own = [r for r in load_rule_file(rules_file) if r.id not in disabled]
    in_effect = load_rules([rules_file], disabled, known_ids=(REPEATED,))
    failures = check_examples(own, in_effect)
    for failure in failures:
        click.echo(failure.line())
    total = count_examples(own)
    if failures:
        click.echo(f"{len(failures)} of {total} examples fail")
        raise click.exceptions.Exit(1)
    click.echo(f"{len(own)} rules, {total} examples: all pass")
