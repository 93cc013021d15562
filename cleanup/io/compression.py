"""Open plain, gzip and zstd files as byte streams that notice truncation."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import zstandard

from cleanup.errors import BadInput

COMPRESSED_SUFFIXES = (".gz", ".zst")
_CHUNK = 1 << 20


def strip_compression(name: str) -> str:
    """Return `name` without a trailing .gz or .zst."""
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def iter_chunks(fh: BinaryIO, name: str) -> Iterator[bytes]:
    """Yield the decompressed bytes of `fh`, raising BadInput at a truncated end.

    Everything before the cut is yielded first, so callers keep the records that survived.
    """
    if name.endswith(".gz"):
        yield from _gzip_chunks(fh, name)
    elif name.endswith(".zst"):
        yield from _zstd_chunks(fh, name)
    else:
        while chunk := fh.read(_CHUNK):
            yield chunk


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


def iter_lines(fh: BinaryIO, name: str) -> Iterator[bytes]:
    """Yield the lines of a possibly compressed stream, each without its line ending."""
    return split_lines(iter_chunks(fh, name))


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Yield the lines of a stream given in chunks, each without its line ending."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        lines = pending.split(b"\n")
        pending = lines.pop()
        yield from lines
    if pending:
        yield pending


def read_all(fh: BinaryIO, name: str) -> bytes:
    """Return the whole decompressed content of a stream."""
    buf = io.BytesIO()
    for chunk in iter_chunks(fh, name):
        buf.write(chunk)
    return buf.getvalue()
