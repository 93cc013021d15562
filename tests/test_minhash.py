"""Tests of tokens, shingles, batch MinHash (datasketch compatibility), LSH and clustering."""

from __future__ import annotations

import random
import re

import numpy as np
from datasketch import LeanMinHash, MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.clusters import (
    BUCKET_HEADS,
    candidate_pairs,
    cluster,
    greedy_clusters,
    local_edges,
)
from cleanup.dedup.lsh import band_keys, optimal_bands
from cleanup.dedup.minhash import MinHasher, jaccard
from cleanup.dedup.shingles import fingerprints, shingle_hashes, token_hashes, words
from cleanup.steps.normalize import fold

TEXTS = [
    "The quick brown fox jumps over the lazy dog’s back, [t]his time again.",
    "",
    "Trump’s",
    "the quick brown fox jumps over the lazy dogs back this time again and again",
    "Über café — naïve “quotes” and ‘single’ ones… plus 2016 numbers",
]


def test_signatures_equal_datasketch_given_the_same_hash_values() -> None:
    hasher = MinHasher(num_perm=128, seed=7, shingle_size=2)
    tokens, offsets = token_hashes(TEXTS)
    hashes, sh_offsets = shingle_hashes(tokens, offsets, 2)
    sigs = hasher.from_hashes(hashes, sh_offsets)
    for i in range(len(TEXTS)):
        m = MinHash(num_perm=128, seed=7, hashfunc=int)
        m.update_batch(hashes[sh_offsets[i] : sh_offsets[i + 1]].tolist())
        assert np.array_equal(m.hashvalues, sigs[i])


def test_lean_minhash_from_our_values_gives_our_jaccard() -> None:
    sigs = MinHasher(num_perm=256, seed=3, shingle_size=2).signatures([TEXTS[0], TEXTS[3]])
    a = LeanMinHash(seed=3, hashvalues=sigs[0], scheme="affine32")
    b = LeanMinHash(seed=3, hashvalues=sigs[1], scheme="affine32")
    assert a.jaccard(b) == jaccard(sigs[0], sigs[1])
    assert 0.3 < a.jaccard(b) < 0.95


def test_estimates_track_the_true_jaccard() -> None:
    rng = random.Random(1)
    vocab = [f"v{i}" for i in range(20000)]
    base = [rng.choice(vocab) for _ in range(600)]
    hasher = MinHasher(num_perm=256, seed=1, shingle_size=2)
    for keep in (0.9, 0.7, 0.5):
        other = [w if rng.random() < keep else rng.choice(vocab) for w in base]
        tokens, offsets = token_hashes([" ".join(base), " ".join(other)])
        hashes, off = shingle_hashes(tokens, offsets, 2)
        a, b = set(hashes[off[0] : off[1]].tolist()), set(hashes[off[1] : off[2]].tolist())
        true = len(a & b) / len(a | b)
        sigs = hasher.from_hashes(hashes, off)
        assert abs(jaccard(sigs[0], sigs[1]) - true) < 0.1


def test_tokens_fold_case_quotes_dashes_and_apostrophes() -> None:
    assert words("‘[T]his is Trump’s day’ – he said…«ok»") == [
        "this",
        "is",
        "trumps",
        "day",
        "he",
        "said",
        "ok",
    ]
    assert words("naïve café") == ["naïve", "café"]


ALPHABET = "abcXYZ019 .,;:!?\"'()-[]‘’“”–—\u00a0«»…éü\u200d\n"


def _reference_words(text: str) -> list[str]:
    """Tokenize the slow, obvious way: normalize.fold, drop apostrophes, split on non-words."""
    return re.findall(r"[^\W_]+", re.sub(r"['\[\]`]", "", fold(text)))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60))
def test_byte_tokenizer_agrees_with_normalize_fold(text: str) -> None:
    assert words(text) == _reference_words(text)


def test_token_offsets_and_fingerprints() -> None:
    tokens, offsets = token_hashes(["a b c", "", "x", "A, b; c!"])
    assert offsets.tolist() == [0, 3, 3, 4, 7]
    fps = fingerprints(tokens, offsets)
    assert fps[1] == 0 and fps[0] == fps[3] and fps[0] != fps[2]


