"""The faster candidate searches of dedup's decisions find exactly what the earlier ones found.

The earlier code is frozen in tests/decide_reference.py. Which pairs are candidates decides
which documents are compared, so the pairs (and their order) must agree exactly, on keys
with buckets of every size, ties in rank broken by position, and samples in long and short
posting lists.
"""

from __future__ import annotations

import decide_reference as ref
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.clusters import candidate_pairs
from cleanup.dedup.containment import _posting_pairs


@st.composite
def band_keys(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Keys of n items in a few bands, drawn from a small pool so buckets form, and a rank."""
    n = draw(st.integers(0, 40))
    bands = draw(st.integers(1, 5))
    pool = draw(st.lists(st.integers(0, (1 << 64) - 1), min_size=1, max_size=12))
    keys = draw(st.lists(st.sampled_from(pool), min_size=n * bands, max_size=n * bands))
    rank = draw(st.permutations(list(range(n))))
    return np.array(keys, dtype=np.uint64).reshape(n, bands), np.array(rank, dtype=np.int64)


@settings(max_examples=300, deadline=None)
@given(band_keys(), st.integers(1, 5))
def test_candidate_pairs_are_the_earlier_ones(
    drawn: tuple[np.ndarray, np.ndarray], heads: int
) -> None:
    keys, rank = drawn
    got = candidate_pairs(keys, rank, heads)
    want = ref.candidate_pairs(keys, rank, heads)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 8, 16, 1 << 31, (1 << 32) - 8]), st.integers(0, 29)),
        max_size=120,
    )
)
def test_posting_pairs_are_the_earlier_ones(rows: list[tuple[int, int]]) -> None:
    samples = np.array([s for s, _ in rows], dtype=np.uint32)
    doc = np.array([d for _, d in rows], dtype=np.int64)
    got_all, want_all = _posting_pairs(samples, doc, 30), ref.posting_pairs(samples, doc, 30)
    for got, want in zip(got_all, want_all, strict=True):
        assert got.dtype == want.dtype and got.tolist() == want.tolist()
