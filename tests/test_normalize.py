"""The normalize step, normalize_text and fold: what changes, what stays, and idempotence."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.document import Document
from cleanup.steps.normalize import SPEC, fold, normalize, normalize_text


def run(*paragraphs: str, **options: bool) -> Document:
    """Run the step over one document made of `paragraphs` and return it."""
    doc = Document(id="d", paragraphs=list(paragraphs))
    (out,) = list(normalize([doc], **options))
    return out


# --- normalize_text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("no\u00a0break, thin\u2009space, narrow\u202fone", "no break, thin space, narrow one"),
        ("ideographic\u3000space and\ttab", "ideographic space and tab"),
        ("  runs   of    spaces  ", "runs of spaces"),
        ("zero\u200bwidth, \ufeffBOM, soft\u00adhyphen, word\u2060joiner", None),
        ("bell\x07 and escape\x1b and DEL\x7f and C1\x85x", None),
        ("line\nbreaks\r\ninside\u2028a paragraph", "line breaks inside a paragraph"),
        ("\u201cCurly\u201d \u2018quotes\u2019 it\u2019s", "\"Curly\" 'quotes' it's"),
        ("low \u201equotes\u201c and \u201aone\u2018", "low \"quotes\" and 'one'"),
        ("5\u2032 11\u2033 tall", "5' 11\" tall"),
        (
            "en\u2013dash, em\u2014dash, minus \u22125, bar\u2015x",
            "en-dash, em-dash, minus -5, bar-x",
        ),
        ("wait\u2026 what", "wait... what"),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),  # NFC composes
        ("\ufb01ne \uff21", "\ufb01ne \uff21"),  # NFC keeps ligatures and full width
    ],
)
def test_normalize_text(before: str, after: str | None) -> None:
    out = normalize_text(before)
    if after is None:  # invisible and control characters: only letters, spaces, punctuation left
        assert all(unicodedata.category(c)[0] in "LNPZ" for c in out) and out == out.strip()
        assert "  " not in out
    else:
        assert out == after


def test_zero_width_joiners_stay() -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ inside a Persian word
    emoji = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ family emoji
    hindi = "\u0915\u094d\u200d\u0937"
    for text in (persian, emoji, hindi):
        assert normalize_text(text) == text


def test_soft_hyphen_goes_without_splitting_word() -> None:
    assert normalize_text("extra\u00adordinary") == "extraordinary"


def test_control_removed_before_composition() -> None:
    """Dropping a control between a letter and its accent must still give NFC text."""
    out = normalize_text("e\x01\u0301")
    assert out == "\u00e9" and unicodedata.is_normalized("NFC", out)


def test_options() -> None:
    assert normalize_text("\ufb01ne \uff21\u00b2", nfkc=True) == "fine A2"
    assert normalize_text(" a  \n\n  b \r\n c ", keep_lines=True) == "a\nb\nc"
    text = "\u201cIt\u2019s\u201d \u2013 5\u2032\u2026"
    assert normalize_text(text, keep_typography=True) == text
    assert normalize_text(text) == "\"It's\" - 5'..."


def test_guillemets_are_correct_quotes_and_stay() -> None:
    assert normalize_text("\u00ab\u00a0Bonjour\u00a0\u00bb") == "\u00ab Bonjour \u00bb"


def test_ascii_text_is_returned_as_is() -> None:
    text = "Plain ASCII text, nothing to do."
    assert normalize_text(text) is text


# --- the step ------------------------------------------------------------------------------


def test_step_records_one_edit_per_changed_paragraph_with_kinds() -> None:
    doc = run("a\u00a0 b", "\u201cq\u201d", "plain", "x\u200by\u2014z")
    assert doc.paragraphs == ["a b", '"q"', "plain", "xy-z"]
    rules = {e.index: e.rule for e in doc.edits}
    assert rules == {
        0: "normalize:spaces",
        1: "normalize:typography",
        3: "normalize:invisible+typography",
    }
    assert all(e.step == "normalize" and e.why for e in doc.edits)


def test_step_rule_names_unicode_form_and_lines() -> None:
    doc = run("cafe\u0301\nbar")
    (edit,) = doc.edits
    assert doc.paragraphs == ["caf\u00e9 bar"]
    assert edit.rule == "normalize:unicode-form+lines"


def test_empty_paragraphs_are_removed_in_full() -> None:
    doc = run("keep", " \u00a0\u200b ", "also")
    assert doc.paragraphs == ["keep", "also"]
    (edit,) = doc.edits
    assert (edit.kind, edit.rule, edit.before, edit.index) == (
        "remove",
        "normalize:empty",
        " \u00a0\u200b ",
        1,
    )


def test_unchanged_paragraphs_record_nothing() -> None:
    doc = run("Plain text.", "Été à Paris — “non”", keep_typography=True)
    assert doc.edits == []


def test_dropped_documents_pass_untouched() -> None:
    doc = Document(id="d", paragraphs=["a\u00a0b"])
    doc.drop("dedup", "dup", "duplicate")
    (out,) = list(normalize([doc]))
    assert out.paragraphs == ["a\u00a0b"] and out.edits == []


def test_spec() -> None:
    assert SPEC.name == "normalize"
    assert {o.name for o in SPEC.options} == {"nfkc", "keep-lines", "keep-typography"}
    (out,) = SPEC.bind(keep_typography=True)([Document(id="x", paragraphs=["\u201cq\u201d  "])])
    assert out.paragraphs == ["\u201cq\u201d"]


# --- fold ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("\u201cScroll down for video\u201d", '"scroll DOWN for video"'),
        ("It\u2019s\u00a0 here ", "it's here"),
        ("\u00abBonjour\u00bb", '"bonjour"'),
        ("A \u2014 B \u2013 C", "a - b - c"),
        ("Stra\u00dfe", "STRASSE"),
        ("\uff26\uff55\uff4c\uff4c width", "full WIDTH"),
        ("caf\u00e9", "cafe\u0301"),
        ("line\nbreak", "line break"),
        ("zero\u200bwidth", "zerowidth"),
    ],
)
def test_fold_makes_variants_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


def test_fold_folds_every_dash_and_apostrophe_like_accent() -> None:
    dashes = [chr(c) for c in range(0x30000) if unicodedata.category(chr(c)) == "Pd"]
    assert {fold(f"a{d}b") for d in dashes} == {"a-b"}
    assert fold("it\u00b4s") == fold("it\u02bcs") == fold("it\u2019s") == "it's"


def test_fold_keeps_punctuation_and_words_apart() -> None:
    assert fold("Hello, world!") == "hello, world!"
    assert fold("Read more:") != fold("Read more")
    assert fold("resume") != fold("résumé")


# --- properties ----------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
_mixed = st.lists(
    st.one_of(
        _text,
        st.sampled_from(list(" \u00a0\u2009\u200b\u200c\u200d\ufeff\u00ad\n\r\t\x85\u2028")),
        st.sampled_from(list("\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u2032\u2033\u0301")),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(_mixed, st.booleans(), st.booleans(), st.booleans())
def test_normalize_text_idempotent(text: str, nfkc: bool, keep_lines: bool, keep: bool) -> None:
    once = normalize_text(text, nfkc=nfkc, keep_lines=keep_lines, keep_typography=keep)
    assert normalize_text(once, nfkc=nfkc, keep_lines=keep_lines, keep_typography=keep) == once
    assert once == once.strip() and "  " not in once
    assert keep_lines or "\n" not in once
    assert unicodedata.is_normalized("NFKC" if nfkc else "NFC", once)


@settings(max_examples=500, deadline=None)
@given(st.lists(_mixed, max_size=5))
def test_step_idempotent_and_never_raises(paragraphs: list[str]) -> None:
    once = run(*paragraphs).paragraphs
    assert all(once)
    again = run(*once)
    assert again.paragraphs == once and again.edits == []


@settings(max_examples=1500, deadline=None)
@given(_mixed)
def test_fold_idempotent_and_stable_under_normalize(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert fold(normalize_text(text)) == folded
    assert folded == folded.strip() and "  " not in folded


def _special(c: str) -> bool:
    """Tell whether a character is one normalization could touch: decomposable, mark, space..."""
    return bool(unicodedata.decomposition(c)) or unicodedata.category(c) in _SPECIAL_CATEGORIES


_SPECIAL_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Mc", "Me", "Pd", "Pi", "Pf", "Po"}


def test_every_special_code_point_normalizes_idempotently() -> None:
    """Check each such code point alone and between a letter and an accent it could join."""
    bad = []
    for cp in range(0x30000):
        c = chr(cp)
        if 0xD800 <= cp < 0xE000 or not _special(c):
            continue
        for s in (c, "e" + c + "\u0301"):
            once = normalize_text(s)
            if normalize_text(once) != once or fold(fold(s)) != fold(s):
                bad.append(s)
    assert bad == []


@pytest.mark.parametrize("char", ["\u1ffd", "\u1fef", "\u1fed", "\u0384"])
def test_fold_of_canonical_equivalents_is_stable_under_normalize(char: str) -> None:
    # U+1FFD GREEK OXIA is canonically U+00B4 ACUTE ACCENT, which folds to a quote.
    assert fold(normalize_text(char)) == fold(char)
