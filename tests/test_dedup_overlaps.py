"""In-document near-copy search on documents whose paragraphs share many shingles.

find_duplicates counts shared shingles per pair of paragraphs in numpy (dedup/overlaps.py)
and bounds that work per document (PAIR_BUDGET). Below the budget it must find exactly what
the earlier per-pair Python code found (tests/paragraphs_reference.py); above it, exactly
what that code finds with the lowered posting cap.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import paragraphs_reference as ref_par
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import overlaps, paragraphs
from cleanup.dedup.settings import ParagraphSettings

VOCAB = [
    "the",
    "of",
    "and",
    "city",
    "river",
    "court",
    "water",
    "plan",
    "year",
    "team",
    "game",
    "price",
    "land",
    "party",
    "state",
]


def phrase_page(rnd: random.Random, count: int, words: int) -> list[str]:
    """Paragraphs made of a few phrases from a small vocabulary, joined, cut and rotated:
    nearly every paragraph shares shingles with many others (a hostile page's shape)."""
    phrases = [
        " ".join(rnd.choice(VOCAB[:words]) for _ in range(rnd.randint(2, 12)))
        for _ in range(rnd.randint(2, 10))
    ]
    out: list[str] = []
    for _ in range(count):
        roll = rnd.random()
        if roll < 0.35:
            out.append(rnd.choice(phrases))
        elif roll < 0.7:
            out.append(" ".join(rnd.sample(phrases, min(len(phrases), rnd.randint(1, 3)))))
        else:
            cut = rnd.choice(phrases).split()
            at = rnd.randint(0, len(cut))
            out.append(" ".join(cut[at:] + cut[:at]))
    return out


def compared(feat: paragraphs.ParagraphFeatures, s: ParagraphSettings) -> np.ndarray:
    """The paragraphs find_duplicates compares: long enough, and no exact repeat."""
    keep = (feat.fps != 0) & (feat.nwords >= s.min_words)
    keep[[d.index for d in paragraphs.exact_duplicates(feat.fps)]] = False
    return np.flatnonzero(keep)


def features(texts: list[str], s: ParagraphSettings) -> paragraphs.ParagraphFeatures:
    """Every paragraph's features, with its distinct shingles (as for a `near` document)."""
    batch = paragraphs.features_batch([texts], s)
    bounds = batch.shingle_offsets.tolist()
    sets = [np.unique(batch.shingles[a:z]) for a, z in itertools.pairwise(bounds)]
    return paragraphs.ParagraphFeatures(batch.paragraph_fps(), np.diff(batch.offsets), sets)


settings_strategy = st.builds(
    ParagraphSettings,
    threshold=st.sampled_from([0.3, 0.5, 0.8, 1.0]),
    shingle_size=st.integers(min_value=1, max_value=5),
    min_words=st.integers(min_value=0, max_value=8),
)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=2, max_value=120),
    st.integers(min_value=3, max_value=len(VOCAB)),
    settings_strategy,
)
def test_shared_shingle_pages_lose_the_copies_the_earlier_code_found(
    seed: int, count: int, words: int, s: ParagraphSettings
) -> None:
    texts = phrase_page(random.Random(seed), count, words)
    feat = features(texts, s)
    assert paragraphs.find_duplicates(feat, s) == ref_par.find_duplicates(feat, s)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=0, max_value=3000),
    settings_strategy,
)
def test_over_the_budget_the_search_is_the_full_one_with_a_lower_cap(
    seed: int, budget: int, s: ParagraphSettings
) -> None:
    texts = phrase_page(random.Random(seed), 80, 6)
    feat = features(texts, s)
    shingles = np.concatenate([feat.shingles[i] for i in compared(feat, s)] + [np.zeros(0)])
    cap = overlaps.posting_cap(np.unique(shingles, return_counts=True)[1], budget)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(overlaps, "PAIR_BUDGET", budget)
        got = paragraphs.find_duplicates(feat, s)
        mp.setattr(ref_par, "MAX_POSTING", cap or 1)
        assert got == ref_par.find_duplicates(feat, s)


def test_the_cap_is_the_largest_that_fits_the_budget() -> None:
    held_by = np.array([1, 2, 2, 3, 50, 51, 400])  # pair slots: 2, 2, 6, then 2450 at 50
    assert overlaps.posting_cap(held_by, 10) == 49  # 2 + 2 + 6 = 10 fits; 50 does not
    assert overlaps.posting_cap(held_by, 9) == 2  # only the two held by two fit
    assert overlaps.posting_cap(held_by, 3) is None  # not even those
    assert overlaps.posting_cap(held_by, 10**6) == overlaps.MAX_POSTING


def test_the_counted_pairs_stay_within_the_budget() -> None:
    texts = phrase_page(random.Random(3), 400, 5)
    s = ParagraphSettings()
    feat = features(texts, s)
    eligible = compared(feat, s)
    full = overlaps.shared_pairs(feat.shingles, eligible)
    assert full is not None
    slots = int(full.count.sum())  # each counted shingle held by k makes k * (k - 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(overlaps, "PAIR_BUDGET", slots // 3)
        bounded = overlaps.shared_pairs(feat.shingles, eligible)
    assert bounded is not None
    assert 0 < int(bounded.count.sum()) <= slots // 3
    assert set(bounded.shared.tolist()) < set(full.shared.tolist())


def test_pairs_count_each_shared_shingle_once_per_ordered_pair() -> None:
    sets = [
        np.array([1, 2, 3], np.uint32),
        np.array([2, 3, 4], np.uint32),
        np.array([3, 9], np.uint32),
        np.array([7], np.uint32),
    ]
    found = overlaps.shared_pairs(sets, np.arange(4))
    assert found is not None
    rows = list(zip(found.first.tolist(), found.other.tolist(), found.count.tolist(), strict=True))
    assert rows == [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 1), (2, 0, 1), (2, 1, 1)]
    assert found.of(1) == {0: 2, 2: 1}
    assert found.of(3) == {}
    assert found.counted(np.array([1, 2, 3, 9], np.uint32)).tolist() == [2, 3]
    assert overlaps.shared_pairs(sets[2:], np.arange(2)) is None  # nothing shared
