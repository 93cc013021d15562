"""Clusters without chaining (issue 14, item 3): a drop needs similarity to the copy that stays."""

from __future__ import annotations

import json
import random
from pathlib import Path

from dedup_pairs import blocks, dropped_of, jaccard, run_docs
from helpers import invoke_run
from hypothesis import given, settings
from hypothesis import strategies as st


def _chain(seed: int) -> list[str]:
    """Return A, B, C with J(A,B) = J(B,C) = 0.5 and J(A,C) = 0.2 (equal lengths)."""
    p = blocks(seed, 5)
    texts = [" ".join(p[0:3]), " ".join(p[1:4]), " ".join(p[2:5])]
    assert jaccard(texts[0], texts[1]) >= 0.45 and jaccard(texts[0], texts[2]) < 0.25
    return texts


def test_a_document_linked_only_through_a_dropped_one_stays() -> None:
    out = run_docs(_chain(1))
    assert dropped_of(out) == {"d1": ("d0", round(jaccard(*_chain(1)[:2]), 3))}


def test_templated_reports_are_never_merged_through_a_third(tmp_path: Path) -> None:
    # Two daily reports (same template, other figures: J = 0.2) and a third between them;
    # the first report stays and takes the third, the second report stays too.
    a, middle, b = _chain(2)
    src = tmp_path / "in.jsonl"
    rows = [{"id": "r1", "text": a}, {"id": "mid", "text": middle}, {"id": "r2", "text": b}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    result = invoke_run(src, "-o", out, "--mark")
    assert result.exit_code == 0, result.output
    got = {r["id"]: r.get("meta", {}) for r in map(json.loads, out.read_text().splitlines())}
    assert got["mid"]["duplicate_of"] == "r1" and got["mid"]["similarity"] >= 0.4
    assert "duplicate_of" not in got["r1"] and "duplicate_of" not in got["r2"]


def _family(seed: int, size: int) -> list[str]:
    """Return texts built from overlapping windows of shared blocks, lengths all distinct."""
    rng = random.Random(seed)
    p = blocks(seed, 12, 30)
    texts = []
    for k in range(size):
        start = rng.randrange(0, 8)
        width = rng.randrange(2, 5)
        # k + 1 extra tokens make every length distinct: no ties for --keep longest.
        texts.append(" ".join(p[start : start + width]) + f" x{k}" * (k + 1))
    return texts


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(3, 9),
    st.sampled_from(["longest", "earliest"]),
    st.randoms(use_true_random=False),
)
def test_decisions_ignore_input_order_and_never_drop_below_threshold(
    seed: int, size: int, keep: str, shuffler: random.Random
) -> None:
    # Distinct lengths and distinct dates: no ties, so the input order must not matter.
    texts = _family(seed, size)
    days = list(range(1, size + 1))
    random.Random(seed).shuffle(days)
    dates = [f"2024-03-{day:02d}T08:00:00Z" for day in days]
    options = {"keep": keep, "date_field": "published"}
    out = run_docs(texts, dates, **options)
    drops = dropped_of(out)
    kept = {d.id for d in out if d.dropped is None}
    text_of = {f"d{i}": t for i, t in enumerate(texts)}
    for doc, (winner, sim) in drops.items():
        assert winner in kept
        assert jaccard(text_of[doc], text_of[winner]) >= 0.4
        assert abs(sim - jaccard(text_of[doc], text_of[winner])) < 0.001
    perm = list(range(size))
    shuffler.shuffle(perm)
    again = dropped_of(run_docs([texts[k] for k in perm], [dates[k] for k in perm], **options))
    name = {f"d{i}": f"d{k}" for i, k in enumerate(perm)}
    assert {name[d]: name[w] for d, (w, _) in again.items()} == {
        d: w for d, (w, _) in drops.items()
    }


def _greedy_by_hand(n, a, b, sim, order, keep):  # type: ignore[no-untyped-def]
    """The rule greedy_clusters implements, written plainly over all n items."""
    rep, to = [-1] * n, [0.0] * n
    prio = {v: i for i, v in enumerate(order)}
    nbrs: dict[int, list[tuple[int, float]]] = {v: [] for v in range(n)}
    for x, y, s in zip(a, b, sim, strict=True):
        nbrs[x].append((y, s))
        nbrs[y].append((x, s))
    for v in order:
        if rep[v] >= 0 or not nbrs[v]:
            continue
        rep[v] = v
        for u, s in sorted(nbrs[v], key=lambda e: prio[e[0]]):
            if rep[u] < 0 and not keep[u]:
                rep[u], to[u] = v, s
    return [v if r < 0 else r for v, r in enumerate(rep)], to


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_greedy_clusters_walk_only_the_items_with_edges_and_give_the_plain_rule(
    data: st.DataObject,
) -> None:
    import numpy as np

    from cleanup.dedup.clusters import greedy_clusters

    n = data.draw(st.integers(1, 40))
    edges = data.draw(
        st.sets(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda e: e[0] < e[1])
        )
    )
    a = np.array([e[0] for e in sorted(edges)], dtype=np.int64)
    b = np.array([e[1] for e in sorted(edges)], dtype=np.int64)
    sim = np.array(data.draw(st.lists(st.floats(0.4, 1.0), min_size=len(a), max_size=len(a))))
    order = data.draw(st.permutations(range(n)))
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    rep, to = greedy_clusters(n, a, b, sim, np.array(order, dtype=np.int64), keep)
    want_rep, want_to = _greedy_by_hand(
        n, a.tolist(), b.tolist(), sim.tolist(), order, keep.tolist()
    )
    assert rep.tolist() == want_rep
    assert to.tolist() == want_to
