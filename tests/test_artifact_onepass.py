"""Identity tests for strip-artifacts' one-pass document gate and event-driven scan (issue #18).

The new code must decide exactly what the per-paragraph gates and the old scan decided
(tests/gates_reference.py and tests/scan_reference.py, frozen copies of 309e7fb): same rule
matches for every paragraph, same edits and metadata for every document, on generated
paragraphs with rule openings, `requires` words, examples, non-ASCII, curly quotes and
dashes, control characters, odd spacing, leading junk and long texts.
"""

from __future__ import annotations

import bisect
import copy

import gates_reference
import scan_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleanup.document import Document, Edit
from cleanup.rules import builtin_rules, literal_openings
from cleanup.steps.artifacts import (
    _BATCH,
    REPEATED,
    STEP,
    BlockShape,
    compile_rules,
    strip_artifacts,
    strip_document,
)
from cleanup.steps.artifacts.gates import RuleSet
from cleanup.steps.artifacts.literals import Literals
from cleanup.steps.artifacts.onepass import _STRAIGHTEN, DocumentGate, View
from cleanup.steps.artifacts.scan import _END, _END_KEEP, _skeleton
from cleanup.steps.normalize import fold

RULES = tuple(builtin_rules(known_ids=(REPEATED,)))
RULE_SET = compile_rules(RULES)
REFERENCE = gates_reference.RuleSet.build(RULES)
SHAPE = BlockShape()
OPENINGS = sorted({o for r in RULES if (found := literal_openings(r.match)) for o in found[0]})
WORDS = sorted({w for r in RULES for w in r.requires})
EXAMPLES = sorted({t for r in RULES for t in (*r.examples_match, *r.examples_keep)})
PROMPTS = sorted({t for r in RULES if not r.where for t in r.examples_match})
ODD = [
    "\u2019",  # curly apostrophe: straightened
    "\u2018",
    "\u201c",  # curly quotes: straightened
    "\u201d",
    "\u2013",  # en and em dash: straightened
    "\u2014",
    "\u2026",  # ellipsis: folds to three characters
    "\u00a0",  # no-break space
    "\u0130",  # dotted capital I: lowercases to two characters
    "\u212a",  # Kelvin sign: lowercases to ASCII k
    "\ufb01",  # fi ligature: folds to ASCII
    "\uff21",  # fullwidth A
    "\u2122",  # trade mark sign
    "\u00e2\u20ac\u2122",  # mojibake of a curly apostrophe
    "\x9d",  # C1 control
    "\x01",  # C0 control
    "\t",
    "\n",
    "  ",
    "e\u0301",  # combining accent
    "\u00e9",
    "\u00df",
    "\u00a9",
    "?",
    "\u2010",  # hyphen: a dash the head does not straighten
]
BODY = [
    "The mayor said on Tuesday that the bridge would reopen next week.",
    "Officials expressed concern about the tap water and pressed for answers.",
    "He worked 24/7 and/or weekends, she said.",
    "x" * 90,
    "Zazavecund dailapress wotap contributor reserved.",
]
PIECE = st.one_of(
    st.sampled_from(OPENINGS),
    st.sampled_from(EXAMPLES),
    st.sampled_from(WORDS),
    st.sampled_from(ODD),
    st.sampled_from(BODY),
    st.text(max_size=12),
)
SEPARATOR = st.sampled_from([" ", "", ", ", " / ", " | ", ": ", "\u2014"])
LEAD = st.sampled_from(
    ["", " ", "(", "\u201c", "- ", "12 ", "\u00a0", "* ", "#" * 33, "1 " * 20]
    + ["#" * n for n in range(28, 33)]  # about the heads regex's _JUNK_MAX, in View.heads' rows
)
CASE = st.sampled_from([str, str.upper, str.title, str.lower])


@st.composite
def paragraphs(draw: st.DrawFn) -> str:
    """Draw a paragraph of rule openings, examples, words, odd characters and body text."""
    pieces = draw(st.lists(st.tuples(PIECE, SEPARATOR), min_size=1, max_size=6))
    text = draw(LEAD) + "".join(p + s for p, s in pieces)
    if draw(st.booleans()):
        text *= draw(st.integers(1, 12))  # long texts: past the word limits and raw_limit
    return draw(CASE)(text)


