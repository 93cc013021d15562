"""Exact verification of candidates (issue 14, item 2): shingle sets, not signature estimates."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
from dedup_pairs import blocks, dropped_of, jaccard, pairs_near, run_docs
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import verify
from cleanup.dedup.verify import ShingleSets
from cleanup.document import Document
from cleanup.pipeline import Context, Pipeline

# 16 permutations estimate a Jaccard of 0.3 at >= 0.4 about one time in four.
NOISY = {"num_perm": 16, "doc_rows": 1}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(st.integers(0, 40), max_size=25), min_size=2, max_size=8), st.data())
def test_overlaps_and_jaccard_are_exact(sets: list[set[int]], data: st.DataObject) -> None:
    parts = [
        (
            np.arange(len(sets)),
            np.array([x for s in sets for x in sorted(s)], dtype=np.uint32),
            np.concatenate(([0], np.cumsum([len(s) for s in sets]))).astype(np.int64),
        )
    ]
    table = ShingleSets.build(len(sets), parts)
    a = np.array(data.draw(st.lists(st.integers(0, len(sets) - 1), min_size=1, max_size=10)))
    b = np.array([data.draw(st.integers(0, len(sets) - 1)) for _ in a])
    got = table.jaccard(a, b)
    for k, (i, j) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        union = len(sets[i] | sets[j])
        assert got[k] == (len(sets[i] & sets[j]) / union if union else 0.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sets(st.integers(0, 40), max_size=25), min_size=2, max_size=12),
    st.integers(1, 4),
    st.data(),
)
def test_sets_spilled_to_disk_measure_what_sets_in_memory_measure(
    sets: list[set[int]], groups: int, data: st.DataObject
) -> None:
    """Sets past the memory budget go to a file; every pair measures the same (parts, gaps)."""
    with_set = sorted(data.draw(st.sets(st.integers(0, len(sets) - 1), min_size=1)))
    parts = []
    for chunk in np.array_split(np.array(with_set), groups):
        if len(chunk):
            chosen = [sets[i] for i in chunk.tolist()]
            parts.append(
                (
                    chunk,
                    np.array([x for s in chosen for x in sorted(s)], dtype=np.uint32),
                    np.concatenate(([0], np.cumsum([len(s) for s in chosen]))).astype(np.int64),
                )
            )
    memory = ShingleSets.build(len(sets), parts)
    disk = ShingleSets.build(len(sets), parts, memory=0)
    assert disk.disk is not None and len(disk.values) == 0
    a = np.array(data.draw(st.lists(st.integers(0, len(sets) - 1), min_size=1, max_size=20)))
    b = np.array([data.draw(st.integers(0, len(sets) - 1)) for _ in a])
    assert np.array_equal(disk.sizes(a), memory.sizes(a))
    assert np.array_equal(disk.overlaps(a, b), memory.overlaps(a, b))
    for x, y in zip(disk.similarity(a, b), memory.similarity(a, b), strict=True):
        assert np.array_equal(x, y)
    disk.close()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sets(st.integers(0, 40), max_size=25), min_size=2, max_size=10),
    st.integers(1, 4),
    st.integers(1, 4),
    st.integers(0, 200),
    st.data(),
)
def test_pairs_measured_a_block_at_a_time_measure_what_one_block_measures(
    sets: list[set[int]], block: int, chunk: int, disk_bytes: int, data: st.DataObject
) -> None:
    """The per-pair temporaries are bounded by measuring PAIR_BLOCK pairs (and reading the sets
    of DISK_CHUNK pairs, DISK_BYTES of sets) at a time; every boundary gives the one-block
    result."""
    values = np.array([x for s in sets for x in sorted(s)], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(s) for s in sets]))).astype(np.int64)
    a = np.array(data.draw(st.lists(st.integers(0, len(sets) - 1), min_size=1, max_size=20)))
    b = np.array([data.draw(st.integers(0, len(sets) - 1)) for _ in a])
    for memory in (None, 0):  # in memory, and spilled to a file
        table = ShingleSets.build(len(sets), [(np.arange(len(sets)), values, offsets)], memory)
        whole = table.similarity(a, b)
        with (
            patch.object(verify, "PAIR_BLOCK", block),
            patch.object(verify, "DISK_CHUNK", chunk),
            patch.object(verify, "DISK_BYTES", disk_bytes),
        ):
            blocked, jac = table.similarity(a, b), table.jaccard(a, b)
        table.close()
        for x, y in zip(blocked, whole, strict=True):
            assert np.array_equal(x, y)
        assert np.array_equal(jac, whole[0])


def test_pairs_below_the_threshold_are_never_dropped_on_a_noisy_estimate() -> None:
    pairs = pairs_near(0.28, 40, seed=3)
    for a, b in pairs:
        assert not dropped_of(run_docs([a, b], **NOISY))


def test_pairs_above_the_threshold_are_dropped_with_their_exact_similarity() -> None:
    for a, b in pairs_near(0.45, 20, seed=4):
        drops = dropped_of(run_docs([a, b], **NOISY))
        assert len(drops) == 1
        ((_, sim),) = drops.values()
        assert sim == round(jaccard(a, b), 3)


def _near_paragraph_run(a: str, b: str, own: list[str]) -> list[Document]:
    """Dedup two documents sharing paragraphs a and b (each with its own text) in near mode."""
    docs = [
        Document(id="d0", paragraphs=[a, *own[:3]]),
        Document(id="d1", paragraphs=[*own[3:], b]),
    ]
    pipeline = Pipeline(steps=["dedup"], context=Context(), cross_doc_paragraphs="near", **NOISY)
    return list(pipeline.run(docs))


def test_near_paragraphs_across_documents_are_verified_on_their_shingles() -> None:
    # Paragraph pairs at exact 3-word-shingle Jaccard ~0.6-0.7 stay under --cross-doc-threshold
    # 0.75; 16 permutations estimate some of them at >= 0.75.
    removed = 0
    own = blocks(10, 6, 400)  # each document's own text: the documents are not near copies
    for a, b in pairs_near(0.72, 30, seed=6, width=0.04):
        assert jaccard(a, b, 3) < 0.75  # 3-word shingles (--paragraph-shingle-size)
        out = _near_paragraph_run(a, b, own)
        assert all(d.dropped is None for d in out)
        removed += sum(1 for d in out for e in d.edits if e.rule == "cross-document-paragraph")
    assert removed == 0


def test_near_paragraph_copies_are_removed_with_their_exact_similarity() -> None:
    own = blocks(9, 6, 400)  # each document's own text: the documents are not near copies
    for a, b in pairs_near(0.9, 10, seed=8):  # 3-word shingles (--paragraph-shingle-size): ~0.85
        out = _near_paragraph_run(a, b, own)
        edits = [e for d in out for e in d.edits if e.rule == "cross-document-paragraph"]
        assert len(edits) == 1 and edits[0].detail["duplicate_of"] == "d0"
        assert edits[0].detail["similarity"] == round(jaccard(a, b, 3), 3) >= 0.75
