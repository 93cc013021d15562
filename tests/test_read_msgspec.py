"""parse_line decodes with msgspec and falls back to json: both ways give the same document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.errors import BadInput
from cleanup.io import readers
from cleanup.io.readers import MAX_DEPTH, RawLine, RecordFormat, Source, parse_line

SOURCE = Source("in.jsonl", ".", "in.jsonl", "jsonl")
FMT = RecordFormat()

SPECIAL = '\x00\x01\t\n\x1f "\\/\x7f\x80é’\u2028😀'
TEXT = st.text(st.one_of(st.sampled_from(SPECIAL), st.characters(), st.sampled_from("ab .")))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=10,
)


def parsed(line: bytes, fast: bool) -> tuple[str, object]:
    """Return what parse_line makes of a line, by msgspec first (fast) or by json alone."""
    saved = readers._fast_record
    if not fast:
        readers._fast_record = lambda line: None  # type: ignore[assignment]
    try:
        doc = parse_line(RawLine(line, 3, SOURCE), FMT)
    except BadInput as exc:
        return "bad", str(exc)
    finally:
        readers._fast_record = saved
    edits = [e.to_dict() for e in doc.edits]
    fields = json.dumps(doc.fields, ensure_ascii=False)  # exact: int vs float, key order
    return "ok", (doc.id, doc.explicit_id, doc.paragraphs, fields, edits)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.dictionaries(TEXT, VALUES, max_size=5), st.booleans())
def test_msgspec_and_json_make_the_same_document(
    text: str, fields: dict[str, Any], ascii_only: bool
) -> None:
    line = json.dumps({**fields, "text": text}, ensure_ascii=ascii_only).encode("utf-8", "replace")
    assert parsed(line, fast=True) == parsed(line, fast=False)


@pytest.mark.parametrize(
    "line",
    [
        b'{"text": "a", "id": "x", "id": "y"}',  # the last of a repeated key, in its first place
        b'{"n": 123456789012345678901234567890, "text": "a"}',  # beyond 64 bits: exact
        b'{"f": 1e400, "g": NaN, "text": "a"}',  # msgspec refuses: json as before
        b'{"text": "a\\u0000b\\ud800"}',  # NUL and a lone surrogate in the text: repaired
        b'\xef\xbb\xbf{"text": "a"}',  # byte-order mark
        b'{"text": "caf\xe9"}',  # not UTF-8
        b' {"text": "a"} \r',
        b'["text"]',
        b'{"text": 3}',
        b'{"text": "a"',
    ],
)
def test_lines_msgspec_refuses_or_treats_apart(line: bytes) -> None:
    assert parsed(line, fast=True) == parsed(line, fast=False)


def test_a_lone_surrogate_outside_the_text_is_bad_input() -> None:
    for line in (b'{"url": "x\\udc00", "text": "a"}', b'{"m": {"\\ud800": 1}, "text": "a"}'):
        for fast in (True, False):
            outcome, message = parsed(line, fast)
            assert outcome == "bad" and "in.jsonl:3" in str(message), message
            assert "lone surrogate" in str(message)


def nested(depth: int) -> bytes:
    """A record whose own object and `x` lists nest `depth` levels in all."""
    inner = depth - 1
    return b'{"text": "a b", "x": ' + b"[" * inner + b"]" * inner + b"}"


def test_nesting_beyond_the_limit_is_bad_input() -> None:
    assert parsed(nested(MAX_DEPTH), fast=True)[0] == "ok"
    assert parsed(b'{"text": "' + b"[{" * MAX_DEPTH + b'"}', fast=True)[0] == "ok"  # in a string
    for depth in (MAX_DEPTH + 1, 5000):
        for fast in (True, False):
            outcome, message = parsed(nested(depth), fast)
            assert outcome == "bad", message
            assert f"in.jsonl:3: JSON line nested deeper than {MAX_DEPTH} levels" == message


def test_hostile_lines_are_named_and_skipped_end_to_end(tmp_path: Any) -> None:
    corpus = tmp_path / "in.jsonl"
    corpus.write_bytes(
        b'{"text": "Kept paragraph one."}\n'
        + nested(MAX_DEPTH + 1)
        + b'\n{"url": "\\ud800", "text": "b"}\n'
    )
    out = tmp_path / "out.jsonl"
    stopped = CliRunner().invoke(cli, ["run", str(corpus), "-o", str(out), "-q"])
    assert stopped.exit_code == 1 and not out.exists()
    assert f"in.jsonl:2: JSON line nested deeper than {MAX_DEPTH} levels" in stopped.output
    assert "Traceback" not in stopped.output
    skipped = CliRunner().invoke(
        cli, ["run", str(corpus), "-o", str(out), "-q", "--skip-bad", "--workers", "2"]
    )
    assert skipped.exit_code == 0, skipped.output
    assert "in.jsonl:3: field 'url' holds a lone surrogate" in skipped.output
    assert [json.loads(x)["text"] for x in out.read_text().splitlines()] == ["Kept paragraph one."]
