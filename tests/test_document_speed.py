"""The document model's fast paths against the code before them: rewrites recorded in short form
when first read (every way of reading one gives the edit that shortening at once gave, whatever
is read first), rewrite_many, split_paragraphs."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_document import _reference

from cleanup.document import Document, Edit, EditError
from cleanup.paragraphing import _BLANK_LINE, split_paragraphs

TEXT = st.text(alphabet="ab ’'\U0001f600\ud800", max_size=200)


def _applied(old: str, new: str) -> tuple[Document, Edit]:
    """Apply one rewrite of a two-paragraph document; return it and the caller's edit."""
    doc = Document(id="d", paragraphs=["keep", old])
    edit = Edit.rewrite("s", "r", 1, old, new, "why")
    doc.apply([edit])
    return doc, edit


def _expected(old: str, new: str) -> Edit:
    """The edit the trail held before rewrites were shortened on read (the character loop)."""
    before, after = _reference(old, new)
    return Edit("s", "r", before, after, "why", 1, None, "rewrite")


# Each way of observing a recorded edit, as (name, what it gives of the edit).
READS: list[tuple[str, Callable[[Edit], Any]]] = [
    ("before", lambda e: (e.before, e.after)),
    ("after", lambda e: (e.after, e.before)[::-1]),
    ("to_dict", lambda e: e.to_dict()),
    ("repr", repr),
    ("eq", lambda e: e == _EXPECTED[0]),
    ("reverse eq", lambda e: _EXPECTED[0] == e),
    ("pickle", lambda e: pickle.loads(pickle.dumps(e))),
    ("deepcopy", copy.deepcopy),
    ("copy", copy.copy),
    ("asdict", dataclasses.asdict),
    ("replace", lambda e: dataclasses.replace(e, why="other")),
]
_EXPECTED: list[Edit] = []


@settings(max_examples=60)
@given(TEXT, TEXT)
def test_every_read_gives_the_edit_shortened_at_once(old: str, new: str) -> None:
    if old == new:
        return
    expected = _expected(old, new)
    _EXPECTED[:] = [expected]
    for name, read in READS:
        doc, edit = _applied(old, new)
        assert doc.paragraphs == ["keep", new]
        got = read(doc.edits[0])
        want = read(expected)
        assert got == want, name
        assert type(doc.edits[0]) is Edit, name  # read once: a plain Edit from then on
        assert doc.edits == [expected], name
        assert (edit.before, edit.after) == (old, new)  # the caller's edit stays whole


def test_assigning_a_text_shortens_the_recorded_ones_first() -> None:
    old, new = "x" * 300 + "’ end", "x" * 300 + "' end"
    expected = _expected(old, new)
    doc, _ = _applied(old, new)
    doc.edits[0].before = "B"
    assert (doc.edits[0].before, doc.edits[0].after) == ("B", expected.after)
    doc, _ = _applied(old, new)
    doc.edits[0].after = "A"
    assert (doc.edits[0].before, doc.edits[0].after) == (expected.before, "A")
    doc, _ = _applied(old, new)
    both = dataclasses.replace(doc.edits[0], before="B", after="A")
    assert (both.before, both.after, type(both)) == ("B", "A", Edit)


def test_full_detail_and_other_edits_are_recorded_as_given() -> None:
    old, new = "x" * 300 + "’", "x" * 300 + "'"
    doc = Document(id="d", paragraphs=[old, "gone"])
    rewrite, removal = Edit.rewrite("s", "r", 0, old, new), Edit.removal("s", "r", 1, "gone")
    doc.apply([rewrite, removal], full=True)
    assert doc.edits[0] is rewrite and doc.edits[1] is removal
    assert type(doc.edits[0]) is Edit and doc.edits[0].before == old
    doc = Document(id="d", paragraphs=[old, "gone"])
    doc.apply([Edit.rewrite("s", "r", 0, old, new), removal])
    assert doc.edits[1] is removal  # a removal keeps its whole text, as before
    assert doc.edits[0].before == _reference(old, new)[0]


def test_a_pickled_document_carries_the_short_form() -> None:
    old, new = "x" * 300 + "’", "x" * 300 + "'"
    doc, _ = _applied(old, new)
    data = pickle.dumps(doc)
    assert old.encode() not in data  # the whole text before does not travel
    assert pickle.loads(data).edits == [_expected(old, new)]


