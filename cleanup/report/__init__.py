"""Before/after reports: `cleanup diff` (text, JSON, HTML), `cleanup explain`, the run's HTML page.

Library entry points: `write_diff` (what `cleanup diff` runs), `explain`, `HtmlReport` (what
`cleanup run --report` streams documents into) and `diff_document` / `diff_corpora`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO, cast

from cleanup.errors import OptionError, UsageProblem
from cleanup.io.paths import NOT_REGULAR
from cleanup.io.writers import AtomicFile, check_not_input
from cleanup.report.corpora import verify_compressed
from cleanup.report.diff import DiffSummary, DocDiff, diff_corpora, diff_document, load_audit
from cleanup.report.explain import explain
from cleanup.report.html import HtmlReport
from cleanup.report.jsonfmt import JsonRenderer
from cleanup.report.text import TextRenderer

if TYPE_CHECKING:
    from cleanup.document import Document

FORMATS = ("text", "json", "html")


def write_diff(
    before: str | list[str],
    after: str | list[str],
    output: str | TextIO | None = None,
    *,
    format: str = "text",
    stat: bool = False,
    context: int = 3,
    audit: str | None = None,
    color: bool | None = None,
    force: bool = False,
    **read_options: Any,
) -> DiffSummary:
    """Diff two corpora (files, folders or JSONL, in any mix) and write the report.

    `output` is a file path, a stream, or None / "-" for standard output. A file path is
    written atomically (complete or not at all); it may not be an input or lie inside one,
    and an existing file is replaced only with `force`. `color` None means: color when
    writing to a terminal and NO_COLOR is not set. `read_options` go to `read_inputs`
    (text_field, id_field, input_format ...). Returns the summary; its `different` tells
    whether anything differs (diff(1)'s exit status 1).
    """
    from cleanup.io import read_inputs

    if format not in FORMATS:
        raise OptionError(f"unknown diff format {format!r}; choose from {', '.join(FORMATS)}")
    befores = [before] if isinstance(before, str) else list(before)
    afters = [after] if isinstance(after, str) else list(after)
    if isinstance(output, str) and output != "-":
        check_output(output, [*befores, *afters, *([audit] if audit else [])], force)
    records = load_audit(audit) if audit else None
    verify_compressed([*befores, *afters])

    def whole(paths: list[str]) -> Iterator[Document]:  # not lazy: no RawLine comes out
        return cast("Iterator[Document]", read_inputs(paths, **read_options))

    docs = diff_corpora(whole(befores), whole(afters), records)
    summary = DiffSummary()
    if format == "html":
        target = output if isinstance(output, str) and output != "-" else None
        stream = (
            None if target else (output if not isinstance(output, str) and output else sys.stdout)
        )
        report = HtmlReport(
            target, out=stream, title=f"cleanup diff {' '.join(befores)} {' '.join(afters)}"
        )
        try:
            for d in docs:
                summary.add(d)
                report.add_diff(d)
        except BaseException:
            report.abort()
            raise
        report.close()
        return summary
    sink = _open_output(output)
    out: Any = sink or sys.stdout
    try:
        if format == "json":
            renderer: Any = JsonRenderer(out, stat=stat)
        else:
            renderer = TextRenderer(out, color=_want_color(color, out), context=context)
        for d in docs:
            summary.add(d)
            if stat and format == "text":
                renderer.stat_line(d)
            else:
                renderer.document(d)
        renderer.summary(summary)
    except BaseException:
        if isinstance(sink, AtomicFile):
            sink.abort()
        raise
    if isinstance(sink, AtomicFile):
        sink.commit()
    return summary


def check_output(output: str, inputs: list[str], force: bool) -> None:
    """Refuse an output file that is an input, lies inside one, or exists (unless `force`).

    Why: a diff is read-only; writing its report must never touch what it compares.
    """
    final = os.path.abspath(output)
    check_not_input(final, inputs)
    if os.path.isdir(final):
        raise UsageProblem(f"-o {output}: is a folder; give a file name")
    if os.path.exists(final) and not os.path.isfile(final):  # -o /dev/null: leave -o out
        raise UsageProblem(f"-o {output}: {NOT_REGULAR}")
    if not os.path.isdir(os.path.dirname(final)):
        raise UsageProblem(f"-o {output}: no such folder {os.path.dirname(final)}")
    if os.path.lexists(final) and not force:
        raise UsageProblem(f"-o {output}: already exists (use --force to replace it)")


def _open_output(output: str | TextIO | None) -> AtomicFile | TextIO | None:
    """Return the target: an AtomicFile for a path, the stream given, or None for stdout."""
    if output is None or output == "-":
        return None
    if not isinstance(output, str):
        return output
    try:
        return AtomicFile(output)
    except OSError as exc:
        raise UsageProblem(f"-o {output}: cannot write: {exc.strerror or exc}") from None


def _want_color(color: bool | None, out: TextIO) -> bool:
    """Decide on ANSI colors: as asked, else only on a terminal without NO_COLOR."""
    if color is not None:
        return color
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


__all__ = [
    "FORMATS",
    "DiffSummary",
    "DocDiff",
    "HtmlReport",
    "check_output",
    "diff_corpora",
    "diff_document",
    "explain",
    "load_audit",
    "write_diff",
]
