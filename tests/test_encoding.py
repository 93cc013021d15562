"""The fix-encoding step: ftfy's repairs, edits with rule ids, and an exact fast path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import ftfy
import ftfy.bad_codecs  # registers the sloppy-windows-* codecs
import pytest
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES
from ftfy.chardata import CHARMAP_ENCODINGS
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cleanup.document import Document
from cleanup.steps.encoding import (
    NEEDS_FTFY,
    SPEC,
    describe,
    fix_encoding,
    fix_text,
    ftfy_config,
    may_need_fix,
)

CASES_DIR = Path(__file__).parent / "data" / "ftfy"
FTFY_CASES = {
    f"{path.stem}:{i}": case
    for path in sorted(CASES_DIR.glob("*.json"))
    for i, case in enumerate(json.loads(path.read_text(encoding="utf-8")))
}
FIXTURES = Path(__file__).parent.parent / "fixtures"
CONFIG = ftfy_config()


def run(*paragraphs: str, **options: object) -> Document:
    """Run the step over one document made of `paragraphs` and return it."""
    doc = Document(id="d", paragraphs=list(paragraphs))
    (out,) = list(fix_encoding([doc], **options))  # type: ignore[arg-type]
    return out


# --- real cases ----------------------------------------------------------------------------


def _as(text: str, encoding: str) -> str:
    """Return `text` as its UTF-8 bytes wrongly decoded with `encoding` (how mojibake is made)."""
    return text.encode("utf-8").decode(encoding)


@pytest.mark.parametrize(
    ("before", "after", "rule"),
    [
        (
            _as("The Mayor’s office", "sloppy-windows-1252"),
            "The Mayor’s office",
            "ftfy:fix_encoding",
        ),
        (_as("Café crème brûlée", "latin-1"), "Café crème brûlée", "ftfy:fix_encoding"),
        (_as("“Quoted”, he said", "sloppy-windows-1252"), "“Quoted”, he said", None),
        (_as("Привет, мир", "sloppy-windows-1252"), "Привет, мир", None),
        (_as("Zażółć gęślą jaźń", "sloppy-windows-1250"), "Zażółć gęślą jaźń", None),
        (_as(_as("double été", "windows-1252"), "windows-1252"), "double été", None),
        ("Tom &amp; Jerry &mdash; &quot;classic&quot;", 'Tom & Jerry — "classic"', None),
        ("It&#x2019;s &eacute;t&eacute;", "It’s été", "ftfy:unescape_html"),
        ("It costs \x80100 and \x93more\x94", "It costs €100 and “more”", None),
        ("red \x1b[31mtext\x1b[0m here", "red text here", "ftfy:remove_terminal_escapes"),
        ("a\x00b\x07c", "abc", "ftfy:remove_control_chars"),
        ("one\r\ntwo\rthree", "one\ntwo\nthree", "ftfy:fix_line_breaks"),
    ],
)
def test_repairs_real_mojibake(before: str, after: str, rule: str | None) -> None:
    doc = run(before)
    assert doc.paragraphs == [after]
    assert len(doc.edits) == 1 and doc.edits[0].step == "fix-encoding"
    assert doc.edits[0].rule.startswith("ftfy:") and doc.edits[0].why
    if rule:
        assert doc.edits[0].rule == rule


@pytest.mark.parametrize(
    "text",
    [
        "Le cœur de l’été — « très » belle journée à Paris. Ça coûte 100 €.",
        "Über die Brücke „gehen“ wir: Straße, Größe, Ärger. ÖL und ÄÖÜ.",
        "Россия — крупнейшая страна «мира». ВСЁ ХОРОШО. Съезд, №5.",
        "Η Ελλάδα είναι χώρα. Ο Γιώργος «είπε» στην ΑΘΗΝΑ.",
        "中文文本，没有问题。「引号」和日本語のテキスト。",
        "español: ¿Qué pasó? ¡Olé! Año, niño, pingüino.",
        "© 2024 Example Ltd. ½ cup, 25°C ±3, €100, £5, ¥20, 5×3 ≠ 16, √2, ∞, π ≈ 3.14",
        "“Curly quotes” and ‘single ones’ — dashes – and an ellipsis… are fine.",
        "Emoji stay: 👍🏽 ❤️ 🇬🇧, and so does a plain & ampersand and R&D.",
        "A line\nwith a break and a tab\there.",
    ],
)
def test_leaves_correct_text_alone(text: str) -> None:
    doc = run(text)
    assert doc.paragraphs == [text] and doc.edits == []
    if "\n" not in text and "\t" not in text:
        assert not may_need_fix(text)  # the fast path skips it: ftfy never runs


def test_fallback_when_detector_cannot_be_reduced(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ftfy detector alternative without a non-ASCII class: send all non-ASCII text to ftfy."""
    import cleanup.steps.encoding as encoding

    monkeypatch.setattr(encoding, "BADNESS_RE", re.compile("[ab]c|\u00e9\u00e9"))
    fallback = re.compile(encoding._needs_ftfy_pattern())
    assert fallback.search("caf\u00e9") and fallback.search("&") and not fallback.search("abc")
    monkeypatch.setattr(encoding, "BADNESS_RE", re.compile("x\u00e9\u00e8|\u00e7"))
    derived = re.compile(encoding._needs_ftfy_pattern())
    assert derived.search("x\u00e9\u00e8") and derived.search("\u00e7")
    assert not derived.search("caf\u00e9") and not derived.search("&")


