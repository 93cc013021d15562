"""Strip scraper artifacts: video prompts, share bars, credits, highlights, repeated captions.

What counts as an artifact is data: the rules in cleanup/rules/*.toml (see cleanup.rules for
the schema) plus the users' rule files. Each rule's regex must match a whole paragraph in its
folded form (`fold`: case, spaces, quotes and dashes), because this step runs before normalize.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cleanup.document import Document, Edit
from cleanup.pipeline import Option, StepSpec
from cleanup.ranges import Range
from cleanup.rules import (
    OPENING_MAX,
    Rule,
    RuleError,
    builtin_rules,
    literal_openings,
    load_rules,
)
from cleanup.steps.normalize import fold

STEP = "strip-artifacts"
REPEATED = "repeated-paragraph"
REPEATED_WHY = "the same paragraph twice in a row (a caption caught as alt text and as caption)"
# Characters whose fold is not their lowercase (deleted, special case folds, compatibility
# letters and digits): text holding one takes the slow path (fold, then every rule).
_RISKY = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2060\ufeffßẞſǰς\u00aa\u00b2\u00b3"
    "\u00b9\u00ba\u00bc-\u00be\u0132\u0133\u013f\u0140\u0149\u01c4-\u01cc\u01f1-\u01f3"
    "\u02b0-\u02b8\u1d2c-\u1dbf\u2070-\u209f\u2100-\u218f\u2460-\u24ff\u3200-\u33ff"
    "\ufb00-\ufb4f\uff00-\uffef\U0001d400-\U0001d7ff]"
)
_LEADING_JUNK = re.compile(r"^[\W\d_]+")
# Rule openings may hold apostrophes and hyphens. A head has its common curly apostrophes
# and dashes straightened; one with any other mark that fold makes ' or - is folded instead.
_OTHER_MARKS = (
    "\u201a\u201b\u2032\u2035\u2039\u203a\u02bc"  # quotes and primes
    "\u2010-\u2012\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"  # dashes
)
_NOT_PLAIN = re.compile(_RISKY.pattern[:-1] + _OTHER_MARKS + "]")
_HEAD = 48  # characters of a paragraph's start that rule openings are looked up in
_END_OF_OPENING = ""  # key of a trie node's rule list (every other key is one character)
_SPACING = re.compile(r"\s\s|[^\S ]")  # whitespace that fold would collapse or make a space
_BULLET_MARK = re.compile(r"^[\s•·▪◦‣∙*+>-]+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s*$")
_INNER_SENTENCE = re.compile(r"[a-zß-ÿ]{3}[.!?][\"'”’»)]*\s+[\"'“‘«(]*[A-ZÀ-Þ]")
_QUOTE_START = re.compile(r"^[\"'“”‘’«„‚‹›»]")
_PUNCT = re.compile(r"[\W_]+")
# Twins are compared on letters and digits of both ends before folding: _END characters of
# each end, of which the outer _END_KEEP letters must agree (punctuation may shift the rest).
_END = 32
_END_KEEP = 12


def _skeleton(text: str) -> str:
    """Return the letters and digits of `text`, lowercased: what survives fold and punctuation."""
    return _PUNCT.sub("", text).lower()


@dataclass(frozen=True)
class BlockShape:
    """Define the short lines that follow a block header (a "Story highlights" list).

    A line belongs to the block while it has at most `max_words` words, does not open with a
    quotation mark (a quote is body text), is a single sentence, and ends the way the block's
    first line ends: with sentence punctuation or without it (bullet lists are uniform, so an
    unpunctuated list followed by a punctuated paragraph has ended). At most `max_lines` lines.
    """

    max_words: int = 30
    max_lines: int = 5

    def takes(self, line: str, first: str | None) -> bool:
        """Tell whether `line` continues a block whose first line was `first` (None: none yet)."""
        text = _BULLET_MARK.sub("", line).strip()
        if not text or len(text.split()) > self.max_words or _QUOTE_START.match(text):
            return False
        if _INNER_SENTENCE.search(text.rstrip()):
            return False
        if first is None:
            return True
        return bool(_SENTENCE_END.search(text)) == bool(_SENTENCE_END.search(first))


def bullet_text(line: str) -> str:
    """Return a block line without its bullet mark, as it goes into metadata."""
    return _BULLET_MARK.sub("", line).strip()


@dataclass
class RuleSet:
    """Hold rules ready for fast matching: cheap gates first, fold and regex for the few left.

    A rule is tried on a paragraph only if the paragraph's head (lowercased, spaces collapsed,
    leading non-letters skipped) starts with one of the rule's fixed openings, worked out from
    its regex, or, for a rule with a branch that has no fixed opening, if the paragraph
    contains one of the rule's `requires` strings (or the rule is position-restricted: then
    its position is the gate). Most body paragraphs pass no gate, so they are never folded and
    no regex runs over them. Measured on the seed articles, one alternation of every rule ran
    no faster than the rules one by one, so the gates, not a union, carry the speed.
    """

    rules: tuple[Rule, ...]
    patterns: list[re.Pattern[str]] = field(default_factory=list)
    trie: dict[str, Any] = field(default_factory=dict)
    words: tuple[tuple[str, tuple[int, ...]], ...] = ()
    word_list: tuple[str, ...] = ()
    word_rules: dict[str, tuple[int, ...]] = field(default_factory=dict)
    word_limits: tuple[int, ...] = ()  # ascending: the distinct longest matches of word rules
    word_tiers: tuple[tuple[str, ...], ...] = ()  # per limit: the words whose rules reach it
    always: tuple[int, ...] = ()
    everything: tuple[int, ...] = ()
    raw_limit: int = 0
    has_block: bool = False
    max_first: int = 0
    max_last: int = 0

    @classmethod
    def build(cls, rules: tuple[Rule, ...]) -> RuleSet:
        """Compile `rules` (in their order: the first rule that matches wins)."""
        rs = cls(rules)
        words: dict[str, set[int]] = {}
        always: list[int] = []
        for n, rule in enumerate(rules):
            rs.patterns.append(rule.compiled())
            openings, unknown = literal_openings(rule.match)
            for opening in openings:
                node = rs.trie
                for char in opening:
                    node = node.setdefault(char, {})
                node.setdefault(_END_OF_OPENING, []).append(n)
            if unknown and rule.requires and not rule.where:
                for word in rule.requires:
                    words.setdefault(word, set()).add(n)
            elif unknown:
                always.append(n)
        rs.words = tuple((w, tuple(sorted(v))) for w, v in sorted(words.items()))
        rs.word_list = tuple(w for w, _ in rs.words)
        rs.word_rules = dict(rs.words)
        reach = {w: max(rules[n].max_chars for n in ns) for w, ns in rs.words}
        rs.word_limits = tuple(sorted(set(reach.values())))
        rs.word_tiers = tuple(
            tuple(w for w in rs.word_list if reach[w] >= limit) for limit in rs.word_limits
        )
        rs.always = tuple(always)
        rs.everything = tuple(range(len(rules)))
        rs.has_block = any(rule.block for rule in rules)
        rs.max_first = max((r.within for r in rules if r.where == "first"), default=0)
        rs.max_last = max((r.within for r in rules if r.where == "last"), default=0)
        # Fold changes length by collapsing whitespace and by Unicode compatibility forms: a
        # raw paragraph over twice as long as any rule's longest match cannot match.
        rs.raw_limit = 2 * max((r.max_chars for r in rules), default=0) + 16
        return rs

    def candidates(self, text: str) -> tuple[int, ...]:
        """Return the indices of the rules worth trying on `text`, in priority order.

        Position-restricted rules may be among them: the caller checks positions first.
        """
        if len(text) > self.raw_limit:
            return ()
        head = _head(text)
        if head is None:
            return self.everything
        found: list[int] = list(self.always)
        node = self.trie
        for char in head:
            node = node.get(char)
            if node is None:
                break
            hit = node.get(_END_OF_OPENING)
            if hit:
                found.extend(hit)
        if self.words:
            plain = text.isascii() and text.isprintable()  # then no _RISKY character either
            if not plain and _RISKY.search(text):
                return self.everything
            words = self._words_for(len(text) - 2) if plain and "  " not in text else self.word_list
            low = text.lower()
            if any(map(low.__contains__, words)):  # rare: then find which
                for word in words:
                    if word in low:
                        found.extend(self.word_rules[word])
        if len(found) > 1:
            return tuple(sorted(set(found)))
        return tuple(found)

    def _words_for(self, floor: int) -> tuple[str, ...]:
        """Return the words whose rules can match a paragraph that folds to `floor`+ characters.

        Long body paragraphs are the bulk of the text and often hold a common word ("press",
        "/"); skipping the words whose rules are all shorter saves scanning for them and then
        folding the paragraph only to find it too long. The caller passes a floor only for
        printable ASCII without a double space: fold just lowercases it and trims at most a
        space at each end.
        """
        tier = bisect.bisect_left(self.word_limits, floor)
        return self.word_tiers[tier] if tier < len(self.word_tiers) else ()

    def matching(self, text: str) -> tuple[Rule, ...]:
        """Return every rule whose regex fully matches folded `text`, in priority order."""
        candidates = self.candidates(text)
        if not candidates:
            return ()
        folded = fold(text)
        return tuple(self.rules[n] for n in candidates if self.fullmatch(n, folded))

    def fullmatch(self, n: int, folded: str) -> bool:
        """Tell whether rule n matches the whole folded text (within max_chars and max_words)."""
        rule = self.rules[n]
        if len(folded) > rule.max_chars:
            return False
        found = self.patterns[n].fullmatch(folded)
        return found is not None and rule.short_enough(found)


def _head(text: str) -> str | None:
    """Return the opening of `text` as rule openings are written, or None to fold it instead.

    Lowercased, spaces collapsed, curly apostrophes and dashes straightened, leading
    non-letters skipped; None when this could spell the opening differently from fold (see
    _NOT_PLAIN) or the head is too short to decide.
    """
    head = text[:_HEAD].lower()
    if head.isascii():
        if not head.isprintable() or "  " in head:  # controls, tabs, line breaks, double spaces
            if _RISKY.search(head):
                return None
            head = " ".join(head.split())
    else:
        if _NOT_PLAIN.search(head) or not unicodedata.is_normalized("NFC", head):
            return None
        if "’" in head or "‘" in head:
            head = head.replace("’", "'").replace("‘", "'")
        if "–" in head or "—" in head:
            head = head.replace("–", "-").replace("—", "-")
        if _SPACING.search(head):
            head = " ".join(head.split())
    if not head[:1].isalpha():
        junk = _LEADING_JUNK.match(head)
        if junk:
            head = head[junk.end() :]
    if len(head) <= OPENING_MAX and len(text) > _HEAD:
        return None  # long junk or spacing before the words: decide on the folded text
    return head


def _inside(rule: Rule, pos: int, count: int) -> bool:
    """Tell whether position `pos` of `count` paragraphs is where `rule` may act."""
    if rule.where == "first":
        return pos < rule.within
    if rule.where == "last":
        return pos >= count - rule.within
    return True


@functools.lru_cache(maxsize=32)
def compile_rules(rules: tuple[Rule, ...]) -> RuleSet:
    """Return the compiled form of a rule tuple (cached: runs build it once per option set)."""
    return RuleSet.build(rules)


@dataclass
class _Decision:
    """Say what happens to one paragraph: which rule, removed or moved, and extra facts."""

    rule: str
    why: str
    kind: str = "remove"
    detail: dict[str, Any] | None = None


class _Scan:
    """Find the artifacts of one document, caching what each paragraph matches across passes."""

    def __init__(self, paragraphs: list[str], rs: RuleSet, shape: BlockShape, repeats: bool):
        self.paras = paragraphs
        self.rs = rs
        self.shape = shape
        self.repeats = repeats
        self._candidates = [rs.candidates(p) for p in paragraphs]
        self._sizes = [len(p) for p in paragraphs]
        self._hits: dict[tuple[int, int], bool] = {}
        self._folded: dict[int, str] = {}
        self._keys: dict[int, str] = {}
        self._same: dict[tuple[int, int], bool] = {}
        self._starts: dict[int, str] = {}
        self._ends: dict[int, str] = {}
        self._head_matches: dict[int, tuple[Rule, ...]] = {}

    def rule_at(self, i: int, pos: int, count: int) -> Rule | None:
        """Return the first rule paragraph i matches that may act at `pos` of `count`."""
        for n in self._candidates[i]:
            rule = self.rs.rules[n]
            if not _inside(rule, pos, count):
                continue
            hit = self._hits.get((i, n))
            if hit is None:
                hit = self._hits[i, n] = self.rs.fullmatch(n, self.folded(i))
            if hit:
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
        rule = next((r for r in matches if r.block and _inside(r, pos, count)), None)
        if rule is None:
            return None
        first = None
        for line in lines:
            if not self.shape.takes(line, first):
                return None
            first = first or line
        return rule, lines

    @staticmethod
    def _near(pa: str, pb: str) -> bool:
        """Tell whether two paragraphs are close enough in length to be twins (a quick no)."""
        la, lb = len(pa), len(pb)
        return abs(la - lb) <= (la if la > lb else lb) // 4 + 8

    def same(self, a: int, b: int) -> bool:
        """Tell whether paragraphs a and b read the same once case, quotes, dashes, spaces and
        punctuation are set aside (cheap checks of length and both ends before folding).

        A single word twice in a row ("6", "6") is left alone: lists and scores repeat
        words; captions, the repeats this is for, have several.
        """
        pa, pb = self.paras[a], self.paras[b]
        if pa == pb:
            return " " in pa.strip()  # one word twice ("6", "6") may be a list, not a caption
        if not self._near(pa, pb):
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

    def run(self) -> tuple[dict[int, _Decision], dict[str, list[str]]]:
        """Scan until nothing more matches, so a second run finds nothing (idempotence).

        Positions count among the paragraphs still present, so removing a paragraph can bring
        another into a first/last window; then another pass runs. Nothing else can change:
        unrestricted rules do not depend on position, and each kept paragraph was already
        compared with the kept paragraph before it, across any removed ones.
        """
        decisions: dict[int, _Decision] = {}
        meta: dict[str, list[str]] = {}
        live = list(range(len(self.paras)))
        while True:
            kept, changed = self._pass(live, decisions, meta)
            if not changed or not self._window_may_match(kept):
                return decisions, meta
            live = kept

    def _window_may_match(self, live: list[int]) -> bool:
        """Tell whether a paragraph now in a first/last window could match a rule there."""
        count = len(live)
        first = range(min(self.rs.max_first, count))
        last = range(max(count - self.rs.max_last, 0), count)
        for pos in {*first, *last}:
            i = live[pos]
            if self._candidates[i] and self.rule_at(i, pos, count) is not None:
                return True
            if "\n" in self.paras[i] and self.inline_block(i, pos, count) is not None:
                return True
        return False

    def _pass(
        self, live: list[int], decisions: dict[int, _Decision], meta: dict[str, list[str]]
    ) -> tuple[list[int], bool]:
        """Make one pass over the live paragraphs; return those kept and whether any went."""
        kept: list[int] = []
        count = len(live)
        candidates, paras, repeats, sizes = self._candidates, self.paras, self.repeats, self._sizes
        k = 0
        while k < count:
            i = live[k]
            rule = self.rule_at(i, k, count) if candidates[i] else None
            if rule is not None:
                k += 1 + self._apply(rule, live, k, decisions, meta)
                continue
            inline = self.inline_block(i, k, count) if "\n" in paras[i] else None
            if inline is not None:
                rule, lines = inline
                self._record(rule, i, decisions, meta, [bullet_text(s) for s in lines])
                k += 1
                continue
            if (
                repeats
                and kept
                and abs(sizes[kept[-1]] - sizes[i]) <= 8 + max(sizes[kept[-1]], sizes[i]) // 4
                and self.same(kept[-1], i)
            ):
                decisions[i] = _Decision(REPEATED, REPEATED_WHY, detail={"duplicate_of": kept[-1]})
                k += 1
                continue
            kept.append(i)
            k += 1
        return kept, len(kept) < count

    def _apply(
        self,
        rule: Rule,
        live: list[int],
        k: int,
        decisions: dict[int, _Decision],
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
            decisions[j] = _Decision(rule.id, rule.description, kind, _meta_detail(rule))
        return len(block)

    def _record(
        self,
        rule: Rule,
        i: int,
        decisions: dict[int, _Decision],
        meta: dict[str, list[str]],
        lines: list[str] | None,
    ) -> None:
        """Record the header (or single paragraph) i and what moves into metadata."""
        if not rule.to_meta:
            detail = {"block_lines": len(lines)} if lines else None
            decisions[i] = _Decision(rule.id, rule.description, "remove", detail)
            return
        moved = lines if rule.block else [self.paras[i].strip()]
        if not moved:  # a header with nothing under it: no metadata to keep
            decisions[i] = _Decision(rule.id, rule.description, "remove")
            return
        meta.setdefault(rule.key, []).extend(moved)
        decisions[i] = _Decision(rule.id, rule.description, "move", _meta_detail(rule))


def _meta_detail(rule: Rule) -> dict[str, Any] | None:
    """Return the edit detail saying where moved text went, or None for plain removals."""
    return {"meta_key": rule.key} if rule.to_meta else None


def strip_document(doc: Document, rs: RuleSet, shape: BlockShape, repeats: bool = True) -> None:
    """Remove (or move into doc.meta) every artifact paragraph of one document, with edits."""
    decisions, meta = _Scan(doc.paragraphs, rs, shape, repeats).run()
    if not decisions:
        return
    # Highest index first, so each edit's index is the paragraph's place in the input and
    # also its place when the edit was made (undoing edits in reverse order restores it).
    for i in sorted(decisions, reverse=True):
        d = decisions[i]
        if d.kind == "move":
            doc.edits.append(Edit(STEP, d.rule, doc.paragraphs[i], "", d.why, i, d.detail, "move"))
            del doc.paragraphs[i]
        else:
            doc.remove([i], STEP, d.rule, d.why, {i: d.detail} if d.detail else None)
    for key, values in meta.items():
        current = doc.meta.get(key)
        if current is None:
            doc.meta[key] = list(values)
        elif isinstance(current, list):
            current.extend(values)
        else:
            doc.meta[key] = [current, *values]


def strip_artifacts(
    docs: Iterable[Document],
    *,
    disable_rule: Iterable[str] = (),
    rules_file: Iterable[str] = (),
    block_max_words: int = 30,
    block_max_lines: int = 5,
) -> Iterator[Document]:
    """Drop artifact paragraphs and collapse repeated ones, recording each as an edit.

    Rules load (and rule files are checked) when the step is called, so a bad rule file, an
    unknown rule id or a bad block option stops a run before any input is read: that raises
    cleanup.rules.RuleError, a usage problem for the CLI and a ValueError for the library.
    """
    if block_max_words < 1 or block_max_lines < 0:
        raise RuleError("--block-max-words must be >= 1 and --block-max-lines >= 0")
    disabled = tuple(disable_rule)
    files = tuple(rules_file)
    if files:
        rules = tuple(load_rules(files, disabled, known_ids=(REPEATED,)))
    else:
        rules = tuple(builtin_rules(disabled, known_ids=(REPEATED,)))
    rs = compile_rules(rules)
    shape = BlockShape(block_max_words, block_max_lines)
    repeats = REPEATED not in disabled
    return _run(docs, rs, shape, repeats)


def _run(
    docs: Iterable[Document], rs: RuleSet, shape: BlockShape, repeats: bool
) -> Iterator[Document]:
    """Apply the compiled rules to every live document; pass dropped ones through."""
    for doc in docs:
        if doc.dropped is None and doc.paragraphs:
            strip_document(doc, rs, shape, repeats)
        yield doc


SPEC = StepSpec(
    name=STEP,
    func=strip_artifacts,
    help=(
        "Remove scraper artifacts (video prompts, share bars, credits, cookie notices, photo "
        "credits, 'Story highlights' blocks into metadata) by the rules in cleanup/rules/*.toml, "
        "and collapse a paragraph repeated right after itself."
    ),
    options=(
        Option(
            "disable-rule",
            (),
            "Turn off a built-in rule by id (repeatable); 'repeated-paragraph' keeps repeats.",
            type=str,
            multiple=True,
            metavar="ID",
        ),
        Option(
            "rules-file",
            (),
            "Add the [[rule]] tables of a TOML rule file (repeatable); an id of a built-in "
            "rule replaces it.",
            type=str,
            multiple=True,
            metavar="FILE",
            path=True,
        ),
        Option(
            "block-max-words",
            30,
            "A line under a block header (e.g. 'Story highlights') belongs to the block only "
            "up to this many words; highlight bullets run 7-25 words, body paragraphs longer.",
            type=int,
            range=Range(min=1),
        ),
        Option(
            "block-max-lines",
            5,
            "A block takes at most this many lines after its header; highlight lists hold 2-4, "
            "so a longer run is body text.",
            type=int,
            range=Range(min=0),
        ),
    ),
)
