"""Candidate generation (issue 14, item 1): >= 98% of the pairs at the threshold, bounded work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from dedup_pairs import pairs_near
from helpers import invoke_run, one_line_error

from cleanup.dedup.clusters import candidate_pairs
from cleanup.dedup.lsh import BAND_RECALL, band_keys, recall_bands
from cleanup.dedup.minhash import MinHasher
from cleanup.dedup.settings import DedupSettings


def _found(pairs: list[tuple[str, str]], settings: DedupSettings) -> float:
    """Return the share of pairs that share at least one band under `settings`."""
    m = settings.minhash
    sigs = MinHasher(m.num_perm, m.seed, settings.documents.shingle_size).signatures(
        [t for pair in pairs for t in pair]
    )
    keys = band_keys(sigs, *settings.bands)
    return float((keys[0::2] == keys[1::2]).any(axis=1).mean())


def test_default_bands_find_pairs_just_above_the_threshold() -> None:
    # Exact Jaccard 0.40-0.45: 32 bands of 4 rows (128 permutations) found ~65% of these.
    pairs = pairs_near(0.40, 300, seed=5)
    assert _found(pairs, DedupSettings()) >= 0.98


def test_default_bands_follow_the_s_curve_at_the_threshold() -> None:
    s = DedupSettings()
    bands, rows = s.bands
    assert (s.minhash.num_perm, bands, rows) == (256, 85, 3)
    assert 1 - (1 - s.documents.threshold**rows) ** bands >= BAND_RECALL


def test_bands_and_rows_can_be_overridden() -> None:
    assert DedupSettings.from_options(doc_rows=4).bands == (64, 4)
    assert DedupSettings.from_options(doc_bands=50).bands == (50, 5)
    assert DedupSettings.from_options(doc_bands=20, doc_rows=5).bands == (20, 5)
    assert recall_bands(0.4, 128) == (64, 2)  # fewer permutations need 2-row bands


def test_bands_that_overflow_the_signature_are_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "one two three"}\n')
    result = invoke_run(src, "-o", tmp_path / "out.jsonl", "--doc-bands", "100", "--doc-rows", "3")
    line = one_line_error(result, 2)
    assert "--doc-bands 100" in line and "--num-perm is 256" in line


def test_a_crowded_bucket_pairs_members_with_more_than_its_first() -> None:
    # Item 0 heads the bucket (a chance match); 1 and 2 are the real pair.
    keys = np.array([[9], [9], [9]], dtype=np.uint64)
    pairs = candidate_pairs(keys, np.array([0, 1, 2]))
    assert 1 * 3 + 2 in pairs.tolist()


def test_an_older_state_keeps_working_with_its_settings() -> None:
    old = DedupSettings.from_options(num_perm=128, doc_bands=32, doc_rows=4)
    recorded = {  # what a state made with the defaults before issue 14 records
        "doc-shingle-size": 2,
        "num-perm": 128,
        "minhash-seed": 1,
        "doc-threshold": 0.4,
        "bands": 32,
        "rows": 4,
        "tokenizer": 1,
    }
    assert old.state_settings() == recorded
    assert DedupSettings().state_settings() != recorded