def test_cosmetic_fixes_are_off() -> None:
    text = "ﬁne ＦＵＬＬ “quotes” e\u0301"  # ligature, full width, curly quotes, decomposed é
    assert run(text).paragraphs == [text]


def test_options_turn_fixes_off() -> None:
    assert run("Tom &amp; Jerry", unescape_html=False).paragraphs == ["Tom &amp; Jerry"]
    assert run("Caf\u00c3\u00a9", fix_mojibake=False).paragraphs == ["Caf\u00c3\u00a9"]
    assert run("Caf\u00c3\u00a9").paragraphs == ["Café"]


def test_entities_in_text_with_markup_are_kept() -> None:
    """ftfy's "auto" mode: text holding "<" is HTML source, whose entities must stay."""
    text = "use &lt;b&gt; for <b>bold</b>"
    assert run(text).paragraphs == [text]


def test_paragraph_left_empty_is_removed_in_full() -> None:
    doc = run("keep", "\x00\x01\x02", "also")
    assert doc.paragraphs == ["keep", "also"]
    (edit,) = doc.edits
    assert edit.kind == "remove" and edit.before == "\x00\x01\x02" and edit.index == 1


def test_dropped_documents_pass_untouched() -> None:
    doc = Document(id="d", paragraphs=["Caf\u00c3\u00a9"])
    doc.drop("dedup", "dup", "duplicate")
    (out,) = list(fix_encoding([doc]))
    assert out.paragraphs == ["Caf\u00c3\u00a9"] and out.edits == []


def test_rule_names_each_fix() -> None:
    rule, why = describe([("apply", "unescape_html"), ("encode", "latin-1"), ("decode", "utf-8")])
    assert rule == "ftfy:unescape_html+fix_encoding"
    assert "HTML entities" in why and "latin-1" in why


def test_spec_options_are_step_keywords() -> None:
    assert SPEC.name == "fix-encoding"
    assert {o.keyword for o in SPEC.options} == {
        "unescape_html",
        "fix_mojibake",
        "restore_byte_a0",
        "fix_c1_controls",
        "ftfy_fast_path",
    }
    (out,) = SPEC.bind()([Document(id="x", paragraphs=["Caf\u00c3\u00a9"])])
    assert out.paragraphs == ["Café"]


# --- ftfy's own test cases -----------------------------------------------------------------


@pytest.mark.parametrize("name", FTFY_CASES)
def test_ftfy_cases_same_with_and_without_fast_path(name: str) -> None:
    original = FTFY_CASES[name]["original"]
    expected = ftfy.fix_text(original, CONFIG)
    assert fix_text(original, CONFIG, fast_path=True)[0] == expected
    assert fix_text(original, CONFIG, fast_path=False)[0] == expected


@pytest.mark.parametrize("name", [n for n, c in FTFY_CASES.items() if c["expect"] == "pass"])
def test_ftfy_cases_repaired_as_ftfy_repairs_them(name: str) -> None:
    """The step repairs what ftfy does; ftfy's cosmetic fixes on top give ftfy's expected text."""
    case = FTFY_CASES[name]
    got = run(case["original"]).text
    assert ftfy.fix_text(got) == case["fixed"]


# --- the fast path is exact ----------------------------------------------------------------


def _span(lo: str, hi: str) -> str:
    """Expand a character range written "a-z" into its characters."""
    return "".join(map(chr, range(ord(lo), ord(hi) + 1)))


