"""Archive streams and records: decompression and the WARC and ARC parsers, for cleanup/io/warc.py.

gzip and LZ4 are decompressed by FastWARC's readers (in C), zstd by cleanup/io/compression.py,
told by the first bytes and handed to the parser as a forward-only Stream. WARC records come
from FastWARC, ARC records from warcio (the optional extra `cleanup[warc]`); both become a
Record whose block is read on demand. What a run makes of the records is warc.py's business.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from cleanup.errors import BadInput, UsageProblem
from cleanup.io.compression import iter_chunks
from cleanup.io.readers import Source

_CHUNK = 1 << 20


def require_fastwarc() -> Any:
    """Import FastWARC, or say in one line which extra installs it."""
    try:
        import fastwarc
    except ImportError:
        raise UsageProblem("WARC input needs fastwarc: pip install 'cleanup[warc]'") from None
    return fastwarc


def require_warcio() -> Any:
    """Import warcio's archive iterator (for ARC), or say in one line which extra installs it."""
    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError:
        raise UsageProblem("ARC input needs warcio: pip install 'cleanup[warc]'") from None
    return ArchiveIterator


@dataclass(slots=True)
class Record:
    """One archive record as the parsers give it, with its block read on demand."""

    number: int  # 1-based, in its file
    offset: int  # where it starts in the decompressed stream
    kind: str  # WARC-Type
    uri: str
    date: str
    record_id: str
    length: int  # the block's declared Content-Length
    read: Callable[[int], bytes]  # read(n) up to n bytes of the block; read(-1) the rest
    skip: Callable[[], int]  # skip the rest of the block, return how many bytes it had
    declared: str | None = None  # the Content-Length header as written (WARC; None: none)


class Damaged(Exception):
    """Report an archive the parser cannot read on from (the reader names file and record)."""


class Cut(Exception):
    """Report a record that ends before it should: the archive was cut (`truncated`), or the
    record's header cannot say where it ends (a bad Content-Length)."""

    def __init__(self, rec: Record, why: str, truncated: bool = True) -> None:
        super().__init__(why)
        self.record = f"{rec.number} (offset {rec.offset:,})"
        self.why = why
        self.truncated = truncated


