"""Read web archives: WARC with FastWARC, ARC with warcio (the optional extra `cleanup[warc]`).

A `response` record with HTTP status 200 and an HTML content type becomes an HTML document
built as an `.html` file's is (Document.from_page), so strip-html extracts it the same way; its
charset is read by cleanup/io/http.py. A WET `conversion` record becomes a text document.
Counted by kind (Skipped "record"): responses that are not HTML or not 200, revisits, and
captures superseded by a later one of the same URI. Request, metadata, warcinfo, resource and
continuation records are skipped silently: they hold what the crawler sent or noted.

The latest capture of a URI in a run wins (WARC-Date; on a tie, the later in input order).
Documents stream out as they are read, so the winners are known first: a first pass over
every archive of the run parses record headers and the HTTP header only, keeping a 64-bit
hash of each URI -> its winner (date, file, record packed in one int): about 120 bytes per
distinct URI (measured; 8 million pages: about 1 GB), and a second decompression.

Decompression: gzip and LZ4 by FastWARC's readers (in C), zstd by cleanup/io/compression.py,
told by the first bytes and handed to the parser as a forward-only stream. A cut archive (a
decompression error, a last gzip member without its end, a block shorter than its
Content-Length, a record without a WARC header) stops the run after the records before the
cut, naming the file and the record (number, offset in the decompressed stream). WARC is read
from local files only: the first pass reads it twice, FastWARC's readers want a path.
"""

from __future__ import annotations

import datetime
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import xxhash

from cleanup.document import Document
from cleanup.errors import BadInput, UsageProblem
from cleanup.io.compression import iter_chunks
from cleanup.io.decoding import decode
from cleanup.io.http import (
    HEAD,
    BadHttp,
    Http,
    decode_page,
    header_charset,
    media_type,
    parse_http,
    unwrap,
)
from cleanup.io.readers import RecordFormat, Skipped, Source

_CHUNK = 1 << 20
_HTML_TYPES = ("text/html", "application/xhtml+xml")
SKIP_KINDS = {"not-html": "not HTML", "status": "status not 200", "revisit": "revisit"}
ID_HEADERS = ("warc-record-id",)  # --id-field values that take the id from a WARC header

OnSkip = Callable[[Skipped], None]


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


class Damaged(Exception):
    """Report an archive the parser cannot read on from (the reader names file and record)."""


class Cut(Exception):
    """Report a record that ends before it should: the archive was cut."""

    def __init__(self, rec: Record, why: str) -> None:
        super().__init__(why)
        self.record = f"{rec.number} (offset {rec.offset:,})"
        self.why = why


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
        )


