"""The document decisions held only for the documents a cluster touched decide exactly what the
dense arrays over every document decided (tests/dense_decide.py, the code they replaced)."""

from __future__ import annotations

import functools

import dense_decide
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import sparse
from cleanup.dedup.documents import Containment, decide_documents
from cleanup.dedup.keep import keep_priority
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.sparse import Sparse
from cleanup.dedup.store import StoredEntries

PERM = 16
LSH = (4, 4)
FIELDS = ("dropped", "winner", "similarity", "cluster_fp", "clustered", "contained")


def _corpus(seed: int, n: int, m: int) -> dict[str, object]:
    """Return decide_documents' arguments: near copies of a few bases, some stored ones."""
    rng = np.random.default_rng(seed)
    bases = rng.integers(0, 2**32, (3, PERM), dtype=np.uint64).astype(np.uint32)
    sigs = bases[rng.integers(0, 3, n + m)].copy()
    for row in sigs:  # each copy differs from its base in a few places
        k = rng.integers(0, PERM // 2)
        row[rng.choice(PERM, k, replace=False)] = rng.integers(0, 2**32, k, dtype=np.uint64)
    live, old = sigs[:n], sigs[n:]
    lengths = rng.integers(0, 5, n) * rng.integers(1, 40, n)  # some empty texts
    fps = rng.integers(0, 6, n).astype(np.uint64) + 100  # equal texts share a fingerprint
    stored = StoredEntries(
        np.arange(m, dtype=np.int64) + 1,
        [f"s{j}" for j in range(m)],
        [f"k{j}" for j in range(m)],
        rng.integers(0, 9, m).astype(np.uint64) + 500,
        rng.integers(1, 60, m).astype(np.int64),
        old,
    )
    group = np.where(rng.random(n) < 0.3, rng.integers(1, m + 1, n), -1) if m else None
    return {
        "ids": [f"d{i}" for i in range(n)],
        "sigs": live,
        "fps": fps,
        "lengths": lengths.astype(np.int64),
        "ident": fps ^ np.uint64(7),
        "in_state": rng.random(n) < 0.15,
        "group": group,
        "stored": stored,
        "lsh": LSH,
        "threshold": float(rng.choice([0.5, 0.7])),
        "mark": bool(rng.random() < 0.3),
    }


def _containment(seed: int, n: int) -> Containment:
    """Return random containment candidates with a fixed exact measure per pair."""
    rng = np.random.default_rng(seed + 1)
    jac, cont = rng.random((n, n)) ** 2, rng.random((n, n)) ** 0.5
    jac, cont = np.maximum(jac, jac.T), np.maximum(cont, cont.T)
    a, b = rng.integers(0, n, (2, rng.integers(0, 4 * n)))
    keep = a != b

    def exact(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return jac[x, y], cont[x, y]

    return Containment(a[keep], b[keep], exact, float(rng.choice([0.5, 0.8])))


@settings(max_examples=120, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 40),
    st.integers(0, 4),
    st.sampled_from(["none", "earliest", "first", "longest"]),
    st.booleans(),
)
def test_sparse_decisions_equal_the_dense_ones(
    seed: int, n: int, m: int, policy: str, contain: bool
) -> None:
    args = _corpus(seed, n, m)
    lengths = args["lengths"]
    dates = np.random.default_rng(seed + 2).choice([np.nan, 1.0, 2.0, 3.0], n)
    held = RowFile(1, np.float64)  # as the ledger keeps them: rows read for some documents
    held.append(dates)
    new_prio = None if policy == "none" else functools.partial(keep_priority, policy, lengths, held)
    old_prio = None if policy == "none" else dense_decide.keep_priority(policy, lengths, dates)
    c = _containment(seed, n) if contain else None
    sigs = args["sigs"]
    got = decide_documents(
        **args,  # type: ignore[arg-type]
        keys=band_keys(sigs, *LSH),  # type: ignore[arg-type]
        priority=new_prio,
        containment=c,
    )
    want = dense_decide.decide_documents(
        **args,  # type: ignore[arg-type]
        keys=band_keys(sigs, *LSH),  # type: ignore[arg-type]
        priority=old_prio,
        containment=c,
    )
    held.close()
    for name in FIELDS:
        have, expected = getattr(got, name).dense(), want[name]
        if name == "cluster_fp":  # named only for the documents in a cluster
            have, expected = have[want["clustered"]], expected[want["clustered"]]
        assert np.array_equal(have, expected), name


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 300),
    st.lists(st.integers(0, 299), unique=True),
    st.integers(1, 50),
    st.lists(st.integers(-10, 310), max_size=20),
)
def test_a_sparse_column_reads_as_its_dense_array(
    n: int, rows: list[int], window: int, asked: list[int]
) -> None:
    rows_a = np.array(sorted(r for r in rows if r < n), dtype=np.int64)
    values = rows_a * 3 + 1
    column = Sparse(n, rows_a, values, -1)
    dense = np.full(n, -1, dtype=np.int64)
    dense[rows_a] = values
    assert column.tolist() == dense.tolist() and len(column) == n
    assert column.count() == n  # no value is 0: every row counts
    inside = np.array([i for i in asked if 0 <= i < n], dtype=np.int64)
    assert column[inside].tolist() == dense[inside].tolist()
    old = sparse.WINDOW
    sparse.WINDOW = window
    try:
        fresh = Sparse(n, rows_a, values, -1)
        for i in [*inside.tolist(), *range(n)]:  # in order and at random: windows move
            assert fresh[i] == dense[i]
    finally:
        sparse.WINDOW = old
    for i in (n, -1):
        try:
            column[i]
        except IndexError:
            continue
        raise AssertionError(i)
