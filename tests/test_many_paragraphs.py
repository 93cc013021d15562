"""Documents of very many paragraphs give what the earlier, per-paragraph code gave.

In-document dedup's per-document code is frozen in tests/paragraphs_reference.py (and the
batch job with one Edit at a time in tests/dedup_reference.py); strip-html's page model is
checked against itself: the fallback of main mode, which now reuses the scores of our model,
against a fresh `--extract all`, and the metadata lookups that skip queries against running
every query.
"""

from __future__ import annotations

import itertools
import json
import pickle
import random
from unittest import mock

import dedup_reference as ref
import numpy as np
import paragraphs_reference as ref_par
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import jobs, paragraphs, shingles
from cleanup.dedup.settings import ParagraphSettings
from cleanup.document import Document, Edit
from cleanup.extract import density, meta
from cleanup.extract.blocks import Chrome
from cleanup.extract.page import extract_page
from cleanup.extract.parse import parse_html
from cleanup.extract.tags import PARAGRAPH_TAGS

WORDS = [
    "the",
    "a",
    "storm",
    "city",
    "quiet",
    "river",
    "share",
    "photo",
    "ap",
    "advertisement",
    "morning",
]
ARTIFACTS = ["Share", "Advertisement", "Photo: AP", "Share this article", "Tweet"]


def many_paragraphs(rnd: random.Random, count: int) -> list[str]:
    """Paragraphs like a hostile page's: tiny ones repeated, artifacts, sentences and their
    near and composite copies (a sentence again with a word changed, two joined)."""
    out: list[str] = []
    for _ in range(count):
        roll = rnd.random()
        if roll < 0.3:
            out.append(rnd.choice(ARTIFACTS))
        elif roll < 0.5 and out:
            source = rnd.choice(out)
            words = source.split()
            if words and rnd.random() < 0.5:
                words[rnd.randrange(len(words))] = rnd.choice(WORDS)
            out.append(" ".join(words) if rnd.random() < 0.7 else source + " " + rnd.choice(out))
        elif roll < 0.75:
            words = (
                f"{rnd.choice(WORDS)}{rnd.randrange(300)}" for _ in range(rnd.randrange(6, 20))
            )
            out.append(" ".join(words) + ".")  # shingles in few paragraphs: copies can be found
        else:
            out.append(f"{rnd.choice(WORDS)}{rnd.randrange(50)}")
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=0, max_value=400),
    st.sampled_from([0.5, 0.8, 1.0]),
    st.integers(min_value=0, max_value=8),
)
def test_in_document_copies_and_details_are_the_earlier_ones(
    seed: int, count: int, threshold: float, min_words: int
) -> None:
    texts = many_paragraphs(random.Random(seed), count)
    s = ParagraphSettings(threshold=threshold, min_words=min_words)
    batch = paragraphs.features_batch([texts], s)
    bounds = batch.shingle_offsets
    sets = [np.unique(batch.shingles[a:z]) for a, z in itertools.pairwise(bounds.tolist())]
    feat = paragraphs.ParagraphFeatures(batch.paragraph_fps(), np.diff(batch.offsets), sets)
    found = paragraphs.find_duplicates(feat, s)
    assert found == ref_par.find_duplicates(feat, s)
    for d in found:
        assert paragraphs.detail_of(d, texts) == ref_par.detail_of(d, texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), max_size=60))
