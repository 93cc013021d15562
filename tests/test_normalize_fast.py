"""normalize's document path and its replacers give exactly what the per-paragraph loop gave
(issue #18).

`_typography_changes` decides for a whole document at once; the step must record the same
paragraphs and the same audit trail as the loop that normalized every paragraph alone
(tests/core_reference.py), on generated text full of what the document checks look for
(spaces at the ends, empty paragraphs, controls, line breaks, combining marks next to the
joints, forms NFC or NFKC would change, typography) and on a generated news corpus.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from pathlib import Path

import core_reference as ref
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from script_loader import load_script

from cleanup.document import Document
from cleanup.steps import normalize as norm
from cleanup.steps.normalize import normalize

PIECES = st.sampled_from(
    [
        "plain words",
        "x",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\x00",
        "\x7f",
        "\x85",
        "\u00a0",
        "\u2009",
        "\u3000",
        "\u200b",
        "\u200c",
        "\u200d",
        "\u00ad",
        "\ufeff",
        "\u2028",
        "\u2019",
        "\u201c",
        "\u201d",
        "\u2018",
        "\u2014",
        "\u2013",
        "\u2026",
        "\u2032",
        "\u2034",
        "\u2212",
        "\uff0d",
        "\u00ab",
        "\u00e9",
        "e\u0301",
        "\u0301",
        "\u0323\u0301",
        "\u0338",
        "<",
        "=",
        "\u1100",
        "\u1161",
        "\ufb01",
        "\uff21",
        "\u00bd",
        "\u2126",
        "\U0001f44d",
        "caf\u00e9",
        "\u0915\u094d",
    ]
)
PARAGRAPH = st.one_of(
    st.lists(PIECES, max_size=8).map("".join),
    st.text(max_size=20),
    st.text(st.characters(max_codepoint=0x7F), max_size=20),
)
PARAGRAPHS = st.lists(PARAGRAPH, max_size=8)
OPTIONS = st.fixed_dictionaries(
    {"nfkc": st.booleans(), "keep_lines": st.booleans(), "keep_typography": st.booleans()}
)


def trail(doc: Document) -> tuple[list[str], list[dict[str, object]]]:
    return doc.paragraphs, [e.to_dict() for e in doc.edits]


def both(paragraphs: list[str], options: dict[str, bool]) -> tuple[object, object]:
    doc = Document(id="d", paragraphs=list(paragraphs))
    (new,) = normalize([copy.deepcopy(doc)], **options)
    (old,) = ref.normalize_step([copy.deepcopy(doc)], **options)
    return trail(new), trail(old)


@settings(max_examples=3000, deadline=None)
@given(PARAGRAPHS, OPTIONS)
@example(["caf\u00e9", "\u0301x"], {"nfkc": False, "keep_lines": False, "keep_typography": False})
@example(["=", "\u0338\u2019"], {"nfkc": False, "keep_lines": False, "keep_typography": False})
@example(["\u1100", "\u1161\u2019"], {"nfkc": True, "keep_lines": False, "keep_typography": False})
@example(["", "\u2019"], {"nfkc": False, "keep_lines": False, "keep_typography": False})
@example(["a ", "\u2019"], {"nfkc": False, "keep_lines": False, "keep_typography": True})
def test_step_is_the_per_paragraph_loop(paragraphs: list[str], options: dict[str, bool]) -> None:
    new, old = both(paragraphs, options)
    assert new == old


@settings(max_examples=2000, deadline=None)
@given(PARAGRAPHS, st.booleans(), st.booleans())
def test_document_path_answers_only_for_typography(
    paragraphs: list[str], nfkc: bool, keep_typography: bool
) -> None:
    """When it answers, its changes are _normalize's, each of kinds ("typography",) only."""
    changes = norm._typography_changes(paragraphs, nfkc, keep_typography)
    if changes is None:
        return
    expected = []
    for i, p in enumerate(paragraphs):
        new, kinds = norm._normalize(p, nfkc, False, keep_typography)
        assert new and kinds in ((), ("typography",))
        assert norm._normalize(p, nfkc, True, keep_typography) == (new, kinds)
        if new != p:
            expected.append((i, new))
    assert changes == expected


def test_document_path_takes_the_usual_documents() -> None:
    """The path is not vacuous: plain documents with curly quotes go through it."""
    paragraphs = ["Plain ASCII text.", "It\u2019s \u201cquoted\u201d \u2014 caf\u00e9.", "More."]
    assert norm._typography_changes(paragraphs, False, False) == [
        (1, 'It\'s "quoted" - caf\u00e9.')
    ]
    assert norm._typography_changes(paragraphs, False, True) == []
    for trouble in ("two  spaces", " lead", "trail ", "", "tab\there", "line\nbreak", "nb\u00a0sp"):
        assert norm._typography_changes([*paragraphs, trouble], False, False) is None
    assert norm._typography_changes(["e\u0301\u2019"], False, False) is None  # not NFC


def _old_replace(replacer: norm._Replacer, s: str) -> str:
    """_Replacer.__call__ as it was before the document path (frozen)."""
    if "\r\n" in s:
        s = s.replace("\r\n", "\n")
    for char, value in [(c, replacer.mapping[c]) for c in norm._FREQUENT if c in replacer.mapping]:
        if char in s:
            s = s.replace(char, value)
    if replacer.pattern.search(s) is None:
        return s
    return replacer.pattern.sub(lambda m: replacer.mapping[m.group()], s)


