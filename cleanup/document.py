"""The document model: paragraphs plus an audit trail of every change made to them.

Every change a step makes to paragraphs is an `Edit`, built with one of its named
constructors and made with `Document.apply`, which changes the paragraphs and records the
edit in one place (see docs/architecture.md, "Steps").
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import compress, repeat
from typing import Any

from cleanup.edit import Edit as Edit
from cleanup.edit import EditError as EditError
from cleanup.edit import ShortOnRead
from cleanup.paragraphing import split_paragraphs
from cleanup.slots import slot_values as _values


@dataclass(slots=True)
class RunNotes:
    """Hold a run's bookkeeping about one document, beside it and never in an output record.

        Why apart from Document: the document is what was read and what steps make of it; these
        are the runner's and writers' notes. `audit_full` asks `Document.apply` to record
        rewrites in full (--audit-detail full); `bytes_in` is the UTF-8 size of the text as read
        (for the summary); `encoded` is the output line, encoded on a worker (see io.writers),
    or `part` a file of its batch's lines a task wrote (io/parts.py);
        `before` holds the paragraphs as read when the run's HTML report wants them (see
        runner.Admit). A slot of Document, so the notes cross to workers and Ray with it.
    """

    audit_full: bool = False
    bytes_in: int = 0
    encoded: bytes | None = None
    before: list[str] | None = None
    part: Any = None  # a ScratchRef to the lines of its batch, written by a task (io/parts.py)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain tuple, like Document and Edit."""
        return (RunNotes, _values(self))


