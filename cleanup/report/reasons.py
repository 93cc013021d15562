"""Diff one document and attach the audit trail's reasons to its removed and changed paragraphs.

Reasons come from the audit trail: a removed paragraph is matched to the audit record whose
`before` holds its text; a rewrite record to the changed paragraph its short form fits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cleanup.report.model import DocDiff, Op
from cleanup.report.paragraphs import paragraph_diff, paragraph_key

_REMOVING = ("remove", "move")


def diff_document(
    doc_id: str,
    before: list[str] | None,
    after: list[str] | None,
    edits: Iterable[dict[str, Any]] = (),
    dropped: dict[str, Any] | None = None,
    *,
    rebuild: bool = False,
) -> DocDiff:
    """Diff one document and attach the audit's reasons to its paragraphs.

    `before` None means the document is new; `after` None means it was dropped (`dropped`
    is then its drop record, if known). With `rebuild`, an empty `before` (a run's HTML
    document, whose text before cleaning is markup) is rebuilt from `after` and the
    removal edits, so the page's text does not show as all new.
    """
    reasons = [e for e in edits if e.get("kind") != "drop"]
    if dropped is None:
        dropped = next((e for e in edits if e.get("kind") == "drop"), None)
    if rebuild and not before and after is not None:
        before = rebuild_before(after, reasons)
    if after is None:
        ops = [Op("-", p) for p in before or []]
        d = DocDiff(doc_id, "dropped", ops, reasons, drop=dropped)
        if dropped is not None:
            d.reasons.append(dropped)
        d.other = list(range(len(reasons)))
        return d
    if before is None:
        return DocDiff(doc_id, "added", [Op("+", after=p) for p in after], reasons)
    ops = paragraph_diff(before, after)
    status = "unchanged" if all(op.kind == "=" for op in ops) else "changed"
    d = DocDiff(doc_id, status, ops, reasons)
    attach_reasons(d)
    return d


def rebuild_before(after: list[str], edits: list[dict[str, Any]]) -> list[str]:
    """Rebuild the paragraphs before cleaning by undoing the recorded removals, newest first.

    One `Document.remove` call records its paragraphs in ascending order with indices into
    the list before that call, so a run of removals by one rule with ascending indices is
    undone as one batch (lowest index first); separate removals are undone newest first.
    """
    batches: list[list[dict[str, Any]]] = []
    for e in edits:
        if e.get("kind") not in _REMOVING or not e.get("before"):
            continue
        last = batches[-1][-1] if batches else None
        if (
            last is not None
            and (last.get("step"), last.get("rule")) == (e.get("step"), e.get("rule"))
            and _index(e) > _index(last) >= 0
        ):
            batches[-1].append(e)
        else:
            batches.append([e])
    paragraphs = list(after)
    for batch in reversed(batches):
        for e in batch:
            index = _index(e)
            index = len(paragraphs) if index < 0 else min(index, len(paragraphs))
            paragraphs.insert(index, e["before"])
    return paragraphs


def _index(edit: dict[str, Any]) -> int:
    index = edit.get("index", -1)
    return index if isinstance(index, int) else -1


def attach_reasons(d: DocDiff) -> None:
    """Give each removed or changed paragraph the audit records that explain it.

    A removal record claims the removed paragraph with the same text (or, failing that, the
    same folded text: it may have been rewritten before it was removed); a rewrite record
    (short form) claims the changed paragraph containing its before and after parts.
    """
    by_text: dict[str, list[int]] = {}
    by_fold: dict[str, list[int]] = {}
    rewrites: list[int] = []
    for i, r in enumerate(d.reasons):
        if r.get("kind") in _REMOVING and r.get("before"):
            by_text.setdefault(r["before"], []).append(i)
            by_fold.setdefault(paragraph_key(r["before"]), []).append(i)
        else:
            rewrites.append(i)
    used: set[int] = set()

    def take(pool: list[int] | None) -> int | None:
        while pool:
            i = pool.pop(0)
            if i not in used:
                used.add(i)
                return i
        return None

    for op in d.ops:
        if op.kind == "-" and op.before is not None:
            found = take(by_text.get(op.before))
            if found is None:
                found = take(by_fold.get(paragraph_key(op.before)))
            if found is not None:
                op.reasons.append(found)
    changed = [(j, op) for j, op in _after_positions(d.ops) if op.kind == "~"]
    # First the records made at this paragraph's final position (steps after the last
    # removal), then any record whose short form fits: a short form such as "’" -> "'"
    # fits many paragraphs, so position decides where it can.
    for exact in (True, False):
        for j, op in changed:
            for i in rewrites:
                r = d.reasons[i]
                if i in used or (exact and r.get("index") != j) or not _claims(r, op):
                    continue
                used.add(i)
                op.reasons.append(i)
    for _, op in changed:
        op.reasons.sort()
    d.other = [i for i in range(len(d.reasons)) if i not in used]


def _after_positions(ops: list[Op]) -> Iterator[tuple[int, Op]]:
    """Yield each op with its paragraph's position in the document after cleanup."""
    j = 0
    for op in ops:
        yield j, op
        j += op.kind != "-"


def _claims(record: dict[str, Any], op: Op) -> bool:
    """Tell whether a short-form rewrite record describes the changed paragraph `op`."""
    old = str(record.get("before", "")).rstrip("…")
    new = str(record.get("after", "")).rstrip("…")
    if not old and not new:
        return False
    return old in (op.before or "") and new in (op.after or "")