_MATERIAL = sorted(
    {
        c
        for chars in MOJIBAKE_CATEGORIES.values()
        for c in re.sub(r"(.)-(.)", lambda m: _span(m[1], m[2]), chars)
    }
)


def test_fast_path_covers_every_two_character_detector_match() -> None:
    """Every pair of mojibake-material or ASCII characters ftfy's detector flags, we flag too."""
    alphabet = [*_MATERIAL, *map(chr, range(0x20, 0x7F)), "\n", "\t"]
    missed = [
        a + b
        for a in alphabet
        for b in alphabet
        if BADNESS_RE.search(a + b) and not NEEDS_FTFY.search(a + b)
    ]
    assert missed == []


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(BADNESS_RE))
def test_fast_path_flags_every_detector_match(text: str) -> None:
    assert may_need_fix(text)


def _mojibake(text: str, encoding: str) -> str:
    """Return `text` as UTF-8 bytes wrongly decoded with a single-byte `encoding`."""
    return text.encode("utf-8").decode(encoding, errors="replace")


_pieces = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(_MATERIAL + list(" abcAZ.,'\"&;#\r\n")), max_size=12),
    st.builds(_mojibake, st.text(max_size=20), st.sampled_from(CHARMAP_ENCODINGS)),
    st.builds(
        _mojibake,
        st.builds(_mojibake, st.text(max_size=10), st.sampled_from(["latin-1", "windows-1252"])),
        st.sampled_from(["latin-1", "sloppy-windows-1252"]),
    ),
    st.sampled_from(["&amp;", "&eacute;", "&#x2019;", "&#8217;", "&EACUTE;", "\x1b[1m", "\ufeff"]),
)


@settings(max_examples=2000, deadline=None)
@given(st.lists(_pieces, max_size=6).map("".join))
@example("voil\u00c3  le travail")
@example("\u00c3 la mode \u00c2 ")
def test_fast_path_output_identical_to_ftfy(text: str) -> None:
    expected = ftfy.fix_text(text, CONFIG)
    assert fix_text(text, CONFIG, fast_path=True)[0] == expected
    if not may_need_fix(text):
        assert expected == text
    assert run(text).paragraphs == run(text, ftfy_fast_path=False).paragraphs


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(_pieces, min_size=1, max_size=4).map("".join), min_size=2, max_size=5))
def test_one_search_over_a_document_clears_exactly_the_documents_it_should(
    paragraphs: list[str],
) -> None:
    """The step's document-wide gate finds whatever a per-paragraph search would."""
    joined = "\n".join(paragraphs)
    if any(may_need_fix(p) for p in paragraphs):
        assert may_need_fix(joined)
    (fast,) = fix_encoding([Document(id="d", paragraphs=list(paragraphs))])
    (slow,) = fix_encoding([Document(id="d", paragraphs=list(paragraphs))], ftfy_fast_path=False)
    assert fast.paragraphs == slow.paragraphs


def test_fast_path_regex_has_only_positive_lookarounds() -> None:
    """What lets one search cover a whole document (see fix_encoding's apply): no negative
    lookaround and no anchor or word boundary, which could tell a paragraph's end apart."""
    import re._constants as sre  # the regex parser's own opcodes
    import re._parser as sre_parse

    def opcodes(items: object) -> set[object]:
        found: set[object] = set()
        for op, av in items:  # type: ignore[attr-defined]
            found.add(op)
            for arg in av if isinstance(av, (tuple, list)) else [av]:
                if isinstance(arg, sre_parse.SubPattern):
                    found |= opcodes(arg)
                elif isinstance(arg, list):
                    for sub in arg:
                        if isinstance(sub, sre_parse.SubPattern):
                            found |= opcodes(sub)
        return found

    ops = opcodes(sre_parse.parse(NEEDS_FTFY.pattern))
    assert sre.ASSERT in ops  # the walk does reach the lookarounds
    assert not ops & {sre.ASSERT_NOT, sre.AT}


def test_fast_path_identical_on_fixtures() -> None:
    for path in sorted(FIXTURES.glob("*.txt")):
        doc = Document.from_text(path.name, path.read_text(encoding="utf-8"))
        for p in doc.paragraphs:
            assert fix_text(p, CONFIG, fast_path=True)[0] == ftfy.fix_text(p, CONFIG)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(st.lists(_pieces, min_size=1, max_size=4).map("".join))
def test_idempotent_and_never_raises(text: str) -> None:
    once = run(text).paragraphs
    twice = run(*once).paragraphs if once else []
    assert twice == once
