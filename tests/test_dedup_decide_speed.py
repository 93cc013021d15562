"""The faster candidate searches of dedup's decisions find exactly what the earlier ones found.

The earlier code is frozen in tests/decide_reference.py. Which pairs are candidates decides
which documents are compared, so the pairs (and their order) must agree exactly, on keys
with buckets of every size, ties in rank broken by position, and samples in long and short
posting lists. The tokens signing takes back from a batch are the same, and the write
pass's verdicts made a batch at a time are the per-document ones, less those that change
nothing.
"""

from __future__ import annotations

import pickle
from typing import Any

import decide_reference as ref
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import lsh
from cleanup.dedup.bandfile import BandKeys
from cleanup.dedup.clusters import candidate_pairs, shared_keys
from cleanup.dedup.containment import _posting_pairs
from cleanup.dedup.decide import Boilerplate, Owners, Verdicts
from cleanup.dedup.documents import DocumentDecision
from cleanup.dedup.jobs import take_tokens
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.sparse import Sparse
from cleanup.dedup.spool import Verdict
from cleanup.document import Document


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


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 30),
    st.integers(1, 9),
    st.integers(1, 5),
    st.integers(0, 3),
    st.integers(0, 2**32 - 1),
)
def test_band_keys_are_the_earlier_ones(
    n: int, bands: int, rows: int, spare: int, seed: int
) -> None:
    # Signatures as wide as the bands need or wider, a few equal rows among random ones.
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, (n, bands * rows + spare), dtype=np.uint32)
    if n > 2:
        sigs[1] = sigs[0]
    got = lsh.band_keys(sigs, bands, rows)
    want = ref.band_keys(sigs, bands, rows)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.flags.c_contiguous and np.array_equal(got, want)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 15), st.integers(0, 7)), max_size=300),
    st.lists(st.integers(0, (1 << 48) - 1), min_size=8, max_size=8),
)
def test_shared_keys_are_the_earlier_ones(picks: list[tuple[int, int]], highs: list[int]) -> None:
    # Keys made of one of a few low parts and one of a few high parts: many share their
    # low bits (the slot the fast path counts) without being equal, some are equal.
    keys = np.array([(highs[h] << 16) | (low * 37) for low, h in picks], dtype=np.uint64)
    for col in (keys, np.stack([keys, keys[::-1]], axis=1)[:, 0]):  # also a strided column
        got = shared_keys(col)
        want = ref.shared_keys(col)
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


@st.composite
def batch_decisions(draw: st.DrawFn) -> tuple[Any, ...]:
    """A batch of live documents (at a random place in the run) with boilerplate keys, owners,
    winners and clusters drawn at random."""
    n = draw(st.integers(1, 14))
    first = draw(st.integers(0, n - 1))
    count = draw(st.integers(0, n - first))
    pool = [0, 1, 5, 2**63, 2**64 - 1]
    per_doc = draw(st.lists(st.lists(st.sampled_from(pool), max_size=5), min_size=n, max_size=n))
    boiler = Boilerplate({k: 10 + k % 7 for k in draw(st.sets(st.sampled_from(pool)))})
    winner = draw(st.lists(st.integers(-1, n - 1), min_size=n, max_size=n))
    clustered = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    contained = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    rows = np.arange(n)
    decision = DocumentDecision(
        dropped=Sparse(n, rows, np.array([w >= 0 for w in winner]), False),
        winner=Sparse(n, rows, np.array(winner, np.int64), -1),
        similarity=Sparse(n, rows, np.linspace(0.4, 1.0, n), 0.0),
        cluster_fp=Sparse(n, rows, np.arange(n, dtype=np.uint64) * 7919, 0),
        clustered=Sparse(n, rows, np.array(clustered), False),
        ids=[f"d{i}" for i in range(n)],
        contained=Sparse(n, rows, np.array(contained), False),
        band_keys=BandKeys(np.zeros((n, 1), np.uint64)),
        comparisons=None,
    )
    owners: Owners = {
        i: {j: (draw(st.integers(0, n - 1)), 1.0) for j in js}
        for i, js in draw(
            st.dictionaries(st.integers(0, n - 1), st.sets(st.integers(0, 5)))
        ).items()
    }
    mark = draw(st.booleans())
    return n, first, count, per_doc, boiler, decision, owners, DedupSettings(mark=mark)


