"""Read documents from folders, files and standard input (txt, html, jsonl, optionally .gz/.zst;
parquet, in cleanup/io/parquet.py; WARC and ARC archives, in cleanup/io/warc.py).

Every reader yields Documents lazily, so memory does not grow with the corpus. Bad input
raises BadInput naming the file and line; with `skip_bad` it is reported through `on_bad`
and skipped instead. With `lazy=True`, JSONL lines come out as RawLine, to be parsed by
`parse_line` where the steps run (on a worker process, when there are several).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import msgspec

from cleanup.document import Document, Edit
from cleanup.errors import BadInput
from cleanup.io.compression import (
    iter_chunks,
    read_all,
    split_lines,
    too_large,
)
from cleanup.io.decoding import clean_bad_chars, decode, encodes, utf8_chunks
from cleanup.io.discover import FORMATS as FORMATS
from cleanup.io.discover import OnSkip, Source, discover
from cleanup.io.discover import Skipped as Skipped
from cleanup.io.discover import format_of as format_of
from cleanup.io.discover import type_of as type_of
from cleanup.io.fieldpath import MISSING, blocked_at, get_path, split_path
from cleanup.io.jsonline import loads
from cleanup.io.remote import is_remote, open_input

OnBad = Callable[[str], None]
_DECODE = msgspec.json.Decoder().decode  # one decoder, reused: parse_line
# How deeply a record's lists and objects may nest: deeper ones are bad input, named with
# their line, before pickling or writing them would run out of stack (README, "Input").
MAX_DEPTH = 100
# The most one document may hold, as read (a JSONL line, a whole text or HTML file): past it
# the document is bad input, named before more is read (an endless /dev/zero, a runaway
# line), not a run that takes the machine's memory (README, "Input"). The default of
# `--max-document-size` (options.py), which sets `max_bytes` of the readers.
MAX_DOCUMENT_BYTES = 64 << 20


@dataclass(frozen=True)
class RecordFormat:
    """Say how a JSONL record maps onto a document: its text and id fields, an id prefix."""

    text_field: str = "text"
    id_field: str = "id"
    id_prefix: str = ""


@dataclass(frozen=True, slots=True)
class RawLine:
    """Hold one JSONL line as read, not yet parsed (see `parse_line`)."""

    line: bytes
    lineno: int
    source: Source

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as a plain tuple: with --workers every line crosses to a worker, and a
        frozen slots dataclass pickles through copyreg (its fields as a list) about 1.4
        times as slowly, in the main process's sending thread."""
        return (RawLine, (self.line, self.lineno, self.source))