@settings(max_examples=2000, deadline=None)
@given(PARAGRAPH, st.sampled_from(["_clean", "_fold"]))
def test_replacers_are_the_old_ones(text: str, name: str) -> None:
    replacer = getattr(norm, name)
    assert replacer(text) == _old_replace(replacer, text)


@settings(max_examples=2000, deadline=None)
@given(PARAGRAPH)
def test_typography_is_the_old_one_after_clean(text: str) -> None:
    """_normalize runs typography after _clean, so it never meets "\\r"."""
    text = norm._clean(text)
    assert norm._typography(text) == _old_replace(norm._typography, text)


def test_every_key_of_clean_is_unprintable() -> None:
    """What lets isprintable stand for a search of _CLEAN's keys (and of "\\n" and "\\t")."""
    assert not any(key.isprintable() for key in norm._CLEAN)
    assert not "\n".isprintable() and not "\t".isprintable()


@pytest.mark.parametrize("form", ["NFC", "NFKC"])
def test_joints_never_compose(form: str) -> None:
    """A space or "\\n" between two paragraphs leaves each one's normal form as it was."""
    marks = [chr(c) for c in range(0x110000) if unicodedata.combining(chr(c))]
    for joint in (" ", "\n"):
        for mark in marks:
            assert unicodedata.normalize(form, joint + mark) == joint + unicodedata.normalize(
                form, mark
            )
            assert unicodedata.normalize(form, "e" + joint + mark)[:2] == "e" + joint
    assert unicodedata.normalize(form, "\u1100\n\u1161") == "\u1100\n\u1161"  # Hangul jamo


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Document]:
    out = tmp_path_factory.mktemp("corpus")
    args = ["--docs", "400", "--seed", "7", "--out", str(out), "-q"]
    assert load_script("gen_corpus").main(args) == 0
    with open(Path(out) / "corpus.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    return [Document.from_text(str(i), t) for i, t in enumerate(texts)]


def test_corpus_same_as_the_loop(corpus: list[Document]) -> None:
    options = {"nfkc": False, "keep_lines": False, "keep_typography": False}
    taken = 0
    for doc in corpus:
        new, old = both(doc.paragraphs, options)
        assert new == old
        taken += norm._typography_changes(doc.paragraphs, False, False) is not None
    assert taken > len(corpus) // 2


def _typography_changes_before(
    paragraphs: list[str], nfkc: bool, keep_typography: bool
) -> list[tuple[int, str]] | None:
    """_typography_changes as it was when it checked the text before typography (frozen)."""
    plain = " ".join(filter(str.isascii, paragraphs))
    if (
        "  " in plain
        or plain[:1] == " "
        or plain[-1:] == " "
        or plain.encode("ascii").translate(None, norm._PRINTABLE)
        or not all(paragraphs)
    ):
        return None
    rest = [p for p in paragraphs if not p.isascii()]
    if not rest:
        return []
    text = "\n".join(rest)
    flat = text.replace("\n", " ")
    if (
        text.count("\n") != len(rest) - 1
        or "  " in flat
        or flat[0] == " "
        or flat[-1] == " "
        or not flat.isprintable()
        or not unicodedata.is_normalized("NFKC" if nfkc else "NFC", flat)
    ):
        return None
    fixed = text if keep_typography else norm._typography(text)
    if fixed == text:
        return []
    where = [i for i, p in enumerate(paragraphs) if not p.isascii()]
    return [
        (i, new) for i, old, new in zip(where, rest, fixed.split("\n"), strict=True) if new != old
    ]


@settings(max_examples=600, deadline=None)
@given(PARAGRAPHS, st.booleans(), st.booleans())
@example(["e\u0301\u2019"], False, False)  # not NFC, with typography to make
@example(["\u2019\u0301", "x\u2026"], True, False)  # NFKC folds the ellipsis
@example(["\u2019\u0338", "=\u2014"], False, False)  # a mark that composes after "="
@example(["\u2019\x7f"], False, False)  # DEL: ASCII after typography, unprintable
@example(["\u2019\u00a0x"], False, False)  # a Unicode space left after typography
@example(["x", "\u2019  x"], False, False)  # a double space beside typography
def test_checks_after_typography_answer_as_before(
    paragraphs: list[str], nfkc: bool, keep_typography: bool
) -> None:
    assert norm._typography_changes(
        paragraphs, nfkc, keep_typography
    ) == _typography_changes_before(paragraphs, nfkc, keep_typography)


def test_typography_is_inert_to_the_document_checks() -> None:
    """The facts (see the note above _typography_changes) that let it check the fixed text."""
    components: set[str] = set()  # every character of a canonical decomposition
    for c in range(0x110000):
        decomposition = unicodedata.decomposition(chr(c))
        if decomposition and not decomposition.startswith("<"):
            components.update(chr(int(part, 16)) for part in decomposition.split())
    chars = set(norm._TYPOGRAPHY) | set("".join(norm._TYPOGRAPHY.values()))
    for char in chars:
        decomposition = unicodedata.decomposition(char)
        assert char.isprintable() and char not in " \n", repr(char)
        assert unicodedata.combining(char) == 0, repr(char)
        assert not decomposition or decomposition.startswith("<"), repr(char)
        assert char not in components, repr(char)
        assert not 0x1100 <= ord(char) <= 0x11FF and not 0xAC00 <= ord(char) <= 0xD7A3
    assert all(norm._TYPOGRAPHY.values())
    # and the one key NFKC folds is why the NFKC path checks the text before typography
    assert not unicodedata.is_normalized("NFKC", "\u2026")
