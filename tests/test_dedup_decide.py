"""Corpus dedup's decisions, called directly with a few arrays (no Pipeline, no spool)."""

from __future__ import annotations

import dataclasses
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import boilerkeys, slices
from cleanup.dedup.boilerkeys import BoilerKeys
from cleanup.dedup.decide import (
    Boilerplate,
    Verdicts,
    count_distinct,
    decide_boilerplate,
    exact_paragraph_owners,
    near_paragraph_owners,
)
from cleanup.dedup.documents import DocumentDecision, decide_documents
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.spool import Verdict
from cleanup.dedup.store import StoredEntries

PERM = 16
LSH = (4, 4)


def _sig(seed: int, agree_with: np.ndarray | None = None, agree: int = 0) -> np.ndarray:
    sig = np.random.default_rng(seed).integers(0, 2**32, PERM, dtype=np.uint64)
    sig = sig.astype(np.uint32)
    if agree_with is not None:
        sig[:agree] = agree_with[:agree]
    return sig


def _decide(sigs: np.ndarray, lengths: list[int], **kw: object) -> DocumentDecision:
    n = len(sigs)
    args: dict[str, object] = {
        "ids": [f"d{i}" for i in range(n)],
        "sigs": sigs,
        "keys": band_keys(sigs, *LSH),
        "fps": np.arange(n, dtype=np.uint64) + 100,
        "lengths": np.array(lengths, dtype=np.int64),
        "ident": np.arange(n, dtype=np.uint64) + 100,
        "in_state": np.zeros(n, bool),
        "group": np.full(n, -1, np.int64),
        "stored": StoredEntries.empty(PERM),
        "lsh": LSH,
        "threshold": 0.5,
        "mark": False,
    }
    args.update(kw)
    return decide_documents(**args)  # type: ignore[arg-type]


def test_the_longest_copy_stays_and_the_others_are_dropped_with_their_similarity() -> None:
    a = _sig(1)
    sigs = np.stack([a, a.copy(), _sig(2), _sig(3, a, 12)])
    d = _decide(sigs, [10, 30, 10, 10])
    assert d.winner.tolist() == [1, -1, -1, 1]
    assert d.dropped.tolist() == [True, False, False, True]
    assert d.similarity[0] == 1.0 and d.similarity[3] == pytest.approx(12 / 16)
    assert d.clustered.tolist() == [True, True, False, True]
    assert d.cluster_fp[0] == d.cluster_fp[3] == 101  # the kept copy's fingerprint
    assert d.comparisons is not None and d.comparisons >= 2


def test_mark_keeps_every_copy_but_names_the_winner() -> None:
    a = _sig(1)
    d = _decide(np.stack([a, a.copy()]), [10, 10], mark=True)
    assert d.dropped.tolist() == [False, False]
    assert d.winner.tolist() == [-1, 0]  # equally complete: the first stays


def test_published_text_is_never_a_duplicate_and_empty_texts_never_match() -> None:
    a = _sig(1)
    d = _decide(np.stack([a, a.copy(), a.copy()]), [10, 50, 0], in_state=np.array([1, 0, 0], bool))
    assert d.winner.tolist() == [-1, 0, -1]  # a published copy beats a longer new one


def test_a_document_is_not_compared_with_its_own_state_entry() -> None:
    a = _sig(1)
    stored = StoredEntries(
        np.array([7], np.int64), ["old"], ["old"], np.array([5], np.uint64),
        np.array([99], np.int64), a[None, :].copy(),
    )  # fmt: skip
    own = _decide(a[None, :].copy(), [10], stored=stored, group=np.array([7], np.int64))
    other = _decide(a[None, :].copy(), [10], stored=stored)
    assert own.winner.tolist() == [-1]
    assert other.winner.tolist() == [1] and other.ids[1] == "old"


def test_no_documents_is_an_empty_decision_without_a_search() -> None:
    d = _decide(np.zeros((0, PERM), np.uint32), [])
    assert d.comparisons is None and len(d.winner) == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.comparisons = 1  # type: ignore[misc]


