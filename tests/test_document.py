"""The document model: paragraphs, edits recorded only on real changes, compact rewrites."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cleanup.document import Document, _short_change


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
    doc.audit_full = True
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
