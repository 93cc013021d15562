"""Look at a whole document at once: which paragraphs could a rule touch, which could repeat.

Why: most paragraphs are body text that no rule can touch and that repeats nothing, and
asking each of them on its own (its lowercase, its head, each `requires` word, then the
repeat check's fold) was most of strip-artifacts' time. Here a document (the step passes
a batch of 64) is joined once, straightened and lowercased once as bytes (View), its
`requires` words found in one multi-pattern pass and its rule openings by one regex
(DocumentGate); a paragraph neither finds is never looked at again (issue #18).

Only "quiet" paragraphs are decided here: once the curly apostrophes, quotes and dashes that
the gates' head straightens are straight (_STRAIGHTEN), printable ASCII without a double
space. Their fold is their straightened lowercase trimmed of a space at either end, so a rule
opening or a `requires` word is in the joined bytes exactly where the per-paragraph gates
(RuleSet.candidates) see it. Every other ("loud") paragraph is flagged and goes the
per-paragraph way, as do the paragraphs a word or an opening was found in. The flags only
ever let through more paragraphs than can match, so they change speed, never output.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cleanup.rules import MAX_CHARS_CAP
from cleanup.steps.artifacts.literals import Literals

END_OF_OPENING = ""  # key of a trie node where an opening ends (every other key is one character)

# What the per-paragraph head straightens (’ ‘ as ', – — as -) and the curly double quotes,
# leading junk there as '"' is here: one character for one, so offsets hold.
_STRAIGHTEN = (
    ("\u2019", "'"),
    ("\u2018", "'"),
    ("\u2014", "-"),
    ("\u2013", "-"),
    ("\u201c", '"'),
    ("\u201d", '"'),
)
_SEP = "\n"  # between paragraphs: not printable, so a paragraph holding one is loud anyway
_PRINTABLE = bytes(range(0x20, 0x7F))
_JUNK_MAX = 32  # leading non-letters from which the head is too short to decide (_trimmed)
# Characters of each rule opening the heads regex looks for. Only a superset of the heads
# that start an opening has to be flagged (folded_candidates then walks whole openings), and
# the regex of the whole openings (16 characters) cost 0.070 s to compile against 0.027 s
# for their first 8, which flagged 51 more of the 63,733 paragraphs of the 10,000-document
# bench corpus (issue #18: compiled before a run reads a document).
OPENING_PREFIX = 8
ROW = 1 + _JUNK_MAX + OPENING_PREFIX  # bytes of a paragraph's row for the heads regex (View.heads)
_TAIL = _SEP * ROW  # after the last paragraph's separator: room for its row (View.heads)
KEY = 3  # first characters of a paragraph looked up before the heads regex (DocumentGate.opened)
_LETTER = np.array([chr(c).isascii() and chr(c).isalpha() for c in range(256)])  # by byte
_DOUBLE_SPACE = b"  "


class View:
    """Paragraphs (of one document or of a batch) joined and straightened, with the loud ones.

    `data` is b"\\n" + the paragraphs joined by b"\\n" + 1 + ROW b"\\n"s, ASCII in the
    paragraphs' own case, each non-ASCII character a '?': one byte per character, so
    paragraph i is data[starts[i]:starts[i] + len(paragraph i)]. (Not lowercased: the scans
    of it ignore case or lowercase the few bytes they keep, which costs less than lowering
    all of them.) `loud` holds the paragraphs that are not quiet for a reason other than a
    double space (a character that is not printable ASCII once straightened); `clean` tells
    that no paragraph holds a separator.
    """

    __slots__ = ("clean", "data", "loud", "sizes", "sizes_array", "starts", "starts_array")

    def __init__(self, paragraphs: list[str], sizes: list[int]) -> None:
        text = _SEP.join(["", *paragraphs, _TAIL])  # one join: concatenating copies it twice
        for char, plain in _STRAIGHTEN:
            if char in text:
                text = text.replace(char, plain)
        self.sizes = sizes
        # starts[i]: where paragraph i begins; starts[-1]: one past the last separator. Summed
        # by numpy (a list and arrays of both for _may_repeat_pairs, faster than summing in
        # Python and then making the arrays).
        self.sizes_array = np.array(sizes, dtype=np.int64)
        self.starts_array = np.empty(len(sizes) + 1, dtype=np.int64)
        self.starts_array[0] = 0
        np.cumsum(self.sizes_array + 1, out=self.starts_array[1:])
        self.starts_array += 1
        self.starts: list[int] = self.starts_array.tolist()
        self.loud: set[int] = set()
        if text.isascii():
            self.data = text.encode("ascii")
        else:
            self.data = text.encode("ascii", "replace")
            self.loud.update(_non_ascii(text, self.data, self.starts))
        self.clean = _only_separators(self.data, len(sizes) + 1 + ROW)
        if not self.clean:
            self.loud.update(i for i, p in enumerate(paragraphs) if not p.isprintable())

    def folded(self, i: int) -> str:
        """Return fold() of paragraph i when it is not loud: its straightened lowercase with
        runs of spaces made one and the ends trimmed (no other character folds differently:
        its non-ASCII characters were the straightened ones, NFC and NFKC as they are).

        Printable ASCII, its only space is " ": without a double space, only the ends change.
        """
        at = self.starts[i]
        text = self.data[at : at + self.sizes[i]].lower()
        if _DOUBLE_SPACE in text:
            return " ".join(text.decode("ascii").split())
        return text.strip(b" ").decode("ascii")

    def heads(self, which: Any) -> bytes:
        """Return, for each paragraph of `which` (an array of indices), a row of ROW bytes:
        b"\\n" and its first ROW - 1 bytes, lowercased (those past its end are the separator
        and what follows it).

        What the heads regex can match of a paragraph lies in its row: the leading
        non-letters it skips before an opening number fewer than _JUNK_MAX (else _JUNK_MAX
        of them match), then at most OPENING_PREFIX characters. Rows are a fifth of the bytes
        of an average paragraph, and lowercasing them costs less than lowering `data`.
        """
        data = np.frombuffer(self.data, dtype=np.uint8)
        rows = np.lib.stride_tricks.as_strided(
            data, (len(data) - ROW + 1, ROW), (1, 1), writeable=False
        )
        return rows[self.starts_array[which] - 1].tobytes().lower()


def _only_separators(data: bytes, separators: int) -> bool:
    """Tell whether the only bytes of `data` (ASCII) that are not printable are `separators`
    b"\\n"s: counted by numpy (a `translate` deleting the printable ones cost 4x more)."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return int(np.count_nonzero(codes < 0x20)) == separators and b"\x7f" not in data


