"""Explain one document's changes from the audit trail: what each step did to it and why."""

from __future__ import annotations

import difflib
import json
import textwrap
from collections import Counter
from typing import Any

from cleanup.errors import UnknownDocument
from cleanup.report.audit import NotAnAudit, iter_audit
from cleanup.report.text import describe_detail

_VERBS = {"remove": "removed", "move": "moved", "rewrite": "rewritten", "drop": "dropped"}


def explain(doc_id: str, audit_path: str) -> str:
    """Return a readable account of every edit the audit trail records for `doc_id`.

    Raises KeyError (with a message naming close ids) when the audit has no record of
    the document: it was not in the run, or the run did not change it. Raises NotAnAudit
    (a usage error) when `audit_path` is missing, empty or not an audit trail at all.
    """
    records, ids = _records_of(doc_id, audit_path)
    if not records and not ids:
        raise NotAnAudit(
            f"{audit_path}: empty, no edit records (not an audit trail, or the audit of a run "
            "that changed nothing)"
        )
    if not records:
        close = difflib.get_close_matches(doc_id, list(ids), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownDocument(
            f"{doc_id!r} is not in the audit trail {audit_path} (it was not in that run, or the "
            f"run did not change it){hint}"
        )
    return render(doc_id, records)


def _records_of(doc_id: str, audit_path: str) -> tuple[list[dict[str, Any]], set[str]]:
    """Read the audit, keeping the records of `doc_id` and the set of ids it mentions."""
    records: list[dict[str, Any]] = []
    ids: set[str] = set()
    for record in iter_audit(audit_path):
        rid = str(record["id"])
        if rid == doc_id:
            records.append(record)
        else:
            ids.add(rid)
    return records, ids


def render(doc_id: str, records: list[dict[str, Any]]) -> str:
    """Return the account of a document's edits, one numbered entry per edit."""
    kinds = Counter(str(r.get("kind", "rewrite")) for r in records)
    counts = ", ".join(f"{n} {_VERBS.get(k, k)}" for k, n in kinds.most_common())
    lines = [f"{doc_id}: {len(records)} edit{'s' if len(records) != 1 else ''} ({counts})"]
    source = next((r.get("source") for r in records if r.get("source")), None)
    if source:
        lines.append(f"source: {source}")
    for n, r in enumerate(records, 1):
        lines.append("")
        lines.extend(entry(n, r))
    return "\n".join(lines) + "\n"


def entry(n: int, r: dict[str, Any]) -> list[str]:
    """Return the lines explaining one edit: rule, what happened, why, and the text involved."""
    kind = str(r.get("kind", "rewrite"))
    step, rule = str(r.get("step", "")), str(r.get("rule", "?"))
    label = rule if not step or rule.startswith(step) else f"{step}/{rule}"
    index = r.get("index", -1)
    where = f" paragraph {index + 1}" if isinstance(index, int) and index >= 0 else ""
    what = {"drop": "document dropped", "remove": f"removed{where}", "move": f"moved{where}"}.get(
        kind, f"rewrote{where}" if where else "changed the document"
    )
    out = [f"{n}. {label}: {what}"]
    if r.get("why"):
        out.append(f"   why: {r['why']}")
    if isinstance(r.get("detail"), dict) and r["detail"]:
        out.append(f"   {describe_detail(r['detail'])}")
    before, after = str(r.get("before", "")), str(r.get("after", ""))
    if kind in ("remove", "move") and before:
        out.append(_quoted("removed" if kind == "remove" else "moved", before))
    elif kind == "rewrite" and (before or after):
        out.append(f"   {json.dumps(before, ensure_ascii=False)} -> "
                   f"{json.dumps(after, ensure_ascii=False)}")  # fmt: skip
    return out


def _quoted(label: str, text: str, width: int = 100) -> str:
    """Return a text block indented under its label, wrapped for a terminal."""
    lines = []
    for line in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(line, width=width) or [""])
    return f"   {label}:\n" + "\n".join(f"   | {line}" for line in lines)
