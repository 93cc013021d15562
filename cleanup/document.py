"""The document model: paragraphs plus an audit trail of every change made to them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_BLANK_LINE = re.compile(r"\n(?:[ \t\r\f\v\u00a0]*\n)+")


@dataclass(frozen=True, slots=True)
class Edit:
    """Record one change a step made, so it can be shown, explained and undone.

    `before` holds a removed paragraph in full; an in-place rewrite keeps a short form
    unless full detail was asked for. `index` is the paragraph's position when the
    edit was made (-1 for document-level edits). `detail` carries extra facts such as
    `duplicate_of` and `similarity`.
    """

    step: str
    rule: str
    before: str
    after: str
    why: str = ""
    index: int = -1
    detail: dict[str, Any] | None = None
    kind: str = "rewrite"

    @property
    def removed(self) -> bool:
        """Tell whether this edit removed a paragraph (as opposed to rewriting it)."""
        return self.kind == "remove"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain tuple: dataclasses' generic slots pickling is several times slower."""
        return (Edit, _values(self))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form of the edit."""
        out: dict[str, Any] = {
            "step": self.step,
            "rule": self.rule,
            "before": self.before,
            "after": self.after,
            "why": self.why,
            "index": self.index,
            "kind": self.kind,
        }
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(slots=True)
class Document:
    """Hold one document as it flows through the steps.

    `fields` carries the input record's other JSONL fields untouched; `meta` is what
    steps learn (title, highlights, duplicate_of ...). `sep` is the paragraph separator
    of the input text, which a JSONL writer keeps. `dropped` is set instead of removing
    the document from the stream, so dropped documents still reach the audit and
    rejects writers; later steps pass them through.

    The last four attributes are run bookkeeping, never written by a writer (which writes
    only `fields`, the id, the text and `meta`): `before` holds the paragraphs as read when
    the run's HTML report wants them. They are slots, not `meta` keys, so they cross to
    workers and Ray with the document without ever reaching an output record.
    """

    id: str
    paragraphs: list[str]
    source: str = ""
    site: str = ""
    relpath: str = ""
    format: str = "txt"
    sep: str = "\n\n"
    raw: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)
    dropped: Edit | None = None
    explicit_id: bool = False
    audit_full: bool = False
    bytes_in: int = 0  # UTF-8 size of the text as read (set by the runner, for its summary)
    encoded: bytes | None = None  # its output line, encoded on a worker (see io.writers)
    before: list[str] | None = None  # paragraphs as read, kept for --report (see runner.Admit)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain tuple (documents cross to workers and through the dedup spool)."""
        return (Document, _values(self))

    @classmethod
    def from_text(cls, id: str, text: str, **kwargs: Any) -> Document:
        """Build a document from text, splitting it into paragraphs (see split_paragraphs)."""
        paragraphs, sep = split_paragraphs(text)
        return cls(id=id, paragraphs=paragraphs, sep=kwargs.pop("sep", sep), **kwargs)

    @property
    def text(self) -> str:
        """Return the document's text with its paragraph separator."""
        return self.sep.join(self.paragraphs)

    def rewrite(
        self, index: int, new: str, step: str, rule: str, why: str = "", full: bool = False
    ) -> None:
        """Replace paragraph `index` with `new`, recording an edit only if the text changed."""
        old = self.paragraphs[index]
        if new == old:
            return
        before, after = (old, new) if full or self.audit_full else _short_change(old, new)
        self.edits.append(Edit(step, rule, before, after, why, index))
        self.paragraphs[index] = new

    def remove(
        self,
        indices: list[int] | set[int],
        step: str,
        rule: str,
        why: str = "",
        details: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        """Remove the paragraphs at `indices`, recording each removed paragraph in full."""
        if not indices:
            return
        drop = set(indices)
        for i in sorted(drop):
            detail = details.get(i) if details else None
            self.edits.append(Edit(step, rule, self.paragraphs[i], "", why, i, detail, "remove"))
        self.paragraphs = [p for i, p in enumerate(self.paragraphs) if i not in drop]

    def drop(self, step: str, rule: str, why: str, detail: dict[str, Any] | None = None) -> None:
        """Mark the whole document as dropped; its text stays available for rejects."""
        self.dropped = Edit(step, rule, "", "", why, -1, detail, "drop")

    @property
    def location(self) -> str:
        """Return where this document came from, for error messages."""
        return self.source or self.id


def _values(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, name) for name in obj.__slots__)


def split_paragraphs(text: str) -> tuple[list[str], str]:
    """Split text into paragraphs by the project's one rule.

    Text with at least one blank line: the blank-line-separated blocks. Text without
    any blank line: one paragraph per line. Returns the paragraphs (empty ones
    dropped) and the separator convention to write them back with.
    """
    text = text.replace("\r\n", "\n")
    if _BLANK_LINE.search(text):
        blocks = _BLANK_LINE.split(text)
        return [b.strip("\n") for b in blocks if b.strip()], "\n\n"
    return [line for line in text.split("\n") if line.strip()], "\n"


def _common_prefix(a: str, b: str) -> int:
    """Return the length of the common prefix of a and b (binary search over C-level compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _short_change(old: str, new: str, width: int = 40) -> tuple[str, str]:
    """Return the changed middle of old/new with a little context, for a compact audit trail."""
    start = _common_prefix(old, new)
    limit = min(len(old), len(new)) - start
    end = min(_common_prefix(old[::-1], new[::-1]), limit)
    lo = max(0, start - width // 4)
    old_mid = old[lo : len(old) - end]
    new_mid = new[lo : len(new) - end]
    if len(old_mid) > width * 2:
        old_mid = old_mid[: width * 2] + "…"
    if len(new_mid) > width * 2:
        new_mid = new_mid[: width * 2] + "…"
    return old_mid, new_mid