def _table(per_doc: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array([k for doc in per_doc for k in doc], dtype=np.uint64)
    offsets = np.concatenate(([0], np.cumsum([len(d) for d in per_doc]))).astype(np.int64)
    return keys, offsets


def test_count_distinct_counts_each_text_once_and_skips_empty_keys() -> None:
    keys, offsets = _table([[5, 0], [5, 6], [5, 6], [6]])
    fps = np.array([1, 2, 2, 3], np.uint64)  # documents 1 and 2 are one text
    uniq, counts = count_distinct(keys, offsets[1:], fps, np.ones(4, bool))
    assert dict(zip(uniq.tolist(), counts.tolist(), strict=True)) == {5: 2, 6: 2}


def test_boilerplate_needs_min_docs_distinct_texts_and_adds_earlier_runs() -> None:
    keys, offsets = _table([[5], [5], [5], [9]])
    fps = np.array([1, 2, 3, 4], np.uint64)
    seen = np.zeros(4, bool)
    assert decide_boilerplate(keys, offsets[1:], fps, seen, 3).totals == {5: 3}
    assert decide_boilerplate(keys, offsets[1:], fps, seen, 4).totals == {}
    assert decide_boilerplate(keys, offsets[1:], fps, seen, 0).totals == {}  # off

    def earlier(uniq: np.ndarray) -> np.ndarray:
        return np.where(uniq == 9, 3, 0).astype(np.int64)

    seen = np.array([True, False, False, False])  # document 0 was counted by an earlier run
    got = decide_boilerplate(keys, offsets[1:], fps, seen, 3, earlier)
    assert got.totals == {9: 4}  # 5: 0 earlier + 2 new texts
    assert got.hits(np.array([1, 9, 5], np.uint64)) == {1: 9}


def test_exact_owner_is_the_first_kept_document_and_duplicates_own_nothing() -> None:
    fps = [np.array([11, 12], np.uint64), np.array([11], np.uint64), np.array([12, 11], np.uint64)]
    words = [np.array([9, 9], np.int32), np.array([9], np.int32), np.array([9, 9], np.int32)]
    owners = exact_paragraph_owners(fps, words, np.array([-1, -1, -1]), 8)
    assert owners == {1: {0: (0, 1.0)}, 2: {0: (0, 1.0), 1: (0, 1.0)}}
    assert exact_paragraph_owners(fps, words, np.array([5, -1, -1]), 8) == {2: {1: (1, 1.0)}}
    assert exact_paragraph_owners(fps, words, np.array([-1, -1, -1]), 10) == {}  # too short


def test_near_owner_is_the_earliest_document_with_rounded_similarity() -> None:
    a = _sig(1)
    sigs = np.stack([_sig(3, a, 14), a, _sig(2)])
    doc = np.array([2, 0, 1], np.int64)
    pos = np.array([4, 1, 0], np.int64)
    owners, comparisons = near_paragraph_owners(sigs, doc, pos, np.array([-1, -1, -1]), 0.5)
    assert owners == {2: {4: (0, round(14 / 16, 3))}}
    assert comparisons is not None and comparisons >= 1
    only_one = np.array([3, -1, 3])  # documents 0 and 2 are duplicates: one paragraph left
    assert near_paragraph_owners(sigs, doc, pos, only_one, 0.5) == ({}, None)


def _verdict_of(
    i: int,
    site: str,
    keys: list[int],
    boiler: Boilerplate,
    decision: DocumentDecision,
    owners: dict[int, dict[int, tuple[int, float]]],
    settings: DedupSettings,
) -> Verdict:
    """The verdict about live document i alone (a batch of one), whose kept paragraphs have
    these boilerplate keys."""
    made = Verdicts.of(boiler, decision, owners, settings).batch(
        i, np.array([0]), np.array(keys, np.uint64), np.array([len(keys)], np.int64), lambda _: site
    )
    return made.verdicts()[0]


def test_verdict_names_the_rules_and_mark_turns_a_drop_into_meta() -> None:
    a = _sig(1)
    decision = _decide(np.stack([a, a.copy()]), [10, 5])
    boiler = Boilerplate({77: 12})
    settings = DedupSettings()
    v = _verdict_of(1, "site.example", [77], boiler, decision, {1: {2: (0, 1.0)}}, settings)
    assert v.removals[0][0] == "site-boilerplate"
    assert v.removals[0][2] == {"site": "site.example", "documents": 12}
    assert v.removals[2][0] == "cross-document-paragraph"
    assert v.drop is not None and v.drop[0] == "near-duplicate-document"
    assert v.drop[2]["duplicate_of"] == "d0"
    marked = _verdict_of(1, "s", [], Boilerplate({}), decision, {}, DedupSettings(mark=True))
    assert marked.drop is None and marked.meta is not None
    assert marked.meta["duplicate_of"] == "d0"


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.lists(st.sampled_from([0, 1, 2, 2**63, 2**64 - 1]))),
        max_size=12,
    ),
    st.integers(1, 3),
    st.data(),
)
def test_count_distinct_is_the_brute_force_count(docs, at_least, data) -> None:  # type: ignore[no-untyped-def]
    """Per key: the distinct texts among chosen documents holding it (key 0: never counted)."""
    fps = np.array([fp for fp, _ in docs], dtype=np.uint64)
    sizes = [len(k) for _, k in docs]
    keys = np.array([k for _, ks in docs for k in ks], dtype=np.uint64)
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    mask = np.array([data.draw(st.booleans()) for _ in docs], dtype=bool)
    texts: dict[int, set[int]] = {}
    for i, (fp, ks) in enumerate(docs):
        for k in ks:
            if mask[i] and k != 0:
                texts.setdefault(k, set()).add(fp)
    expect = sorted((k, len(t)) for k, t in texts.items() if len(t) >= at_least)
    uniq, counts = count_distinct(keys, offsets[1:], fps, mask, 16, at_least)
    assert list(zip(uniq.tolist(), counts.tolist(), strict=True)) == expect
    # The same keys in their file, read in blocks of 3, in any number of slices.
    on_disk = BoilerKeys()
    cut = data.draw(st.integers(0, len(docs)))
    for part in (docs[:cut], docs[cut:]):
        on_disk.append(
            np.array([k for _, ks in part for k in ks], dtype=np.uint64),
            np.array([len(ks) for _, ks in part], dtype=np.int64),
        )
    assert on_disk.offsets.tolist() == offsets.tolist()
    parts = data.draw(st.sampled_from([1, 2, 5, 16]))
    with mock.patch.object(boilerkeys, "KEY_BLOCK", 3):
        uniq, counts = count_distinct(on_disk, offsets[1:], fps, mask, parts, at_least)
    assert list(zip(uniq.tolist(), counts.tolist(), strict=True)) == expect
    # More slices than asked for when the keys are many (PART_KEYS keys a slice), both ways.
    with (
        mock.patch.object(boilerkeys, "KEY_BLOCK", 2),
        mock.patch.object(slices, "PART_KEYS", data.draw(st.integers(1, 4))),
    ):
        for held in (keys, on_disk):
            uniq, counts = count_distinct(held, offsets[1:], fps, mask, 1, at_least)
            assert list(zip(uniq.tolist(), counts.tolist(), strict=True)) == expect
    order = data.draw(st.permutations(range(len(docs))))
    with mock.patch.object(boilerkeys, "DOC_BLOCK", 2):
        for i in order:
            assert on_disk.of(i).tolist() == docs[i][1]
    on_disk.close()