def read_inputs(
    paths: Iterable[str],
    *,
    input_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    id_prefix: str = "",
    skip_bad: bool = False,
    on_bad: OnBad | None = None,
    stdin: BinaryIO | None = None,
    lazy: bool = False,
    follow_links: bool = False,
    on_skip: OnSkip | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> Iterator[Document | RawLine]:
    """Yield the documents of every input, in input order (JSONL lines as RawLine if lazy).

    Entries of input folders that are not read (unsupported types, links unless
    `follow_links`) go to `on_skip`; see `discover`. A document (a JSONL line, a whole text
    or HTML file) of more than `max_bytes` is bad input.
    """
    fmt = RecordFormat(text_field, id_field, id_prefix)
    paths = list(paths)
    reader = _Reader(fmt, skip_bad, on_bad, stdin, lazy, on_skip, max_bytes=max_bytes)
    reader.rediscover = lambda: discover(paths, input_format, follow_links=follow_links)
    sources = discover(
        paths, input_format, follow_links=follow_links, on_skip=on_skip, on_bad=reader._bad
    )
    for source in sources:
        yield from reader.read(source)


@dataclass
class _Reader:
    fmt: RecordFormat
    skip_bad: bool
    on_bad: OnBad | None
    stdin: BinaryIO | None
    lazy: bool = False
    on_skip: OnSkip | None = None  # also gets the archive records counted and skipped
    rediscover: Callable[[], Iterable[Source]] = tuple  # the inputs again (WARC's first pass)
    warc: Any = None  # the run's WarcRun, made when the first archive comes
    max_bytes: int = MAX_DOCUMENT_BYTES  # the most one document may hold, as read

    def read(self, source: Source, span: Any = None) -> Iterator[Document | RawLine]:
        """Yield the documents of one source (or of a `Split` of it), handling bad input."""
        if not encodes(source.path):  # bytes that are not UTF-8: ids, sources are text
            shown = source.path.encode("utf-8", "surrogateescape").decode(
                "utf-8", "backslashreplace"
            )
            self._bad(f"{shown}: file name is not UTF-8, which ids and records hold: rename it")
            return
        try:
            if source.format == "jsonl":
                yield from self._jsonl(source, span)
            elif source.format == "parquet":
                from cleanup.io.parquet import read_parquet  # pyarrow: an optional extra

                yield from read_parquet(source, self.fmt, self._bad, self.max_bytes)
            elif source.format == "warc":
                from cleanup.io.warc import WarcRun  # fastwarc, warcio: an optional extra

                self.warc = self.warc or WarcRun(
                    self.fmt, self.rediscover, self.on_skip, max_bytes=self.max_bytes
                )
                yield from self.warc.read(source, self._bad)
            else:
                yield from self._whole_file(source)
        except BadInput as exc:
            self._bad(str(exc))
        except OSError as exc:
            self._bad(f"{source.name}: cannot read: {exc.strerror or exc}")

    def _bad(self, message: str) -> None:
        if not self.skip_bad:
            raise BadInput(message)
        if self.on_bad:
            self.on_bad(message)

    def _open(self, source: Source) -> BinaryIO:
        if source.path == "-":
            return self.stdin or sys.stdin.buffer
        return open_input(source.path) if is_remote(source.path) else open(source.path, "rb")

    def _whole_file(self, source: Source) -> Iterator[Document]:
        with self._open(source) as fh:
            data = read_all(fh, source.path, self.max_bytes, too_large(self.max_bytes))
        text, edits = decode(data, source.name)
        doc_id = self.fmt.id_prefix + (source.relpath or "stdin")
        site = source.relpath.split("/", 1)[0] if "/" in source.relpath else ""
        common = {"source": source.name, "relpath": source.relpath, "site": site}
        yield Document.from_page(doc_id, text, source.format, edits, **common)

    def _jsonl(self, source: Source, span: Any) -> Iterator[Document | RawLine]:
        fh = self._open(source)
        try:  # a span: a byte range of a plain file and its first line number (io/splits.py)
            whole = utf8_chunks(iter_chunks(fh, source.path), source.name)  # lazy: no reads yet
            chunks = span.chunks(fh) if span else whole
            lines = split_lines(chunks, self.max_bytes)
            for lineno, line in enumerate(lines, span.first_line if span else 1):
                if line is None:
                    self._bad(
                        f"{source.name}:{lineno}: line longer than {too_large(self.max_bytes)}"
                    )
                    continue
                if not line.strip():
                    continue
                raw = RawLine(line, lineno, source)
                if self.lazy:
                    yield raw
                    continue
                try:
                    yield parse_line(raw, self.fmt)
                except BadInput as exc:
                    self._bad(str(exc))
        finally:
            if source.path != "-":
                fh.close()


def parse_line(raw: RawLine, fmt: RecordFormat) -> Document:
    """Turn one JSONL line into a document; raise BadInput naming the file and line.

    msgspec decodes the line's bytes (about 3x json.loads with the UTF-8 decode before it);
    what it rejects, json decodes as before: byte-order marks, bytes that are not UTF-8, lone
    surrogates, NaN and numbers beyond a float (kept as their text: jsonline.loads). Both
    keep big integers exactly and the last of a repeated key (tests/test_read_msgspec.py
    compares them).
    """
    record = _fast_record(raw.line)
    fast = record is not None
    if fast:
        edits: list[Edit] = []
        escapes = b"\\u" in raw.line
    else:
        text_line, edits = _line_text(raw.line, raw)
        record = _json_record(text_line, raw)
        escapes = "\\u" in text_line
    if not isinstance(record, dict):
        raise BadInput(f"{_where(raw)}: JSON line is not an object")
    if _nests(record) and _depth(record, raw.line) > MAX_DEPTH:
        raise BadInput(f"{_where(raw)}: JSON line nested deeper than {MAX_DEPTH} levels")
    keys = split_path(fmt.text_field)
    text = get_path(record, keys)
    if not isinstance(text, str):
        problem = "has no" if text is MISSING or text is None else "has a non-string"
        raise BadInput(f"{_where(raw)}: record {problem} text field {fmt.text_field!r}")
    if escapes:  # only a \u escape can put a NUL or lone surrogate in a value
        text, more = clean_bad_chars(text, _where(raw))
        edits.extend(more)
    document = record_document(record, keys, text, raw, fmt, "jsonl", edits)
    if escapes and not fast:  # msgspec refuses lone surrogates
        _check_surrogates(document.fields, raw)  # nested at most MAX_DEPTH: no deep recursion
    return document


def _fast_record(line: bytes) -> Any:
    """Return the line's JSON value decoded by msgspec, or None where it refuses the line."""
    try:
        return _DECODE(line)
    except (msgspec.DecodeError, RecursionError):
        return None


def _json_record(text_line: str, raw: RawLine) -> Any:
    """Return the line's JSON value decoded by the json module; raise BadInput if it is not JSON."""
    try:
        return loads(text_line)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{_where(raw)}: malformed JSON line ({exc.msg}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise BadInput(f"{_where(raw)}: JSON line nested deeper than {MAX_DEPTH} levels") from None


def _nests(record: dict[str, Any]) -> bool:
    """Tell whether a record holds a list or an object (most hold strings and numbers only:
    one look at each field, cheaper than counting brackets in the line)."""
    return any(type(value) is dict or type(value) is list for value in record.values())


def _depth(value: Any, line: bytes) -> int:
    """Return how deeply lists and objects nest in a JSON value (1 for a flat object), or 0
    when its `line` has too few brackets to nest past MAX_DEPTH (no walk)."""
    if line.count(b"[") + line.count(b"{") <= MAX_DEPTH:
        return 0
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in item)
    return deepest


def _check_surrogates(value: Any, raw: RawLine, path: str = "") -> None:
    """Raise BadInput if a carried field (key or string) holds a lone surrogate from a \\u
    escape: UTF-8 output cannot hold one, and the fields are carried as they came."""
    if isinstance(value, str):
        if not value.isascii() and not encodes(value):
            raise BadInput(f"{_where(raw)}: field {path or '(top)'!r} holds a lone surrogate")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            _check_surrogates(key, raw, where)
            _check_surrogates(item, raw, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_surrogates(item, raw, f"{path}[{i}]")


def _where(raw: RawLine) -> str:
    return f"{raw.source.name}:{raw.lineno}"


# A line opening with one of these bytes may open with a byte-order mark (UTF-8's, or a
# UTF-16/32 one, see _BOMS), so it goes through `decode`; a JSONL line opens with "{".
_MAY_BE_BOM = frozenset(b"\xef\xff\xfe\x00")


def _line_text(line: bytes, raw: RawLine) -> tuple[str, list[Edit]]:
    """Return `decode(line, ...)`, the common case (valid UTF-8, no BOM, no NUL) checked first
    without building the line's name for messages."""
    if line and line[0] not in _MAY_BE_BOM and b"\x00" not in line:  # bytes: memchr
        try:
            return line.decode("utf-8"), []
        except UnicodeDecodeError:
            pass
    return decode(line, _where(raw))


def record_document(
    record: dict[str, Any],
    keys: Sequence[str],
    text: str,
    raw: RawLine,
    fmt: RecordFormat,
    format: str,
    edits: list[Edit],
) -> Document:
    """Return the document of a record (a JSONL line, a Parquet row) whose text is at `keys`.

    The text field is emptied in the carried fields (the text lives in the paragraphs and
    the writer puts it back where it was); every other field is carried untouched.
    """
    source = raw.source
    holder = record if len(keys) == 1 else get_path(record, keys[:-1])
    holder[keys[-1]] = None
    doc_id, explicit = record_id(record, raw, fmt)
    relpath = source.relpath
    doc = Document.from_text(
        doc_id,
        text,
        source=_where(raw),
        site=relpath.split("/", 1)[0] if "/" in relpath else "",
        relpath=relpath,
        format=format,
        fields=record,
        explicit_id=explicit,
    )
    doc.edits.extend(edits)
    return doc


def record_id(record: dict[str, Any], raw: RawLine, fmt: RecordFormat) -> tuple[str, bool]:
    """Return a record's document id and whether the record gave it (else file and line).

    Raise BadInput when the id field's path runs into a non-object, since the writer could
    not put the id there.
    """
    raw_id = get_path(record, split_path(fmt.id_field))
    if raw_id is not None and raw_id is not MISSING and raw_id != "":
        return str(raw_id), True
    blocked = blocked_at(record, split_path(fmt.id_field))
    if blocked is not None:
        why = f"record field {blocked!r} on the way to id field {fmt.id_field!r} is not an object"
        raise BadInput(f"{raw.source.name}:{raw.lineno}: {why}")
    return f"{fmt.id_prefix}{raw.source.relpath or 'stdin'}:{raw.lineno}", False
