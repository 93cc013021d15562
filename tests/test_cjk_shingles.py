"""Character tokens for scripts written without spaces (Chinese, Japanese, Thai) in dedup."""

from __future__ import annotations

import hashlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup import shingles
from cleanup.dedup.shingles import fingerprints, shingle_hashes, token_hashes, words
from cleanup.document import Document
from cleanup.pipeline import Context, Pipeline

# Hashes of main's tokenizer before character tokens existed: text without CJK or Thai must
# keep every token, shingle and fingerprint (states and outputs depend on them).
GOLDEN_TEXTS = [
    "The quick brown fox — it’s [t]his «naïve» café…",
    "Ελληνικά κείμενα και Кириллица тоже",
    "한국어 문장은 띄어쓰기를 한다",
    "العربية نص",
    "",
    "x",
    "Ünïcödé ŞĞ İı straße ﬁ",
    "mixed ١٢٣ 12.5% $3",
]
GOLDEN = "ab2f60766acedfbc1c2dc2a1cc974d8a02d1cdef109ca8c21e552ddb9da9ae01"
# Characters of every script the tokenizer knows, except those written without spaces.
SPACED = "abcXYZ019 .,;:!?\"'()-[]‘’“”–—\u00a0«»…éüΣσςДж한국ءب١\u200d\n"


def test_text_without_cjk_keeps_its_tokens_shingles_and_fingerprints() -> None:
    t, o = token_hashes(GOLDEN_TEXTS)
    sh, so = shingle_hashes(t, o, 2)
    raw = t.tobytes() + o.tobytes() + sh.tobytes() + so.tobytes() + fingerprints(t, o).tobytes()
    assert hashlib.sha256(raw).hexdigest() == GOLDEN


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=SPACED, max_size=80))
def test_spans_are_the_word_runs_without_cjk(text: str) -> None:
    b, w = shingles._token_bytes([text])
    starts, ends = shingles._token_spans(b, w)
    runs = shingles._runs(w)
    assert starts.tolist() == runs[0].tolist() and ends.tolist() == runs[1].tolist()


def test_chinese_japanese_and_thai_are_split_per_character() -> None:
    assert words("北京今天下雨。") == ["北", "京", "今", "天", "下", "雨"]
    assert words("東京へ行きます") == ["東", "京", "へ", "行", "き", "ま", "す"]
    assert words("ภาษาไทย") == ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"]


def test_mixed_text_keeps_spaced_words_whole() -> None:
    assert words("iPhone发布会在Apple Park举行") == [
        "iphone", "发", "布", "会", "在", "apple", "park", "举", "行",
    ]  # fmt: skip


def test_wider_cjk_tokens_cover_consecutive_characters_of_one_run() -> None:
    saved = shingles.CJK_CHARS
    try:
        shingles.CJK_CHARS = 3
        assert words("我们今天 ok 好") == ["我们今", "们今天", "ok", "好"]
    finally:
        shingles.CJK_CHARS = saved


def _chinese(rng: random.Random, n: int) -> str:
    chars = [chr(0x4E00 + i * 7) for i in range(600)]
    sentences = []
    for _ in range(n):
        sentences.append("".join(rng.choice(chars) for _ in range(rng.randint(15, 30))) + "。")
    return "".join(sentences)


def _edit(rng: random.Random, text: str, rate: float) -> str:
    out = []
    for ch in text:
        if ch != "。" and rng.random() < rate:
            out.append(chr(0x4E00 + rng.randrange(20000)))
        else:
            out.append(ch)
    return "".join(out)


def test_an_edited_chinese_copy_is_a_near_duplicate_and_other_text_is_not() -> None:
    rng = random.Random(5)
    original = "\n\n".join(_chinese(rng, 3) for _ in range(4))
    copy = _edit(rng, original, 0.08)
    other = "\n\n".join(_chinese(rng, 3) for _ in range(4))
    docs = [
        Document(id=i, paragraphs=t.split("\n\n"), sep="\n\n")
        for i, t in (("a", original), ("b", copy), ("c", other))
    ]
    out = list(Pipeline(steps=["dedup"], context=Context(), mark=True).run(docs))
    meta = {d.id: d.meta for d in out}
    assert meta["b"].get("duplicate_of") == "a" or meta["a"].get("duplicate_of") == "b"
    assert "duplicate_of" not in meta["c"]