@settings(max_examples=60)
@given(
    st.lists(st.text(alphabet="ab ’", max_size=60), min_size=1, max_size=8),
    st.data(),
    st.booleans(),
)
def test_rewrite_many_is_apply_of_rewrites(
    paragraphs: list[str], data: st.DataObject, full: bool
) -> None:
    indices = data.draw(st.lists(st.integers(0, len(paragraphs) - 1), unique=True))
    news = [data.draw(st.sampled_from([paragraphs[i], paragraphs[i] + "x", "’"])) for i in indices]
    changes = list(zip(indices, news, strict=True))
    a = Document(id="d", paragraphs=list(paragraphs))
    a.notes.audit_full = full
    a.rewrite_many(changes, "s", "r", "why")
    b = Document(id="d", paragraphs=list(paragraphs))
    b.notes.audit_full = full
    b.apply([Edit.rewrite("s", "r", i, paragraphs[i], new, "why") for i, new in changes])
    assert a.paragraphs == b.paragraphs
    assert [type(e) for e in a.edits] == [type(e) for e in b.edits]  # whole until read alike
    assert a.edits == b.edits


def test_rewrite_many_rejects_a_paragraph_the_document_lacks() -> None:
    doc = Document(id="d", paragraphs=["a"])
    for i in (1, -1):
        with pytest.raises(EditError):
            doc.rewrite_many([(i, "b")], "s", "r")
    assert doc.paragraphs == ["a"] and doc.edits == []


def _split_reference(text: str) -> tuple[list[str], str]:
    """split_paragraphs before it looked for "\r" first (frozen copy)."""
    text = text.replace("\r\n", "\n")
    if _BLANK_LINE.search(text):
        blocks = _BLANK_LINE.split(text)
        return [b.strip("\n") for b in blocks if b.strip()], "\n\n"
    return [line for line in text.split("\n") if line.strip()], "\n"


@settings(max_examples=200)
@given(st.text(alphabet="a \r\n\t\u00a0\u2019", max_size=40))
def test_split_paragraphs_is_the_code_before(text: str) -> None:
    """Where every "\r" ends a line as "\r\n" (a lone "\r" is a line end of its own now:
    tests/test_paragraphing.py)."""
    text = text.replace("\r", "\r\n")
    assert split_paragraphs(text) == _split_reference(text)


@settings(max_examples=100)
@given(st.integers(0, 40), st.data())
def test_apply_removes_as_the_comprehension_did(count: int, data: st.DataObject) -> None:
    paragraphs = [f"p{i}" for i in range(count)]
    gone = data.draw(st.sets(st.integers(0, count - 1))) if count else set()
    doc = Document(id="d", paragraphs=paragraphs)
    doc.apply([Edit.removal("s", "r", i, paragraphs[i]) for i in sorted(gone)])
    assert doc.paragraphs == [p for i, p in enumerate(paragraphs) if i not in gone]
    assert paragraphs == [f"p{i}" for i in range(count)]  # a new list: the old one is as it was


@settings(max_examples=100)
@given(
    st.lists(st.text(alphabet="ab ", max_size=5), min_size=1, max_size=40),
    st.data(),
)
def test_remove_many_is_apply_of_removals(paragraphs: list[str], data: st.DataObject) -> None:
    # Up to 40 paragraphs: both ways _without removes (a few deletions, or a comprehension).
    picked = data.draw(st.lists(st.integers(0, len(paragraphs) - 1), unique=True))
    removals = {
        i: (f"r{i % 3}", f"why {i % 2}", {"n": i} if i % 2 else None) for i in picked
    }  # in drawn order: the edits still come in order of index
    a = Document(id="d", paragraphs=list(paragraphs), edits=[Edit.drop("s", "x")])
    a.remove_many("s", removals)
    b = Document(id="d", paragraphs=list(paragraphs), edits=[Edit.drop("s", "x")])
    b.apply(
        Edit.removal("s", rule, i, paragraphs[i], why, detail)
        for i, (rule, why, detail) in sorted(removals.items())
    )
    assert a.paragraphs == b.paragraphs
    assert a.edits == b.edits
    assert [e.detail for e in a.edits] == [e.detail for e in b.edits]


def test_remove_many_rejects_a_paragraph_the_document_lacks() -> None:
    for i in (2, -1):
        doc = Document(id="d", paragraphs=["a", "b"])
        with pytest.raises(EditError):
            doc.remove_many("s", {0: ("r", "", None), i: ("r", "", None)})
        assert doc.paragraphs == ["a", "b"] and doc.edits == []


def _reference_values(obj: Any) -> tuple[Any, ...]:
    """The slot values a document's __reduce__ pickled before one attrgetter per class."""
    return tuple(getattr(obj, name) for name in obj.__slots__)


def test_pickling_reads_the_slots_it_always_read() -> None:
    doc, _ = _applied("x" * 30 + "’", "x" * 30 + "'")
    doc.fields["n"] = 1
    doc.meta["title"] = "t"
    doc.notes.bytes_in = 7
    doc.drop("dedup", "near", "why", {"similarity": 0.9})
    for obj in (doc, doc.notes, doc.dropped, *doc.edits):
        reduced = obj.__reduce__()
        assert reduced == (type(obj), _reference_values(obj))
    assert pickle.loads(pickle.dumps(doc)) == doc
