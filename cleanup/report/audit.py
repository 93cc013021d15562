"""Read a run's audit trail (`cleanup run --audit`), refusing files that are not one.

Why a check of its own: `cleanup diff --audit` and `cleanup explain --audit` are easily given
the wrong file (the corpus, the rejects, a text file). Read as an audit, a JSONL corpus looks
like records with ids and explains nothing, and a binary file fails deep inside a decoder.
The first record decides whether the file is an audit trail at all; a bad later line is
damage to a real audit, reported with its line number. Files are opened through the shared
reader (cleanup.io.compression), so a truncated .gz or .zst audit is an error, not a silent
partial read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cleanup.errors import BadInput, UsageProblem
from cleanup.io.compression import iter_chunks, split_lines
from cleanup.io.readers import MAX_DOCUMENT_BYTES

# Every line `cleanup run --audit` writes names the document and the rule that edited it.
AUDIT_FIELDS = ("id", "rule")

# The longest audit line read: a full-detail rewrite of a whole document of the most a run
# reads by default (and `cleanup diff` reads), before and after, with room for JSON escapes.
# A longer line is not an edit record (`--audit /dev/zero` was read until memory ran out).
MAX_AUDIT_LINE = 4 * MAX_DOCUMENT_BYTES


class NotAnAudit(UsageProblem):
    """Report a file given as an audit trail that is not one (exit status 2)."""


def iter_audit(path: str) -> Iterator[dict[str, Any]]:
    """Yield the edit records of an audit JSONL file (plain, .gz or .zst), in file order.

    Raises NotAnAudit when the file is missing, a folder, or its first record is not an
    edit record; BadInput naming the file and line for a damaged later line or a truncated
    compressed file.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        raise NotAnAudit(f"{path}: no such audit file") from None
    except IsADirectoryError:
        raise NotAnAudit(f"{path}: is a folder, not an audit trail") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the audit: {exc.strerror or exc}") from None
    with fh:
        first = True
        for lineno, line in enumerate(split_lines(iter_chunks(fh, path), MAX_AUDIT_LINE), 1):
            record: dict[str, Any]
            if line is None:
                record, problem = {}, f"longer than {MAX_AUDIT_LINE >> 20} MiB"
            elif not line.strip():
                continue
            else:
                record, problem = parse_record(line)
            if problem and first:
                raise NotAnAudit(f"{path}: not an audit trail (line {lineno}: {problem})")
            if problem:
                raise BadInput(f"{path}:{lineno}: malformed audit line ({problem})")
            first = False
            yield record


def parse_record(line: bytes) -> tuple[dict[str, Any], str]:
    """Return one audit line's record, or an empty record and what is wrong with the line."""
    if b"\x00" in line:
        return {}, "binary data"
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return {}, "binary data, not UTF-8 text"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, f"not JSON: {exc.msg}"
    except RecursionError:  # an audit line never nests: this is not one
        return {}, "JSON nested too deep to be an edit record"
    if not isinstance(record, dict):
        return {}, "a JSON value that is not an edit record"
    missing = [f for f in AUDIT_FIELDS if f not in record]
    if missing:
        fields = " and ".join(repr(f) for f in missing)
        return {}, f"a JSON object without the edit record's {fields}; a corpus?"
    return record, ""


def load_audit(path: str) -> dict[str, list[dict[str, Any]]]:
    """Read an audit JSONL file into records grouped by document id, in file order.

    An empty audit is valid here: it is what a run that changed nothing writes.
    """
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in iter_audit(path):
        grouped.setdefault(str(record["id"]), []).append(record)
    return grouped
