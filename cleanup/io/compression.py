"""Open plain, gzip and zstd files as byte streams that notice truncation."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO, cast

import zstandard

from cleanup.errors import BadInput

COMPRESSED_SUFFIXES = (".gz", ".zst")
_CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
STDIN = "<stdin>"  # standard input ("-") as messages name it


def strip_compression(name: str) -> str:
    """Return `name` without a trailing .gz or .zst."""
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def iter_chunks(fh: BinaryIO, name: str) -> Iterator[bytes]:
    """Yield the decompressed bytes of `fh`, raising BadInput at a truncated end.

    Everything before the cut is yielded first, so callers keep the records that survived.
    A file is compressed as its name says; standard input ("-"), which has no name, as its
    first bytes say (the gzip or zstd magic).
    """
    if name == "-":
        yield from _stdin_chunks(fh)
    elif name.endswith(".gz"):
        yield from _gzip_chunks(fh, name)
    elif name.endswith(".zst"):
        yield from _zstd_chunks(fh, name)
    else:
        while chunk := fh.read(_CHUNK):
            yield chunk


def _stdin_chunks(fh: BinaryIO) -> Iterator[bytes]:
    """Yield the bytes of standard input, decompressed if they open with gzip's or zstd's magic."""
    head = b""
    while len(head) < len(ZSTD_MAGIC) and (more := fh.read(len(ZSTD_MAGIC) - len(head))):
        head += more
    whole = cast(BinaryIO, _Prefixed(head, fh))
    if head.startswith(GZIP_MAGIC):
        yield from _gzip_chunks(whole, STDIN)
    elif head == ZSTD_MAGIC:
        yield from _zstd_chunks(whole, STDIN)
    else:
        while chunk := whole.read(_CHUNK):
            yield chunk


class _Prefixed(io.RawIOBase):
    """A stream's first bytes, read to tell its compression, put back before the rest."""

    def __init__(self, head: bytes, fh: BinaryIO) -> None:
        self.head, self.fh = head, fh

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.fh.read(size)
        if size is None or size < 0:
            out, self.head = self.head + self.fh.read(), b""
            return out
        out, self.head = self.head[:size], self.head[size:]
        return out if len(out) == size or self.head else out + self.fh.read(size - len(out))


def _gzip_chunks(fh: BinaryIO, name: str) -> Iterator[bytes]:
    stream = gzip.GzipFile(fileobj=fh)
    try:
        while chunk := stream.read1(_CHUNK):
            yield chunk
    except EOFError:
        raise BadInput(f"{name}: truncated gzip file") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise BadInput(f"{name}: damaged gzip file ({exc})") from None


def _zstd_chunks(fh: BinaryIO, name: str) -> Iterator[bytes]:
    dctx = zstandard.ZstdDecompressor()
    dobj = dctx.decompressobj()
    started = False
    while chunk := fh.read(_CHUNK):
        started = True
        while chunk:
            try:
                out = dobj.decompress(chunk)
            except zstandard.ZstdError as exc:
                raise BadInput(f"{name}: damaged zstd file ({exc})") from None
            if out:
                yield out
            if dobj.eof:
                chunk = dobj.unused_data
                dobj = dctx.decompressobj()
                started = bool(chunk)
            else:
                chunk = b""
    if started:
        raise BadInput(f"{name}: truncated zstd file")


def split_lines(chunks: Iterable[bytes], limit: int | None = None) -> Iterator[bytes | None]:
    """Yield the lines of a stream given in chunks, each without its line ending.

    A line longer than `limit` bytes comes out as None as soon as it passes the limit (an
    endless line is reported, not waited for); the rest of its bytes are dropped as they are
    read, so memory holds at most `limit` of it. A line is joined once from its pieces, so a
    line of many chunks costs its length, not its length times the chunks.
    """
    line = _Line(limit)
    for chunk in chunks:
        if b"\n" not in chunk:
            if line.add(chunk):
                yield None
            continue
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if line.add(lines[0]):
            yield None
        if not line.over:
            yield line.joined()
        if limit is not None and len(chunk) > limit:
            yield from (one if len(one) <= limit else None for one in lines[1:])
        else:
            yield from lines[1:]
        line = _Line(limit)
        if line.add(tail):
            yield None
    if line.size and not line.over:
        yield line.joined()


class _Line:
    """The line split_lines is reading: its pieces, or only its length once past the limit."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.pieces: list[bytes] = []
        self.size = 0
        self.over = False

    def add(self, piece: bytes) -> bool:
        """Add a piece; tell whether the line just went past the limit."""
        self.size += len(piece)
        if self.over:
            return False
        if self.limit is not None and self.size > self.limit:
            self.over, self.pieces = True, []
            return True
        self.pieces.append(piece)
        return False

    def joined(self) -> bytes:
        return b"".join(self.pieces)


def read_all(fh: BinaryIO, name: str, limit: int | None = None, what: str = "") -> bytes:
    """Return the whole decompressed content of a stream; BadInput past `limit` bytes
    (`what`: the limit, as the message names it), before more than that is held."""
    buf = io.BytesIO()
    for chunk in iter_chunks(fh, name):
        buf.write(chunk)
        if limit is not None and buf.tell() > limit:
            raise BadInput(f"{name}: larger than {what or limit}")
    return buf.getvalue()


def too_large(limit: int) -> str:
    """Return how messages name the limit: `64 MiB, the most one document may hold`."""
    size = f"{limit:,} bytes"
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if limit >= 1 << shift and limit % (1 << shift) == 0:
            size = f"{limit >> shift} {unit}"
            break
    return f"{size}, the most one document may hold"
