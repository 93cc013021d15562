"""Read documents from folders, files and standard input (txt, html, jsonl; optionally .gz/.zst).

Every reader yields Documents lazily, so memory does not grow with the corpus. Bad input
raises BadInput naming the file and line; with `skip_bad` it is reported through `on_bad`
and skipped instead.
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
) -> Iterator[Document]:
    """Yield the documents of every input, in input order."""
    reader = _Reader(text_field, id_field, id_prefix, skip_bad, on_bad, stdin)
    for source in discover(paths, input_format):
        yield from reader.read(source)


@dataclass
class _Reader:
    text_field: str
    id_field: str
    id_prefix: str
    skip_bad: bool
    on_bad: OnBad | None
    stdin: BinaryIO | None

    def read(self, source: Source) -> Iterator[Document]:
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
        doc_id = self.id_prefix + (source.relpath or "stdin")
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

    def _jsonl(self, source: Source) -> Iterator[Document]:
        site = source.relpath.split("/", 1)[0] if "/" in source.relpath else ""
        fh = self._open(source)
        try:
            lines = iter_lines(fh, source.path)
            for lineno, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                where = f"{source.name}:{lineno}"
                try:
                    doc = self._record(line, where, source, lineno)
                except BadInput as exc:
                    self._bad(str(exc))
                    continue
                doc.site = site
                yield doc
        finally:
            if source.path != "-":
                fh.close()

    def _record(self, line: bytes, where: str, source: Source, lineno: int) -> Document:
        text_line, edits = decode(line, where)
        try:
            record = json.loads(text_line)
        except json.JSONDecodeError as exc:
            raise BadInput(
                f"{where}: malformed JSON line ({exc.msg}, column {exc.colno})"
            ) from None
        if not isinstance(record, dict):
            raise BadInput(f"{where}: JSON line is not an object")
        text = record.get(self.text_field)
        if not isinstance(text, str):
            problem = "has no" if text is None else "has a non-string"
            raise BadInput(f"{where}: record {problem} text field {self.text_field!r}")
        record[self.text_field] = None  # the text lives in paragraphs; the writer puts it back
        if "\\u" in text_line:  # only a \u escape can put a NUL or lone surrogate in a value
            text, more = clean_bad_chars(text, where)
            edits.extend(more)
        raw_id = record.get(self.id_field)
        explicit = raw_id is not None and raw_id != ""
        prefix = self.id_prefix if not explicit else ""
        base = str(raw_id) if explicit else f"{source.relpath or 'stdin'}:{lineno}"
        doc = Document.from_text(
            prefix + base,
            text,
            source=where,
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