def arc_records(stream: Stream) -> Iterator[Record]:
    """Yield the records of an ARC stream with warcio (which gives them WARC headers).

    warcio's parse errors become Damaged (the reader names file and record); its warning
    about a URI with spaces (which it mends) is not shown.
    """
    iterator_type = require_warcio()
    logging.getLogger("warcio").setLevel(logging.ERROR)
    iterator = iterator_type(stream, arc2warc=True, no_record_parse=True)
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
        yield Record(
            number,
            iterator.offset,
            rec.rec_type or "",
            headers.get_header("WARC-Target-URI") or "",
            headers.get_header("WARC-Date") or "",
            "",  # ARC has no record ids (warcio makes up random ones)
            rec.length if rec.length is not None else -1,  # 0 for the filedesc: warcio reads it
            body.read,
            skip,
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


def _rank(date: str, file: int, number: int) -> int:
    """Return a capture's rank: later WARC-Date first, then later in input order."""
    try:
        when = datetime.datetime.fromisoformat(date.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        micros = int(when.timestamp() * 1_000_000) + (1 << 62)
    except ValueError:
        micros = 0  # no readable date: older than any dated capture
    return (micros << 64) | (file << 32) | number


def _uri_key(uri: str) -> int:
    return xxhash.xxh3_64_intdigest(uri.encode("utf-8", "surrogatepass"))


@dataclass(slots=True)
class Verdict:
    """What a record is: "html" or "text" (a document), a skip kind, or "silent"."""

    kind: str
    http: Http | None = None
    head: bytes = b""


def classify(rec: Record) -> Verdict:
    """Tell what a record becomes, reading at most the first HEAD bytes of its block.

    Raise BadHttp (with the bytes read in `head`) for a response whose header is broken.
    """
    if rec.kind == "conversion":
        return Verdict("text")
    if rec.kind == "revisit":
        return Verdict("revisit")
    if rec.kind != "response":
        return Verdict("silent")
    head = rec.read(HEAD)
    try:
        http = parse_http(head)
    except BadHttp as exc:
        exc.head = head  # type: ignore[attr-defined]
        raise
    if http.status != 200:
        return Verdict("status", http, head)
    if media_type(http.headers.get("content-type", "")) not in _HTML_TYPES:
        return Verdict("not-html", http, head)
    return Verdict("html", http, head)


def _is_document(rec: Record) -> bool:
    """Tell whether a record becomes a document (a broken HTTP header: no, bad input)."""
    try:
        return classify(rec).kind in ("html", "text")
    except BadHttp:
        return False


def _finish_block(rec: Record, head: bytes, keep: bool) -> bytes:
    """Read (or skip) the rest of a record's block; raise Cut when it ends early."""
    if keep:
        rest = rec.read(-1)
        got = len(head) + len(rest)
    else:
        rest, got = b"", len(head) + rec.skip()
    if rec.length >= 0 and got < rec.length:
        raise Cut(rec, f"ends early ({got:,} of {rec.length:,} bytes)")
    return head + rest


@dataclass
class WarcRun:
    """Read the archives of one run: the winners of repeated URIs, then the documents."""

    fmt: RecordFormat
    sources: Callable[[], Iterable[Source]]  # the run's inputs, discovered again
    on_skip: OnSkip | None = None
    winners: dict[int, int] | None = None
    order: dict[str, int] = field(default_factory=dict)

    def index(self) -> dict[int, int]:
        """Return hash(URI) -> rank of its latest capture, by a pass over record heads only."""
        if self.winners is not None:
            return self.winners
        winners: dict[int, int] = {}
        local = (s for s in self.sources() if s.path != "-" and "://" not in s.path)
        for file, source in enumerate(s for s in local if s.format == "warc"):
            self.order.setdefault(source.path, file)
            try:
                with open(source.path, "rb") as fh:
                    for rec in records(source, fh)[1]:
                        if _is_document(rec):
                            key, rank = _uri_key(rec.uri), _rank(rec.date, file, rec.number)
                            if rank > winners.get(key, -1):
                                winners[key] = rank
            except (BadInput, Damaged, OSError, ValueError):
                continue  # the reading pass reports it where it happens
        self.winners = winners
        return winners

    def read(self, source: Source, on_bad: Callable[[str], None]) -> Iterator[Document]:
        """Yield the documents of one archive; a cut or damaged archive goes to `on_bad`."""
        if source.path == "-":
            raise UsageProblem("WARC cannot be read from standard input: give the file")
        if "://" in source.path:  # FastWARC's readers and the first pass want a local file
            raise UsageProblem(f"{source.name}: WARC is read from local files only: copy it first")
        winners = self.index()
        file = self.order.get(source.path, len(self.order))
        last, problem, cut = 0, None, None
        with open(source.path, "rb") as fh:
            stream, recs = records(source, fh)
            try:
                for rec in recs:
                    last = rec.number
                    doc = self._document(source, file, rec, winners, on_bad)
                    if doc is not None:
                        yield doc
            except Cut as exc:
                cut = exc
            except (Damaged, OSError, ValueError) as exc:
                what = f"damaged archive after record {last}" if last else "not a WARC file"
                problem = f"{source.name}: {what} ({exc})"
        if stream.error is not None:  # the decompressor's message names file and format
            where = (
                f"record {cut.record} is cut short" if cut else f"the cut is after record {last}"
            )
            problem = f"{stream.error}: {where}"
        elif cut is not None:
            problem = f"{source.name}: truncated archive: record {cut.record} {cut.why}"
        if problem:
            on_bad(problem)

    def _skip(self, source: Source, rec: Record, kind: str) -> None:
        if self.on_skip is not None:
            why = SKIP_KINDS.get(kind, kind)
            self.on_skip(Skipped("record", f"{source.name}:{rec.number}", why))

    def _document(
        self,
        source: Source,
        file: int,
        rec: Record,
        winners: dict[int, int],
        on_bad: Callable[[str], None],
    ) -> Document | None:
        """Return the document a record becomes, or None (counted, silent or bad input)."""
        where = f"{source.name}: record {rec.number} (offset {rec.offset:,})"
        if not rec.kind or rec.length < 0:
            raise Cut(rec, "has no complete WARC header")
        try:
            verdict = classify(rec)
        except BadHttp as exc:
            _finish_block(rec, getattr(exc, "head", b""), False)
            on_bad(f"{where}: broken HTTP header: {exc}")
            return None
        keep = verdict.kind in ("html", "text")
        block = _finish_block(rec, verdict.head, keep)
        if not keep:
            if verdict.kind != "silent":
                self._skip(source, rec, verdict.kind)
            return None
        if winners.get(_uri_key(rec.uri), -1) > _rank(rec.date, file, rec.number):
            self._skip(source, rec, "superseded")
            return None
        try:
            return self._build(source, rec, verdict, block, where)
        except (BadInput, BadHttp) as exc:
            on_bad(str(exc) if isinstance(exc, BadInput) else f"{where}: {exc}")
            return None

    def _build(
        self, source: Source, rec: Record, verdict: Verdict, block: bytes, where: str
    ) -> Document:
        http = verdict.http
        if http is not None:
            content_type = http.headers.get("content-type", "")
            body = unwrap(block[http.body_at :], http.headers)
            text, edits = decode_page(body, header_charset(content_type), where)
        else:
            content_type = "text/plain"
            text, edits = decode(block, where)
        fields = {
            "url": rec.uri or None,
            "warc_date": rec.date or None,
            "http_status": http.status if http else None,
            "content_type": content_type,
            "warc_record_id": rec.record_id or None,
        }
        return Document.from_page(
            self._id(source, rec),
            text,
            "html" if verdict.kind == "html" else "txt",
            edits,
            source=f"{source.name}:{rec.number}",
            relpath=source.relpath,
            site=urlsplit(rec.uri).hostname or "",
            fields=fields,
        )

    def _id(self, source: Source, rec: Record) -> str:
        """Return the id: the target URI, or the record id when --id-field names that header."""
        if self.fmt.id_field.lower() in ID_HEADERS and rec.record_id:
            return rec.record_id
        return rec.uri or rec.record_id or f"{self.fmt.id_prefix}{source.relpath}:{rec.number}"
