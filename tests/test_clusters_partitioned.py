"""Partitioned LSH search: the same pairs, comparisons and clusters as the one-process search."""

from __future__ import annotations

import functools
import importlib.util
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import rowfile
from cleanup.dedup.bandfile import BandFile
from cleanup.dedup.clusters import CanonicalRank, candidate_pairs, cluster, local_edges
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.partitions import (
    PartitionedEdges,
    RankFile,
    entry_pairs,
    partition_entries,
    partition_of,
    partitioned_edges,
    split_entries,
)
from cleanup.dedup.rowfile import RowFile


@st.composite
def lsh_inputs(draw: st.DrawFn) -> dict[str, object]:
    """Draw keys from a small alphabet (big buckets, keys shared across bands) and the rest."""
    n = draw(st.integers(0, 40))
    bands = draw(st.integers(1, 6))
    alphabet = draw(st.sampled_from([2, 4, 1000, 2**64 - 1]))
    keys = draw(st.lists(st.integers(0, alphabet - 1), min_size=n * bands, max_size=n * bands))
    sigs = draw(st.lists(st.integers(0, 2), min_size=n * 8, max_size=n * 8))
    ranks = draw(st.lists(st.integers(0, 10), min_size=n, max_size=n))  # ties on purpose
    fixed = draw(st.none() | st.lists(st.booleans(), min_size=n, max_size=n))
    group = draw(st.none() | st.lists(st.integers(-1, 2), min_size=n, max_size=n))
    return {
        "keys": np.array(keys, dtype=np.uint64).reshape(n, bands),
        "sigs": np.array(sigs, dtype=np.uint32).reshape(n, 8),
        "rank": np.array(ranks, dtype=np.int64),
        "fixed": None if fixed is None else np.array(fixed, dtype=bool),
        "group": None if group is None else np.array(group, dtype=np.int64),
        "threshold": draw(st.sampled_from([0.25, 0.5, 0.75, 1.0])),
    }


@settings(max_examples=300, deadline=None)
@given(lsh_inputs(), st.integers(1, 8))
def test_partitions_give_the_local_pairs_and_clusters(case: dict, parts: int) -> None:
    keys, sigs, rank = case["keys"], case["sigs"], case["rank"]
    fixed, group, threshold = case["fixed"], case["group"], case["threshold"]
    n = keys.shape[0]
    entries = split_entries(keys, parts)
    assert sum(len(items) for items, _, _ in entries) == keys.size
    buckets = [set(zip(b.tolist(), k.tolist(), strict=True)) for _, b, k in entries]
    for p in range(parts):
        assert not buckets[p] & set().union(*buckets[p + 1 :])  # no bucket in two partitions
    for p, (items, bands, bkeys) in enumerate(entries):
        assert (partition_of(keys, parts)[items, bands] == p).all()
        assert (keys[items, bands] == bkeys).all()
        one = partition_entries(keys, parts, p)
        assert all(np.array_equal(a, b) for a, b in zip(one, entries[p], strict=True))
    found = [entry_pairs(*e, rank, n) for e in entries]
    union = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    assert union.tolist() == candidate_pairs(keys, rank).tolist()

    for t in (threshold, 0.0):  # checked on signatures, and candidates only (all pass)
        expected_pairs, expected_ok = local_edges(keys, sigs, t, rank, fixed, group)
        pairs, ok = partitioned_edges(keys, sigs, t, rank, fixed, group, parts)
        assert pairs.tolist() == expected_pairs.tolist()
        assert ok.tolist() == expected_ok.tolist()

    local = cluster(keys, sigs, threshold, rank, fixed, group)
    hook = functools.partial(partitioned_edges, parts=parts)
    split = cluster(keys, sigs, threshold, rank, fixed, group, find_edges=hook)
    assert split.labels.tolist() == local.labels.tolist()
    assert (split.comparisons, split.joined) == (local.comparisons, local.joined)


def test_partitions_spread_entries_and_duplicate_pairs_are_counted_once() -> None:
    rng = np.random.default_rng(3)
    sigs = rng.integers(0, 3, size=(2000, 32), dtype=np.uint32)
    sigs[1000:] = sigs[:1000]  # every item has an exact copy: the pair is found in all 8 bands
    keys = band_keys(sigs, 8, 4)
    sizes = [len(items) for items, _, _ in split_entries(keys, 4)]
    assert min(sizes) > keys.size // 8  # a real spread, not one partition holding everything
    rank = np.arange(2000)
    local = cluster(keys, sigs, 0.9, rank)
    split = cluster(keys, sigs, 0.9, rank, find_edges=functools.partial(partitioned_edges, parts=4))
    assert local.comparisons >= 1000  # the copies, each counted once though found in 8 bands
    assert (split.comparisons, split.joined) == (local.comparisons, local.joined)
    assert split.labels.tolist() == local.labels.tolist()


