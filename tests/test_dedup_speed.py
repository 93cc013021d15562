"""The faster tokenizer, shingles and paragraph features give exactly what the earlier code gave.

The earlier code is frozen in tests/dedup_reference.py. Token hashes, shingle hashes,
fingerprints and signatures are stored in dedup states and decide every output, so the
fast paths must agree bit for bit, on any text: CJK and Thai (character tokens), combining
marks, emoji, NUL, empty paragraphs and very long words included.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import dedup_reference as ref
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import jobs, paragraphs, shingles
from cleanup.dedup.settings import DedupSettings, ParagraphSettings
from cleanup.document import Document

# Characters the tokenizer treats specially, and some it does not.
ALPHABET = (
    "abcXYZ019 .,;:!?\"'`()-[]\n\t\x00"
    "‘’‛′“”–—…•\u00a0\u00ad\u00b4«»\u200b\u200c\u200d\u2060\ufeff\u2212\u3000、。"
    "éüßΣσςİıДжﬁ"  # case folding that depends on the character or its neighbours
    "\u0301\u0308\u0e31\u0e48"  # combining marks (Latin, Thai)
    "한국ء١"
    "中文字日本語カタナひらがなไทยภาษา豈"  # scripts written without spaces
    "😀👍🏽\U0001f468\u200d\U0001f469"  # emoji, a skin tone, a ZWJ sequence
)
WORD = st.text(alphabet=ALPHABET, max_size=12)
LONG_WORD = st.text(alphabet="ab中😀é", min_size=200, max_size=600)
TEXT = st.lists(st.one_of(WORD, WORD, WORD, LONG_WORD, st.just("")), max_size=30).map(" ".join)
TEXTS = st.lists(st.one_of(TEXT, st.just(""), st.text(max_size=40)), max_size=12)


def same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> None:
    """Assert two tuples of arrays are equal in dtype, shape and every value."""
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_token_hashes_are_the_earlier_ones(texts: list[str]) -> None:
    same(shingles.token_hashes(texts), ref.token_hashes(texts))


@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_folded_bytes_and_word_bytes_are_the_earlier_ones(texts: list[str]) -> None:
    # The one-pass tokenizer deletes what vanishes before it classifies; the earlier code
    # classified every byte, then dropped the deleted ones.
    b, w, lead = shingles._folded(texts)
    want_b, want_w = ref._token_bytes(texts)
    same((b, w), (want_b, want_w))
    assert lead.tolist() == np.flatnonzero(want_b >= 0xC0).tolist()
    data = "\x00".join(t.replace("\x00", " ") for t in texts)
    assert shingles._lowered(data)[0] == ref._lower_utf8(data)


@settings(max_examples=100, deadline=None)
@given(TEXTS)
def test_byte_classes_are_the_earlier_ones(texts: list[str]) -> None:
    b = np.frombuffer(ref._lower_utf8("\x00".join(texts)), dtype=np.uint8)
    same((shingles.classify(b),), (ref.classify(b),))


def test_word_bytes_are_the_word_class_for_every_byte() -> None:
    # Every byte value, alone and with no multi-byte character to test: the comparisons
    # that replaced the table lookup say "word" exactly where the table does.
    b = np.arange(256, dtype=np.uint8)
    w = shingles._word_bytes(b, np.zeros(0, dtype=np.int64))
    assert w.tolist() == (shingles._CLASS == shingles.WORD).tolist()


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.integers(min_value=1, max_value=8))
def test_shingle_hashes_are_the_earlier_ones(texts: list[str], k: int) -> None:
    tokens, offsets = ref.token_hashes(texts)
    same(shingles.shingle_hashes(tokens, offsets, k), ref.shingle_hashes(tokens, offsets, k))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=12), max_size=40),
    st.integers(min_value=1, max_value=8),
)
def test_shingles_of_texts_of_any_length_are_the_earlier_ones(counts: list[int], k: int) -> None:
    rng = np.random.default_rng(len(counts) * 31 + k)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    tokens = rng.integers(0, 2**64, int(offsets[-1]), dtype=np.uint64)
    same(shingles.shingle_hashes(tokens, offsets, k), ref.shingle_hashes(tokens, offsets, k))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9), max_size=30), st.integers(0, 2**32 - 1))
def test_fingerprints_and_mixing_are_the_earlier_ones(counts: list[int], seed: int) -> None:
    # Texts of any length, empty ones first, last and in runs (the padded sum's edge).
    rng = np.random.default_rng(seed)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    tokens = rng.integers(0, 2**64, int(offsets[-1]), dtype=np.uint64)
    before = tokens.copy()
    same((shingles.fingerprints(tokens, offsets),), (ref.fingerprints(tokens, offsets),))
    same((shingles.fmix64(tokens),), (ref.fmix64(tokens),))
    assert np.array_equal(tokens, before)  # the inputs are left as they were


def features_equal(new: paragraphs.BatchFeatures, old: paragraphs.BatchFeatures) -> None:
    """Assert two batches' paragraph features are the same, document by document.

    The earlier code made shingle sets for every suspect document; the new one only for
    the `near` ones, so sets are compared there.
    """
    same(
        (new.tokens, new.offsets, new.kept, new.suspect, new.shingles, new.shingle_offsets),
        (old.tokens, old.offsets, old.kept, old.suspect, old.shingles, old.shingle_offsets),
    )
    assert new.first_paragraph == old.first_paragraph
    assert not (new.near & ~new.suspect).any()
    for k, (a, b) in enumerate(zip(new.docs, old.docs, strict=True)):
        same((a.fps, a.nwords), (b.fps, b.nwords))
        if new.near[k]:
            same(tuple(a.shingles), tuple(b.shingles))
        else:
            assert a.shingles == []


# Words only, no very long ones: smaller examples for the tests of whole batches.
WORDS = st.lists(WORD, max_size=24).map(" ".join)


@st.composite
def batches(draw: st.DrawFn, text: st.SearchStrategy[str] = TEXT) -> list[list[str]]:
    """Draw documents whose paragraphs often repeat, shorten or join texts of a small pool
    (so documents repeat and overlap them, whole or in part)."""
    pool = draw(st.lists(text, min_size=1, max_size=6))
    pick = st.sampled_from(pool)
    para = st.one_of(
        pick,
        text,
        st.builds(lambda t, n: " ".join(t.split()[:n]), pick, st.integers(0, 40)),
        st.builds(lambda a, b: a + " " + b, pick, pick),
    )
    return draw(st.lists(st.lists(para, max_size=8), max_size=8))


@settings(max_examples=300, deadline=None)
@given(
    batches(),
    st.sampled_from([0.3, 0.5, 0.75, 1.0]),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=0, max_value=10),
)
def test_paragraph_features_and_suspects_are_the_earlier_ones(
    docs: list[list[str]], threshold: float, size: int, min_words: int
) -> None:
    s = ParagraphSettings(threshold=threshold, shingle_size=size, min_words=min_words)
    new, old = paragraphs.features_batch(docs, s), ref.features_batch(docs, s)
    features_equal(new, old)
    for k, feat in enumerate(old.docs):  # the earlier code's sets: all find_duplicates needs
        if new.suspect[k] and not new.near[k]:
            found = paragraphs.find_duplicates(feat, s)
            assert found == paragraphs.exact_duplicates(feat.fps) != []
        # The exact copies of the batch at once: each with the paragraph exact_duplicates keeps.
        first, end = new.first_paragraph[k], new.first_paragraph[k + 1]
        copies = {d.index: d.of[0] for d in paragraphs.exact_duplicates(feat.fps)}
        got = new.copy_of[first:end]
        assert {j: i - first for j, i in enumerate(got.tolist()) if i >= 0} == copies


def same_or_none(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> None:
    """Assert two optional tuples of optional arrays are equal (None only where None)."""
    if a is None or b is None:
        assert a is b
        return
    assert [x is None for x in a] == [y is None for y in b]
    same(tuple(x for x in a if x is not None), tuple(y for y in b if y is not None))


def summarize(docs: list[list[str]], settings: DedupSettings) -> tuple[Any, list[Document]]:
    """Run the read pass's batch job over documents made of these paragraphs."""
    batch = [
        Document(
            id=f"d{k}", paragraphs=list(paras), fields={"url": f"https://s{k % 3}.example/{k}"}
        )
        for k, paras in enumerate(docs)
    ]
    return jobs.summary_job(jobs.SummaryJob(settings, sign=True, pickled=False), batch), batch