@dataclass(slots=True)
class Document:
    """Hold one document as it flows through the steps.

    `fields` carries the input record's other JSONL fields untouched; `meta` is what
    steps learn (title, highlights, duplicate_of ...). `sep` is the paragraph separator
    of the input text, which a JSONL writer keeps. `dropped` is set instead of removing
    the document from the stream, so dropped documents still reach the audit and
    rejects writers; later steps pass them through. `notes` is the run's bookkeeping
    (see RunNotes), which no writer writes.
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
    notes: RunNotes = field(default_factory=RunNotes)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain tuple (documents cross to workers and through the dedup spool)."""
        return (Document, _values(self))

    @classmethod
    def from_text(cls, id: str, text: str, **kwargs: Any) -> Document:
        """Build a document from text, splitting it into paragraphs (see split_paragraphs)."""
        paragraphs, sep = split_paragraphs(text)
        return cls(id=id, paragraphs=paragraphs, sep=kwargs.pop("sep", sep), **kwargs)

    @classmethod
    def from_page(
        cls, id: str, text: str, format: str, edits: list[Edit], **kwargs: Any
    ) -> Document:
        """Build the document of a whole page (a file, an archived response) after its decoding.

        HTML keeps its markup as `raw` and as its one paragraph, for strip-html to extract
        (the one path for HTML files and WARC responses); other text is split into paragraphs.
        """
        if format == "html":
            paragraphs = [text] if text.strip() else []
            doc = cls(id=id, paragraphs=paragraphs, raw=text, format=format, **kwargs)
        else:
            doc = cls.from_text(id, text, format=format, **kwargs)
        doc.edits.extend(edits)
        return doc

    @property
    def text(self) -> str:
        """Return the document's text with its paragraph separator."""
        return self.sep.join(self.paragraphs)

    def apply(self, edits: Iterable[Edit], *, full: bool = False) -> None:
        """Make `edits` and record them in the audit trail, in the order given: the one way
        steps change paragraphs, so the trail always matches the text.

        Every index is the paragraph's position before this call (removals take effect at
        the end, so a batch needs no renumbering); each edit's `before` must be that
        paragraph's text. A rewrite that changes nothing is not recorded; one that does is
        recorded in short form (worked out when first read: Edit.short_on_read) unless `full`
        or the run's `notes.audit_full` asks for the whole texts. A document-level edit
        (index -1) is only recorded. Raises EditError for an edit that does not fit (a bug in
        the step).
        """
        paragraphs = self.paragraphs
        count = len(paragraphs)
        full = full or self.notes.audit_full
        gone: set[int] = set()
        for edit in edits:
            i, kind = edit.index, edit.kind
            if i == -1 and kind == "rewrite":
                self.edits.append(edit)
                continue
            if not 0 <= i < count or i in gone or kind not in _PARAGRAPH_KINDS:
                raise EditError(f"cannot apply a {kind!r} edit of paragraph {i} of {count}")
            current = paragraphs[i]
            if edit.before is not current and edit.before != current:
                raise EditError(f"{edit.step}: the edit of paragraph {i} was made for other text")
            if kind == "rewrite":
                if edit.after == current:
                    continue
                paragraphs[i] = edit.after
                if not full:
                    edit = edit.short_on_read()
            else:
                gone.add(i)
            self.edits.append(edit)
        if gone:
            self.paragraphs = _without(paragraphs, gone)

    def rewrite(
        self, index: int, new: str, step: str, rule: str, why: str = "", full: bool = False
    ) -> None:
        """Replace paragraph `index` with `new` (a shorthand for apply of one Edit.rewrite)."""
        self.apply([Edit.rewrite(step, rule, index, self.paragraphs[index], new, why)], full=full)

    def rewrite_many(
        self, changes: Iterable[tuple[int, str]], step: str, rule: str, why: str = ""
    ) -> None:
        """Replace paragraph `i` with `new` for each `(i, new)` of `changes`, in that order, all
        with one rule: apply of `Edit.rewrite(step, rule, i, paragraphs[i], new, why)` edits.

        Why: a step that worked out the new texts from the paragraphs themselves (normalize's
        typography) has nothing to check against them, and building an edit only for apply
        to check and copy it cost more than recording it. Each rewrite is made against the
        paragraph's text when its turn comes (the same as apply's for distinct indices).
        """
        paragraphs = self.paragraphs
        count = len(paragraphs)
        full = self.notes.audit_full
        record = self.edits.append
        for i, new in changes:
            if not 0 <= i < count:
                raise EditError(f"cannot apply a 'rewrite' edit of paragraph {i} of {count}")
            old = paragraphs[i]
            if new == old:
                continue
            paragraphs[i] = new
            edit = Edit(step, rule, old, new, why, i)  # positional: once per rewritten paragraph
            if not full:
                edit.__class__ = ShortOnRead  # new, so nobody else holds it: no copy
            record(edit)

    def remove(
        self,
        indices: Iterable[int],
        step: str,
        rule: str,
        why: str = "",
        details: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        """Remove the paragraphs at `indices` (a shorthand for apply of Edit.removal edits)."""
        order = sorted(set(indices))
        self.remove_each(
            step, rule, why, order, [details.get(i) if details else None for i in order]
        )

    def remove_many(
        self, step: str, removals: Mapping[int, tuple[str, str, dict[str, Any] | None]]
    ) -> None:
        """Remove paragraph `i` for each `i: (rule, why, detail)` of `removals`, in order of
        index: apply of `Edit.removal(step, rule, i, paragraphs[i], why, detail)` edits.

        Why: corpus dedup removes a few paragraphs from most documents (site boilerplate),
        each with its own rule and detail, and taken from the paragraphs themselves, there is
        nothing to check an edit against; building one only for apply to check it cost more
        than recording it.
        """
        if not removals:
            return
        paragraphs = self.paragraphs
        indices = sorted(removals)
        _check_removals(indices, len(paragraphs))
        record = self.edits.append
        for i in indices:
            rule, why, detail = removals[i]
            record(Edit(step, rule, paragraphs[i], "", why, i, detail, "remove"))  # positional
        self.paragraphs = _without(paragraphs, indices)

    def remove_each(
        self,
        step: str,
        rule: str,
        why: str,
        indices: list[int],
        details: list[dict[str, Any] | None],
    ) -> None:
        """Remove paragraphs `indices` (increasing, distinct) for one rule and why, each with
        its detail: remove_many's edits, without a tuple and a mapping per paragraph (corpus
        dedup removes most documents' site boilerplate so, in-document dedup exact repeats)."""
        paragraphs = self.paragraphs
        _check_removals(indices, len(paragraphs))
        self.edits += [
            Edit(step, rule, paragraphs[i], "", why, i, detail, "remove")  # positional
            for i, detail in zip(indices, details, strict=True)
        ]
        self.paragraphs = _without(paragraphs, indices)

    def drop(self, step: str, rule: str, why: str, detail: dict[str, Any] | None = None) -> None:
        """Mark the whole document as dropped; its text stays available for rejects."""
        self.dropped = Edit.drop(step, rule, why, detail)

    @property
    def location(self) -> str:
        """Return where this document came from, for error messages."""
        return self.source or self.id


_PARAGRAPH_KINDS = frozenset({"rewrite", "remove", "move"})


def _check_removals(indices: list[int], count: int) -> None:
    """Raise EditError unless the increasing `indices` are all positions of `count` paragraphs."""
    if indices and (indices[0] < 0 or indices[-1] >= count):
        bad = indices[0] if indices[0] < 0 else indices[-1]
        raise EditError(f"cannot apply a 'remove' edit of paragraph {bad} of {count}")


def _without(paragraphs: list[str], gone: Collection[int]) -> list[str]:
    """Return a new list of `paragraphs` without the positions in `gone` (all valid, distinct).

    Why not one way always: a document loses a few paragraphs at a time, and a copy with a
    few C-level deletions costs half of any pass over every position (a deletion moves the
    rest of the list, so many go another way); many go by a mask of kept positions, set and
    read in C (a document of millions of lines can lose millions of repeats).
    """
    if len(gone) > 16:
        keep = bytearray(b"\x01") * len(paragraphs)
        deque(map(keep.__setitem__, gone, repeat(0)), maxlen=0)
        return list(compress(paragraphs, keep))
    kept = paragraphs.copy()
    for i in sorted(gone, reverse=True):
        del kept[i]
    return kept
