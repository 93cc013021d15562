"""Bytes to text: byte-order marks, UTF-8, detection as a last resort, and the NULs and lone
surrogates that text may not keep (what `decode` and `clean_bad_chars` record as edits).

Shared by every reader (JSONL lines and streams, whole files, WARC records, Parquet values,
pages fetched over HTTP); see docs/architecture.md, "Layers".
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

from cleanup.document import Edit
from cleanup.errors import BadInput

_BAD_CHARS = re.compile(r"[\x00\ud800-\udfff]")
_CONTROL_CHARS = frozenset(map(chr, [*range(32), *range(127, 160)])) - set("\t\n\f\r\x1b")


# Byte-order marks of the UTF encodings other than UTF-8, the 4-byte UTF-32 ones first:
# FF FE 00 00 also starts with UTF-16-LE's FF FE.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def bom_codec(data: bytes) -> tuple[str, int] | None:
    """Return the codec a UTF-16/32 byte-order mark at the start of `data` names, and its size."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


# Bytes of a stream's start that tell UTF-16/32 without a byte-order mark (_nul_codec).
WIDE_HEAD = 8192


def wide_codec(head: bytes) -> tuple[str, int] | None:
    """Return the UTF-16/32 codec of a stream's first bytes and its byte-order mark's size: by
    the mark, else (size 0) by where the NUL bytes of its first 8 KB stand (_nul_codec)."""
    found = bom_codec(head)
    if found is None and (codec := _guessed_codec(head)) is not None:
        return codec, 0
    return found


def _guessed_codec(head: bytes) -> str | None:
    """Name the UTF-16/32 codec of text without a byte-order mark by where the NUL bytes of its
    first WIDE_HEAD bytes stand, or None; numbers stored in 16 or 32 bits, whose reading would
    be more than 5% control characters, are binary data, not such text."""
    codec = _nul_codec(head[:WIDE_HEAD])
    if codec is None or _controls(head[:WIDE_HEAD].decode(codec, "replace")[:4096]) > 0.05:
        return None
    return codec


def _wide_error(where: str, codec: str, bom: int) -> BadInput:
    if not bom:
        return BadInput(
            f"{where}: bytes are not valid {codec.upper()}, which the NUL bytes of its start"
            " pointed to (it has no byte-order mark)"
        )
    return BadInput(f"{where}: bytes are not valid {codec.upper()} despite its byte-order mark")


def utf8_chunks(chunks: Iterable[bytes], where: str) -> Iterator[bytes]:
    """Yield a stream's chunks as UTF-8: UTF-16/32 (told by its byte-order mark, or without one
    by where the NUL bytes of its start stand) is recoded.

    JSONL is split into lines on b"\\n", which only works on UTF-8 (or ASCII-compatible) bytes.
    """
    chunks = iter(chunks)
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= WIDE_HEAD:
            break
    found = wide_codec(head)
    if found is None:
        if head:
            yield head
        yield from chunks
        return
    codec, size = found
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        yield decoder.decode(head[size:]).encode("utf-8")
        for chunk in chunks:
            yield decoder.decode(chunk).encode("utf-8")
        yield decoder.decode(b"", final=True).encode("utf-8")
    except UnicodeDecodeError:
        raise _wide_error(where, codec, size) from None


