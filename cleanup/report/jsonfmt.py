"""Render diffs as one JSON object: the differing documents, then the summary.

Written as a stream (documents one at a time), so a large corpus never sits in memory
as one big object; the result is still a single valid JSON document.
"""

from __future__ import annotations

import json
from typing import TextIO

from cleanup.report.model import DiffSummary, DocDiff


class JsonRenderer:
    """Write `{"documents": [...], "summary": {...}}`; unchanged documents are only counted."""

    def __init__(self, out: TextIO, *, stat: bool = False) -> None:
        self.out = out
        self.stat = stat
        self.first = True
        out.write('{"documents": [')

    def document(self, d: DocDiff) -> None:
        """Write one differing document (with --stat: its counts only)."""
        if not d.different:
            return
        if self.stat:
            item = {"id": d.id, "status": d.status, "removed": d.count("-"),
                    "changed": d.count("~"), "added": d.count("+")}  # fmt: skip
        else:
            item = d.to_dict()
        self.out.write(("\n" if self.first else ",\n") + json.dumps(item, ensure_ascii=False))
        self.first = False

    def summary(self, s: DiffSummary) -> None:
        """Close the document list and write the summary."""
        summary = json.dumps(s.to_dict(), ensure_ascii=False, indent=2)
        self.out.write(("" if self.first else "\n") + '],\n"summary": ' + summary + "}\n")
