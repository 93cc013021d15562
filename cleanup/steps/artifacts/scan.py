"""Find the artifacts of one document: rule matches by position, blocks, repeated captions.

The scan decides; the step (cleanup.steps.artifacts) turns the decisions into edits. Kept
apart so the decisions can be tested and reasoned about without the document model.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cleanup.rules import Rule
from cleanup.steps.artifacts.blocks import BlockShape, bullet_text
from cleanup.steps.artifacts.gates import RuleSet, inside
from cleanup.steps.artifacts.onepass import View
from cleanup.steps.normalize import fold

REPEATED = "repeated-paragraph"
REPEATED_WHY = "the same paragraph twice in a row (a caption caught as alt text and as caption)"
_PUNCT = re.compile(r"[\W_]+")
# Twins are compared on letters and digits of both ends before folding: _END characters of
# each end, of which the outer _END_KEEP letters must agree (punctuation may shift the rest).
_END = 32
_END_KEEP = 12
_ALNUM = np.array([chr(c).isalnum() if c < 0x80 else False for c in range(256)])  # by byte
_LOWERED = bytes(range(256)).lower()  # View.data is in its paragraphs' case
_LOWER = np.frombuffer(_LOWERED, dtype=np.uint8)


def _close(a: int, b: int) -> bool:
    """Tell whether two lengths differ by at most 8 plus a quarter of the longer (twins are).

    Written with comparisons, not abs() and max(): it runs once per paragraph.
    """
    return a - b <= 8 + a // 4 if a > b else b - a <= 8 + b // 4


def _openings_differ(pa: str, pb: str) -> bool:
    """Tell whether two paragraphs that both open with a letter or digit open differently.

    Why: neighbours of similar length are common and most open with different letters, a
    difference the first character shows without start()'s regex. A letter or digit
    (isalnum, what _PUNCT keeps) is the first character of its paragraph's skeleton.
    """
    ca, cb = pa[:1], pb[:1]
    return ca != cb and ca.isalnum() and cb.isalnum() and ca.lower()[:1] != cb.lower()[:1]


def _skeleton(text: str) -> str:
    """Return the letters and digits of `text`, lowercased: what survives fold and punctuation."""
    return _PUNCT.sub("", text).lower()


@dataclass
class Shared:
    """Hold what documents scanned together share: their paragraphs' view (onepass.View)
    and rule matches, one list for all; a document's paragraphs start at `offset`."""

    view: View
    matches: list[tuple[int, ...]]
    matched: list[int]  # ascending: the paragraphs with a match
    offset: int = 0
    may_repeat: list[int] = field(default_factory=list)  # ascending: see _may_repeat_pairs

    @classmethod
    def of(cls, paragraphs: list[str], rs: RuleSet, repeats: bool = True) -> Shared:
        """Return the view and matches of `paragraphs` (of one document or of several), and
        with `repeats` the paragraphs that may repeat the one before them."""
        view = View(paragraphs, list(map(len, paragraphs)))
        pairs = _may_repeat_pairs(view) if repeats else []
        return cls(view, *rs.matched(paragraphs, view), may_repeat=pairs)

    def matched_in(self, count: int) -> list[int]:
        """Return the matched paragraphs among the `count` from `offset`, counted from it."""
        at, matched = self.offset, self.matched
        low = bisect.bisect_left(matched, at)
        high = bisect.bisect_left(matched, at + count, low)
        return [i - at for i in matched[low:high]]


@dataclass
class Decision:
    """Say what happens to one paragraph: which rule, removed or moved, and extra facts."""

    rule: str
    why: str
    kind: str = "remove"
    detail: dict[str, Any] | None = None


