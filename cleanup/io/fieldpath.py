"""Reach nested JSON fields by dot paths: `content.body`, with `\\.` for a dot inside a key.

Why: many corpora keep the text or the id below the top level of a record (`{"content":
{"body": ...}}`). `--text-field` and `--id-field` name such a field by its path; the reader
takes the value from there and the writer puts the cleaned text back at the same place,
carrying every other field untouched. A name without a dot is one top-level key, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = ["MISSING", "blocked_at", "get_path", "set_path", "split_path", "without_path"]


class _Missing:
    """Mark a path that does not lead to a value (a missing key, or a non-object on the way)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@lru_cache(maxsize=64)
def split_path(name: str) -> tuple[str, ...]:
    """Split a field name into its keys at each dot that is not escaped as `\\.`."""
    if "." not in name:
        return (name,)
    keys: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(name):
        char = name[i]
        if char == "\\" and name.startswith(".", i + 1):
            current.append(".")
            i += 2
            continue
        if char == ".":
            keys.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    keys.append("".join(current))
    return tuple(keys)


def get_path(record: dict[str, Any], keys: Sequence[str]) -> Any:
    """Return the value at `keys` in `record`, or MISSING when the path does not lead to one."""
    value: Any = record
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def blocked_at(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """Return the path of the first value on the way to `keys` that is not an object, if any.

    Why: a value can only be put at a path whose every step is an object or missing.
    """
    value: Any = record
    for depth, key in enumerate(keys[:-1]):
        value = value.get(key) if isinstance(value, dict) else None
        if value is not None and not isinstance(value, dict):
            return ".".join(k.replace(".", "\\.") for k in keys[: depth + 1])
        if value is None:
            return None
    return None


def set_path(record: dict[str, Any], keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    """Return a copy of `record` with `value` at `keys`; objects on the way are copied, not changed.

    A key that is present keeps its place; missing objects on the way are added at the end.
    The caller makes sure no step on the way is a non-object (see `blocked_at`).
    """
    head, rest = keys[0], keys[1:]
    copy = dict(record)
    if not rest:
        copy[head] = value
        return copy
    inner = copy.get(head)
    copy[head] = set_path(inner if isinstance(inner, dict) else {}, rest, value)
    return copy


def without_path(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Return a copy of `record` without the value at `keys`; objects on the way are copied."""
    head, rest = keys[0], keys[1:]
    if head not in record:
        return dict(record)
    inner = record[head]
    if not rest:
        return {k: v for k, v in record.items() if k != head}
    if not isinstance(inner, dict):
        return dict(record)
    return {**record, head: without_path(inner, rest)}
