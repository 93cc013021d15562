"""Tests for the strip-artifacts gates' shortcuts: each must let through every rule brute
force (every rule's fullmatch on the folded text) finds, and decide as the long way does."""

from __future__ import annotations

import bisect
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.rules import builtin_rules, literal_openings
from cleanup.steps.artifacts import compile_rules
from cleanup.steps.artifacts.blocks import BlockShape
from cleanup.steps.artifacts.gates import _HEAD, RuleSet, _head, _trimmed
from cleanup.steps.artifacts.onepass import END_OF_OPENING as _END_OF_OPENING
from cleanup.steps.artifacts.onepass import opening_pattern
from cleanup.steps.artifacts.scan import _END, _END_KEEP, Scan, _close, _openings_differ, _skeleton
from cleanup.steps.normalize import fold

RULES = builtin_rules()
RULE_SET = compile_rules(tuple(RULES))
FRESH = RuleSet.build(tuple(RULES))  # its own memo, emptied before each answer it gives
OPENING = re.compile(opening_pattern(RULE_SET.trie))
OPENINGS = sorted({o for r in RULES if (found := literal_openings(r.match)) for o in found[0]})
WORDS = sorted({w for r in RULES for w in r.requires})
UNICODE = [
    "\u0130",  # Turkish dotted capital I: lowercases to two characters
    "\u0131",  # dotless i
    "ß",
    "\u1e9e",  # capital sharp s
    "\u2019",  # curly apostrophe
    "\u201c",  # curly quotes
    "\u201d",
    "\u00a0",  # no-break space
    "\uff08c\uff09",  # fullwidth (c)
    "\uff21\uff30",  # fullwidth AP
    "\uff11",  # fullwidth digit one
    "\u03a3",  # capital sigma: final or not by context
    "\u212a",  # Kelvin sign: lowercases to ASCII k
    "e\u0301",  # e and a combining acute accent
    "\u2013",  # en dash
    "©",
]
PLAIN_WORDS = ["the", "mayor", "said", "Tuesday", "2024", "(", ")", ":", ".", ",", "AP", "x" * 90]
EXAMPLES = sorted({t for r in RULES for t in (*r.examples_match, *r.examples_keep)})
SPACES = st.sampled_from([" ", "\n", "\t", "  ", "\x01 ", "\u00a0", " \u00ad"])
PIECES = st.one_of(
    st.sampled_from(OPENINGS),
    st.sampled_from(EXAMPLES),
    st.builds(lambda text, space: text.replace(" ", space), st.sampled_from(EXAMPLES), SPACES),
    st.builds(lambda text, space: text.replace(" ", space), st.sampled_from(OPENINGS), SPACES),
    st.sampled_from(WORDS),
    st.sampled_from(UNICODE),
    st.sampled_from(PLAIN_WORDS),
)
SEPARATORS = st.sampled_from([" ", "", "  ", "\n", ", ", " / ", " | "])
CASES = st.sampled_from([str, str.upper, str.title, str.lower])


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    """Draw a paragraph of rule openings and examples (respaced at times), requires words,
    Unicode and plain words."""
    pieces = draw(st.lists(st.tuples(PIECES, SEPARATORS), min_size=1, max_size=6))
    lead = draw(st.sampled_from(["", " ", "(", "\u201c", "- ", "12 ", "\u00a0"]))
    return draw(CASES)(lead + "".join(p + s for p, s in pieces).strip(",/| "))


WHOLE_EXAMPLES = st.builds(
    lambda text, space, case: case(text.replace(" ", space)),
    st.sampled_from(EXAMPLES),
    SPACES,
    CASES,
)


def _walk(head: str) -> list[int]:
    """Return the rules of every opening that starts `head`, walking the trie (the reference)."""
    found: list[int] = []
    node = RULE_SET.trie
    for char in head:
        node = node.get(char)
        if node is None:
            break
        found.extend(node.get(_END_OF_OPENING, ()))
    return found


def _brute_force(text: str) -> set[int]:
    """Return every rule whose regex takes the folded `text` (within its length limits)."""
    folded = fold(text)
    return {n for n in range(len(RULES)) if RULE_SET.fullmatch(n, folded)}


@settings(max_examples=1500, deadline=None)
@given(st.one_of(WHOLE_EXAMPLES, paragraphs()))
def test_candidates_keep_every_rule_brute_force_finds(text: str) -> None:
    """The plain-text head, the opening trie and the word lookup table lose no match."""
    expected = _brute_force(text)
    assert expected <= set(RULE_SET.candidates(text)), (text, expected)
    FRESH.memo.clear()
    assert FRESH.matches_of(text) == tuple(sorted(expected))