@st.composite
def documents(draw: st.DrawFn) -> list[str]:
    """Draw a document: paragraphs, some repeated next to themselves with small changes,
    some block headers followed by short lines."""
    out: list[str] = []
    for text in draw(st.lists(paragraphs(), min_size=1, max_size=10)):
        if not text.strip():
            text = "x"
        out.append(text)
        kind = draw(st.integers(0, 5))
        if kind == 1:  # a repeat: the same, or with case, quotes or punctuation changed
            change = draw(st.sampled_from([str, str.upper, lambda t: t + "!", lambda t: "'" + t]))
            out.append(change(text) or text)
        elif kind == 2:
            out += ["Story highlights", "A short line about it.", "Another short line."]
        elif kind == 3:  # a repeat across an artifact that goes: compared with the kept one
            out += [draw(st.sampled_from(PROMPTS)), text.upper()]
    return out


def _reference_edits(paragraphs: list[str]) -> tuple[list[str], list[tuple], dict]:
    """Strip one document with the frozen gates and scan; return paragraphs, edits, meta."""
    doc = _doc(paragraphs)
    decisions, meta = scan_reference.Scan(doc.paragraphs, REFERENCE, SHAPE, True).run()
    edits = []
    for i in sorted(decisions, reverse=True):
        d = decisions[i]
        make = Edit.move if d.kind == "move" else Edit.removal
        edits.append(make(STEP, d.rule, i, doc.paragraphs[i], d.why, d.detail or None))
    if edits:
        doc.apply(edits)
    for key, values in meta.items():
        doc.meta[key] = list(values)
    return _summary(doc)


def _doc(paragraphs: list[str]) -> Document:
    return Document("d", list(paragraphs))


_NOT_ALNUM = bytes(c for c in range(256) if not (c < 0x80 and chr(c).isalnum()))


def view_start(view: View, i: int, size: int) -> bytes:
    """Return the letters and digits of the first `size` characters of paragraph i in the
    view's bytes, lowercased (View.start before the batch compared starts at once, 18f4a25,
    on bytes lowercased by View then)."""
    at = view.starts[i]
    return view.data[at : at + min(size, view.sizes[i])].lower().translate(None, _NOT_ALNUM)


def _summary(doc: Document) -> tuple[list[str], list[tuple], dict]:
    edits = [(e.rule, e.index, e.before, e.why, e.detail) for e in doc.edits]
    return list(doc.paragraphs), edits, dict(doc.meta)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(paragraphs(), min_size=1, max_size=12))
def test_document_matches_are_the_per_paragraph_gates_matches(texts: list[str]) -> None:
    """The one-pass gate loses no match and adds none: every paragraph gets what the frozen
    per-paragraph gates give it, with Hyperscan and with the find passes."""
    view = View(texts, list(map(len, texts)))
    expected = [REFERENCE.matches_of(t) for t in texts]
    RULE_SET.memo.clear()
    assert RULE_SET.matched(texts, view)[0] == expected
    fallback = RuleSet.build(RULES)
    assert fallback.document is not None
    fallback.document.literals = Literals(fallback.document.literals.groups, False)
    assert fallback.matched(texts, view)[0] == expected


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(paragraphs(), min_size=1, max_size=12))
def test_paragraphs_not_flagged_match_no_rule(texts: list[str]) -> None:
    """A paragraph the document gate leaves out matches no rule (brute force: every rule on
    its folded text); printable ASCII ones are also those the frozen gates give no rule to
    try. (A quiet paragraph with curly marks is held to the word length limits, which the
    frozen gates only applied to ASCII: its fold is no shorter either.)"""
    assert RULE_SET.document is not None
    flagged = set(RULE_SET.document.flagged(View(texts, list(map(len, texts)))))
    for i, text in enumerate(texts):
        if i not in flagged:
            folded = fold(text)
            assert not [n for n in range(len(RULES)) if RULE_SET.fullmatch(n, folded)], text
            if text.isascii() and text.isprintable():
                assert REFERENCE.candidates(text) == (), text


