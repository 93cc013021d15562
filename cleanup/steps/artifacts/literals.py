"""Find which paragraphs of a joined document hold each of a few byte strings, in one pass.

Why: the `requires` words of the rules (a dozen) must be looked for in every short paragraph;
one `bytes.find` pass per word over a document cost more than all the rest of the document
gate together (0.21 of 0.5 s CPU on the 10,000-document bench corpus), one Hyperscan pass
for all of them 0.04 s. Hyperscan is used when it imports (a wheel for the platform); else
the same answer comes from one `bytes.find` pass per needle (tests check both agree).
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
    """Find, in data joined as b"\\n" + paragraphs joined by b"\\n" + b"\\n", the paragraphs
    each needle occurs in (needles hold no b"\\n", so none spans two paragraphs)."""

    def __init__(self, needles: list[bytes], use_hyperscan: bool = True) -> None:
        """Compile `needles` (non-empty, no line break: `requires` words have no space)."""
        self.needles = needles
        self.use_hyperscan = use_hyperscan
        self.database: Any = None
        self._local = threading.local()  # a Hyperscan scratch space per thread
        if use_hyperscan and hyperscan is not None and needles:
            self.database = _compile(needles)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the needles only (a compiled database does not pickle): compiled again."""
        return {"needles": self.needles, "use_hyperscan": self.use_hyperscan}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["needles"], state["use_hyperscan"])  # type: ignore[misc]

    def paragraphs_with(self, data: bytes, starts: list[int]) -> Iterator[tuple[int, int]]:
        """Yield (needle index, paragraph) once for each paragraph a needle occurs in, in no
        particular order; `starts[i]` is where paragraph i begins in `data`."""
        if self.database is None:
            yield from self._found(data, starts)
            return
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self.database)
        ends: list[tuple[int, int]] = []
        self.database.scan(data, match_event_handler=_collect, context=ends, scratch=scratch)
        for needle, end in ends:
            # Each report ends just after the separator closing the paragraph.
            yield needle, bisect.bisect_left(starts, end) - 1

    def _found(self, data: bytes, starts: list[int]) -> Iterator[tuple[int, int]]:
        """Yield what paragraphs_with does, with one `find` pass per needle."""
        for n, needle in enumerate(self.needles):
            at = data.find(needle)
            while at >= 0:
                i = bisect.bisect_right(starts, at) - 1
                yield n, i
                at = data.find(needle, starts[i + 1])


def _compile(needles: list[bytes]) -> Any:
    """Compile one Hyperscan database: needle n as pattern n, run on to the separator.

    Running on to the paragraph's separator makes every occurrence in one paragraph end at
    the same offset, and Hyperscan reports a pattern once per end offset: one report per
    paragraph, however often its needle occurs (a navigation bar holds a dozen "|").
    """
    database = hyperscan.Database()
    database.compile(
        expressions=[b"".join(b"\\x%02x" % c for c in needle) + rb"[^\n]*\n" for needle in needles],
        ids=list(range(len(needles))),
        flags=[0] * len(needles),
    )
    return database


def _collect(needle: int, start: int, end: int, flags: int, ends: list[tuple[int, int]]) -> None:
    """Hyperscan's match handler: keep (needle, end offset); returning None scans on."""
    ends.append((needle, end))