def test_short_texts_get_one_shingle_and_shingles_stay_inside_a_text() -> None:
    tokens, offsets = token_hashes(["one two", "three four five six"])
    hashes, off = shingle_hashes(tokens, offsets, 3)
    assert off.tolist() == [0, 1, 3]
    alone, _ = shingle_hashes(*token_hashes(["three four five six"]), 3)
    assert hashes[1:].tolist() == alone.tolist()


def test_band_parameters_follow_the_threshold() -> None:
    low, high = optimal_bands(0.3, 128), optimal_bands(0.8, 128)
    assert low[0] * low[1] <= 128 and high[0] * high[1] <= 128
    assert low[1] < high[1]  # a low threshold needs short bands


def test_candidates_join_each_bucket_to_its_first_member() -> None:
    keys = np.array([[5], [5], [5], [7]], dtype=np.uint64)
    rank = np.array([2, 0, 1, 3])
    pairs = candidate_pairs(keys, rank, heads=1)
    assert sorted((int(p) // 4, int(p) % 4) for p in pairs) == [(1, 0), (1, 2)]
    pairs = candidate_pairs(keys, rank, heads=2)
    assert sorted((int(p) // 4, int(p) % 4) for p in pairs) == [(1, 0), (1, 2), (2, 0)]


def test_greedy_clusters_never_chain() -> None:
    # Edges 0-1, 2-3, 3-4, 5-4; walking 0..5: 3 is taken by 2, so 4 (only reached through
    # 3) becomes a representative and takes 5.
    labels, _ = greedy_clusters(
        6, np.array([0, 2, 3, 5]), np.array([1, 3, 4, 4]), np.ones(4), np.arange(6)
    )
    assert labels.tolist() == [0, 0, 2, 2, 4, 4]


def test_cluster_cost_is_linear_in_a_bucket() -> None:
    n = 5000
    sigs = np.zeros((n, 16), dtype=np.uint32)
    keys = band_keys(sigs, 4, 4)
    result = cluster(keys, sigs, 0.5, np.arange(n))
    # Every member with each of the bucket's first BUCKET_HEADS members: linear in n.
    assert result.comparisons == sum(n - 1 - h for h in range(BUCKET_HEADS))
    assert (result.labels == 0).all()


def test_fixed_items_are_not_compared_and_groups_never_join() -> None:
    sigs = np.zeros((3, 16), dtype=np.uint32)
    keys = band_keys(sigs, 4, 4)
    fixed = np.array([False, True, True])
    result = cluster(keys, sigs, 0.5, np.array([2, 0, 1]), fixed=fixed)
    assert result.comparisons == 2  # 0 against both stored entries; stored ones not paired
    group = np.array([7, 7, -1])
    pairs, _ = local_edges(keys, sigs, 0.5, np.array([0, 1, 2]), group=group)
    assert sorted((int(p) // 3, int(p) % 3) for p in pairs) == [(0, 2), (1, 2)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, (1 << 32) - 1), max_size=40), max_size=8),
    st.integers(1, 21),
    st.sampled_from([1 << 24, 5, 1]),
)
def test_block_signatures_equal_datasketch_row_by_row(
    rows: list[list[int]], num_perm: int, block_values: int
) -> None:
    """Permutations hashed a block at a time give datasketch's values for every row,
    whatever the block holds (one permutation, a few, or the last short block)."""
    import cleanup.dedup.minhash as minhash

    hashes = np.array([h for row in rows for h in row], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(row) for row in rows]))).astype(np.int64)
    saved = minhash.BLOCK_VALUES
    minhash.BLOCK_VALUES = block_values
    try:
        sigs = MinHasher(num_perm=num_perm, seed=5).from_hashes(hashes, offsets)
    finally:
        minhash.BLOCK_VALUES = saved
    assert sigs.shape == (len(rows), num_perm)
    for row, sig in zip(rows, sigs, strict=True):
        m = MinHash(num_perm=num_perm, seed=5, hashfunc=int)
        m.update_batch(row)
        assert np.array_equal(m.hashvalues, sig)