def test_words_are_looked_for_up_to_their_rules_reach() -> None:
    """A quiet paragraph is flagged for a `requires` word while its rules can still match
    it (its fold is at most two end spaces shorter), and up to the limit of the word's
    group (literals are found by group: onepass._word_groups), not past that."""
    gate = RULE_SET.document
    assert gate is not None
    for word, ns in RULE_SET.words:
        if not word.isascii():
            continue
        reach = max(RULES[n].max_chars for n in ns)
        (limit,) = (
            gate.limits[g]
            for g, group in enumerate(gate.literals.groups)
            if word.encode("ascii") in group
        )
        assert reach + 2 <= limit < gate.raw_limit
        for size in (reach, reach + 2, reach + 3, limit, limit + 1, limit + 40):
            text = "z" + " " + word + " " + "z" * (size - len(word) - 3)
            assert len(text) == size
            flagged = gate.flagged(View([text], [size])) == [0]
            assert flagged == (size <= limit), (word, size)


@settings(max_examples=800, deadline=None)
@given(paragraphs())
def test_folded_candidates_keep_every_rule_that_matches(text: str) -> None:
    """The gates asked about the folded text let through every rule brute force finds."""
    folded = fold(text)
    expected = {n for n in range(len(RULES)) if RULE_SET.fullmatch(n, folded)}
    assert expected <= set(RULE_SET.folded_candidates(folded)), (text, expected)


@settings(max_examples=400, deadline=None)
@given(st.lists(paragraphs(), min_size=1, max_size=8))
def test_view_folds_and_starts_quiet_paragraphs_as_fold_and_skeleton_do(texts: list[str]) -> None:
    """What the joined bytes say of a paragraph that is not loud is what fold and the scan's
    skeleton say of it."""
    view = View(texts, list(map(len, texts)))
    for i, text in enumerate(texts):
        if i in view.loud:
            assert not (text.isascii() and text.isprintable()) or "\n" in text
            continue
        assert view.folded(i) == fold(text), text
        start = _skeleton(text[:_END])[:_END_KEEP]
        assert view_start(view, i, _END)[:_END_KEEP] == start.encode("ascii"), text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="abAB|/  xX\u2019", max_size=20), min_size=1, max_size=8))
def test_hyperscan_and_find_passes_find_the_same_paragraphs(texts: list[str]) -> None:
    """Both find, in any case, the paragraphs whose lowercase holds a needle of a group."""
    texts = [t.replace("\n", " ") for t in texts]
    view = View(texts, list(map(len, texts)))
    groups = [(b"a",), (b"ab", b"|"), (b"  ", b"xx", b"x'")]
    fast = sorted(set(Literals(groups).paragraphs_with(view.data, view.starts)))
    slow = sorted(set(Literals(groups, False).paragraphs_with(view.data, view.starts)))
    straight = [t.replace("\u2019", "'").lower().encode("ascii") for t in texts]
    brute = sorted(
        (n, i) for i, t in enumerate(straight) for n, g in enumerate(groups) if _any(g, t)
    )
    assert fast == slow == brute
    one_each = [(needle,) for group in groups for needle in group]  # which group: any needle
    found = set(Literals(one_each).paragraphs_with(view.data, view.starts))
    group_of = [n for n, group in enumerate(groups) for _ in group]
    assert {(group_of[n], i) for n, i in found} == set(fast)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_strip_document_makes_the_old_scans_edits(paragraphs: list[str]) -> None:
    """Whole documents: the same paragraphs removed, the same edits, the same metadata."""
    doc = _doc(paragraphs)
    strip_document(doc, RULE_SET, SHAPE, True)
    assert _summary(doc) == _reference_edits(paragraphs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), min_size=1, max_size=3), st.integers(0, 2 * _BATCH + 3))
def test_batches_decide_as_documents_one_by_one(docs: list[list[str]], extra: int) -> None:
    """Documents scanned in batches (dropped and empty ones among them) are stripped as each
    would be alone; batch borders and offsets change nothing."""
    pool = [*docs, *[docs[n % len(docs)] for n in range(extra)]]
    made = []
    for n, paragraphs in enumerate(pool):
        doc = _doc(paragraphs if n % 7 else [])
        if n % 5 == 3:
            doc.dropped = Edit(step="test", rule="test", before="", after="", kind="drop")
        made.append(doc)
    alone = copy.deepcopy(made)
    for doc in alone:
        if doc.dropped is None and doc.paragraphs:
            strip_document(doc, RULE_SET, SHAPE, True)
    out = list(strip_artifacts(made))
    assert [_summary(d) for d in out] == [_summary(d) for d in alone]


