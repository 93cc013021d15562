"""`cleanup diff` and `cleanup explain`: review what a run changed (cleanup.report works)."""

from __future__ import annotations

import sys
from typing import Any

import click

from cleanup.cli.app import cli


@cli.command(context_settings={"show_default": True})
@click.argument("before", nargs=1)
@click.argument("after", nargs=1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    help="Output format.",
)
@click.option("--stat", is_flag=True, help="Print the summary only (per document and in total).")
@click.option(
    "--context",
    type=click.IntRange(min=0),
    default=3,
    help="Unchanged paragraphs shown around each change.",
)
@click.option(
    "--audit",
    default=None,
    metavar="AUDIT.jsonl",
    help="Audit trail of the run: adds the reason (step, rule, why) to each change.",
)
@click.option("-o", "--output", default=None, metavar="FILE", help="Write here instead of stdout.")
@click.option("--force", is_flag=True, help="Replace an existing -o FILE.")
@click.option(
    "--color/--no-color", default=None, help="Color the text diff (default: on a terminal)."
)
@click.option("--text-field", default="text", help="JSONL field with the text.")
@click.option("--id-field", default="id", help="JSONL field with the id.")
def diff(before: str, after: str, fmt: str, output: str | None, **options: Any) -> None:
    """Show what changed between two corpora (files, folders or JSONL, in any mix).

    Documents are matched by id, else by the path `cleanup run -o FOLDER/` writes them to
    (a JSONL record and its FOLDER/<file>/<id>.txt), else by relative path without
    extension; repeated ids are matched in order of appearance. Exit status as diff(1):
    0 no differences, 1 differences, 2 trouble.
    """
    from cleanup.report import write_diff

    summary = write_diff(before, after, output, format=fmt, **options)
    sys.exit(1 if summary.different else 0)


@cli.command()
@click.argument("doc_id", metavar="ID")
@click.option("--audit", required=True, metavar="AUDIT.jsonl", help="Audit trail of a run.")
def explain(doc_id: str, audit: str) -> None:
    """Print one document's changes with their reasons, from a run's audit trail.

    Exit status: 0 explained; 1 the audit has no record of ID, or a line of it is damaged;
    2 AUDIT is missing or not an audit trail (empty, a corpus, text, binary).
    """
    from cleanup.report import explain as explain_document

    click.echo(explain_document(doc_id, audit), nl=False)