@settings(max_examples=1500, deadline=None)
@given(paragraphs())
def test_opening_regex_matches_exactly_where_the_trie_finds_an_opening(text: str) -> None:
    """A regex of the trie's shape (the document gate's heads regex is one) says yes exactly
    where the trie walk finds rules."""
    for head in (text.lower(), _head(text) or "", text.lower()[:3]):
        hit = OPENING.match(head) is not None
        assert hit == bool(_walk(head)), head


@given(st.sampled_from(OPENINGS), st.text(max_size=6))
def test_every_opening_and_its_continuations_match_the_regex(opening: str, more: str) -> None:
    assert OPENING.match(opening + more)
    assert bool(OPENING.match(opening[:-1])) == bool(_walk(opening[:-1]))


@settings(max_examples=800, deadline=None)
@given(paragraphs())
def test_plain_text_head_is_the_general_head(text: str) -> None:
    """For printable ASCII without double spaces the head is read off the lowercase."""
    if text.isascii() and text.isprintable() and "  " not in text:
        assert _trimmed(text.lower()[:_HEAD], len(text)) == _head(text)


def test_word_table_gives_the_words_of_each_tier() -> None:
    """words_by_floor is the bisect over word_limits, written out for every floor."""
    limits, tiers = RULE_SET.word_limits, RULE_SET.word_tiers
    assert limits and tiers
    for floor in range(-3, limits[-1] + 5):
        tier = bisect.bisect_left(limits, floor)
        expected = tiers[tier] if tier < len(tiers) else ()
        assert RULE_SET._words_for(floor) == expected, floor


OPENERS = st.sampled_from(["", "(", "\u201c", "- ", "1", "_", " "])


@settings(max_examples=1000, deadline=None)
@given(OPENERS, paragraphs(), OPENERS, paragraphs())
def test_paragraphs_said_to_open_differently_have_different_starts(
    lead_a: str, a: str, lead_b: str, b: str
) -> None:
    """The first-character check of Scan.same only ever skips pairs whose starts differ."""
    pa, pb = lead_a + a, lead_b + b
    start_a = _skeleton(pa[:_END])[:_END_KEEP]
    start_b = _skeleton(pb[:_END])[:_END_KEEP]
    if _openings_differ(pa, pb):
        assert start_a != start_b, (pa, pb)


def test_first_character_check_sees_case_and_leaves_marks_to_the_skeleton() -> None:
    assert _openings_differ("Share this", "Follow us")
    assert not _openings_differ("Share this", "share THIS")
    assert not _openings_differ("\u201cShare", "Follow")  # a quote: the skeleton decides
    assert not _openings_differ("\u0130stanbul", "istanbul")  # İ lowercases to i + a dot


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=5000))
def test_close_lengths_are_the_twins_length_rule(a: int, b: int) -> None:
    assert _close(a, b) == (abs(a - b) <= 8 + max(a, b) // 4) == _close(b, a)


PARAGRAPHS = st.lists(
    st.sampled_from(
        [
            "Share this article",
            "The mayor said on Tuesday that the bridge would reopen.",
            "the mayor said on tuesday that the bridge would reopen",
            "\u201cThe mayor said on Tuesday that the bridge would reopen.\u201d",
            "The mayor said on Tuesday that the bridge would reopen. Later, more.",
            "Photo: AP",
            "6",
            "© 2024 Example News. All rights reserved.",
            "A caption of a photo, seen twice",
            "A caption of a photo, seen twice!",
        ]
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(PARAGRAPHS)
def test_the_memo_answers_as_the_gates_do(paragraphs: list[str]) -> None:
    """matches_of remembers only gated texts: a warm memo answers as a fresh one does."""
    for text in paragraphs:
        answer = RULE_SET.matches_of(text)
        FRESH.memo.clear()
        assert answer == FRESH.matches_of(text)


@settings(max_examples=300, deadline=None)
@given(PARAGRAPHS)
def test_repeats_are_found_as_same_says(paragraphs: list[str]) -> None:
    """The scan's inlined length check keeps exactly the repeats Scan.same finds."""
    rules = RuleSet.build(())  # no rules: only repeats go
    scan = Scan(paragraphs, rules, BlockShape(), True)
    decisions, _ = scan.run()
    kept: list[int] = []
    expected = {}
    for i in range(len(paragraphs)):
        if kept and scan.same(kept[-1], i):
            expected[i] = kept[-1]
        else:
            kept.append(i)
    assert {i: d.detail and d.detail["duplicate_of"] for i, d in decisions.items()} == expected
