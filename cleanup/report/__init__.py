"""Before/after reports: `cleanup diff` (text, JSON, HTML), `cleanup explain`, the run's HTML page.

Library entry points: `write_diff` (what `cleanup diff` runs), `explain`, `HtmlReport` (what
`cleanup run --report` streams documents into) and `diff_document` / `diff_corpora`.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from cleanup.report.diff import DiffSummary, DocDiff, diff_corpora, diff_document, load_audit
from cleanup.report.explain import explain
from cleanup.report.html import HtmlReport
from cleanup.report.jsonfmt import JsonRenderer
from cleanup.report.text import TextRenderer

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
    **read_options: Any,
) -> DiffSummary:
    """Diff two corpora (files, folders or JSONL, in any mix) and write the report.

    `output` is a file path, a stream, or None / "-" for standard output. `color` None
    means: color when writing to a terminal and NO_COLOR is not set. `read_options` go to
    `read_inputs` (text_field, id_field, input_format ...). Returns the summary; its
    `different` tells whether anything differs (diff(1)'s exit status 1).
    """
    from cleanup.io import read_inputs

    if format not in FORMATS:
        raise ValueError(f"unknown diff format {format!r}; choose from {', '.join(FORMATS)}")
    befores = [before] if isinstance(before, str) else list(before)
    afters = [after] if isinstance(after, str) else list(after)
    records = load_audit(audit) if audit else None
    docs = diff_corpora(
        read_inputs(befores, **read_options), read_inputs(afters, **read_options), records
    )
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
    out, close = _open_output(output)
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
    finally:
        if close:
            out.close()
    return summary


def _open_output(output: str | TextIO | None) -> tuple[TextIO, bool]:
    if output is None or output == "-":
        return sys.stdout, False
    if isinstance(output, str):
        return open(output, "w", encoding="utf-8"), True
    return output, False


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
    "diff_corpora",
    "diff_document",
    "explain",
    "load_audit",
    "write_diff",
]
