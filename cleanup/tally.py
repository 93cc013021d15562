"""What the runner counts of each finished document, here or on a worker (a batch's Tally).

The runner finishes every document: it counts it into the summary (`count`), writes it, and
gives it to the side files. When no side file and no caller needs the documents themselves
(a JSONL output, no --audit, --rejects or --report), the workers finish each batch with
`Finish`, the last step of their last segment: it counts the batch into a Tally and joins
its output lines, so that one small object per batch comes back to the main process instead
of every document with its paragraphs, fields and edits. The main process merges the Tally
into the summary (`Summary.merge`) and writes the lines, in batch order: the same counts
and the same bytes as finishing each document there. See docs/architecture.md, "Engines".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from cleanup.document import Document
from cleanup.io.parts import writes

BAD_RULE = "read:bad-input"  # the rule of a document that stands for a bad input line
_GONE = frozenset({"remove", "move"})  # the edit kinds that take a paragraph out of the text


class Counts(Protocol):
    """The counts `count` adds to: a run's Summary, or a batch's Tally."""

    documents_in: int
    documents_out: int
    documents_dropped: int
    paragraphs_removed: int
    bytes_in: int
    bytes_out: int
    dropped_by_rule: dict[str, int]
    edits_by_rule: dict[str, int]


def is_bad(doc: Document) -> bool:
    """Tell whether `doc` stands for a bad input (skipped and counted apart)."""
    return doc.dropped is not None and doc.dropped.rule == BAD_RULE


def count(doc: Document, counts: Counts, keep_empty: bool) -> bool:
    """Count a finished (not bad) document; return whether the output gets it.

    A kept document that is empty after cleaning is dropped here (rule `empty`) unless
    `keep_empty`, the rule the tasks that write output parts apply too.
    """
    counts.documents_in += 1
    counts.bytes_in += doc.notes.bytes_in
    if doc.dropped is None and not writes(doc, keep_empty):
        doc.drop("run", "empty", "document is empty after cleaning")
    by_rule = counts.edits_by_rule
    removed = 0
    for edit in doc.edits:
        by_rule[edit.rule] = by_rule.get(edit.rule, 0) + 1
        if edit.kind in _GONE:
            removed += 1
    counts.paragraphs_removed += removed
    if doc.dropped is not None:
        counts.documents_dropped += 1
        rule = doc.dropped.rule
        counts.dropped_by_rule[rule] = counts.dropped_by_rule.get(rule, 0) + 1
        return False
    counts.documents_out += 1
    counts.bytes_out += utf8_size(doc.text)
    return True


def utf8_size(text: str) -> int:
    """Return the UTF-8 size of `text` in bytes (lone surrogates count as the '?' they become).

    ASCII text, most of a typical corpus, is one byte a character, and CPython knows a
    string is ASCII without scanning it: encoding it just to count would copy it for nothing.
    """
    return len(text) if text.isascii() else len(text.encode("utf-8", "replace"))


@dataclass(slots=True)
class Tally:
    """What the runner needs of a batch of finished documents, in place of the documents.

    `bad` holds the messages of the bad inputs and `ids` the explicit ids of the others, in
    order; `lines` the output lines of the documents written, joined. The counts are those
    of `Counts`, for this batch alone; the dicts keep the order in which rules first came.
    """

    documents_in: int = 0
    documents_out: int = 0
    documents_dropped: int = 0
    paragraphs_removed: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    edits_by_rule: dict[str, int] = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    lines: bytes = b""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain tuple (a slots dataclass pickles several times slower)."""
        return (Tally, tuple(getattr(self, name) for name in self.__slots__))


Encode = Callable[[Iterable[Document]], Iterator[Document]]


@dataclass(frozen=True)
class Finish:
    """Encode a batch's documents, then finish them into one Tally (a picklable step).

    The postlude of a run whose outputs need only counts and lines (see the module's note):
    `encode` sets each kept document's `notes.encoded` (io/parts.EncodeLines).
    """

    encode: Encode
    keep_empty: bool = False

    def __call__(self, docs: Iterable[Document]) -> Iterator[Any]:
        yield tally_of(self.encode(docs), self.keep_empty)


def tally_of(docs: Iterable[Document], keep_empty: bool) -> Tally:
    """Return the Tally of encoded documents, as the runner would count and write them."""
    tally = Tally()
    lines: list[bytes] = []
    for doc in docs:
        if is_bad(doc):
            assert doc.dropped is not None
            tally.bad.append(doc.dropped.why)
            continue
        if doc.explicit_id:
            tally.ids.append(doc.id)
        if count(doc, tally, keep_empty):
            line = doc.notes.encoded
            if line is None:
                raise RuntimeError(f"{doc.location}: finished on a worker without its line")
            lines.append(line)
    tally.lines = b"".join(lines)
    return tally
