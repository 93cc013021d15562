"""parse_line's first look at a line (`_line_text`) against `decode`, which it short-cuts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.errors import BadInput
from cleanup.io.decoding import decode
from cleanup.io.readers import RawLine, Source, _line_text

SOURCE = Source("in.jsonl", ".", "in.jsonl", "jsonl")

# Lines that open like JSON, like each byte-order mark, with NULs, invalid UTF-8, or nothing.
OPENINGS = [
    b"",
    b"{",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\x00\x00\xfe\xff",
    b"\xff\xfe\x00\x00",
]
PIECES = st.sampled_from(
    [b'{"text": "a"}', b"\x00", b"\xe2\x80\x99", b"\xc3", b"\xed\xa0\x80", b"\x80", b"x", b"{"]
)


def outcome(fn, line: bytes) -> tuple[str, object]:
    try:
        return "ok", fn(line)
    except BadInput as exc:
        return "bad", str(exc)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(OPENINGS), st.lists(PIECES, max_size=6), st.binary(max_size=8))
def test_line_text_is_decode(opening: bytes, pieces: list[bytes], tail: bytes) -> None:
    line = opening + b"".join(pieces) + tail
    raw = RawLine(line, 7, SOURCE)
    assert outcome(lambda data: _line_text(data, raw), line) == outcome(
        lambda data: decode(data, "in.jsonl:7"), line
    )


@pytest.mark.parametrize(
    "line", [b'{"a": 1}', b'{"a": "\x00"}', b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00"]
)
def test_line_text_examples(line: bytes) -> None:
    raw = RawLine(line, 1, SOURCE)
    assert _line_text(line, raw) == decode(line, "in.jsonl:1")
