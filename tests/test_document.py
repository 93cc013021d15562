"""The document model: paragraphs, edits recorded only on real changes, compact rewrites."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleanup.document import Document, Edit, EditError, RunNotes
from cleanup.io.writers import jsonl_line
from cleanup.shortform import short_change as _short_change


def test_rewrite_records_only_real_changes() -> None:
    doc = Document.from_text("a", "one\n\ntwo")
    doc.rewrite(0, "one", "s", "r")
    assert doc.edits == []
    doc.rewrite(1, "TWO", "s", "r", "why")
    assert [(e.rule, e.before, e.after, e.index, e.kind) for e in doc.edits] == [
        ("r", "two", "TWO", 1, "rewrite")
    ]


def test_remove_keeps_full_text_in_the_trail() -> None:
    doc = Document.from_text("a", "keep\n\n" + "long removed paragraph " * 20)
    doc.remove([1], "s", "r", "why", {1: {"duplicate_of": 0}})
    assert doc.paragraphs == ["keep"]
    (edit,) = doc.edits
    assert (
        edit.removed
        and edit.before.startswith("long removed")
        and edit.detail == {"duplicate_of": 0}
    )


def test_full_audit_detail_keeps_whole_paragraphs() -> None:
    doc = Document.from_text("a", "x" * 300 + "’")
    doc.notes.audit_full = True
    doc.rewrite(0, "x" * 300 + "'", "s", "r")
    assert doc.edits[0].before == "x" * 300 + "’"


def _reference(old: str, new: str, width: int = 40) -> tuple[str, str]:
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[-1 - end] == new[-1 - end]:
        end += 1
    lo = max(0, start - width // 4)
    old_mid, new_mid = old[lo : len(old) - end], new[lo : len(new) - end]
    if len(old_mid) > width * 2:
        old_mid = old_mid[: width * 2] + "…"
    if len(new_mid) > width * 2:
        new_mid = new_mid[: width * 2] + "…"
    return old_mid, new_mid


@given(st.text(alphabet="ab ’'", max_size=120), st.text(alphabet="ab ’'", max_size=120))
def test_short_change_matches_the_character_loop(old: str, new: str) -> None:
    assert _short_change(old, new) == _reference(old, new)


@given(
    st.text(alphabet="ab ’", max_size=300),
    st.lists(st.tuples(st.integers(0, 300), st.sampled_from(["", "'", "xy"])), max_size=4),
    st.integers(1, 60),
)
def test_short_change_of_long_texts_with_scattered_edits(
    old: str, changes: list[tuple[int, str]], width: int
) -> None:
    """Long paragraphs with a few replacements far apart, as normalize makes them."""
    new = old
    for at, text in changes:
        new = new[:at] + text + new[at + 1 :]
    assert _short_change(old, new, width) == _reference(old, new, width)


# --- the Edit constructors and Document.apply ----------------------------------------------


def test_document_fields_are_the_document_and_notes_sit_beside() -> None:
    names = [f.name for f in dataclasses.fields(Document)]
    assert not {"audit_full", "bytes_in", "encoded", "before", "part"} & set(names)
    assert names[-1] == "notes" and [f.name for f in dataclasses.fields(RunNotes)] == [
        "audit_full",
        "bytes_in",
        "encoded",
        "before",
        "part",
    ]
    doc = Document.from_text("a", "One.\n\nTwo.")
    doc.notes.before, doc.notes.bytes_in = ["One."], 99
    assert jsonl_line(doc, "text", "id") == b'{"id": "a", "text": "One.\\n\\nTwo."}\n'
    assert Document.from_text("b", "x").notes is not doc.notes  # one per document


def test_named_constructors_give_the_audit_fields() -> None:
    cases = [
        (Edit.removal("s", "r", 2, "gone", "why", {"duplicate_of": 0}), "remove", 2, "gone", ""),
        (Edit.move("s", "r", 1, "moved", "why", {"meta_key": "k"}), "move", 1, "moved", ""),
        (Edit.rewrite("s", "r", 3, "old", "new", "why"), "rewrite", 3, "old", "new"),
        (Edit.whole("s", "r", "<html> 9 bytes", "2 paragraphs", "why"), "rewrite", -1, "<", "2"),
        (Edit.drop("s", "r", "why"), "drop", -1, "", ""),
    ]
    for edit, kind, index, before, after in cases:
        out = edit.to_dict()
        assert list(out)[:7] == ["step", "rule", "before", "after", "why", "index", "kind"]
        assert (out["kind"], out["index"], out["why"]) == (kind, index, "why")
        assert out["before"].startswith(before) and out["after"].startswith(after)
        assert pickle.loads(pickle.dumps(edit)) == edit
    assert cases[0][0] == Edit("s", "r", "gone", "", "why", 2, {"duplicate_of": 0}, "remove")


def test_apply_indices_are_positions_before_the_call_and_order_is_kept() -> None:
    doc = Document(id="d", paragraphs=["a", "b", "c", "d", "e"])
    doc.apply(
        [
            Edit.rewrite("s", "up", 1, "b", "B"),
            Edit.removal("s", "x", 4, "e"),
            Edit.move("s", "m", 2, "c", detail={"meta_key": "k"}),
            Edit.removal("s", "x", 0, "a"),
        ]
    )
    assert doc.paragraphs == ["B", "d"]
    assert [(e.kind, e.index, e.before) for e in doc.edits] == [
        ("rewrite", 1, "b"),
        ("remove", 4, "e"),
        ("move", 2, "c"),
        ("remove", 0, "a"),
    ]


def test_apply_rejects_edits_that_do_not_fit() -> None:
    doc = Document(id="d", paragraphs=["a", "b"])
    for bad in (
        [Edit.removal("s", "x", 0, "not a")],  # made for other text
        [Edit.removal("s", "x", 2, "c")],  # no such paragraph
        [Edit.removal("s", "x", 0, "a"), Edit.removal("s", "x", 0, "a")],  # twice
        [Edit.drop("s", "x", "why")],  # a document verdict: Document.drop
    ):
        with pytest.raises(EditError):
            Document(id="d", paragraphs=["a", "b"]).apply(bad)
    assert doc.paragraphs == ["a", "b"] and doc.edits == []


def test_apply_records_rewrites_short_unless_full() -> None:
    old, new = "x" * 300 + "’", "x" * 300 + "'"
    short = Document(id="d", paragraphs=[old])
    short.apply([Edit.rewrite("s", "r", 0, old, new)])
    assert short.paragraphs == [new] and len(short.edits[0].before) < 40
    noted = Document(id="d", paragraphs=[old])
    noted.notes.audit_full = True
    noted.apply([Edit.rewrite("s", "r", 0, old, new)])
    assert (noted.edits[0].before, noted.edits[0].after) == (old, new)
    by_call = Document(id="d", paragraphs=[old])
    by_call.apply([Edit.rewrite("s", "r", 0, old, new)], full=True)
    assert by_call.edits[0].after == new
    same = Document(id="d", paragraphs=["a"])
    same.apply([Edit.rewrite("s", "r", 0, "a", "a")])
    assert same.edits == []


@given(
    st.lists(st.text(alphabet="ab ", min_size=1, max_size=5), min_size=1, max_size=12),
    st.data(),
)
def test_remove_is_apply_and_undoing_restores(paragraphs: list[str], data: st.DataObject) -> None:
    indices = data.draw(st.sets(st.integers(0, len(paragraphs) - 1)))
    details = {i: {"n": i} for i in indices if i % 2}
    a = Document(id="d", paragraphs=list(paragraphs))
    a.remove(indices, "s", "r", "why", details)
    b = Document(id="d", paragraphs=list(paragraphs))
    b.apply(
        Edit.removal("s", "r", i, paragraphs[i], "why", details.get(i)) for i in sorted(indices)
    )
    assert (a.paragraphs, a.edits) == (b.paragraphs, b.edits)
    restored = list(a.paragraphs)
    for edit in sorted(a.edits, key=lambda e: e.index):  # one batch: insert back from the lowest
        restored.insert(edit.index, edit.before)
    assert restored == paragraphs