def _generated_corpus(tmp_path: Path, docs: int) -> Path:
    script = Path(__file__).parent.parent / "scripts" / "gen_corpus.py"
    out = tmp_path / "corpus"
    cmd = [
        sys.executable,
        str(script),
        "--docs",
        str(docs),
        "--seed",
        "11",
        "--out",
        str(out),
        "-q",
    ]
    subprocess.run(cmd, check=True)
    return out / "corpus.jsonl"


def test_ray_partitioned_dedup_is_byte_identical_with_near_paragraphs(tmp_path: Path) -> None:
    if importlib.util.find_spec("ray") is None:  # importing Ray here would beat the engine's env
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")
    from cleanup.pipeline import DEFAULT_STEPS
    from cleanup.runner import RunOptions, execute

    calls = [(n, {"cross_doc_paragraphs": "near"} if n == "dedup" else {}) for n in DEFAULT_STEPS]
    src = _generated_corpus(tmp_path, 400)
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    local_run = execute(RunOptions(inputs=[str(src)], output=str(local), workers=1), calls)
    ray_run = execute(
        RunOptions(inputs=[str(src)], output=str(ray_out), workers=2, engine="ray"), calls
    )
    assert local.read_bytes() == ray_out.read_bytes()
    assert len(local.read_bytes().splitlines()) < 400  # the corpus has duplicates to drop
    assert "dedup lsh tasks" not in local_run.counters
    assert ray_run.counters["dedup lsh tasks"] >= 4  # documents and paragraphs, 2+ tasks each
    for name in ("dedup comparisons", "dedup paragraph comparisons"):
        assert ray_run.counters[name] == local_run.counters[name] > 0
    import ray

    assert not ray.is_initialized()  # the run's local Ray was shut down


class _Recorder:
    """An executor that runs partitions here and keeps what they were shared."""

    remote = False
    scratch = None

    def __init__(self) -> None:
        self.shared: list[tuple[object, ...]] = []

    def partitions(self) -> int:
        return 3

    def map_partitions(self, fn, shared, parts):  # type: ignore[no-untyped-def]
        self.shared.append(tuple(shared))
        return [fn(*shared, parts, part) for part in range(parts)]


def test_signatures_are_shared_with_partitions_only_when_they_check_pairs() -> None:
    rng = np.random.default_rng(3)
    sigs = rng.integers(0, 50, size=(40, 256)).astype(np.uint32)
    sigs[20:] = sigs[:20]  # copies: buckets to pair
    keys = band_keys(sigs, 85, 3)
    rank = np.arange(40)
    recorder = _Recorder()
    find = PartitionedEdges(recorder, 3)  # type: ignore[arg-type]
    candidates, _ = find(keys, sigs, 0.0, rank)
    checked, passed = find(keys, sigs, 0.5, rank)
    assert len(recorder.shared[0][1]) == 0  # threshold 0: the caller verifies, no signatures
    assert recorder.shared[1][1] is sigs
    assert len(candidates) >= 20 and passed.sum() >= 20
    assert candidates.tolist() == checked.tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=30), st.integers(0, 4))
def test_the_canonical_rank_orders_state_entries_then_fingerprints_then_input(
    fps: list[int], m: int
) -> None:
    rank = CanonicalRank(np.array(fps, dtype=np.uint64), m).array()
    n = len(fps)
    want = sorted(range(n + m), key=lambda i: (0, i, 0) if i >= n else (1, fps[i], i))
    assert np.argsort(rank).tolist() == want
    assert sorted(rank.tolist()) == list(range(n + m))
    on_disk = RowFile(1, np.uint64)  # the fingerprints re-signing leaves in a file
    on_disk.append(np.array(fps, dtype=np.uint64))
    assert CanonicalRank(on_disk, m).array().tolist() == rank.tolist()
    on_disk.close()


def test_partition_tasks_make_the_rank_from_fingerprints_in_scratch(tmp_path: Path) -> None:
    """With the band keys in scratch, the tasks get the fingerprints' file, not a rank."""
    rng = np.random.default_rng(5)
    sigs = rng.integers(0, 4, size=(300, 32), dtype=np.uint32)
    sigs[150:] = sigs[:150]
    keys = band_keys(sigs, 8, 4)
    fps = rng.integers(0, 50, size=300).astype(np.uint64)  # ties: input order decides
    want, _ = local_edges(keys, sigs, 0.0, CanonicalRank(fps, 0).array())
    on_disk = RowFile(1, np.uint64)
    on_disk.append(fps)
    recorder = _Recorder()
    recorder.scratch = str(tmp_path)  # type: ignore[assignment]
    bands = BandFile(300, 8, str(tmp_path))
    bands.put(0, keys)
    with patch.object(rowfile, "BLOCK_ROWS", 7):  # the fingerprints' file copied in blocks
        for held in (fps, on_disk):
            rank = CanonicalRank(held, 0)
            found, _ = PartitionedEdges(recorder, 3)(bands, sigs, 0.0, rank)  # type: ignore[arg-type]
            assert found.tolist() == want.tolist()
    for shared in recorder.shared:
        assert isinstance(shared[2], RankFile)  # the rank itself never went to the tasks
    bands.close()
    on_disk.close()
    assert not list(tmp_path.iterdir())  # the fingerprints' file was removed after the search
