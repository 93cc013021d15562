"""The run's side outputs: audit trail, rejects, HTML report and stats (written atomically).

Each is written under a temporary name and finished (flushed to disk) with the run; the
runner publishes them together with the output (cleanup/io/publish.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from cleanup import __version__
from cleanup.document import Document
from cleanup.io.fieldpath import split_path, without_path
from cleanup.io.writers import AtomicFile, dumps
from cleanup.pipeline import StepCall
from cleanup.summary import Summary

if TYPE_CHECKING:
    from cleanup.runner import RunOptions


class Sinks:
    """Hold the optional side outputs (audit, rejects, report); finish or abort them together."""

    def __init__(self, options: RunOptions) -> None:
        self.audit = AtomicFile(options.audit) if options.audit else None
        self.rejects = AtomicFile(options.rejects) if options.rejects else None
        self.text_field = options.text_field
        self.report: Any = None
        self.report_file = AtomicFile(options.report) if options.report else None
        if self.report_file is not None:
            from cleanup.report.html import HtmlReport

            self.report = HtmlReport(
                out=self.report_file,  # type: ignore[arg-type]
                max_docs=options.report_max_docs,
            )

    @property
    def wanted(self) -> bool:
        """Tell whether any side output is open: without one, add() would build and drop records."""
        return bool(self.audit or self.rejects) or self.report is not None

    @property
    def files(self) -> list[AtomicFile]:
        """Return the side files of the run."""
        return [f for f in (self.audit, self.rejects, self.report_file) if f is not None]

    def add(self, doc: Document, before: list[str] | None) -> None:
        records = [audit_record(doc, e.to_dict()) for e in doc.edits]
        if doc.dropped is not None:
            records.append(audit_record(doc, doc.dropped.to_dict()))
        if self.audit:
            for record in records:
                self.audit.write(dumps(record) + "\n")
        if self.rejects and doc.dropped is not None:
            self.rejects.write(dumps(reject_record(doc, self.text_field)) + "\n")
        if self.report is not None:
            after = None if doc.dropped is not None else list(doc.paragraphs)
            dropped = records[-1] if doc.dropped is not None else None
            self.report.add(doc.id, before or [], after, records, dropped)

    def finish(self, summary: Summary) -> None:
        """Write the report page and flush every side file to disk (not in place yet)."""
        if self.report is not None:
            self.report.close(asdict(summary))
        for sink in self.files:
            sink.finish()

    def abort(self) -> None:
        for sink in self.files:
            sink.abort()
        if self.report is not None and hasattr(self.report, "abort"):
            self.report.abort()


def audit_record(doc: Document, edit: dict[str, Any]) -> dict[str, Any]:
    """Return one audit line: the document's id and source, then the edit."""
    return {"id": doc.id, "source": doc.source, **edit}


def reject_record(doc: Document, text_field: str = "text") -> dict[str, Any]:
    """Return the rejects line of a dropped document: its reason and its text at that point."""
    assert doc.dropped is not None
    return {
        "id": doc.id,
        "source": doc.source,
        "rule": doc.dropped.rule,
        "step": doc.dropped.step,
        "why": doc.dropped.why,
        "detail": doc.dropped.detail or {},
        "text": doc.text,
        "fields": without_path(doc.fields, split_path(text_field)),
    }


def run_settings(options: RunOptions, calls: list[StepCall]) -> dict[str, Any]:
    """Return the run's effective options, as --stats and a sharded output's manifest hold them."""
    return {"run": asdict(options), "steps": [{"step": n, **o} for n, o in calls]}


def write_stats(
    options: RunOptions, summary: Summary, calls: list[StepCall], path: str | None = None
) -> AtomicFile:
    """Write the stats file under its temporary name and return it, finished.

    `path` is where to build it when that is not `options.stats` (a URL, built locally).
    """
    assert options.stats
    payload = {
        "version": __version__,
        **asdict(summary),
        "options": run_settings(options, calls),
    }
    out = AtomicFile(path or options.stats)
    out.write(json.dumps(payload, indent=2, default=list) + "\n")
    out.finish()
    return out
