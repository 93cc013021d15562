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

Decompression and parsing: cleanup/io/archive.py (FastWARC for WARC, warcio for ARC). A cut
archive (a decompression error, a last gzip member without its end, a block shorter than its
Content-Length, a record without a WARC header) stops the run after the records before the cut,
naming the file and the record (number, offset in the decompressed stream); so does a record
whose Content-Length is not a number of bytes (`abc`, `-5`), named as such. WARC is read from
local files only: the first pass reads it twice, FastWARC's readers want a path.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import xxhash

from cleanup.document import Document
from cleanup.errors import BadInput, UsageProblem
from cleanup.io.archive import Cut, Damaged, Record, records
from cleanup.io.compression import too_large
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
from cleanup.io.readers import MAX_DOCUMENT_BYTES, RecordFormat, Skipped, Source

_HTML_TYPES = ("text/html", "application/xhtml+xml")
SKIP_KINDS = {"not-html": "not HTML", "status": "status not 200", "revisit": "revisit"}
ID_HEADERS = ("warc-record-id",)  # --id-field values that take the id from a WARC header

OnSkip = Callable[[Skipped], None]


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


def _host(uri: str) -> str:
    """Return a URI's host name; "" when it has none or is not a URL (`http://[::1`)."""
    try:
        return urlsplit(uri).hostname or ""
    except ValueError:
        return ""


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
    max_bytes: int = MAX_DOCUMENT_BYTES  # the most one document may hold: block, body

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
                        if rec.length < 0:  # it cannot say where the next record starts
                            break
                        if rec.uri and _is_document(rec):  # no URI: nothing to supersede
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
            what = "truncated archive: record" if cut.truncated else "damaged archive: record"
            problem = f"{source.name}: {what} {cut.record} {cut.why}"
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
        if rec.kind and rec.length < 0 and rec.declared is not None:  # FastWARC reads on
            why = f"has a bad Content-Length {rec.declared[:40]!r} (not a number of bytes)"
            raise Cut(rec, why, truncated=False)
        if not rec.kind or rec.length < 0:
            raise Cut(rec, "has no complete WARC header")
        try:
            verdict = classify(rec)
        except BadHttp as exc:
            _finish_block(rec, getattr(exc, "head", b""), False)
            on_bad(f"{where}: broken HTTP header: {exc}")
            return None
        keep = verdict.kind in ("html", "text")
        if keep and rec.length > self.max_bytes:  # read, it would take that much memory
            _finish_block(rec, verdict.head, False)
            on_bad(f"{where}: larger than {too_large(self.max_bytes)}")
            return None
        block = _finish_block(rec, verdict.head, keep)
        if not keep:
            if verdict.kind != "silent":
                self._skip(source, rec, verdict.kind)
            return None
        if rec.uri and winners.get(_uri_key(rec.uri), -1) > _rank(rec.date, file, rec.number):
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
            body = unwrap(block[http.body_at :], http.headers, self.max_bytes)
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
            site=_host(rec.uri),
            fields=fields,
        )

    def _id(self, source: Source, rec: Record) -> str:
        """Return the id: the target URI, or the record id when --id-field names that header."""
        if self.fmt.id_field.lower() in ID_HEADERS and rec.record_id:
            return rec.record_id
        return rec.uri or rec.record_id or f"{self.fmt.id_prefix}{source.relpath}:{rec.number}"
