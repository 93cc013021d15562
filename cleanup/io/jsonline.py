"""Serialize one JSONL record exactly as `json.dumps(record, ensure_ascii=False, default=str)`.

`line` gives the record's bytes with a newline, its string keys and values escaped by msgspec
(about 3x `quoted` with the UTF-8 encode after it; the same bytes: tests/test_jsonline.py
checks every code point); `dumps` gives the text, and serves what msgspec refuses.

Why not json.dumps itself: a record is mostly one long text field, and CPython's encoder
escapes text that is not pure ASCII at about 180 MB/s (it reads every character through
the generic accessor). Pure ASCII text (what normalize leaves of most English text) gets
the same bytes from json's ASCII escaper, twice as fast; other long text needs escaping
only at backslashes, double quotes and control characters, which `str.replace` and one
regex find at C speed. Everything else (short strings, numbers, nested values, keys that
are not strings) goes to the json module itself. tests/test_jsonline.py compares the two
on generated records.

A number beyond a float's range (`1e400`, or an integer of more digits than Python converts)
is read as a `BigNumber` (`loads`, the reader's json fallback) and written back as its text:
json would write `Infinity`, which is not JSON. So is a `NaN`, `Infinity` or `-Infinity` a
JSONL line holds as such (not JSON either, but echoed as it came). Any other NaN or infinity
(a Parquet file's doubles hold them natively) is written as `null`, as pandas' to_json and
most JSON writers do: valid input gives valid JSON. The same bytes as json.dumps otherwise;
a record holding a non-finite float takes `_spelled`, json's output spelled out value by value.
"""

from __future__ import annotations

import json
import math
import re
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

import msgspec

_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)  # else: _spelled
_NAN_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
_ENCODE = msgspec.json.Encoder().encode  # used for str only: json's escapes, UTF-8 bytes
# What json.dumps(ensure_ascii=False) escapes besides backslash and double quote: the C0
# controls, the usual five in short form and the others as \u00XX (lowercase hex).
_SHORT = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES = {chr(c): _SHORT.get(chr(c), f"\\u{c:04x}") for c in range(0x20)}
_CONTROL = re.compile("[\x00-\x1f]")
# Below this length json's own C function is as fast: the replace scans cost their calls.
_LONG = 256


class BigNumber(float):
    """A JSON number beyond a float's range, or a `NaN`/`Infinity`/`-Infinity` literal, kept
    as the text it came as (its value is the NaN or infinity the float would be, so it sorts
    and stores as that; see the module's doc)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> BigNumber:
        number = float.__new__(cls, text)
        number.text = text
        return number

    def __reduce__(self) -> tuple[Any, ...]:
        return (BigNumber, (self.text,))

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def _escape(match: re.Match[str]) -> str:
    return _ESCAPES[match.group()]


def quoted(s: str) -> str:
    """Return `s` as a JSON string literal, as json.dumps(s, ensure_ascii=False) writes it."""
    if s.isascii() and "\x7f" not in s:  # the ASCII escaper differs only at DEL (\u007f)
        return encode_basestring_ascii(s)  # twice as fast: one byte a character
    if len(s) < _LONG:
        return encode_basestring(s)
    if "\\" in s:  # first: the escapes added below hold backslashes of their own
        s = s.replace("\\", "\\\\")
    if '"' in s:
        s = s.replace('"', '\\"')
    if "\n" in s:
        s = s.replace("\n", "\\n")
    if not s.isprintable() and _CONTROL.search(s):  # isprintable: most texts, no regex
        s = _CONTROL.sub(_escape, s)
    return '"' + s + '"'


def dumps(record: Any) -> str:
    """Return `record` as json.dumps(record, ensure_ascii=False, default=str) does, a
    `BigNumber` as its text and any other NaN or infinity as null."""
    try:
        return _dumps(record)
    except ValueError as exc:  # an infinity or a NaN, a BigNumber among them
        if "Circular" in str(exc):
            raise
        return _spelled(record)


def _dumps(record: Any) -> str:
    if type(record) is not dict:
        return _ENCODER.encode(record)
    parts: list[str] = []
    for key, value in record.items():
        if type(key) is not str:  # json turns numbers, booleans and None into key text
            return _ENCODER.encode(record)
        text = quoted(value) if type(value) is str else _ENCODER.encode(value)
        parts.append(encode_basestring(key) + ": " + text)
    return "{" + ", ".join(parts) + "}"


def line(record: Any) -> bytes:
    """Return `dumps(record)` and a newline as UTF-8: the same bytes, made faster.

    A string key or value is escaped by msgspec, anything else by json as in `dumps`; a
    string with a lone surrogate (which UTF-8 cannot hold) takes `dumps`'s way, and fails as
    it would.
    """
    if type(record) is dict:
        parts: list[bytes] = []
        try:
            for key, value in record.items():
                if type(key) is not str:
                    break
                text = _ENCODE(value) if type(value) is str else _ENCODER.encode(value).encode()
                parts.append(_ENCODE(key) + b": " + text)
            else:
                return b"{" + b", ".join(parts) + b"}\n"
        except ValueError:  # a lone surrogate (UnicodeEncodeError), an infinity or a NaN
            pass
    return (dumps(record) + "\n").encode("utf-8")


def _spelled(value: Any) -> str:
    """Return json.dumps(value, ensure_ascii=False, default=str), a BigNumber as its text and
    any other NaN or infinity as null."""
    if type(value) is BigNumber:
        return value.text
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, dict):
        items = (encode_basestring(_key(k)) + ": " + _spelled(v) for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_spelled(item) for item in value) + "]"
    return _NAN_ENCODER.encode(value)


def _key(key: Any) -> str:
    """Return an object key as json writes it (it turns floats, ints, booleans and None
    into text, in this order of checks)."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _NAN_ENCODER.encode(key)
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def loads(text: str) -> Any:
    """Return the JSON value of `text` as json.loads does, numbers beyond a float's range
    and the literals NaN, Infinity and -Infinity kept as BigNumbers: the reader's way when
    msgspec refuses a line."""
    return json.loads(text, parse_float=_float, parse_int=_int, parse_constant=BigNumber)


def _float(text: str) -> float:
    """Return a JSON number with a fraction or exponent; one beyond a float's range (`1e400`)
    as a BigNumber, which is written back as this text."""
    number = float(text)
    return BigNumber(text) if math.isinf(number) else number


def _int(text: str) -> int | BigNumber:
    """Return a JSON integer; one of more digits than Python converts as a BigNumber."""
    try:
        return int(text)
    except ValueError:  # int's limit on digits (sys.get_int_max_str_digits)
        return BigNumber(text)
