"""Partial copies (issue 14, item 5): --doc-containment, the container stays."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
from dedup_pairs import blocks, containment, jaccard
from helpers import invoke_run
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.containment import Search, candidates, sample
from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.shingles import shingle_hashes, token_hashes
from cleanup.document import Document
from cleanup.executor import BATCH_DOCS
from cleanup.pipeline import Context, Pipeline
from cleanup.scratch import settle


def _run(docs: list[Document], **options: object) -> dict[str, tuple[str, str, float]]:
    """Return {dropped id: (rule, duplicate_of, similarity or containment)}."""
    docs = copy.deepcopy(docs)  # steps edit documents in place
    out = Pipeline(steps=["dedup"], context=Context(), **options).run(docs)
    found = {}
    for d in out:
        if d.dropped is not None:
            detail = d.dropped.detail
            share = detail.get("containment", detail.get("similarity"))
            found[d.id] = (d.dropped.rule, detail["duplicate_of"], share)
    return found


def _edit(text: str, every: int = 25) -> str:
    """Return text with one word in `every` replaced (a light edit)."""
    return " ".join(f"edit{k}" if k % every == 7 else w for k, w in enumerate(text.split()))


def _story(seed: int, paragraphs: int = 8) -> list[str]:
    return blocks(seed, paragraphs, 40)


def test_an_excerpt_is_a_duplicate_of_the_longer_story_that_stays() -> None:
    story = _story(1)
    excerpt = [_edit(p) for p in story[2:5]]  # 3/8 of the story, 4% of words edited
    assert jaccard(" ".join(excerpt), " ".join(story)) < 0.4  # Jaccard cannot see it
    docs = [
        Document(id="wire", paragraphs=excerpt, fields={"date": "2024-01-01"}),
        Document(id="story", paragraphs=story, fields={"date": "2024-01-02"}),
    ]
    drops = _run(docs, date_field="date")
    assert drops.keys() == {"wire"}  # under containment the containing document stays
    rule, of, share = drops["wire"]
    assert (rule, of) == ("contained-document", "story")
    assert share == round(containment(" ".join(excerpt), " ".join(story)), 3) >= 0.7
    assert _run(docs, date_field="date", doc_containment=0) == {}


def test_an_original_quoting_one_paragraph_of_another_is_never_dropped() -> None:
    source, own = _story(2), _story(3, 4)
    quoting = [*own[:2], source[3], *own[2:]]
    docs = [Document(id="source", paragraphs=source), Document(id="quoting", paragraphs=quoting)]
    assert _run(docs) == {}
    assert _run(docs, doc_containment=0.15).keys() == {"quoting"}  # 1/5 of it is the quote


def test_an_excerpt_of_a_dropped_copy_never_names_it() -> None:
    # story2 is a near copy of story (dropped: later); the excerpt stands inside story2 only.
    story = _story(4)
    story2 = [*story[:5], *_story(5, 3)]
    excerpt = [_edit(p) for p in story2[4:8]]
    docs = [
        Document(id="story", paragraphs=story),
        Document(id="story2", paragraphs=story2),
        Document(id="excerpt", paragraphs=excerpt),
    ]
    drops = _run(docs, keep="first")
    assert drops["story2"][1] == "story"
    assert all(of not in drops for _, of, _ in drops.values())


def test_sampled_shingles_propose_the_contained_pair() -> None:
    story = " ".join(_story(6))
    excerpt = " ".join(_story(6)[:3])
    other = " ".join(_story(7))
    tokens, offsets = token_hashes([story, excerpt, other])
    samples, counts = sample(*shingle_hashes(tokens, offsets, 2))
    a, b = candidates(samples, counts, 0.7)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == [(0, 1)]


class _Worker:
    """An executor whose one worker is this process: submit runs the job when waited for."""

    def __init__(self, scratch: str | None) -> None:
        self.scratch = scratch
        self.jobs: list[str] = []

    def submit(self, fn: object, *args: object) -> tuple[object, tuple[object, ...]]:
        self.jobs.append(getattr(fn, "__name__", ""))
        return fn, args

    def result(self, handle: tuple) -> object:
        fn, args = handle
        return fn(*args)


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_a_search_on_a_worker_gives_the_candidates_found_here(seed: int, scratch: bool) -> None:
    """The samples, copied to scratch a block at a time (past one block), give the worker the
    same pairs; the copy is removed once read."""
    import tempfile

    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 80, 9000)  # ~355k samples: two blocks of the copy
    values = (rng.integers(0, 1 << 15, int(counts.sum())) << 3).astype(np.uint32)
    held = RowFile(1, np.uint32)
    held.append(values)
    with tempfile.TemporaryDirectory() as folder:
        worker = _Worker(folder if scratch else None)
        search = Search(worker, held, counts, 0.5)  # type: ignore[arg-type]
        a, b = search.pairs()
        assert worker.jobs == (["candidates_job"] if scratch else [])
        settle()  # the copy is deleted on the reaper's thread
        assert list(Path(folder).iterdir()) == []
    held.close()
    want_a, want_b = candidates(values, counts, 0.5)
    assert len(want_a) > 0
    assert a.tolist() == want_a.tolist() and b.tolist() == want_b.tolist()


def test_a_run_of_one_batch_searches_here_starting_no_worker(tmp_path: Path) -> None:
    counts = np.full(BATCH_DOCS, 3, np.int64)
    values = (np.arange(3 * BATCH_DOCS, dtype=np.uint32) % 40) << np.uint32(3)
    worker = _Worker(str(tmp_path))
    a, b = Search(worker, values, counts, 0.5).pairs()  # type: ignore[arg-type]
    assert worker.jobs == [] and len(a) > 0
    assert np.array_equal(np.stack((a, b)), np.stack(candidates(values, counts, 0.5)))


def test_containment_on_the_command_line(tmp_path: Path) -> None:
    story = _story(8)
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "excerpt", "text": "\n\n".join(_edit(p) for p in story[:3])},
        {"id": "story", "text": "\n\n".join(story)},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    result = invoke_run(src, "-o", out, "--mark", "--doc-containment", "0.75")
    assert result.exit_code == 0, result.output
    meta = {r["id"]: r.get("meta", {}) for r in map(json.loads, out.read_text().splitlines())}
    assert meta["excerpt"]["duplicate_of"] == "story" and meta["excerpt"]["containment"] >= 0.75


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 8))
def test_every_drop_names_a_kept_document_it_is_verified_against(seed: int, size: int) -> None:
    rng = np.random.default_rng(seed)
    pool = blocks(seed, 10, 30)
    texts = []
    for k in range(size):
        start, width = int(rng.integers(0, 7)), int(rng.integers(1, 5))
        texts.append(
            [_edit(p, 20 + k) for p in pool[start : start + width]] + [f"own{k} " * (k + 1)]
        )
    docs = [Document(id=f"d{k}", paragraphs=t) for k, t in enumerate(texts)]
    drops = _run(docs, keep="first")
    text = {f"d{k}": " ".join(t) for k, t in enumerate(texts)}
    for doc, (rule, of, _share) in drops.items():
        assert of not in drops
        if rule == "contained-document":
            assert containment(text[doc], text[of]) >= 0.7
            assert len(text[of].split()) > len(text[doc].split())
        else:
            assert jaccard(text[doc], text[of]) >= 0.4


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 40), max_size=30), min_size=0, max_size=40),
    st.integers(1, 9),
    st.floats(0.1, 1.0),
    st.integers(1, 40),
)
def test_pairing_in_slices_gives_the_one_piece_candidates(
    docs: list[list[int]], parts: int, threshold: float, merge: int
) -> None:
    """Slicing the posting lists and merging the pairs a few at a time only bound memory:
    the candidates are the same."""
    rows = [np.unique(np.array(d, dtype=np.uint32) << np.uint32(3)) for d in docs]
    counts = np.array([len(r) for r in rows], dtype=np.int64)
    samples = np.concatenate(rows) if rows else np.zeros(0, np.uint32)
    a1, b1 = candidates(samples, counts, threshold, parts=1, merge=1 << 40)
    ak, bk = candidates(samples, counts, threshold, parts=parts, merge=merge)
    assert a1.tolist() == ak.tolist() and b1.tolist() == bk.tolist()
    assert all(x < y for x, y in zip(a1.tolist(), b1.tolist(), strict=True))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 30), max_size=25), min_size=0, max_size=40),
    st.floats(0.1, 1.0),
)
def test_candidates_are_the_pairs_brute_force_counts(
    docs: list[list[int]], threshold: float
) -> None:
    """Every pair sharing enough short posting lists, found by counting pair by pair."""
    from collections import Counter
    from itertools import combinations

    from cleanup.dedup.containment import MAX_POSTING, MIN_SHARED

    rows = [np.unique(np.array(d, dtype=np.uint32) << np.uint32(3)) for d in docs]
    counts = np.array([len(r) for r in rows], dtype=np.int64)
    samples = np.concatenate(rows) if rows else np.zeros(0, np.uint32)
    holders: dict[int, list[int]] = {}
    for d, r in enumerate(rows):
        for v in r.tolist():
            holders.setdefault(v, []).append(d)
    shared: Counter[tuple[int, int]] = Counter()
    for ds in holders.values():
        if 2 <= len(ds) <= MAX_POSTING:
            shared.update(combinations(ds, 2))
    expect = sorted(
        (a, b)
        for (a, b), k in shared.items()
        if k >= MIN_SHARED and k >= 0.5 * threshold * min(counts[a], counts[b])
    )
    a, b = candidates(samples, counts, threshold)
    assert list(zip(a.tolist(), b.tolist(), strict=True)) == expect


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_contained_in_walks_only_paired_documents_and_gives_the_plain_rule(
    data: st.DataObject,
) -> None:
    from cleanup.dedup.containment import contained_in

    n = data.draw(st.integers(1, 30))
    pairs = sorted(
        data.draw(
            st.sets(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
                    lambda p: p[0] < p[1]
                )
            )
        )
    )
    k = len(pairs)
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    cont = np.array(
        data.draw(st.lists(st.sampled_from([0.5, 0.7, 0.8, 0.95]), min_size=k, max_size=k))
    )
    jac = np.array(data.draw(st.lists(st.sampled_from([0.1, 0.3, 0.5]), min_size=k, max_size=k)))
    lengths = np.array(data.draw(st.lists(st.integers(1, 6), min_size=n, max_size=n)))
    stays = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    never = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    holder, share = contained_in(a, b, cont, jac, lengths, stays, never, 0.7, 0.4)
    # The rule, plainly: from the longest container down, each takes what it contains.
    want, got_share = [-1] * n, [0.0] * n
    uses = []
    for x, y, c, j in zip(a.tolist(), b.tolist(), cont.tolist(), jac.tolist(), strict=True):
        big, small = (x, y) if lengths[x] >= lengths[y] else (y, x)
        usable = c >= 0.7 and j < 0.4 and lengths[big] > lengths[small]
        if usable and stays[big] and stays[small] and not never[small]:
            uses.append((-lengths[big], big, -lengths[small], small, c))
    for _, big, _, small, c in sorted(uses):
        if want[big] < 0 and want[small] < 0:
            want[small], got_share[small] = big, c
    assert holder.tolist() == want
    assert share.tolist() == got_share
