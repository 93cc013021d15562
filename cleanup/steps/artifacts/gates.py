"""Gate artifact rules cheaply: which rules are worth trying on a paragraph, before any fold.

Most body paragraphs pass no gate, so they are never folded and no regex runs over them (see
RuleSet). The gates only ever let through a superset of the rules that can match, so they
change speed, never output.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from cleanup.rules import OPENING_MAX, Rule, analysis
from cleanup.steps.artifacts.onepass import END_OF_OPENING, DocumentGate, View
from cleanup.steps.normalize import fold

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
_MEMO_SIZE = 4096  # gated paragraphs whose rule matches are remembered (then forgotten at once)
_SPACING = re.compile(r"\s\s|[^\S ]")  # whitespace that fold would collapse or make a space


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
    patterns: list[re.Pattern[str] | None] = field(default_factory=list)  # None: not compiled yet
    trie: dict[str, Any] = field(default_factory=dict)
    words: tuple[tuple[str, tuple[int, ...]], ...] = ()
    word_list: tuple[str, ...] = ()
    word_rules: dict[str, tuple[int, ...]] = field(default_factory=dict)
    word_limits: tuple[int, ...] = ()  # ascending: the distinct longest matches of word rules
    word_tiers: tuple[tuple[str, ...], ...] = ()  # per limit: the words whose rules reach it
    words_by_floor: tuple[tuple[str, ...], ...] = ()  # _words_for, looked up, not searched
    always: tuple[int, ...] = ()
    everything: tuple[int, ...] = ()
    raw_limit: int = 0
    has_block: bool = False
    max_first: int = 0
    max_last: int = 0
    document: DocumentGate | None = field(default=None, repr=False, compare=False)
    memo: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, rules: tuple[Rule, ...]) -> RuleSet:
        """Compile `rules` (in their order: the first rule that matches wins)."""
        rs = cls(rules)
        words: dict[str, set[int]] = {}
        always: list[int] = []
        starts: set[str] = set()
        # A rule's regex is compiled when first tried (fullmatch): most runs try few rules,
        # and compiling all of them cost a run more than trying them (issue #18).
        rs.patterns = [None] * len(rules)
        for n, rule in enumerate(rules):
            found = analysis.openings(rule.match)  # shipped for built-in rules, else walked
            if found is None:  # the regex parser failed us: no gate, the rule is always tried
                always.append(n)
                continue
            openings, unknown = found
            starts.update(openings)
            for opening in openings:
                node = rs.trie
                for char in opening:
                    node = node.setdefault(char, {})
                node.setdefault(END_OF_OPENING, []).append(n)
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
        rs.words_by_floor = tuple(
            rs.word_tiers[bisect.bisect_left(rs.word_limits, floor)]
            for floor in range(rs.word_limits[-1] + 1 if rs.word_limits else 0)
        )
        rs.always = tuple(always)
        rs.everything = tuple(range(len(rules)))
        rs.has_block = any(rule.block for rule in rules)
        rs.max_first = max((r.within for r in rules if r.where == "first"), default=0)
        rs.max_last = max((r.within for r in rules if r.where == "last"), default=0)
        # Fold changes length by collapsing whitespace and by Unicode compatibility forms: a
        # raw paragraph over twice as long as any rule's longest match cannot match.
        rs.raw_limit = 2 * max((r.max_chars for r in rules), default=0) + 16
        if not always:  # else every paragraph has a rule to try: nothing to gate at once
            rs.document = DocumentGate.build(starts, reach, rs.raw_limit)
        return rs

    def matched(self, paragraphs: list[str], view: View) -> tuple[list[tuple[int, ...]], list[int]]:
        """Return matches_of for each paragraph (`view`: them joined) and, ascending, the
        paragraphs some rule matches.

        The document gate (onepass.DocumentGate) says in one pass which paragraphs any gate
        could pass; the others match no rule, so they are not asked one by one.
        """
        matches: list[tuple[int, ...]]
        if self.document is None:
            matches = list(map(self.matches_of, paragraphs))
            return matches, [i for i, found in enumerate(matches) if found]
        matches = [()] * len(paragraphs)
        hits = []
        loud, memo = view.loud, self.memo
        flagged, worded = self.document.scan(view)
        for i in flagged:
            text = paragraphs[i]
            found = memo.get(text)
            if found is None:
                if i in loud:
                    found = self._match_folded(text, fold(text))
                else:  # quiet: the literal scan told whether a word is in it
                    found = self._match_folded(text, view.folded(i), i in worded)
            if found:
                matches[i] = found
                hits.append(i)
        return matches, hits

    def _match_folded(self, text: str, folded: str, words: bool = True) -> tuple[int, ...]:
        """Return the rules whose regex takes `text` (folded: `folded`), and remember it.
        `words`: False when no `requires` word can be in it (then none is looked for).

        For a paragraph the document gate let through: the gates are asked about the folded
        text itself, which is what the rules match. Its head and its `requires` words then
        need no spelling guesses, so no paragraph has every rule tried (as
        RuleSet.candidates does for risky text).
        """
        candidates = self.folded_candidates(folded, words)
        found = tuple(n for n in candidates if self.fullmatch(n, folded))
        if len(self.memo) >= _MEMO_SIZE:
            self.memo.clear()
        self.memo[text] = found
        return found

    def folded_candidates(self, folded: str, words_in: bool = True) -> tuple[int, ...]:
        """Return the rules worth trying on folded text, in priority order: those with an
        opening its head (leading non-letters skipped) starts with, those with a `requires`
        word it contains (its length within one of the word's rules; looked for unless
        `words_in` is False: the caller knows none is there), and the ungated ones.

        Exact, not a guess: every fold-text match of a rule starts so (literal_openings works
        the openings out of the regex) or contains such a word (what `requires` declares).
        """
        head = folded
        if not head[:1].isalpha():
            junk = _LEADING_JUNK.match(head)
            if junk:
                head = head[junk.end() :]
        found: tuple[int, ...] = self.always
        opened = self._opening_rules(head)
        if opened:
            found = (*found, *opened)
        words = self._words_for(len(folded)) if words_in else ()
        if words and any(map(folded.__contains__, words)):
            word_rules = self.word_rules
            found = (*found, *(n for word in words if word in folded for n in word_rules[word]))
        if len(found) > 1:
            return tuple(sorted(set(found)))
        return found

    def candidates(self, text: str) -> tuple[int, ...]:
        """Return the indices of the rules worth trying on `text`, in priority order.

        Position-restricted rules may be among them: the caller checks positions first.
        """
        size = len(text)
        if size > self.raw_limit:
            return ()
        # Plain text (printable ASCII, no double space) is most paragraphs: its head is its
        # lowercase's, and fold only lowercases it and trims a space at either end.
        plain = text.isascii() and text.isprintable() and "  " not in text
        head: str | None
        if plain:
            low = text.lower()
            head = low[:_HEAD]
            if not head[:1].isalpha():  # else _trimmed would return it as it is
                head = _trimmed(head, size)
        else:
            head = _head(text)
        if head is None:
            return self.everything
        found: tuple[int, ...] = self.always
        opened = self._opening_rules(head)  # most heads leave the trie at once
        if opened:
            found = (*found, *opened)
        if self.words:
            if plain:
                by_floor, floor = self.words_by_floor, size - 2  # what _words_for looks up
                words = by_floor[floor if floor > 0 else 0] if floor < len(by_floor) else ()
            else:
                if not (text.isascii() and text.isprintable()) and _RISKY.search(text):
                    return self.everything
                words = self.word_list
                low = text.lower()
            if words and any(map(low.__contains__, words)):  # rare: then find which
                word_rules = self.word_rules
                found = (*found, *(n for word in words if word in low for n in word_rules[word]))
        if len(found) > 1:
            return tuple(sorted(set(found)))
        return found

    def _opening_rules(self, head: str) -> list[int]:
        """Return the rules of every opening in the trie that starts `head` (with repeats)."""
        found: list[int] = []
        node = self.trie
        for char in head:
            child = node.get(char)
            if child is None:
                break
            node = child
            hit = node.get(END_OF_OPENING)
            if hit:
                found.extend(hit)
        return found

    def matches_of(self, text: str) -> tuple[int, ...]:
        """Return the indices of the rules whose regex takes `text` (wherever it stands).

        Why: boilerplate (share bars, credits, navigation) repeats across the documents of a
        site, and those are the paragraphs that pass the gates and cost a fold and regexes;
        the answer for a text never changes, so the last _MEMO_SIZE texts that passed a gate
        are remembered (a text that passes none would only crowd them out).
        Positions are not part of it: the caller checks where each rule may act.
        """
        if len(text) > self.raw_limit:
            return ()
        found = self.memo.get(text)
        if found is not None:
            return found
        candidates = self.candidates(text)
        if not candidates:  # most paragraphs: not remembered, the gates are cheap to ask again
            return ()
        folded = fold(text)
        found = tuple(n for n in candidates if self.fullmatch(n, folded))
        if len(self.memo) >= _MEMO_SIZE:
            self.memo.clear()
        self.memo[text] = found
        return found

    def _words_for(self, floor: int) -> tuple[str, ...]:
        """Return the words whose rules can match a paragraph that folds to `floor`+ characters.

        Long body paragraphs are the bulk of the text and often hold a common word ("press",
        "/"); skipping the words whose rules are all shorter saves scanning for them and then
        folding the paragraph only to find it too long. The caller passes a floor only for
        printable ASCII without a double space: fold just lowercases it and trims at most a
        space at each end.
        """
        by_floor = self.words_by_floor
        return by_floor[floor if floor > 0 else 0] if floor < len(by_floor) else ()

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
        pattern = self.patterns[n]
        if pattern is None:
            pattern = self.patterns[n] = rule.compiled()
        found = pattern.fullmatch(folded)
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
    return _trimmed(head, len(text))


def _trimmed(head: str, size: int) -> str | None:
    """Return a spelled head without its leading non-letters, or None when too little is
    left to decide on (`size` is the whole paragraph's length)."""
    if not head[:1].isalpha():
        junk = _LEADING_JUNK.match(head)
        if junk:
            head = head[junk.end() :]
    if len(head) <= OPENING_MAX and size > _HEAD:
        return None  # long junk or spacing before the words: decide on the folded text
    return head


def inside(rule: Rule, pos: int, count: int) -> bool:
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
