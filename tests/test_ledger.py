"""The read pass's ledger: per-batch numbers go into growing buffers and come out joined."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.jobs import BatchSummary
from cleanup.dedup.ledger import Ledger


def _summary(n: int, seed: int, dates: bool) -> BatchSummary:
    rng = np.random.default_rng(seed)
    per_doc = rng.integers(0, 4, n)  # boilerplate keys per document, none included
    keys = rng.integers(1, 1 << 62, int(per_doc.sum()), dtype=np.uint64)
    return BatchSummary(
        docs=[],
        count=n,
        live=np.ones(n, dtype=bool),
        ids=[f"d{seed}-{k}" for k in range(n)],
        explicit=[bool(x) for x in rng.integers(0, 2, n)],
        sites=["example.org"] * n,
        joins=True,
        sigs=None,
        # uint64 values above 2**63 and lengths as int32: the buffers keep the ledger's types
        fps=rng.integers(0, 1 << 64, n, dtype=np.uint64, endpoint=False),
        lengths=rng.integers(0, 5000, n).astype(np.int32),
        boiler_keys=keys,
        boiler_sizes=per_doc.astype(np.int64),
        tokens=(np.zeros(0, np.int64), np.zeros(0, np.uint64)),
        dates=rng.uniform(0, 2e9, n) if dates else None,
        samples=(rng.integers(0, 1 << 32, 3 * n, dtype=np.uint32), np.full(n, 3, np.int64)),
    )


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=8), st.booleans())
def test_joined_numbers_are_the_batches_in_order(sizes: list[int], dates: bool) -> None:
    ledger = Ledger()
    batches = [_summary(n, seed, dates) for seed, n in enumerate(sizes)]
    try:
        for b in batches:
            ledger.record(b)
        sigs, fps, lengths = ledger.take_arrays(16)
        live = [b for b in batches if b.count]
        want_fps = np.concatenate([b.fps for b in live]) if live else np.zeros(0, np.uint64)
        assert fps.dtype == np.uint64 and fps.tolist() == want_fps.tolist()
        assert lengths.dtype == np.int64
        assert lengths.tolist() == [int(x) for b in live for x in b.lengths]
        assert len(sigs) == 0 and list(ledger.fps) == []  # handed over, not kept twice
        got_dates = ledger.dates
        if dates and live:
            assert got_dates is not None
            want = np.concatenate([b.dates for b in live if b.dates is not None])
            assert got_dates[np.arange(len(want))].reshape(-1).tolist() == want.tolist()
        else:
            assert got_dates is None
        _, counts = ledger.take_samples()
        assert counts.tolist() == [3] * sum(sizes) and list(ledger.sample_counts) == []
        assert [bool(x) for x in ledger.explicit] == [e for b in live for e in b.explicit]
        # Each document's boilerplate keys come back from the joined ends, batch after batch.
        docs_keys = [
            b.boiler_keys[int(e) - int(s) : int(e)]
            for b in live
            for s, e in zip(b.boiler_sizes, np.cumsum(b.boiler_sizes), strict=True)
        ]
        assert [ledger.boiler_of(i).tolist() for i in range(len(docs_keys))] == [
            k.tolist() for k in docs_keys
        ]
        assert ledger.boiler.offsets.tolist() == [0, *np.cumsum([len(k) for k in docs_keys])]
        assert [w.tolist() for _, w in ledger.live_in_batches()] == [list(range(n)) for n in sizes]
        assert [ledger.site(i) for i in range(sum(sizes))] == ["example.org"] * sum(sizes)
    finally:
        ledger.close()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a.org", "b.net", "", None]), max_size=20), max_size=6))
def test_live_positions_and_sites_come_back_batch_by_batch(batches: list[list[str | None]]) -> None:
    """Each batch's documents: a site for a live one, None for one dropped before dedup."""
    ledger = Ledger()
    try:
        for docs in batches:
            live = np.array([d is not None for d in docs], dtype=bool)
            sites = [d for d in docs if d is not None]
            summary = BatchSummary(
                docs=[], count=len(docs), live=live, ids=[f"x{k}" for k in range(len(sites))],
                explicit=[False] * len(sites), sites=sites, joins=True, sigs=None,
                fps=np.zeros(len(sites), np.uint64), lengths=np.zeros(len(sites), np.int64),
                boiler_keys=np.zeros(0, np.uint64), boiler_sizes=np.zeros(len(sites), np.int64),
                tokens=(np.zeros(0, np.int64), np.zeros(0, np.uint64)), dates=None, samples=None,
            )  # fmt: skip
            ledger.record(summary)
        got = [(count, where.tolist()) for count, where in ledger.live_in_batches()]
        assert got == [
            (len(docs), [k for k, d in enumerate(docs) if d is not None]) for docs in batches
        ]
        flat = [d for docs in batches for d in docs]
        live_sites = [d for d in flat if d is not None]
        assert [ledger.site(i) for i in range(len(live_sites))] == live_sites
    finally:
        ledger.close()
