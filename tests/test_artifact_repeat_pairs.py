"""The pairs of neighbours that may repeat, found for a batch of documents at once with numpy
(scan._may_repeat_pairs), are those the per-document Python loop they replaced found."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_artifact_onepass import RULE_SET, SHAPE, documents, view_start

from cleanup.steps.artifacts.scan import _END, _END_KEEP, Scan, Shared

_ALNUM = [chr(c).isalnum() if c < 0x80 else False for c in range(256)]


def _old_may_repeat(scan: Scan) -> list[int]:
    """The per-document computation before the batch one (base 129f23d), verbatim."""
    sizes = scan._sizes
    close = [
        i
        for i, a, b in zip(itertools.count(1), sizes, sizes[1:])
        if (a - b <= 8 + a // 4 if a > b else b - a <= 8 + b // 4)
    ]
    view, at = scan._view, scan._offset
    loud, data, starts = view.loud, view.data.lower(), view.starts  # View lowercased it then

    def start(i: int, size: int) -> bytes:
        return view_start(view, i, size)

    found = []
    for i in close:
        j = at + i
        if j in loud or j - 1 in loud:
            found.append(i)
            continue
        a, b = data[starts[j - 1]], data[starts[j]]
        if a != b and _ALNUM[a] and _ALNUM[b]:
            continue
        if start(j - 1, _END)[:_END_KEEP] == start(j, _END)[:_END_KEEP]:
            found.append(i)
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(documents(), st.just([]), st.just(["x"])), min_size=1, max_size=5))
def test_batch_pairs_are_the_per_document_pairs(docs: list[list[str]]) -> None:
    flat = [p for doc in docs for p in doc]
    shared = Shared.of(flat, RULE_SET)
    for doc in docs:
        scan = Scan(doc, RULE_SET, SHAPE, True, shared)
        assert scan._may_repeat() == _old_may_repeat(scan), doc
        shared.offset += len(doc)


def test_no_pairs_without_repeats_or_neighbours() -> None:
    assert Shared.of(["a b", "a b"], RULE_SET, repeats=False).may_repeat == []
    assert Shared.of(["a b"], RULE_SET).may_repeat == []
    assert Shared.of(["a b", "a b"], RULE_SET).may_repeat == [1]
    assert Shared.of(["Ab c", "aB c", "ab d"], RULE_SET).may_repeat == [1]  # case set aside


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("aaaaB11 ,.-'\u2019")), min_size=1, max_size=45), st.data())
def test_pairs_that_start_alike_up_to_a_change(text: str, data: st.DataObject) -> None:
    """Neighbours that differ at one place (before, at or past the first letters and digits
    the starts keep, inside or past the first characters they look at) are candidates
    exactly when the per-document loop said so."""
    at = data.draw(st.integers(0, len(text)))
    other = text[:at] + data.draw(st.sampled_from(["a", "b", "1", ",", "", "zz"])) + text[at:]
    docs = [[text, other], ["x" + text, other, text], [text, other.swapcase()]]
    flat = [p for doc in docs for p in doc]
    shared = Shared.of(flat, RULE_SET)
    for doc in docs:
        scan = Scan(doc, RULE_SET, SHAPE, True, shared)
        assert scan._may_repeat() == _old_may_repeat(scan), doc
        shared.offset += len(doc)


def test_starts_keep_twelve_letters_and_digits() -> None:
    a, b = "ab-cd ef,gh ij kl one", "abcdefghijkl two!"
    assert Shared.of([a, b], RULE_SET).may_repeat == [1]
    assert Shared.of([a, "abcdefghijkm two!"], RULE_SET).may_repeat == []
