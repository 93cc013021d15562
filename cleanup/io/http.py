"""Read the HTTP responses archived in WARC and ARC records: header, codings, charset.

Why a parser of our own: the archive's HTTP header is read the same way for WARC (FastWARC)
and ARC (warcio), and a broken one is one record's bad input rather than the end of the file.
The charset of a page comes from the HTTP Content-Type header, then the page's own meta
charset, then decoding.decode (byte-order mark, UTF-8, detection), the order browsers use.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass

from cleanup.document import Edit
from cleanup.io.compression import too_large
from cleanup.io.decoding import bom_codec, clean_bad_chars, decode

HEAD = 64 << 10  # an HTTP header must end within this many bytes of its block


class BadHttp(ValueError):
    """Say why an HTTP header in a record's block cannot be read."""


@dataclass(slots=True)
class Http:
    """Hold a parsed HTTP response header: status, headers (lower-case names), body offset."""

    status: int
    headers: dict[str, str]
    body_at: int


_STATUS = re.compile(rb"HTTP/\d(?:\.\d)?[ \t]+(\d{3})(?:[ \t]|$)")


def parse_http(block: bytes) -> Http:
    """Parse the HTTP response header at the start of a record's block; raise BadHttp."""
    end, sep = block.find(b"\r\n\r\n", 0, HEAD), 4
    if end < 0:
        end, sep = block.find(b"\n\n", 0, HEAD), 2
    if end < 0:
        raise BadHttp("no end of the HTTP header")
    lines = block[:end].split(b"\n")
    status_line = lines[0].rstrip(b"\r")
    match = _STATUS.match(status_line)
    if match is None:
        raise BadHttp(f"bad HTTP status line {status_line[:60]!r}")
    headers: dict[str, str] = {}
    name = ""
    for raw in lines[1:]:
        line = raw.rstrip(b"\r")
        if line[:1] in (b" ", b"\t") and name:  # an obsolete folded continuation line
            headers[name] += " " + line.strip().decode("latin-1")
            continue
        key, colon, value = line.partition(b":")
        if not colon or not key.strip() or b" " in key.strip():
            raise BadHttp(f"bad HTTP header line {line[:60]!r}")
        name = key.strip().decode("latin-1").lower()
        headers[name] = value.strip().decode("latin-1")
    return Http(int(match.group(1)), headers, end + sep)


_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.I)
# A page declared as ISO-8859-1 or ASCII is windows-1252 to a browser (the WHATWG labels).
_AS_CP1252 = {"latin_1", "ascii", "cp1252"}


def media_type(content_type: str) -> str:
    """Return the media type of a Content-Type value, lower case, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def header_charset(content_type: str) -> str | None:
    """Return the charset parameter of a Content-Type value, if any."""
    match = _HEADER_CHARSET.search(content_type)
    return match.group(1) if match else None


def _codec(label: str | None) -> str | None:
    """Return the Python codec a charset label names, or None for an unknown label."""
    if not label:
        return None
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or "escape" in info.name:
        return None  # zlib, base64, hex; unicode_escape would rewrite the page's backslashes
    name = info.name
    if name.startswith(("utf-16", "utf-32")):
        return None  # a page declaring UTF-16 in ASCII bytes is not UTF-16: detect instead
    return "cp1252" if name.replace("-", "_") in _AS_CP1252 else name


def decode_page(body: bytes, declared: str | None, where: str) -> tuple[str, list[Edit]]:
    """Decode a page by its HTTP charset, then its meta charset, then as decoding.decode does.

    A byte-order mark wins over both declarations, as it does in browsers. A declared charset
    that does not decode the bytes is passed over; only a detected one is recorded as an edit.
    """
    if not body.startswith(b"\xef\xbb\xbf") and bom_codec(body) is None:
        meta = _META_CHARSET.search(body, 0, 4096)
        for label in (declared, meta.group(1).decode("ascii") if meta else None):
            codec = _codec(label)
            if codec is None:
                continue
            try:
                return clean_bad_chars(body.decode(codec), where)
            except UnicodeError:  # and the codecs that refuse whatever comes (undefined, idna)
                continue
    return decode(body, where)


def unwrap(body: bytes, headers: dict[str, str], limit: int) -> bytes:
    """Undo a chunked transfer coding and a gzip/deflate content coding the crawler kept.

    Crawlers that decoded the body but kept the header are common, so a body that is not
    chunked (or not gzip) is taken as it is; one that starts to decode and fails is BadHttp,
    and so is one that decodes to more than `limit` bytes (a few hundred KB of gzip can
    hold gigabytes), found before more than that is held.
    """
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    coding = headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity") or (coding in ("gzip", "x-gzip") and body[:2] != b"\x1f\x8b"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise BadHttp(f"unsupported content encoding {coding!r}")
    for wbits in (zlib.MAX_WBITS | 32, -zlib.MAX_WBITS):  # gzip or zlib; raw deflate
        try:
            data = zlib.decompressobj(wbits).decompress(body, limit + 1)
        except zlib.error as exc:
            problem = exc
            continue
        if len(data) > limit:
            raise BadHttp(f"body decodes to more than {too_large(limit)}")
        return data
    raise BadHttp(f"body does not decode as {coding} ({problem})")


_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")


def _dechunk(body: bytes) -> bytes:
    """Return a chunked body's data; a body that does not start with a chunk size, as is."""
    out: list[bytes] = []
    at = 0
    while at < len(body):
        match = _CHUNK_SIZE.match(body, at)
        if match is None:
            return body if at == 0 else b"".join(out)
        size = int(match.group(1), 16)
        if size == 0:
            break
        out.append(body[match.end() : match.end() + size])
        at = match.end() + size
        at += 2 if body[at : at + 2] == b"\r\n" else 1 if body[at : at + 1] == b"\n" else 0
    return b"".join(out)