@dataclass
class DocumentGate:
    """Find, in a View, the paragraphs that may pass a per-paragraph gate.

    `heads` matches after a separator where a paragraph's head opens (after its leading
    non-letters) with the first OPENING_PREFIX characters of an ASCII rule opening, or has
    _JUNK_MAX leading non-letters (then the per-paragraph head is too short to decide and
    every rule is tried). `literals` finds the ASCII `requires` words and a double space;
    `limits` is, for each group of words, the longest paragraph they can matter in: their
    rules' longest match plus the two end spaces fold may trim from a quiet paragraph.
    Non-ASCII openings and words cannot occur in a quiet paragraph, which is ASCII once
    straightened.
    """

    heads: re.Pattern[bytes]
    literals: Literals
    limits: tuple[int, ...]
    raw_limit: int
    starts: tuple[Any, Any] | None = field(default=None, compare=False)  # see _key_table

    @classmethod
    def build(
        cls, openings: Iterable[str], word_reach: dict[str, int], raw_limit: int
    ) -> DocumentGate:
        """Compile the heads pattern from the rule openings and the literal matcher."""
        trie: dict[str, Any] = {}
        for opening in openings:
            if opening.isascii():
                node = trie
                for char in opening[:OPENING_PREFIX]:
                    node = node.setdefault(char, {})
                node[END_OF_OPENING] = True
        opened = opening_pattern(trie)
        branches = [f"[^a-z\n]{{{_JUNK_MAX}}}"]
        if opened:
            branches.insert(0, "[^a-z\n]*+" + opened)
        heads = re.compile(("\n(?:" + "|".join(branches) + ")").encode("ascii"))
        groups, limits = _word_groups(word_reach, raw_limit)
        return cls(heads, Literals(groups), limits, raw_limit, _key_table(trie))

    def flagged(self, view: View) -> list[int]:
        """Return, ascending, the paragraphs (within raw_limit) that may pass some gate."""
        return self.scan(view)[0]

    def scan(self, view: View) -> tuple[list[int], set[int]]:
        """Return flagged(view) and the paragraphs some word or a double space occurs in
        (whatever their length): in a quiet paragraph not among them, no `requires` word
        does (its fold is its bytes, trimmed)."""
        sizes, limits = view.sizes, self.limits
        flags = set(view.loud)
        worded = set()
        for needle, i in self.literals.paragraphs_with(view.data, view.starts):
            worded.add(i)
            if sizes[i] <= limits[needle]:
                flags.add(i)
        flags.update(self.opened(view))
        limit = self.raw_limit
        return sorted(i for i in flags if sizes[i] <= limit), worded

    def opened(self, view: View) -> list[int]:
        """Return, ascending, the paragraphs the heads regex matches at the start of (in
        their rows: View.heads).

        Only the paragraphs that open with a non-letter or with the first KEY characters of
        an opening (or all of a shorter one) can match: looked up for all at once (`starts`),
        the regex runs on their rows alone (on the bench corpus half of them).
        """
        if self.starts is None:
            which = np.arange(len(view.sizes))
        else:
            code, table = self.starts
            data = np.frombuffer(view.data, dtype=np.uint8)
            heads = view.starts_array[:-1]  # paragraphs end in separators: + 2 is in data
            first = data[heads]
            keys = (code[first] << 12) | (code[data[heads + 1]] << 6) | code[data[heads + 2]]
            which = np.flatnonzero(table[keys] | ~_LETTER[first])
        rows = []
        for match in self.heads.finditer(view.heads(which)):
            at = match.start()  # a match from the separator after a row's paragraph: skipped
            if not at % ROW:
                rows.append(at // ROW)
        found: list[int] = which[rows].tolist()
        return found


def _key_table(trie: dict[str, Any]) -> tuple[Any, Any] | None:
    """Return (code, table) for the openings in `trie`: `code` numbers each byte (either
    case) that is one of the first KEY (3) characters of an opening, from 1 up (others 0),
    and `table` tells, for the key c0 << 12 | c1 << 6 | c2 of a head's first three codes,
    whether an opening (or all of a shorter one) starts so; None when the characters are
    too many to number under 64.
    """
    prefixes: list[str] = []
    _ends(trie, "", prefixes)
    chars = sorted({c for p in prefixes for c in p[:KEY]})
    if len(chars) > 63 or not all(c.isascii() for c in chars):
        return None
    code = np.zeros(256, dtype=np.int64)
    for n, char in enumerate(chars, 1):
        code[ord(char)] = n
    code = code[np.frombuffer(bytes(range(256)).lower(), dtype=np.uint8)]  # a byte as its lower
    table = np.zeros(1 << 6 * KEY, dtype=bool)
    for prefix in prefixes:
        key = 0
        for char in prefix[:KEY]:
            key = (key << 6) | int(code[ord(char)])
        span = 1 << 6 * (KEY - min(len(prefix), KEY))  # a shorter one: any bytes after it
        table[key * span : (key + 1) * span] = True
    return code, table


def _ends(node: dict[str, Any], prefix: str, out: list[str]) -> None:
    """Add to `out` every opening of the trie under `node` (reached by `prefix`)."""
    for char, child in node.items():
        if char == END_OF_OPENING:
            out.append(prefix)
        else:
            _ends(child, prefix + char, out)


def _word_groups(
    word_reach: dict[str, int], raw_limit: int
) -> tuple[list[tuple[bytes, ...]], tuple[int, ...]]:
    """Return the ASCII words in groups, with each group's paragraph length limit.

    Two groups of words: those whose rules' longest match is bounded by their regex (under
    MAX_CHARS_CAP), and those at the cap or set past it; then a double space, at raw_limit.
    A group's limit is its longest word's (reach + 2), so a word may flag a paragraph a
    little longer than its own rules can match: more paragraphs, never fewer. Why groups:
    Hyperscan's compile time grows faster than its number of patterns (the 13 words and the
    double space of the built-in rules: 0.056 s one pattern each, 0.035 s in the 6 groups
    of distinct limits, 0.006 s in these 3, which flag 383 more of the 38,111 paragraphs
    flagged on the 10,000-document bench corpus).
    """
    by_group: tuple[dict[bytes, int], dict[bytes, int]] = ({}, {})
    for word, reach in sorted(word_reach.items()):
        if word.isascii():
            by_group[reach >= MAX_CHARS_CAP][word.encode("ascii")] = reach + 2
    groups = [tuple(words) for words in by_group if words] + [(_DOUBLE_SPACE,)]
    limits = (*(max(words.values()) for words in by_group if words), raw_limit)
    return groups, limits


def _non_ascii(text: str, data: bytes, starts: list[int]) -> list[int]:
    """Return the paragraphs holding a non-ASCII character (a '?' in `data`, not in `text`)."""
    found = []
    at = data.find(b"?")
    while at >= 0:
        if text[at] != "?":
            i = bisect.bisect_right(starts, at) - 1
            found.append(i)
            at = data.find(b"?", starts[i + 1])
        else:
            at = data.find(b"?", at + 1)
    return found


def opening_pattern(trie: dict[str, Any]) -> str:
    """Return a regex that matches at a head's start iff some rule opening in `trie` does.

    Why: most heads start no opening, and one compiled match says so faster than walking
    the trie a character at a time; the regex has the trie's shape (one branch per next
    character), so it reads the head once. Where an opening ends, the regex stops, matching:
    every longer opening through that node starts the head too.
    """
    branches = []
    for char, node in sorted(trie.items()):
        if char == END_OF_OPENING:
            continue
        if node.get(END_OF_OPENING):
            branches.append(re.escape(char))
        else:
            rest = opening_pattern(node)
            if rest:
                branches.append(re.escape(char) + rest)
    if not branches:
        return ""
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