def decode(data: bytes, where: str) -> tuple[str, list[Edit]]:
    """Decode bytes by their UTF-16/32 byte-order mark, else as UTF-8, else by detection.

    A byte-order mark declares the encoding as surely as valid UTF-8 does, so neither is
    recorded; detection is a guess and is recorded as an edit. Raises BadInput for binary
    data or bytes that no encoding explains.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    found = bom_codec(data)
    if found is not None:
        codec, size = found
        try:
            text = data[size:].decode(codec)
        except UnicodeDecodeError:
            raise _wide_error(where, codec, size) from None
        return clean_bad_chars(text, where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # Strict UTF-8 decoding never yields a lone surrogate, so only NULs need a look.
        if "\x00" not in text:
            return text, []
        wide = _utf_without_bom(data, where)
        head = text[:4096]
        if wide is None and head.count("\x00") * 2 > len(head):  # mostly NULs: no text
            raise BadInput(f"{where}: binary data, not text")
        return wide or clean_bad_chars(text, where)
    found_utf = _utf_without_bom(data, where)
    if found_utf is not None:
        return found_utf
    if _looks_binary(data):
        raise BadInput(f"{where}: binary data, not text")
    from cleanup.io.detect import detect  # charset_normalizer: only for input not UTF-8

    best = detect(data)
    if best is None:
        raise BadInput(f"{where}: bytes cannot be decoded as text in any known encoding")
    text, edits = clean_bad_chars(str(best), where)
    why = f"input is not valid UTF-8; decoded as {best.encoding} by detection"
    edits.insert(0, Edit.whole("read", "read:decode-charset", "", best.encoding, why))
    return text, edits


def _utf_without_bom(data: bytes, where: str) -> tuple[str, list[Edit]] | None:
    """Decode UTF-16/32 text that has no byte-order mark, told by where its NUL bytes stand.

    Such text of Latin script has a NUL in every character's high byte (UTF-16) or top two
    bytes (UTF-32): read as UTF-8 it was a U+FFFD between every two letters, or binary data.
    The codec is named by the first 8 KB and must decode all of `data`; it is a guess, so it
    is recorded as detection is. Return None when the bytes are not such text.
    """
    codec = _guessed_codec(data)
    if codec is None:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    text, edits = clean_bad_chars(text, where)
    why = f"no byte-order mark; decoded as {codec} by where its NUL bytes stand"
    edits.insert(0, Edit.whole("read", "read:decode-charset", "", codec, why))
    return text, edits


def _nul_codec(head: bytes) -> str | None:
    """Name the UTF-16/32 codec the NUL bytes of `head` point to, or None.

    UTF-32 needs every character's top byte NUL and nine in ten of the next; UTF-16 needs at
    least half the high bytes NUL and at most one low byte in twenty (a NUL character).
    """
    size = len(head) // 4 * 4
    if size < 8:
        return None
    quarter = size // 4
    nuls = [head[at:size:4].count(0) for at in range(4)]
    if nuls[3] == quarter and nuls[2] * 10 >= quarter * 9 and nuls[0] * 2 < quarter:
        return "utf-32-le"
    if nuls[0] == quarter and nuls[1] * 10 >= quarter * 9 and nuls[3] * 2 < quarter:
        return "utf-32-be"
    odd, even = nuls[1] + nuls[3], nuls[0] + nuls[2]
    if odd >= quarter and even * 10 <= quarter:
        return "utf-16-le"
    if even >= quarter and odd * 10 <= quarter:
        return "utf-16-be"
    return None


def encodes(text: str) -> bool:
    """Tell whether text is valid Unicode for UTF-8 (no lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _controls(text: str) -> float:
    """Return the share of control characters (C0 but tab, newlines, form feed and escape;
    DEL; C1) in `text`: a few in text, about a third in small numbers stored as UTF-16."""
    if not text:
        return 0.0
    return sum(1 for c in text if c in _CONTROL_CHARS) / len(text)


def _looks_binary(data: bytes) -> bool:
    """Tell binary data from text: NUL bytes or many control bytes in the first 8 KB."""
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head:  # UTF-16/32 text without a byte-order mark was read before
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls / len(head) > 0.05


def clean_bad_chars(text: str, where: str) -> tuple[str, list[Edit]]:
    """Replace stray NULs and lone surrogates with U+FFFD, recording how many there were."""
    if "\x00" not in text and (text.isascii() or encodes(text)):
        return text, []  # the common case, checked at C speed
    count = len(_BAD_CHARS.findall(text))
    fixed = _BAD_CHARS.sub("\ufffd", text)
    why = f"{count} stray NUL or lone surrogate character(s) replaced with U+FFFD"
    return fixed, [Edit.whole("read", "read:bad-character", "", "\ufffd", why, {"count": count})]
