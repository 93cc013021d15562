"""Match the documents of two corpora and diff each pair: what `cleanup diff` compares.

Documents are matched by id; failing that, by the name `cleanup run -o FOLDER/` gives a
document's output file (so a JSONL record matches the <file>/<id>.txt it became); failing
that, by relative path without extension (a.html before, a.txt after). Ids that repeat on
one side are matched in order of appearance and counted; no document is left out of the
comparison: one that matches nothing is reported as dropped or added.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cleanup.document import Document
from cleanup.errors import BadInput
from cleanup.io.compression import COMPRESSED_SUFFIXES, iter_chunks
from cleanup.io.readers import discover
from cleanup.io.writers import output_relpath
from cleanup.report.model import DocDiff
from cleanup.report.reasons import diff_document

_EXTENSION = re.compile(r"(\.[A-Za-z0-9]{1,6})?(\.(gz|zst))?$")


def path_key(path: str) -> str:
    """Return a path without its extension (and compression suffix): a.html and a.txt match."""
    return _EXTENSION.sub("", path, count=1) if path else path


def document_paragraphs(doc: Document) -> list[str]:
    """Return a document's paragraphs for comparison (an HTML page: its visible text blocks)."""
    if doc.format == "html":
        return html_paragraphs(doc.raw or "")
    return list(doc.paragraphs)


def html_paragraphs(markup: str) -> list[str]:
    """Return the visible text of an HTML page, one paragraph per block of text.

    Why: a diff of cleaned text against raw markup would show every tag as a change;
    this shows what a reader of the page saw, so boilerplate that cleanup removed is
    visible as removed paragraphs. It is deliberately simple (no boilerplate detection):
    the page is parsed and walked as strip-html does (`cleanup.extract.parse`, `.walk`),
    with strip-html's block tags plus table cells, navigation and forms as blocks, and
    <br> ending a paragraph. Markup that is not HTML at all shows as its lines.
    """
    if not markup.strip():
        return []
    # Imported here: a diff of plain-text corpora never loads lxml.
    from cleanup.extract.parse import UnparseableHTML, parse_html
    from cleanup.extract.tags import INVISIBLE_TAGS, VISIBLE_BLOCK_TAGS
    from cleanup.extract.walk import walk

    try:
        root = parse_html(markup)
    except UnparseableHTML:
        return [p for p in (line.strip() for line in markup.splitlines()) if p]
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            out.append(text)
        current.clear()

    for event, el in walk(root, lambda el: el.tag in INVISIBLE_TAGS):
        if event == "tail":
            current.append(el.tail)
        elif el.tag in VISIBLE_BLOCK_TAGS or (event == "start" and el.tag == "br"):
            flush()
        if event == "start" and el.text:
            current.append(el.text)
    flush()
    return out


def verify_compressed(paths: Iterable[str]) -> None:
    """Read every .gz and .zst file among the inputs to its end, raising BadInput if cut short.

    Why before diffing: AFTER streams into the report, so a truncation found at its end would
    come after a partial report on standard output; checked first, it is the only output.
    """
    for source in discover(paths):
        if source.path != "-" and source.path.endswith(COMPRESSED_SUFFIXES):
            try:
                with open(source.path, "rb") as fh:
                    for _ in iter_chunks(fh, source.path):
                        pass
            except OSError as exc:
                raise BadInput(f"{source.path}: cannot read: {exc.strerror or exc}") from None


def id_key(doc: Document) -> str:
    """Return a document's id: the first and surest way to match."""
    return doc.id


def written_key(doc: Document) -> str:
    """Return the path `cleanup run -o FOLDER/` writes the document to (the writer's rule).

    Why: a JSONL record `{"id": "a1"}` of corpus.jsonl becomes the file corpus/a1.txt of the
    output folder, whose id is that path; both sides yield "corpus/a1.txt" here.
    """
    return output_relpath(doc)


def stem_key(doc: Document) -> str:
    """Return the document's path (a JSONL record: its id) without extension."""
    return path_key(doc.id if doc.format in ("jsonl", "parquet") else doc.relpath or doc.id)


# Tried in this order; a looser key matches only when it names one id on the other side.
MATCH_KEYS: tuple[Callable[[Document], str], ...] = (id_key, written_key, stem_key)


class BeforeIndex:
    """Hold BEFORE's documents in order and hand each to the first AFTER document matching it.

    Duplicate ids are kept (never replaced): the n-th AFTER document with an id takes the
    n-th BEFORE document with it.
    """

    def __init__(self, docs: Iterable[Document]) -> None:
        self.docs: list[Document | None] = []
        self.duplicate: list[bool] = []
        self.by_key: list[dict[str, list[int]]] = [{} for _ in MATCH_KEYS]
        seen: set[str] = set()
        for doc in docs:
            position = len(self.docs)
            self.docs.append(doc)
            self.duplicate.append(doc.id in seen)
            seen.add(doc.id)
            for keys, key_of in zip(self.by_key, MATCH_KEYS, strict=True):
                keys.setdefault(key_of(doc), []).append(position)

    def take(self, doc: Document) -> int | None:
        """Return the position of the BEFORE document `doc` matches (now taken), or None."""
        for keys, key_of in zip(self.by_key, MATCH_KEYS, strict=True):
            positions = keys.get(key_of(doc))
            if not positions:
                continue
            left = [p for p in positions if self.docs[p] is not None]
            keys[key_of(doc)] = left  # forget the taken ones: lookups stay short
            if not left:
                continue
            first = self.docs[left[0]]
            assert first is not None
            if any(self.docs[p].id != first.id for p in left):  # type: ignore[union-attr]
                return None  # ambiguous: several documents could be this one
            return left[0]
        return None

    def pop(self, position: int) -> Document:
        """Return the document at `position` and mark it taken."""
        doc = self.docs[position]
        assert doc is not None
        self.docs[position] = None
        return doc

    def left(self) -> Iterator[tuple[int, Document]]:
        """Yield the documents no AFTER document took, in BEFORE's order."""
        for position, doc in enumerate(self.docs):
            if doc is not None:
                yield position, doc


def diff_corpora(
    before: Iterable[Document],
    after: Iterable[Document],
    audit: dict[str, list[dict[str, Any]]] | None = None,
) -> Iterator[DocDiff]:
    """Yield the diff of every document of two corpora, matched as the module says.

    Matched documents come in AFTER's order; then BEFORE's documents that AFTER lacks
    (dropped), in BEFORE's order. BEFORE is held in memory; AFTER streams.
    """
    audit = audit or {}
    olds = BeforeIndex(before)
    seen_after: set[str] = set()
    for doc in after:
        position = olds.take(doc)
        old = olds.pop(position) if position is not None else None
        edits = audit.get(doc.id, [])
        if old is not None and old.id != doc.id:
            edits = edits + audit.get(old.id, [])
        new = document_paragraphs(doc)
        if old is None:
            d = diff_document(doc.id, None, new, edits)
        else:
            d = diff_document(doc.id, document_paragraphs(old), new, edits)
            d.before_name = old.location
            d.duplicate_before = olds.duplicate[position]  # type: ignore[index]
        d.after_name = doc.location
        d.duplicate_after = doc.id in seen_after
        seen_after.add(doc.id)
        yield d
    for position, old in olds.left():
        d = diff_document(old.id, document_paragraphs(old), None, audit.get(old.id, []))
        d.before_name = old.location
        d.duplicate_before = olds.duplicate[position]
        yield d