def test_exact_copies_are_the_earlier_ones(values: list[int]) -> None:
    fps = np.array(values, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    assert paragraphs.exact_duplicates(fps) == ref_par.exact_duplicates(fps)


def test_a_document_of_many_paragraphs_loses_the_same_copies_with_the_same_edits() -> None:
    rnd = random.Random(7)
    texts = [many_paragraphs(rnd, 30_000), many_paragraphs(rnd, 40), ["one", "one", "two"]]
    s = ParagraphSettings()
    new = [Document(id=f"d{k}", paragraphs=list(t)) for k, t in enumerate(texts)]
    old = [Document(id=f"d{k}", paragraphs=list(t)) for k, t in enumerate(texts)]
    got, want = jobs.dedup_paragraphs_batch(new, s), ref.dedup_paragraphs_batch(old, s)
    assert np.array_equal(got.kept, want.kept)
    assert len(new[0].edits) > 10_000  # the big one lost thousands (exact, near, composite)
    assert {e.rule for e in new[0].edits} == {
        "exact-paragraph",
        "near-paragraph",
        "repeated-sentences",
    }
    for a, b in zip(new, old, strict=True):
        assert a.paragraphs == b.paragraphs
        assert a.edits == b.edits


def test_removing_many_paragraphs_at_once_is_removing_them_one_at_a_time() -> None:
    rnd = random.Random(3)
    texts = [f"p{i}" for i in range(5_000)]
    gone = sorted(rnd.sample(range(5_000), 2_000))
    details = [{"n": i} for i in gone]
    fast, slow = Document(id="a", paragraphs=list(texts)), Document(id="a", paragraphs=list(texts))
    fast.remove_each("s", "r", "why", gone, details)
    slow.remove_many("s", {i: ("r", "why", {"n": i}) for i in gone})
    assert fast.paragraphs == slow.paragraphs == [t for i, t in enumerate(texts) if i not in gone]
    assert fast.edits == slow.edits


def page(paragraphs: list[str], head: str = "") -> str:
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return f"<html><head><title>Many</title>{head}</head><body>\n{body}</body></html>"


def test_main_mode_falls_back_to_the_whole_text_of_a_page_of_short_paragraphs() -> None:
    rnd = random.Random(5)
    paras = [rnd.choice([*ARTIFACTS, "x", "a b", "  ", "&nbsp;"]) for _ in range(3_000)]
    paras[100] = '<a href="/x">a short link</a>'  # no paragraph long enough to be prose
    paras[200] = '<span class="share">Share this</span>'
    html = page(paras)
    main, whole = extract_page(html, "main"), extract_page(html, "all")
    assert main.method == whole.method == "all"
    assert main.paragraphs == whole.paragraphs
    assert len(main.paragraphs) > 2_000


class _Every(meta._Present):
    """Run every query (what read_meta did before it skipped any)."""

    def allows(self, query: str) -> bool:
        return True


PAGES = [
    page(["x"] * 50),
    page(["x"], '<meta property="og:title" content="Og title"><link rel="canonical" href="/c">'),
    page(['<span itemprop="author"><b itemprop="name">Ann Lee</b></span>', "y"]),
    page(['<a rel="author" href="/ann">Ann Lee</a>'], '<meta name="author" content="/ann">'),
    page(['<span class="author vcard"><a class="fn">Bo Chan</a></span>']),
    page(['<time datetime="2020-01-02">Jan 2</time>', '<h1 itemprop="datePublished">x</h1>']),
    page(["<h1>Heading</h1>"], '<meta http-equiv="Content-Language" content="de_DE, en">'),
    page(
        ["<h1>A headline long enough to split | Site name</h1>"],
        '<meta property="og:title" content="Og">',
    ),
    '<html lang="fr"><body><p itemprop="datePublished" datetime="2021">x</p></body></html>',
]


def test_metadata_read_skipping_queries_is_every_query_run() -> None:
    for html in PAGES:
        tree = parse_html(html)
        for queries in (meta._TITLE, meta._AUTHOR, meta._DATE, meta._CANONICAL, meta._LANG):
            assert meta._first(tree, queries) == meta._first(tree, queries, 300, _Every(tree))
        with mock.patch.object(meta, "_Present", _Every):
            every = meta.title_variants(tree)
        assert meta.title_variants(tree) == every
    assert meta.read_meta(parse_html(PAGES[2]))["author"] == "Ann Lee"


def test_paragraphs_score_their_text_as_text_content_reads_it() -> None:
    html = page(
        [
            "short",
            "<b>a bold paragraph that is long enough, to count.</b>",
            "plain text that is long enough to count, as prose.",
            '<a href="/">x</a> and a tail that is long enough, to be prose',
        ]
    )
    root = parse_html(html).find("body")
    got = list(density._paragraphs(root, Chrome(root, names=False)))
    want = [
        (el, s, 1)
        for el in root.iter(*PARAGRAPH_TAGS)
        if (s := density.prose_score(el.text_content(), density._link_chars(el)))
    ]
    assert got == want
    assert len(want) == 3


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="ab c\u00e9\u4e2d\U0001f600.", max_size=40), max_size=30))
def test_token_hashes_of_a_batch_hashed_a_span_at_a_time_are_the_earlier_ones(
    texts: list[str],
) -> None:
    with mock.patch.object(shingles, "HASH_SPAN", 7):  # spans of 7 bytes: many, tokens across
        got = shingles.token_hashes(texts)
    want = ref.token_hashes(texts)
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(got, want, strict=True))


def test_an_exact_repeat_s_detail_is_made_when_read_and_is_the_earlier_one() -> None:
    texts = ["Alpha beta.", "x", "alpha  BETA", "y" * 70, "Alpha beta."] * 2_000
    new, old = Document(id="a", paragraphs=list(texts)), Document(id="a", paragraphs=list(texts))
    jobs.dedup_paragraphs_batch([new], ParagraphSettings())
    ref.dedup_paragraphs_batch([old], ParagraphSettings())
    first = new.edits[0]
    assert (first.rule, first.kind, first.index, first.before) == (
        "exact-paragraph",
        "remove",
        2,
        "alpha  BETA",
    )
    assert type(first) is not Edit  # counting rules and kinds leaves the detail unmade
    assert [json.dumps(e.to_dict()) for e in new.edits[:3]] == [
        json.dumps(e.to_dict()) for e in old.edits[:3]
    ]  # as the audit trail writes them
    assert type(first) is Edit
    crossed = pickle.loads(pickle.dumps(new))  # as a batch crosses to a worker and back
    assert type(crossed.edits[5]) is not Edit and type(new.edits[5]) is not Edit
    assert crossed.edits == old.edits and crossed.paragraphs == old.paragraphs
    assert new.edits == old.edits and all(type(e) is Edit for e in new.edits)


def test_the_copies_of_one_paragraph_share_the_makings_of_their_detail() -> None:
    # A page of one-word lines repeats a few words millions of times: one (index, text) pair a
    # kept paragraph, not one a copy (140 MB of 880 on 2,200,000 lines), and pickled once.
    from cleanup.dedup import copies

    texts = ["one", "two", "one", "two", "one", "three"]
    doc = Document(id="a", paragraphs=list(texts))
    copies.remove_copies(doc, "dedup", "why", [2, 3, 4], [0, 1, 0])
    pairs = [copies._DETAIL.__get__(e) for e in doc.edits]
    assert pairs == [(0, "one"), (1, "two"), (0, "one")]
    assert pairs[0] is pairs[2] and pairs[0] is not pairs[1]
    crossed = pickle.loads(pickle.dumps(doc))
    again = [copies._DETAIL.__get__(e) for e in crossed.edits]
    assert again[0] is again[2]
    assert [e.detail for e in crossed.edits] == [
        {"duplicate_of": 0, "duplicate_text": "one", "similarity": 1.0},
        {"duplicate_of": 1, "duplicate_text": "two", "similarity": 1.0},
        {"duplicate_of": 0, "duplicate_text": "one", "similarity": 1.0},
    ]
    assert doc.paragraphs == ["one", "two", "three"]
