"""Read documents from folders, files and standard input (txt, html, jsonl; optionally .gz/.zst).

Every reader yields Documents lazily, so memory does not grow with the corpus. Bad input
raises BadInput naming the file and line; with `skip_bad` it is reported through `on_bad`
and skipped instead. With `lazy=True`, JSONL lines come out as RawLine, to be parsed by
`parse_line` where the steps run (on a worker process, when there are several).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import charset_normalizer

from cleanup.document import Document, Edit
from cleanup.errors import BadInput, UsageProblem
from cleanup.io.compression import iter_lines, read_all, strip_compression

FORMATS = ("txt", "html", "jsonl")
_EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
}
_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff]")
OnBad = Callable[[str], None]


@dataclass(frozen=True)
class Source:
    """One input file (or standard input) and where it sits under its input root."""

    path: str  # "-" for standard input
    root: str
    relpath: str
    format: str

    @property
    def name(self) -> str:
        """Return the name used in messages: the path as the user gave it."""
        return "<stdin>" if self.path == "-" else self.path


def format_of(path: str) -> str | None:
    """Return the input format implied by a file name, or None for an unsupported one."""
    return _EXTENSIONS.get(os.path.splitext(strip_compression(path).lower())[1])


def discover(paths: Iterable[str], input_format: str | None = None) -> Iterator[Source]:
    """Expand inputs into Sources: folders recursively (sorted, hidden entries skipped)."""
    for path in paths:
        if path == "-":
            yield Source("-", "", "", input_format or "jsonl")
        elif os.path.isdir(path):
            yield from _walk(path, input_format)
        elif os.path.exists(path):
            fmt = input_format or format_of(path) or "txt"
            yield Source(path, os.path.dirname(path), os.path.basename(path), fmt)
        else:
            raise UsageProblem(f"{path}: no such file or folder")


def _walk(root: str, input_format: str | None) -> Iterator[Source]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            fmt = format_of(name)
            if name.startswith(".") or fmt is None:
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            yield Source(path, root, rel, input_format or fmt)


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
) -> Iterator[Document | RawLine]:
    """Yield the documents of every input, in input order (JSONL lines as RawLine if lazy)."""
    fmt = RecordFormat(text_field, id_field, id_prefix)
    reader = _Reader(fmt, skip_bad, on_bad, stdin, lazy)
    for source in discover(paths, input_format):
        yield from reader.read(source)


@dataclass
class _Reader:
    fmt: RecordFormat
    skip_bad: bool
    on_bad: OnBad | None
    stdin: BinaryIO | None
    lazy: bool = False

    def read(self, source: Source) -> Iterator[Document | RawLine]:
        """Yield the documents of one source, turning bad input into errors or skips."""
        try:
            if source.format == "jsonl":
                yield from self._jsonl(source)
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
        return open(source.path, "rb")

    def _whole_file(self, source: Source) -> Iterator[Document]:
        with self._open(source) as fh:
            data = read_all(fh, source.path)
        text, edits = decode(data, source.name)
        doc_id = self.fmt.id_prefix + (source.relpath or "stdin")
        site = source.relpath.split("/", 1)[0] if "/" in source.relpath else ""
        common: dict[str, Any] = {
            "source": source.name,
            "relpath": source.relpath,
            "site": site,
            "format": source.format,
        }
        if source.format == "html":
            doc = Document(id=doc_id, paragraphs=[text] if text.strip() else [], raw=text, **common)
        else:
            doc = Document.from_text(doc_id, text, **common)
        doc.edits.extend(edits)
        yield doc

    def _jsonl(self, source: Source) -> Iterator[Document | RawLine]:
        fh = self._open(source)
        try:
            for lineno, line in enumerate(iter_lines(fh, source.path), 1):
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
    """Turn one JSONL line into a document; raise BadInput naming the file and line."""
    source = raw.source
    where = f"{source.name}:{raw.lineno}"
    text_line, edits = decode(raw.line, where)
    try:
        record = json.loads(text_line)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{where}: malformed JSON line ({exc.msg}, column {exc.colno})") from None
    if not isinstance(record, dict):
        raise BadInput(f"{where}: JSON line is not an object")
    text = record.get(fmt.text_field)
    if not isinstance(text, str):
        problem = "has no" if text is None else "has a non-string"
        raise BadInput(f"{where}: record {problem} text field {fmt.text_field!r}")
    record[fmt.text_field] = None  # the text lives in paragraphs; the writer puts it back
    if "\\u" in text_line:  # only a \u escape can put a NUL or lone surrogate in a value
        text, more = clean_bad_chars(text, where)
        edits.extend(more)
    raw_id = record.get(fmt.id_field)
    explicit = raw_id is not None and raw_id != ""
    prefix = fmt.id_prefix if not explicit else ""
    base = str(raw_id) if explicit else f"{source.relpath or 'stdin'}:{raw.lineno}"
    doc = Document.from_text(
        prefix + base,
        text,
        source=where,
        site=source.relpath.split("/", 1)[0] if "/" in source.relpath else "",
        relpath=source.relpath,
        format="jsonl",
        fields=record,
        explicit_id=explicit,
    )
    doc.edits.extend(edits)
    return doc


def decode(data: bytes, where: str) -> tuple[str, list[Edit]]:
    """Decode bytes as UTF-8, else by detection; record what was done as edits.

    Raises BadInput for binary data or bytes that no encoding explains.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Strict UTF-8 decoding never yields a lone surrogate, so only NULs need a look.
            return (text, []) if "\x00" not in text else clean_bad_chars(text, where)
    if _looks_binary(data):
        raise BadInput(f"{where}: binary data, not text")
    best = _detect(data)
    if best is None:
        raise BadInput(f"{where}: bytes cannot be decoded as text in any known encoding")
    text, edits = clean_bad_chars(str(best), where)
    why = f"input is not valid UTF-8; decoded as {best.encoding} by detection"
    edits.insert(0, Edit("read", "read:decode-charset", "", best.encoding, why, -1))
    return text, edits


# The web's most common legacy encodings, most common first: among detections that explain
# the bytes about equally well, the likelier one wins (browsers default to windows-1252 too).
_PREFERRED = ("cp1252", "cp1251", "gb18030", "gbk", "shift_jis", "euc_jp", "euc_kr", "big5",
              "cp1250", "cp1256", "iso8859_2", "cp1253", "cp1254", "cp1255", "koi8_r")  # fmt: skip


def _encodes(text: str) -> bool:
    """Tell whether text is valid Unicode for UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _detect(data: bytes) -> charset_normalizer.CharsetMatch | None:
    """Return the likeliest decoding of `data`: detection, with a prior for common encodings."""
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    close = {m.encoding: m for m in matches if m.chaos <= best.chaos + 0.05}
    for encoding in _PREFERRED:
        if encoding in close:
            return close[encoding]
    return best


def _looks_binary(data: bytes) -> bool:
    """Tell binary data from text: NUL bytes or many control bytes in the first 8 KB."""
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls / len(head) > 0.05


def clean_bad_chars(text: str, where: str) -> tuple[str, list[Edit]]:
    """Replace stray NULs and lone surrogates with U+FFFD, recording how many there were."""
    if "\x00" not in text and (text.isascii() or _encodes(text)):
        return text, []  # the common case, checked at C speed
    count = len(_BAD_CHARS.findall(text))
    fixed = _BAD_CHARS.sub("\ufffd", text)
    why = f"{count} stray NUL or lone surrogate character(s) replaced with U+FFFD"
    return fixed, [Edit("read", "read:bad-character", "", "\ufffd", why, -1, {"count": count})]