@settings(max_examples=150, deadline=None)
@given(
    batches(WORDS).filter(bool),  # executors never send an empty batch
    st.sampled_from(["off", "exact", "near"]),
    st.integers(min_value=0, max_value=8),
)
def test_the_read_pass_summarizes_a_batch_as_before(
    docs: list[list[str]], cross: str, min_words: int
) -> None:
    """Signatures, fingerprints, boilerplate keys, tokens, samples and edits: all as before."""
    s = DedupSettings.from_options(
        cross_doc_paragraphs=cross, min_paragraph_words=min_words, num_perm=16
    )
    new, new_docs = summarize(docs, s)
    with (
        mock.patch.object(jobs, "dedup_paragraphs_batch", ref.dedup_paragraphs_batch),
        mock.patch.object(jobs, "shingle_hashes", ref.shingle_hashes),
    ):
        old, old_docs = summarize(docs, s)
    for name in ("live", "sigs", "fps", "lengths", "boiler_keys", "boiler_sizes", "para_sigs"):
        same_or_none((getattr(new, name),), (getattr(old, name),))
    for name in ("tokens", "samples", "para_shingles"):
        same_or_none(getattr(new, name), getattr(old, name))
    same(tuple(new.para_fps), tuple(old.para_fps))
    assert [d.paragraphs for d in new_docs] == [d.paragraphs for d in old_docs]
    assert [d.edits for d in new_docs] == [d.edits for d in old_docs]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0, 1, 2, 0x10000, 0x10001, 0xFFFF0000, 0xFFFF0001]), max_size=9),
        max_size=14,
    ),
    st.lists(st.booleans(), min_size=14, max_size=14),
    st.lists(st.integers(0, 3), min_size=14, max_size=14),
    st.sampled_from([0.0, 0.3, 0.5, 0.75, 1.0]),
)
def test_near_suspects_equal_the_exact_count_for_every_document(
    paras: list[list[int]], compared: list[bool], doc_sizes: list[int], threshold: float
) -> None:
    """The 16-bit prefilter leaves out only documents the exact count would not flag, on
    shingles equal in their top 16 bits but not their own (the prefilter's collisions)."""
    sh = np.array([h for p in paras for h in p], dtype=np.uint32)
    sh_off = np.concatenate(([0], np.cumsum([len(p) for p in paras]))).astype(np.int64)
    cmp = np.array(compared[: len(paras)], dtype=bool)
    sizes = np.array(doc_sizes, dtype=np.int64)
    doc_of_para = np.repeat(np.arange(len(sizes)), sizes)[: len(paras)]
    doc_of_para = np.concatenate((doc_of_para, np.full(len(paras) - len(doc_of_para), 14)))
    got = paragraphs._near_suspects(sh, sh_off, cmp, doc_of_para, 15, threshold)
    para_of = np.repeat(np.arange(len(cmp)), np.diff(sh_off))
    want = np.zeros(15, dtype=bool)
    if cmp[para_of].any():
        paragraphs._near_exact(sh, para_of, cmp[para_of], cmp, doc_of_para, want, threshold)
    assert got.tolist() == want.tolist()