class Scan:
    """Find the artifacts of one document, caching what each paragraph matches across passes."""

    def __init__(
        self,
        paragraphs: list[str],
        rs: RuleSet,
        shape: BlockShape,
        repeats: bool,
        shared: Shared | None = None,
    ):
        self.paras = paragraphs
        self.rs = rs
        self.shape = shape
        self.repeats = repeats
        if shared is None:
            shared = Shared.of(paragraphs, rs)
        self._view = shared.view
        self._offset = at = shared.offset
        end = at + len(paragraphs)
        self._sizes = shared.view.sizes[at:end]
        self._matches = shared.matches[at:end]
        self._matched = shared.matched_in(len(paragraphs))
        self._may_repeat_pairs = shared.may_repeat
        self._hot: list[int] = []  # paragraphs a rule matches or holding a line break
        self._folded: dict[int, str] = {}
        self._keys: dict[int, str] = {}
        self._same: dict[tuple[int, int], bool] = {}
        self._starts: dict[int, str] = {}
        self._ends: dict[int, str] = {}
        self._head_matches: dict[int, tuple[Rule, ...]] = {}

    def rule_at(self, i: int, pos: int, count: int) -> Rule | None:
        """Return the first rule paragraph i matches that may act at `pos` of `count`."""
        rules = self.rs.rules
        for n in self._matches[i]:
            rule = rules[n]
            if rule.where is None or inside(rule, pos, count):
                return rule
        return None

    def folded(self, i: int) -> str:
        """Return paragraph i folded (cached)."""
        value = self._folded.get(i)
        if value is None:
            value = self._folded[i] = fold(self.paras[i])
        return value

    def inline_block(self, i: int, pos: int, count: int) -> tuple[Rule, list[str]] | None:
        """Return (rule, lines) when paragraph i is a whole block: a header line, then bullets."""
        text = self.paras[i]
        if "\n" not in text or not self.rs.has_block or "\n" not in text.strip():
            return None
        head, *lines = [line for line in text.split("\n") if line.strip()]
        if not lines or len(lines) > self.shape.max_lines:
            return None
        matches = self._head_matches.get(i)
        if matches is None:
            matches = self._head_matches[i] = self.rs.matching(head)
        rule = next((r for r in matches if r.block and inside(r, pos, count)), None)
        if rule is None:
            return None
        first = None
        for line in lines:
            if not self.shape.takes(line, first):
                return None
            first = first or line
        return rule, lines

    def same(self, a: int, b: int) -> bool:
        """Tell whether paragraphs a and b read the same once case, quotes, dashes, spaces and
        punctuation are set aside (cheap checks of length and both ends before folding).

        A single word twice in a row ("6", "6") is left alone: lists and scores repeat
        words; captions, the repeats this is for, have several.
        """
        return _close(len(self.paras[a]), len(self.paras[b])) and self._same_close(a, b)

    def _same_close(self, a: int, b: int) -> bool:
        """Tell what same() tells of paragraphs whose lengths are close (_close holds)."""
        pa, pb = self.paras[a], self.paras[b]
        if pa == pb:
            return " " in pa.strip()  # one word twice ("6", "6") may be a list, not a caption
        if _openings_differ(pa, pb):
            return False
        known = self._same.get((a, b))
        if known is None:
            known = self._same[a, b] = (
                self.start(a) == self.start(b)
                and self.end(a) == self.end(b)
                and self.key(a) == self.key(b)
                and " " in self.key(a)
            )
        return known

    def start(self, i: int) -> str:
        """Return the first letters and digits of paragraph i (cached).

        Kept apart from end(): neighbours mostly differ at the start already, so the end of
        most paragraphs is never needed.
        """
        value = self._starts.get(i)
        if value is None:
            value = self._starts[i] = _skeleton(self.paras[i][:_END])[:_END_KEEP]
        return value

    def end(self, i: int) -> str:
        """Return the last letters and digits of paragraph i (cached)."""
        value = self._ends.get(i)
        if value is None:
            value = self._ends[i] = _skeleton(self.paras[i][-_END:])[-_END_KEEP:]
        return value

    def key(self, i: int) -> str:
        """Return the comparison key of paragraph i: folded, punctuation stripped (cached)."""
        value = self._keys.get(i)
        if value is None:
            folded = self.folded(i)
            value = _PUNCT.sub(" ", folded).strip() or folded
            self._keys[i] = value
        return value

    def run(self) -> tuple[dict[int, Decision], dict[str, list[str]]]:
        """Scan until nothing more matches, so a second run finds nothing (idempotence).

        Positions count among the paragraphs still present, so removing a paragraph can bring
        another into a first/last window; then another pass runs. Nothing else can change:
        unrestricted rules do not depend on position, and each kept paragraph was already
        compared with the kept paragraph before it, across any removed ones.
        """
        decisions: dict[int, Decision] = {}
        meta: dict[str, list[str]] = {}
        events = self._events()
        if not events:  # nothing matches, no block, no neighbours alike: all paragraphs stay
            return decisions, meta
        kept, changed = self._first_pass(events, decisions, meta)
        while changed and self._window_may_match(kept, decisions):
            kept, changed = self._pass(kept, decisions, meta)
        return decisions, meta

    def _events(self) -> list[int]:
        """Return, ascending, the paragraphs the first pass must look at: those a rule
        matches, those holding a line break (inline blocks), and those that may repeat the
        paragraph before them (close lengths). Every other paragraph stays when the paragraph
        before it stays (see _first_pass).
        """
        found = self._matched
        if self.rs.has_block and not self._view.clean:
            found = sorted({*found, *(i for i, p in enumerate(self.paras) if "\n" in p)})
        self._hot = found
        if self.repeats:
            repeat = self._may_repeat()
            if repeat:
                return sorted({*found, *repeat}) if found else repeat
        return found

    def _may_repeat(self) -> list[int]:
        """Return the paragraphs close in length to the one before them whose start is that
        of the paragraph before them (a repeat has both: see _same_close), or that are loud
        or follow a loud one (View: their start is looked at the slow way).

        Those of the batch were found at once (Shared.may_repeat); here this document's.
        """
        at, pairs = self._offset, self._may_repeat_pairs
        low = bisect.bisect_left(pairs, at + 1)  # a document's first paragraph follows none
        high = bisect.bisect_left(pairs, at + len(self.paras), low)
        return [j - at for j in pairs[low:high]]

    def _first_pass(
        self, events: list[int], decisions: dict[int, Decision], meta: dict[str, list[str]]
    ) -> tuple[list[int], bool]:
        """Make _pass's first pass (every paragraph live), looking only where it can act.

        A paragraph that is no event (no rule match, no line break, a length not close to
        its predecessor's) is kept by _pass whenever the paragraph right before it was kept
        (or none was): no rule, no inline block, not a repeat of it. So runs of them are kept
        at once, and only events and paragraphs right after a removed one are looked at,
        with _pass's own step.
        """
        count = len(self.paras)
        live = range(count)
        kept: list[int] = []
        k = 0
        for stop in (*events, count):
            while k < stop:  # the stretch before the event: no events in it
                if kept and kept[-1] != k - 1:  # k follows a removed paragraph: look at it
                    k = self._step(live, k, count, kept, decisions, meta)
                else:
                    kept.extend(range(k, stop))
                    k = stop
            if k == stop < count:  # (k > stop: a block took the event's paragraph)
                k = self._step(live, k, count, kept, decisions, meta)
        return kept, len(kept) < count

    def _window_may_match(self, live: list[int], decisions: dict[int, Decision]) -> bool:
        """Tell whether a paragraph now in a first/last window could match a rule there.

        None can when every paragraph a rule matches or holding a line break is decided.
        """
        if all(map(decisions.__contains__, self._hot)):
            return False
        count = len(live)
        first = range(min(self.rs.max_first, count))
        last = range(max(count - self.rs.max_last, 0), count)
        for pos in {*first, *last}:
            i = live[pos]
            if self._matches[i] and self.rule_at(i, pos, count) is not None:
                return True
            if "\n" in self.paras[i] and self.inline_block(i, pos, count) is not None:
                return True
        return False

    def _pass(
        self, live: list[int], decisions: dict[int, Decision], meta: dict[str, list[str]]
    ) -> tuple[list[int], bool]:
        """Make one pass over the live paragraphs; return those kept and whether any went."""
        kept: list[int] = []
        count = len(live)
        k = 0
        while k < count:
            k = self._step(live, k, count, kept, decisions, meta)
        return kept, len(kept) < count

    def _step(
        self,
        live: Sequence[int],
        k: int,
        count: int,
        kept: list[int],
        decisions: dict[int, Decision],
        meta: dict[str, list[str]],
    ) -> int:
        """Decide the paragraph at live position k (kept or not); return the next position."""
        i = live[k]
        rule = self.rule_at(i, k, count) if self._matches[i] else None
        if rule is not None:
            if rule.action == "drop":  # what _apply records for it, without its steps
                decisions[i] = Decision(rule.id, rule.description)
                return k + 1
            return k + 1 + self._apply(rule, live, k, decisions, meta)
        inline = self.inline_block(i, k, count) if "\n" in self.paras[i] else None
        if inline is not None:
            rule, lines = inline
            self._record(rule, i, decisions, meta, [bullet_text(s) for s in lines])
            return k + 1
        if self.repeats and kept:
            j = kept[-1]
            a, b = self._sizes[j], self._sizes[i]  # _close(a, b), inlined
            if (a - b <= 8 + a // 4 if a > b else b - a <= 8 + b // 4) and self._same_close(j, i):
                decisions[i] = Decision(REPEATED, REPEATED_WHY, detail={"duplicate_of": j})
                return k + 1
        kept.append(i)
        return k + 1

    def _apply(
        self,
        rule: Rule,
        live: Sequence[int],
        k: int,
        decisions: dict[int, Decision],
        meta: dict[str, list[str]],
    ) -> int:
        """Record the match of `rule` at live[k]; return how many following lines it took."""
        block: list[int] = []
        if rule.block:
            first: str | None = None
            for j in live[k + 1 : k + 1 + self.shape.max_lines]:
                line = self.paras[j]
                if "\n" in line.strip() or not self.shape.takes(line, first):
                    break
                first = first or line
                block.append(j)
        lines = [bullet_text(self.paras[j]) for j in block]
        self._record(rule, live[k], decisions, meta, lines if rule.block else None)
        kind = "move" if rule.to_meta else "remove"
        for j in block:
            decisions[j] = Decision(rule.id, rule.description, kind, _meta_detail(rule))
        return len(block)

    def _record(
        self,
        rule: Rule,
        i: int,
        decisions: dict[int, Decision],
        meta: dict[str, list[str]],
        lines: list[str] | None,
    ) -> None:
        """Record the header (or single paragraph) i and what moves into metadata."""
        if not rule.to_meta:
            detail = {"block_lines": len(lines)} if lines else None
            decisions[i] = Decision(rule.id, rule.description, "remove", detail)
            return
        moved = lines if rule.block else [self.paras[i].strip()]
        if not moved:  # a header with nothing under it: no metadata to keep
            decisions[i] = Decision(rule.id, rule.description, "remove")
            return
        meta.setdefault(rule.key, []).extend(moved)
        decisions[i] = Decision(rule.id, rule.description, "move", _meta_detail(rule))


def _may_repeat_pairs(view: View) -> list[int]:
    """Return, ascending, the paragraphs j of `view` whose length is close to paragraph
    j - 1's (_close) and that are loud, follow a loud one, or start as it does: their first
    _END_KEEP letters and digits among their first _END characters are the same.

    Why: neighbours of close length are a third of all pairs, and nearly all of them start
    differently; comparing every pair of a batch at once with numpy replaced a Python step
    per pair (first their first bytes, what _openings_differ tells, then their starts for
    the few left). Pairs across two documents of a batch are among them: the caller skips
    them.
    """
    count = len(view.sizes)
    if count < 2:
        return []
    sizes, starts = view.sizes_array, view.starts_array[:count]
    a, b = sizes[:-1], sizes[1:]
    close = np.abs(a - b) <= 8 + np.maximum(a, b) // 4
    first = _LOWER[np.frombuffer(view.data, dtype=np.uint8)[starts]]
    fa, fb = first[:-1], first[1:]
    differ = (fa != fb) & _ALNUM[fa] & _ALNUM[fb]
    loud = np.zeros(count, dtype=bool)
    if view.loud:
        loud[list(view.loud)] = True
    noisy = loud[:-1] | loud[1:]
    pairs = np.flatnonzero(close & (noisy | ~differ)) + 1
    quiet = ~noisy[pairs - 1]
    if quiet.any():
        # A quiet pair that starts differently is no candidate.
        quiet[quiet] = ~_same_starts(view.data, starts, sizes, pairs[quiet])
    found: list[int] = pairs[~quiet].tolist()
    return found


_WINDOWS_CUT = np.arange(_END)[None, :] >= np.arange(_END + 1)[:, None]  # [k]: past k bytes
_END_ROW = 0xFF  # no byte of View.data (ASCII)
_NOT_KEY = bytes(c for c in range(256) if not (_ALNUM[c] or c == _END_ROW))


def _same_starts(data: bytes, starts: Any, sizes: Any, pairs: Any) -> Any:
    """Tell for each paragraph j in `pairs` (none of j - 1, j loud) whether j - 1 and j
    start alike: the first _END_KEEP letters and digits of the first _END bytes of both in
    View.data (what Scan.start keeps of a paragraph that is not loud: once straightened it
    is ASCII, and its straightened marks are punctuation either way), for all at once.

    The first _END bytes of each paragraph (those past its end made zero, not a letter or
    digit) go in a row, the rows ended by _END_ROW and joined; one `translate` keeps the
    letters and digits (and the row ends), lowercased, and a bytes array of width _END_KEEP
    cuts each row's start. View.data ends in more than _END separators: every window fits.
    """
    n = len(pairs)
    rows = np.concatenate((pairs - 1, pairs))
    codes = np.frombuffer(data, dtype=np.uint8)
    windows = np.lib.stride_tricks.as_strided(
        codes, (len(codes) - _END + 1, _END), (1, 1), writeable=False
    )
    out = np.empty((2 * n, _END + 1), dtype=np.uint8)
    out[:, :_END] = windows[starts[rows]]
    out[:, :_END][_WINDOWS_CUT[np.minimum(sizes[rows], _END)]] = 0
    out[:, _END] = _END_ROW
    keys = out.tobytes().translate(_LOWERED, _NOT_KEY).split(bytes((_END_ROW,)))[:-1]
    cut = np.array(keys, dtype=f"S{_END_KEEP}")  # numpy cuts each to its first _END_KEEP
    return cut[:n] == cut[n:]


def _meta_detail(rule: Rule) -> dict[str, Any] | None:
    """Return the edit detail saying where moved text went, or None for plain removals."""
    return {"meta_key": rule.key} if rule.to_meta else None
