"""io/jsonline.py writes the bytes json.dumps(record, ensure_ascii=False, default=str) writes,
a NaN or infinity as null (tests/test_nonfinite.py: one a JSONL line spelled is echoed)."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.io import jsonline
from cleanup.io.writers import dumps


def reference(record: Any) -> str:
    return json.dumps(_nulled(record), ensure_ascii=False, default=str)


def _nulled(value: Any) -> Any:
    """Return `value` with every NaN and infinity (not a key: json spells those) as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _nulled(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nulled(item) for item in value]
    return value


# Every character class the escapers treat apart: controls, DEL, quotes, backslash, C1,
# non-ASCII of each string width, lone surrogates.
SPECIAL = '\x00\x01\x08\t\n\x0b\x0c\r\x1b\x1f "\\/\x7f\x80\x9f\u00a0é’\u2028\ud800\udfff😀'
CHARS = st.one_of(st.sampled_from(SPECIAL), st.characters(), st.sampled_from("ab cd."))
TEXT = st.text(CHARS, max_size=40)
LONG = st.lists(TEXT, max_size=30).map("".join)  # often past the length where replace wins
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    LONG,
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(TEXT, LONG))
def test_quoted_is_json_dumps_of_a_string(text: str) -> None:
    assert jsonline.quoted(text) == json.dumps(text, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(TEXT, LONG), VALUES, max_size=8))
def test_records_are_json_dumps(record: dict[str, Any]) -> None:
    assert dumps(record) == reference(record)


def test_the_escapers_differ_where_the_fast_paths_say() -> None:
    # Why quoted() checks for DEL before the ASCII escaper, and why long text matters.
    assert json.dumps("\x7f") != json.dumps("\x7f", ensure_ascii=False)
    for text in ("\x7f" * 300, "a\x7f" + "b" * 300, 'é\n\x1f"\\' * 100, "plain \n" * 100):
        assert jsonline.quoted(text) == json.dumps(text, ensure_ascii=False)


def test_what_is_not_a_plain_record_goes_to_json() -> None:
    when = datetime.date(2026, 12, 6)
    for record in (
        {"a": 0, 1: "a", None: "b", False: "c", 2.5: "d"},  # keys json turns into text
        {"when": when, "nested": {"when": when, "x": [1, 2.5, None]}},  # default=str
        ["a", {"b": 1}],
        "text",
        {},
    ):
        assert jsonline.dumps(record) == reference(record)


def test_a_circular_record_fails_as_json_does() -> None:
    record: dict[str, Any] = {"a": 1}
    record["self"] = record
    for fn in (json.dumps, dumps):
        try:
            fn(record)
        except ValueError as exc:
            assert "Circular" in str(exc)
        else:
            raise AssertionError("a circular record was serialized")


def reference_line(record: Any) -> bytes:
    """What jsonl_line wrote before msgspec: json's text and a newline, as UTF-8."""
    return (reference(record) + "\n").encode("utf-8")


def line_outcome(fn: Any, record: Any) -> tuple[str, object]:
    try:
        return "ok", fn(record)
    except (UnicodeEncodeError, ValueError) as exc:
        return "error", type(exc).__name__


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(TEXT, LONG), VALUES, max_size=8))
def test_line_is_json_dumps_bytes(record: dict[str, Any]) -> None:
    # Lone surrogates (in SPECIAL) fail both ways alike: UTF-8 cannot hold them.
    assert line_outcome(jsonline.line, record) == line_outcome(reference_line, record)


def test_line_escapes_every_code_point_as_json() -> None:
    # msgspec escapes a key or value exactly where json.dumps(ensure_ascii=False) does.
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    text = "".join(chars)
    assert jsonline.line({text: text}) == reference_line({text: text})
    for c in range(0x80):  # one at a time: each control's own escape
        assert jsonline.line({"k": chr(c)}) == reference_line({"k": chr(c)})


def test_line_takes_json_for_what_is_not_a_plain_record() -> None:
    when = datetime.date(2026, 12, 6)
    for record in (
        {"a": 0, 1: "a", None: "b"},
        {"when": when, "n": 2**80, "f": float("inf"), "x": [1e16, -0.0, None]},
        ["a", {"b": 1}],
        "text",
        {},
    ):
        assert jsonline.line(record) == reference_line(record)