TWINS = [
    ("\u212aelvin scale readings were taken at noon", "kelvin scale readings were taken at noon"),
    ("\u0130stanbul traffic was heavy this morning", "istanbul traffic was heavy this morning"),
    ("\ufb01ne weather is expected for the weekend", "fine weather is expected for the weekend"),
    ("\u201cA caption, seen twice\u201d in the gallery", '"A caption, seen twice" in the gallery'),
    (
        "Caf\u00e9 owners met on Tuesday evening again",
        "CAF\u00c9 OWNERS MET ON TUESDAY EVENING AGAIN",
    ),
    ("A caption\x01 of a photo, seen twice", "a caption of a photo, seen twice"),
]


def test_twins_told_apart_only_by_non_ascii_or_controls_are_found_as_before() -> None:
    """Repeats whose first letters differ only in a character the joined bytes cannot show
    (a '?' there: Kelvin sign, dotted I, ligature, accents; or a control) are looked at
    the slow way, so they are found exactly as the old scan found them."""
    for a, b in TWINS:
        for paragraphs in ([a, b], [b, a], ["Intro line here.", a, PROMPTS[0], b]):
            doc = _doc(paragraphs)
            strip_document(doc, RULE_SET, SHAPE, True)
            assert _summary(doc) == _reference_edits(paragraphs), paragraphs


def _opens(gate: DocumentGate, text: str) -> bool:
    """Tell whether the heads regex matches at the start of one paragraph alone."""
    for char, plain in _STRAIGHTEN:
        text = text.replace(char, plain)
    return gate.heads.match(b"\n" + text.encode("ascii", "replace").lower()) is not None


def _any(needles: tuple[bytes, ...], text: bytes) -> bool:
    return any(needle in text for needle in needles)


@settings(max_examples=400, deadline=None)
@given(st.lists(paragraphs(), min_size=1, max_size=12))
def test_heads_in_rows_are_the_heads_in_the_whole_bytes(texts: list[str]) -> None:
    """The heads regex over each paragraph's row (View.heads) finds the paragraphs it found
    over the whole lowercased bytes (8af52f9), but for a line opening inside a paragraph:
    one holding a line break is loud, flagged anyway."""
    gate = RULE_SET.document
    assert gate is not None
    view = View(texts, list(map(len, texts)))
    data, starts = view.data.lower(), view.starts
    whole = {bisect.bisect_right(starts, m.start() + 1) - 1 for m in gate.heads.finditer(data)}
    opened = gate.opened(view)
    assert opened == sorted(opened) and set(opened) <= whole
    assert all("\n" in texts[i] and i in view.loud for i in whole.difference(opened))
    lines = [t for t in texts if "\n" not in t]
    assert gate.opened(View(lines, list(map(len, lines)))) == [
        i for i, t in enumerate(lines) if _opens(gate, t)
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from(["a", " ", "\x7f", "\x01", "\t", "\n", "\u2019", "\u00e9"])),
        min_size=1,
        max_size=6,
    )
)
def test_clean_is_no_unprintable_byte_but_the_separators(texts: list[str]) -> None:
    """View.clean counts the bytes below 0x20 and looks for 0x7f; it says what deleting the
    printable bytes said (7d3b2a0): only the separators are left."""
    view = View(texts, list(map(len, texts)))
    separators = view.data.count(b"\n") - sum(t.count("\n") for t in texts)
    assert view.clean == (view.data.translate(None, bytes(range(0x20, 0x7F))) == b"\n" * separators)


def test_the_document_gate_pickles_and_finds_the_same() -> None:
    """A compiled Hyperscan database does not pickle: the gate's literals compile again."""
    import pickle

    gate = RULE_SET.document
    assert gate is not None
    texts = ["Share this article", "He pressed on | tap", "Body text of the story."]
    view = View(texts, list(map(len, texts)))
    assert pickle.loads(pickle.dumps(gate)).flagged(view) == gate.flagged(view) == [0, 1]


def test_heads_without_the_key_table_when_openings_use_many_characters() -> None:
    """Openings whose first three characters are more than 63 distinct ones get no key
    table (their codes would not fit 6 bits): every paragraph's row goes to the regex."""
    openings = ["a" + chr(0x21 + k) + "b" for k in range(70)]
    gate = DocumentGate.build(openings, {}, 100)
    assert gate.starts is None
    texts = ["a!b is a head", "zzz", "#A#B x"]
    assert gate.opened(View(texts, list(map(len, texts)))) == [0, 2]
    assert DocumentGate.build(openings[:20], {}, 100).starts is not None