@settings(max_examples=300, deadline=None)
@given(batch_decisions(), st.randoms())
def test_batch_verdicts_are_the_per_document_ones_that_change_something(
    drawn: tuple[Any, ...], rnd: Any
) -> None:
    _, first, count, per_doc, boiler, decision, owners, dedup = drawn
    where = np.array(sorted(rnd.sample(range(count + 3), count)), dtype=np.int64)
    mine = per_doc[first : first + count]
    keys = np.array([k for doc in mine for k in doc], dtype=np.uint64)
    key_ends = np.cumsum([len(doc) for doc in mine]).astype(np.int64)

    def site(i: int) -> str:
        return f"site{i % 3}"

    made = Verdicts.of(boiler, decision, owners, dedup).batch(first, where, keys, key_ends, site)
    got = pickle.loads(pickle.dumps(made)).verdicts()  # as the worker resolving it builds them
    want = ref.batch_verdicts(first, where, per_doc, site, boiler, decision, owners, dedup)
    assert list(got) == list(want)
    assert [_ordered(v) for v in got.values()] == [_ordered(v) for v in want.values()]


@settings(max_examples=200, deadline=None)
@given(batch_decisions(), st.randoms())
def test_a_batch_applied_from_its_columns_gets_its_verdicts_edits(
    drawn: tuple[Any, ...], rnd: Any
) -> None:
    """BatchVerdicts.apply (most documents straight from the columns) makes the edits that
    applying each of its verdicts makes, in the same order, with the same details."""
    _, first, count, per_doc, boiler, decision, owners, dedup = drawn
    where = np.array(sorted(rnd.sample(range(count + 3), count)), dtype=np.int64)
    mine = per_doc[first : first + count]
    keys = np.array([k for doc in mine for k in doc], dtype=np.uint64)
    key_ends = np.cumsum([len(doc) for doc in mine]).astype(np.int64)
    made = Verdicts.of(boiler, decision, owners, dedup).batch(
        first, where, keys, key_ends, lambda i: f"site{i % 3}"
    )
    got, want = _docs(count + 3), _docs(count + 3)
    made.apply(got)
    for at, verdict in made.verdicts().items():
        verdict.apply(want[at])
    assert [_state(d) for d in got] == [_state(d) for d in want]


def _docs(n: int) -> list[Document]:
    return [Document(f"d{i}", [f"p{i}.{j}" for j in range(7)]) for i in range(n)]


def _state(d: Document) -> list[Any]:
    return [d.paragraphs, [repr(e) for e in d.edits], repr(d.meta), repr(d.dropped)]


def _ordered(v: Verdict) -> list[Any]:
    """A verdict's fields with its dicts as lists of items (their order is written out)."""
    return [list(v.removals.items()), list((v.meta or {}).items()), v.drop]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.booleans(), st.booleans()), max_size=30),
    st.booleans(),
)
def test_taken_tokens_are_the_earlier_ones(
    paragraphs: list[tuple[int, bool, bool]], use_wanted: bool
) -> None:
    """Paragraphs in document order (up to 3 a document), each with a token count, a
    boilerplate hit and whether its document is wanted."""
    docs = np.cumsum([k % 3 == 0 for k in range(len(paragraphs))]).astype(np.int64)
    counts = np.array([c for c, _, _ in paragraphs], dtype=np.int64)
    tokens = np.arange(int(counts.sum()), dtype=np.uint64) * np.uint64(7919)
    hit = np.array([h for _, h, _ in paragraphs], dtype=bool)
    mine = np.array([w for _, _, w in paragraphs], dtype=bool)
    wanted = mine[docs - 1] if use_wanted else None
    got = take_tokens((counts, tokens), hit, docs, wanted)
    want = ref.take_tokens((counts, tokens), hit, docs, wanted)
    if want is None:
        assert got is None
        return
    assert got is not None
    for x, y in zip(got, want, strict=True):
        assert x.dtype == y.dtype and x.tolist() == y.tolist()
