"""The diff's data: one paragraph op, one document's diff, and the corpus summary.

Kept apart from the diff algorithms and the renderers so that each of them (text, JSON,
HTML) depends only on these shapes, not on how they were computed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

Segment = tuple[str, str]  # ("=" | "-" | "+", text)


@dataclass
class Op:
    """One step of a document's paragraph diff.

    kind is "=" (unchanged), "-" (removed), "+" (added) or "~" (changed; `words` holds
    the word-level segments). `reasons` are indices into the owning DocDiff's reasons.
    """

    kind: str
    before: str | None = None
    after: str | None = None
    words: list[Segment] | None = None
    reasons: list[int] = field(default_factory=list)


@dataclass
class DocDiff:
    """Hold the diff of one document: its status, its paragraph ops and the reasons for them.

    status is "changed", "unchanged", "dropped" (only before) or "added" (only after).
    `reasons` are the audit records of the document; `other` lists those no paragraph
    claimed (document-level edits, rewrites of paragraphs later removed).
    """

    id: str
    status: str
    ops: list[Op] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    other: list[int] = field(default_factory=list)
    drop: dict[str, Any] | None = None
    before_name: str = ""
    after_name: str = ""
    # This side's document repeats an id seen earlier on the same side (matched in order).
    duplicate_before: bool = False
    duplicate_after: bool = False

    def count(self, kind: str) -> int:
        """Return how many paragraphs have the op `kind`."""
        return sum(1 for op in self.ops if op.kind == kind)

    @property
    def different(self) -> bool:
        """Tell whether this document differs between before and after."""
        return self.status != "unchanged"

    def rules(self) -> list[str]:
        """Return the rules of this document's reasons, most frequent first."""
        return [r for r, _ in Counter(x.get("rule", "") for x in self.reasons).most_common()]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of this document's diff (readable, one object per paragraph)."""
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.before_name:
            out["before"] = self.before_name
        if self.after_name:
            out["after"] = self.after_name
        if self.drop:
            out["dropped"] = self.drop
        sides = [side for side in ("before", "after") if getattr(self, f"duplicate_{side}")]
        if sides:
            out["duplicate_id_in"] = sides
        names = {"=": "equal", "-": "remove", "+": "add", "~": "change"}
        paragraphs = []
        for op in self.ops:
            item: dict[str, Any] = {"op": names[op.kind]}
            if op.kind == "~":
                item["before"], item["after"] = op.before, op.after
                item["words"] = [list(s) for s in op.words or []]
            else:
                item["text"] = op.before if op.kind in "=-" else op.after
            if op.reasons:
                item["reasons"] = [self.reasons[i] for i in op.reasons]
            paragraphs.append(item)
        out["paragraphs"] = paragraphs
        if self.other:
            out["other_edits"] = [self.reasons[i] for i in self.other]
        return out


@dataclass
class DiffSummary:
    """Count what differs between two corpora (or what one run changed).

    Paragraph counts are those of documents present on both sides; a dropped or added
    document counts as a document and in the character counts. `duplicate_ids_before`
    (`_after`) counts the documents whose id repeats an earlier one on that side.
    """

    documents_before: int = 0
    documents_after: int = 0
    changed: int = 0
    unchanged: int = 0
    dropped: int = 0
    added: int = 0
    paragraphs_removed: int = 0
    paragraphs_added: int = 0
    paragraphs_changed: int = 0
    chars_removed: int = 0
    chars_added: int = 0
    removed_by_rule: dict[str, int] = field(default_factory=dict)
    changed_by_rule: dict[str, int] = field(default_factory=dict)
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    edits_by_rule: dict[str, int] = field(default_factory=dict)
    duplicate_ids_before: int = 0
    duplicate_ids_after: int = 0

    @property
    def different(self) -> bool:
        """Tell whether any document differs."""
        return bool(self.changed or self.dropped or self.added)

    def add(self, d: DocDiff) -> None:
        """Count one document's diff."""
        self.documents_before += d.status != "added"
        self.documents_after += d.status != "dropped"
        setattr(self, d.status, getattr(self, d.status) + 1)
        self.duplicate_ids_before += d.duplicate_before
        self.duplicate_ids_after += d.duplicate_after
        _bump(self.edits_by_rule, [r.get("rule", "") for r in d.reasons if r is not d.drop])
        if d.status == "dropped":
            self.chars_removed += sum(len(op.before or "") for op in d.ops)
            if d.drop:
                _bump(self.dropped_by_rule, {d.drop.get("rule", "")})
            return
        if d.status == "added":
            self.chars_added += sum(len(op.after or "") for op in d.ops)
            return
        for op in d.ops:
            if op.kind == "-":
                self.paragraphs_removed += 1
                self.chars_removed += len(op.before or "")
                _bump(self.removed_by_rule, {d.reasons[i].get("rule", "") for i in op.reasons})
            elif op.kind == "+":
                self.paragraphs_added += 1
                self.chars_added += len(op.after or "")
            elif op.kind == "~":
                self.paragraphs_changed += 1
                for tag, text in op.words or []:
                    if tag == "-":
                        self.chars_removed += len(text)
                    elif tag == "+":
                        self.chars_added += len(text)
                _bump(self.changed_by_rule, {d.reasons[i].get("rule", "") for i in op.reasons})

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the summary."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _bump(counts: dict[str, int], rules: Iterable[str]) -> None:
    for rule in rules:
        if rule:
            counts[rule] = counts.get(rule, 0) + 1
