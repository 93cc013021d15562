"""The removals of a document's exact repeats, each detail made when it is first read.

Why: in-document dedup records every exact repeat it removes with the detail
{"duplicate_of": j, "duplicate_text": paragraph j[:60], "similarity": 1.0}; a document of
3,000,000 one-word lines loses nearly all of them, and a dictionary each was a third of the
run's memory (200 bytes against 72 for the pair it is made from). A plain run (no --audit,
--rejects, --report) never reads a detail: only counts of rules and kinds. So the edit holds
the pair (j, paragraph j) where its detail goes, and the first read of `detail` (or
comparing, printing, pickling, copying the edit) makes the dictionary and turns the edit into
the plain `Edit` it would have been. The same mechanism as the short form of a rewrite
(`edit.ShortOnRead`), except that pickling keeps the pair (a batch crosses to workers
and through the dedup spool as it is: a document's 3,000,000 details made only to be
pickled cost more than the rest of its run).
"""

from __future__ import annotations

import operator
from typing import Any

from cleanup.document import Document
from cleanup.edit import Edit, SettleOnRead

# The slot of Edit's detail, read and written beneath _CopyDetail's property, and a getter
# of the slots before it (what pickling reads without making the detail).
_DETAIL = Edit.__dict__["detail"]
_FIRST_SIX = operator.attrgetter("step", "rule", "before", "after", "why", "index")
RULE = "exact-paragraph"


class _CopyDetail(SettleOnRead):
    """An exact repeat's removal whose detail slot holds (kept index, kept text) until read."""

    __slots__ = ()

    def _settle(self) -> None:
        """Become a plain Edit with the detail dictionary (plain slots from then on)."""
        of, text = _DETAIL.__get__(self)
        object.__setattr__(self, "__class__", Edit)  # (a plain assignment is not typed so)
        self.detail = {"duplicate_of": of, "duplicate_text": text[:60], "similarity": 1.0}

    def _read_detail(self) -> dict[str, Any] | None:
        self._settle()
        return self.detail

    def _write_detail(self, value: dict[str, Any] | None) -> None:
        self._settle()
        self.detail = value

    detail = property(_read_detail, _write_detail)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle (and copy) as it is, the detail still unmade: a batch crossing to a worker
        or spooled to scratch carries the pair, and the dictionary is made if read there."""
        return (_unmade, (*_FIRST_SIX(self), _DETAIL.__get__(self), self.kind))


def _unmade(*values: Any) -> Edit:
    """Rebuild a pickled _CopyDetail (its slots' values, the detail still the pair)."""
    edit = Edit(*values)
    edit.__class__ = _CopyDetail
    return edit


def remove_copies(doc: Document, step: str, why: str, gone: list[int], kept: list[int]) -> None:
    """Remove paragraphs `gone` (increasing) of `doc`, each an exact repeat of paragraph
    `kept[n]`: Document.remove_each of "exact-paragraph" edits with their details, the
    details made when first read."""
    texts = doc.paragraphs
    start = len(doc.edits)
    # Where each detail goes, until read: one pair per kept paragraph, shared by its copies
    # (a page of one-word lines repeats a few dozen words millions of times).
    made: dict[int, tuple[int, str]] = {}
    pairs: Any = [made.get(i) or made.setdefault(i, (i, texts[i])) for i in kept]
    doc.remove_each(step, RULE, why, gone, pairs)
    for edit in doc.edits[start:]:
        edit.__class__ = _CopyDetail
