"""Find which paragraphs of a joined document hold one of each of a few groups of byte
strings, in one pass.

Why: the `requires` words of the rules (a dozen) must be looked for in every short paragraph;
one `bytes.find` pass per word over a document cost more than all the rest of the document
gate together (0.21 of 0.5 s CPU on the 10,000-document bench corpus), one Hyperscan pass
for all of them 0.03 s. Hyperscan is used when it imports (a wheel for the platform); else
the same answer comes from one `bytes.find` pass per needle (tests check both agree).

The caller groups the needles it treats alike (the document gate: the words with the same
paragraph length limit) and learns which group occurs, not which needle: Hyperscan compiles
one pattern per group (two when it holds one-byte needles, see _compile), and its compile
time grows faster than the number of patterns (13 patterns 0.056 s, the same needles in 6
groups 0.035 s; paid before a run reads anything).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from typing import Any

hyperscan: Any
try:
    import hyperscan
except ImportError:  # pragma: no cover - a platform without a hyperscan wheel: find passes
    hyperscan = None


class Literals:
    """Find, in data joined as b"\\n" + paragraphs joined by b"\\n" + b"\\n" (and maybe more
    b"\\n"s), the paragraphs a needle of each group occurs in, in any case: needles are
    lowercase and the data's ASCII letters match whatever their case (needles hold no
    b"\\n", so none spans two paragraphs)."""

    def __init__(self, groups: list[tuple[bytes, ...]], use_hyperscan: bool = True) -> None:
        """Compile the groups of needles (each non-empty, no line break: `requires` words have
        no space)."""
        self.groups = groups
        self.use_hyperscan = use_hyperscan
        self.database: Any = None
        self._local = threading.local()  # a Hyperscan scratch space per thread
        if use_hyperscan and hyperscan is not None and groups:
            self.database = _compile(groups)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the needles only (a compiled database does not pickle): compiled again."""
        return {"groups": self.groups, "use_hyperscan": self.use_hyperscan}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["groups"], state["use_hyperscan"])  # type: ignore[misc]

    def paragraphs_with(self, data: bytes, starts: list[int]) -> Iterator[tuple[int, int]]:
        """Yield (group index, paragraph) for each paragraph a needle of the group occurs in,
        once or more, in no particular order; `starts[i]` is where paragraph i begins in
        `data`."""
        if self.database is None:
            yield from self._found(data, starts)
            return
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        ends: list[tuple[int, int]] = []
        self.database.scan(data, match_event_handler=_collect, context=ends, scratch=scratch)
        for group, end in ends:
            # Each report ends just after the separator closing the paragraph.
            yield group, bisect.bisect_left(starts, end) - 1

    def _found(self, data: bytes, starts: list[int]) -> Iterator[tuple[int, int]]:
        """Yield what paragraphs_with does, with one `find` pass per needle."""
        data = data.lower()
        for n, group in enumerate(self.groups):
            for needle in group:
                at = data.find(needle)
                while at >= 0:
                    i = bisect.bisect_right(starts, at) - 1
                    yield n, i
                    at = data.find(needle, starts[i + 1])


def _compile(groups: list[tuple[bytes, ...]]) -> Any:
    """Compile one Hyperscan database: group n (any of its needles, caseless) as pattern n,
    run on to the separator; a group's one-byte needles are a pattern of their own (a
    character class), also reported as n.

    Running on to the paragraph's separator makes every occurrence in one paragraph end at
    the same offset, and Hyperscan reports a pattern once per end offset: one report per
    paragraph and pattern, however often its needles occur (a navigation bar holds a dozen
    "|"). Why one-byte needles apart: in one alternation with words they slowed the scan of
    the 10,000-document bench corpus from 0.029 to 0.057 s.
    """
    expressions, ids = [], []
    for n, group in enumerate(groups):
        short = [needle for needle in group if len(needle) == 1]
        long = [needle for needle in group if len(needle) > 1]
        if short:
            expressions.append(b"[" + b"".join(map(_escaped, short)) + rb"][^\n]*\n")
            ids.append(n)
        if long:
            expressions.append(b"(?:" + b"|".join(map(_escaped, long)) + rb")[^\n]*\n")
            ids.append(n)
    database = hyperscan.Database()
    flags = [hyperscan.HS_FLAG_CASELESS] * len(expressions)
    database.compile(expressions=expressions, ids=ids, flags=flags)
    return database


def _escaped(needle: bytes) -> bytes:
    """Return `needle` as a Hyperscan pattern of its bytes, each written as \\xNN."""
    return b"".join(b"\\x%02x" % c for c in needle)


def _collect(needle: int, start: int, end: int, flags: int, ends: list[tuple[int, int]]) -> None:
    """Hyperscan's match handler: keep (needle, end offset); returning None scans on."""
    ends.append((needle, end))
