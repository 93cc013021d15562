"""cleanup.rules.literal_openings as it was before issue 18's setup speed-up (commit 23f5e67).

A frozen copy, so tests can check that the faster walk finds exactly the same openings. The
constants and regexes it shares with the new code are imported as they are.
"""

from __future__ import annotations

from typing import Any

from cleanup.rules import (
    _ANY,
    _DIGIT,
    _FIXED_PART,
    _LEADING_JUNK,
    _PREFIX_CAP,
    OPENING_MAX,
    _parse,
    _sre,
)

Prefixes = list[tuple[str, bool]]


def literal_openings(pattern: str) -> tuple[tuple[str, ...], bool] | None:
    """Return the fixed openings of `pattern`, and whether some matches have none."""
    try:
        found = _walk([("", True)], list(_parse(pattern)), True)
    except Exception:
        return None
    openings: set[str] = set()
    unknown = False
    for text, _ in found:
        fixed = _FIXED_PART.match(_LEADING_JUNK.sub("", text))
        if fixed:
            openings.add(fixed.group())
        else:
            unknown = True
    kept: list[str] = []
    for opening in sorted(openings):
        if not kept or not opening.startswith(kept[-1]):
            kept.append(opening)
    return tuple(kept), unknown


def _walk(current: Prefixes, items: list[Any], settle: bool) -> Prefixes:
    for op, av in items:
        still = [text for text, open_ in current if open_]
        if not still:
            break
        merged: dict[str, bool] = {}
        for text, open_ in [
            *((t, False) for t, o in current if not o),
            *_extend(still, op, av, settle),
        ]:
            merged[text] = merged.get(text, True) and open_
        if len(merged) > _PREFIX_CAP:
            return [_settled(t + _ANY, False) if o else (t, False) for t, o in current]
        current = list(merged.items())
    return current


def _extend(texts: list[str], op: Any, av: Any, settle: bool) -> Prefixes:
    sre = _sre

    def add(more: str, open_: bool = True) -> Prefixes:
        done = [(t + more, open_) for t in texts]
        return [_settled(t, o) for t, o in done] if settle else done

    start = [(t, True) for t in texts]
    if op is sre.LITERAL:
        return add(chr(av))
    if op is sre.IN:
        if all(o is sre.CATEGORY and v is sre.CATEGORY_DIGIT for o, v in av):
            return add(_DIGIT)
        chars = [chr(v) for o, v in av if o is sre.LITERAL]
        if len(chars) == len(av) <= 16:
            return [p for c in chars for p in add(c)]
        return add(_ANY, False)
    if op is sre.SUBPATTERN:
        return _walk(start, list(av[-1]), settle)
    if op is sre.BRANCH:
        return [p for seq in av[1] for p in _walk(start, list(seq), settle)]
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
        low, high, sub = av
        once = _walk(start, list(sub), settle)
        if high != 1 and not _junk_only(list(sub)):
            once = [(text, False) for text, _ in once]
        return [*start, *once] if low == 0 else once
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return start
    return add(_ANY, False)


def _junk_only(items: list[Any]) -> bool:
    found = _walk([("", True)], items, False)
    return all(open_ and _ANY not in t and not _FIXED_PART.search(t) for t, open_ in found)


def _settled(text: str, open_: bool) -> tuple[str, bool]:
    rest = _LEADING_JUNK.sub("", text)
    fixed = _FIXED_PART.match(rest)
    if fixed is None:
        return rest, open_
    end = fixed.end()
    if end < len(rest) and not (rest[end] in " '-" and end + 1 == len(rest)):
        return fixed.group(), False
    return rest, open_ and len(fixed.group()) < OPENING_MAX
