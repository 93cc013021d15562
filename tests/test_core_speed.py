"""The per-document fast paths of normalize and fix-encoding change nothing (issue #18).

Today's steps skip paragraphs that cannot change without calling the per-paragraph
functions; tests/core_reference.py keeps the loops that called them for every paragraph.
Both must give the same paragraphs and the same audit trail, on generated text full of what
the shortcuts test for (ASCII controls, "&", spaces at the ends, mojibake) and on a
generated news corpus.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import core_reference as ref
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from script_loader import load_script

from cleanup.document import Document
from cleanup.steps import encoding
from cleanup.steps.encoding import fix_encoding
from cleanup.steps.normalize import normalize

Step = Callable[[Iterable[Document]], Iterator[Document]]

PIECES = st.sampled_from(
    [
        "plain words",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "\x00",
        "\x1b[1m",
        "\x7f",
        "&amp;",
        "&eacute;",
        "& co",
        "&#8217;",
        "<b>",
        "’",
        "“q”",
        "—",
        "\u00a0",
        "\u200b",
        "\u00ad",
        "Ã©",
        "â€™",
        "â€”",
        "Ã\u00a0",
        "\x9d",
        "ï¬",
        "é",
        "e\u0301",
        "ﬁ",
        "…",
        "\u2028",
    ]
)
PARAGRAPH = st.one_of(st.lists(PIECES, max_size=12).map("".join), st.text(max_size=30))
PARAGRAPHS = st.lists(PARAGRAPH, max_size=8)


def trail(docs: Iterable[Document]) -> list[tuple[list[str], list[dict[str, object]]]]:
    return [(d.paragraphs, [e.to_dict() for e in d.edits]) for d in docs]


def same(new: Step, old: Step, docs: list[Document]) -> None:
    assert trail(new(copy.deepcopy(docs))) == trail(old(copy.deepcopy(docs)))


def documents(paragraphs: list[str], full: bool = False) -> list[Document]:
    doc = Document(id="d", paragraphs=list(paragraphs))
    doc.notes.audit_full = full
    return [doc]


@settings(max_examples=400, deadline=None)
@given(PARAGRAPHS, st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_normalize_is_the_earlier_loop(
    paragraphs: list[str], nfkc: bool, keep_lines: bool, keep_typography: bool, full: bool
) -> None:
    options = {"nfkc": nfkc, "keep_lines": keep_lines, "keep_typography": keep_typography}

    def new(docs: Iterable[Document]) -> Iterator[Document]:
        return normalize(docs, **options)

    def old(docs: Iterable[Document]) -> Iterator[Document]:
        return ref.normalize_step(docs, **options)

    same(new, old, documents(paragraphs, full))


@settings(max_examples=400, deadline=None)
@given(PARAGRAPHS, st.booleans())
def test_fix_encoding_is_the_earlier_loop(paragraphs: list[str], full: bool) -> None:
    same(fix_encoding, ref.fix_encoding_step, documents(paragraphs, full))


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(max_codepoint=0x7F), max_size=40))
def test_ascii_shortcut_agrees_with_the_regex(text: str) -> None:
    assert encoding.NEEDS_FTFY is not None and encoding._ASCII_CLEAR
    regex = encoding.NEEDS_FTFY.search(text) is not None
    shortcut = encoding._hits([text], encoding.NEEDS_FTFY) == [0]
    assert shortcut == regex


def test_the_ascii_anchors_are_the_regexs() -> None:
    """The shortcut's ASCII anchors are the ASCII characters of the regex's first class."""
    assert encoding.NEEDS_FTFY is not None
    first = encoding.NEEDS_FTFY.pattern[: encoding.NEEDS_FTFY.pattern.index("(?:")]
    anchors = {chr(c) for c in range(0x80) if re.fullmatch(first, chr(c))}
    assert anchors == set(encoding._ASCII_ANCHORS) and "&" in anchors


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Document]:
    out = tmp_path_factory.mktemp("corpus")
    args = ["--docs", "600", "--seed", "18", "--out", str(out), "-q"]
    assert load_script("gen_corpus").main(args) == 0
    with open(Path(out) / "corpus.jsonl", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    return [Document.from_text(str(i), t) for i, t in enumerate(texts)]


def test_same_on_a_generated_corpus(corpus: list[Document]) -> None:
    assert sum(1 for _ in fix_encoding(copy.deepcopy(corpus)) if _.edits)  # mojibake to fix
    same(fix_encoding, ref.fix_encoding_step, corpus)
    same(normalize, ref.normalize_step, corpus)