@dataclass
class Stream:
    """A forward-only byte stream over decompressed chunks, for the archive parsers.

    A decompression error (a truncated or damaged file) ends the stream instead of being
    raised into the parser, which would lose the records it had buffered; `error` keeps it
    for the reader to report after the last complete record.
    """

    chunks: Iterator[bytes]
    pos: int = 0
    error: BadInput | None = None
    buf: bytes = b""
    at: int = 0

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` bytes (all that is left when negative); b"" at the end."""
        want = size if size is not None and size >= 0 else 1 << 62
        parts = []
        while want > 0:
            if self.at >= len(self.buf) and not self._fill():
                break
            part = self.buf[self.at : self.at + want]
            self.at += len(part)
            want -= len(part)
            parts.append(part)
        out = parts[0] if len(parts) == 1 else b"".join(parts)
        self.pos += len(out)
        return out

    def _fill(self) -> bool:
        try:
            self.buf, self.at = next(self.chunks, b""), 0
        except BadInput as exc:
            self.error, self.buf = exc, b""
        return bool(self.buf)

    def peek(self, size: int) -> bytes:
        """Return up to `size` bytes of what comes next, without reading them."""
        if self.at >= len(self.buf):
            self._fill()
        return self.buf[self.at : self.at + size]

    def tell(self) -> int:
        """Return how many bytes were read."""
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move forward only (the parsers ask where they are with a seek of 0)."""
        target = offset if whence == 0 else self.pos + offset if whence == 1 else -1
        if target < self.pos:
            raise OSError("an archive stream can only be read forward")
        while self.pos < target and self.read(min(target - self.pos, _CHUNK)):
            pass
        return self.pos

    def close(self) -> None:
        """Do nothing: the file under the stream is closed by its owner."""


def _native_chunks(kind: str, path: str, name: str) -> Iterator[bytes]:
    """Yield the decompressed bytes of a gzip or LZ4 file by FastWARC's reader (in C).

    FastWARC's gzip reader stops quietly at a cut, so the last gzip member is checked to end
    where a complete member does (a cut inside a record's block is caught by its length too).
    """
    fastwarc = require_fastwarc()
    reader = fastwarc.GzipReader(path) if kind == "gzip" else fastwarc.Lz4Reader(path)
    try:
        while chunk := reader.read(_CHUNK):
            yield chunk
        last = reader.frame_start_position() if kind == "gzip" else None
    except OSError as exc:
        raise BadInput(f"{name}: damaged or truncated {kind} file ({exc})") from None
    finally:
        reader.close()
    if last is not None and not _member_complete(path, last):
        raise BadInput(f"{name}: truncated gzip file")


def _member_complete(path: str, start: int) -> bool:
    """Tell whether the gzip member at `start` ends (with its checksum) before the file does."""
    member = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as fh:
        fh.seek(start)
        while chunk := fh.read(_CHUNK):
            try:
                member.decompress(chunk)
            except zlib.error:
                return False
            if member.eof:
                return True
    return member.eof


_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"\x04\x22\x4d\x18": "lz4"}


def open_stream(source: Source, fh: BinaryIO) -> Stream:
    """Return the decompressed stream of an archive file, its compression told by its first bytes.

    gzip and LZ4 are read by FastWARC's readers (about 3 times as fast as Python's gzip on
    a WARC of one gzip member per record), zstd by ours (cleanup/io/compression.py).
    """
    head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), "")
    if kind in ("gzip", "lz4"):
        return Stream(_native_chunks(kind, source.path, source.name))
    return Stream(_named_chunks(fh, source.name, ".zst" if kind == "zstd" else ""))


def _named_chunks(fh: BinaryIO, name: str, suffix: str) -> Iterator[bytes]:
    """Yield iter_chunks of a stream by its magic-chosen suffix; errors keep the real name."""
    try:
        yield from iter_chunks(fh, "x" + suffix)
    except BadInput as exc:
        raise BadInput(str(exc).replace("x" + suffix, name, 1)) from None


def warc_records(stream: Stream) -> Iterator[Record]:
    """Yield the records of a WARC stream with FastWARC (its HTTP parsing is ours)."""
    fastwarc = require_fastwarc()
    records = fastwarc.ArchiveIterator(stream, parse_http=False)
    for number, rec in enumerate(records, 1):
        headers = rec.headers
        reader = rec.reader
        yield Record(
            number,
            rec.stream_pos,
            (headers.get("WARC-Type") or "").lower(),
            headers.get("WARC-Target-URI") or "",
            headers.get("WARC-Date") or "",
            headers.get("WARC-Record-ID") or "",
            _int(headers.get("Content-Length")),
            reader.read,
            reader.consume,
            headers.get("Content-Length"),
        )


def arc_records(stream: Stream) -> Iterator[Record]:
    """Yield the records of an ARC stream with warcio (which gives them WARC headers).

    warcio's parse errors become Damaged (the reader names file and record); its warnings
    about a URI with spaces (which it mends) and a wrong length are not shown.
    """
    iterator_type = require_warcio()
    logging.getLogger("warcio").setLevel(logging.ERROR)
    iterator = iterator_type(stream, arc2warc=True, no_record_parse=True)
    iterator.INC_RECORD = ""  # its three-line warning of a wrong length, to stderr: not shown
    number = 0
    while True:
        try:
            rec = next(iterator, None)
        except Exception as exc:  # warcio's ArchiveLoadFailed, StatusAndHeadersParserException
            raise Damaged(f"{type(exc).__name__}: {str(exc)[:120]}") from None
        if rec is None:
            return
        number += 1
        body = rec.raw_stream

        def skip(body: Any = body) -> int:
            total = 0
            while part := body.read(_CHUNK):
                total += len(part)
            return total

        headers = rec.rec_headers
        declared = headers.get_header("Content-Length")  # ARC's length, which warcio reads as 0
        length = rec.length if rec.length is not None else -1  # 0 for the filedesc: warcio reads it
        yield Record(
            number,
            iterator.offset,
            rec.rec_type or "",
            headers.get_header("WARC-Target-URI") or "",
            headers.get_header("WARC-Date") or "",
            "",  # ARC has no record ids (warcio makes up random ones)
            -1 if declared is not None and _int(declared) < 0 else length,
            body.read,
            skip,
            declared,
        )


def _int(value: str | None) -> int:
    """Return a header's integer value, or -1 when it is missing or not a number."""
    return int(value) if value and value.strip().isdigit() else -1


def records(source: Source, fh: BinaryIO) -> tuple[Stream, Iterator[Record]]:
    """Return an archive's stream and its records: ARC (it starts with filedesc://) or WARC."""
    stream = open_stream(source, fh)
    if stream.peek(9).startswith(b"filedesc:"):
        return stream, arc_records(stream)
    return stream, warc_records(stream)
