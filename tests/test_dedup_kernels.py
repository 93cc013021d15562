"""The compiled dedup kernels give exactly the numpy code's values, and refuse bad arguments."""

from __future__ import annotations

import json
import shutil
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.dedup import kernels, shingles
from cleanup.dedup.minhash import MinHasher

pytestmark = pytest.mark.skipif(kernels.native is None, reason="dedup kernels not built")

# Text the tokenizer treats in every way: ASCII words, punctuation, apostrophes and brackets,
# accented and cased letters, the listed separators and vanishing characters, CJK, kana,
# Thai, Hangul (spaced), an emoji.
ALPHABET = (
    "aZ9 .,'[]`\x00\n\u00e9\u00c9\u03a3\u00a0\u00ad\u00b4\u2019\u2032\u2014\u200d\u2060\u2212"
    "\ufeff\u4e2d\u6587\u0e01\u3001\u3042\u30a2\uf900\ud55c\U0001f600"
)
TEXTS = st.lists(st.text(alphabet=ALPHABET, max_size=60), max_size=12)


@pytest.fixture
def numpy_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "native", None)


def _both(fn, *args):  # type: ignore[no-untyped-def]
    """Return fn(*args) with the kernels, then with numpy alone."""
    compiled = fn(*args)
    saved = kernels.native
    kernels.native = None
    try:
        return compiled, fn(*args)
    finally:
        kernels.native = saved


def test_the_kernels_are_built_where_a_compiler_is() -> None:
    """An install on a machine with a C compiler must not fall back to numpy unnoticed."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip("no C compiler here")
    assert kernels.native is not None


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_token_hashes_match_numpy(texts: list[str]) -> None:
    (h1, o1), (h2, o2) = _both(shingles.token_hashes, texts)
    assert h1.dtype == h2.dtype == np.uint64
    assert np.array_equal(h1, h2) and np.array_equal(o1, o2)


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.integers(1, 8))
def test_shingles_and_fingerprints_match_numpy(texts: list[str], k: int) -> None:
    tokens, offsets = shingles.token_hashes(texts)
    (s1, so1), (s2, so2) = _both(shingles.shingle_hashes, tokens, offsets, k)
    assert s1.dtype == s2.dtype == np.uint32
    assert np.array_equal(s1, s2) and np.array_equal(so1, so2)
    f1, f2 = _both(shingles.fingerprints, tokens, offsets)
    assert np.array_equal(f1, f2)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 300), min_size=1, max_size=20),
    st.integers(1, 130),
    st.integers(0, 2**32 - 1),
)
def test_minhash_matches_numpy(counts: list[int], num_perm: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    hashes = rng.integers(0, 2**32, int(offsets[-1]), dtype=np.uint64).astype(np.uint32)
    hasher = MinHasher(num_perm=num_perm, seed=seed % 1000)
    s1, s2 = _both(hasher.from_hashes, hashes, offsets)
    assert s1.dtype == s2.dtype == np.uint32 and s1.shape == s2.shape == (len(counts), num_perm)
    assert np.array_equal(s1, s2)


def test_token_hashes_of_a_batch_longer_than_a_hash_span(monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy hashes a huge batch a span at a time; the kernel in one go: the same values."""
    monkeypatch.setattr(shingles, "HASH_SPAN", 64)
    texts = ["Wörter und Sätze, \u4e2d\u6587 words " * 20, "short", "x" * 300, "a\x00b"]
    (h1, o1), (h2, o2) = _both(shingles.token_hashes, texts)
    assert np.array_equal(h1, h2) and np.array_equal(o1, o2)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=6))
def test_token_hashes_match_numpy_on_any_text(texts: list[str]) -> None:
    """Any code point, surrogates and NULs included."""
    (h1, o1), (h2, o2) = _both(shingles.token_hashes, texts)
    assert np.array_equal(h1, h2) and np.array_equal(o1, o2)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64) | st.sampled_from([b"\xe4" * 9, b"\xe4a" * 5]), st.integers(-1, 4))
def test_the_tokenizer_reads_any_bytes_safely(data: bytes, texts: int) -> None:
    """Bytes no str encodes to are tokenized somehow, never read past; a wrong count of texts
    is refused."""
    native = kernels.native
    assert native is not None
    if data.count(0) != texts - 1 or texts < 1:
        with pytest.raises(ValueError, match="texts asked"):
            native.tokens(data, texts)
        return
    hashes, offsets = native.tokens(data, texts)
    bounds = np.frombuffer(offsets, dtype=np.int64)
    if data in (b"\xe4" * 9, b"\xe4a" * 5):  # more tokens than one per two bytes
        assert len(hashes) // 8 == data.count(b"\xe4")
    assert len(bounds) == texts + 1 and bounds[0] == 0 and bounds[-1] == len(hashes) // 8
    assert (np.diff(bounds) >= 0).all()


def _arrays(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "hashes": np.zeros(4, dtype=np.uint32),
        "offsets": np.array([0, 2, 4], dtype=np.int64),
        "a": np.ones(3, dtype=np.uint32),
        "b": np.ones(3, dtype=np.uint32),
        "out": np.empty((2, 3), dtype=np.uint32),
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"offsets": np.array([0, 5, 4], dtype=np.int64)}, ValueError),  # past the hashes
        ({"offsets": np.array([0, 3, 2], dtype=np.int64)}, ValueError),  # decreasing
        ({"offsets": np.array([-1, 2, 4], dtype=np.int64)}, ValueError),
        ({"offsets": np.zeros(0, dtype=np.int64)}, ValueError),
        ({"out": np.empty((2, 2), dtype=np.uint32)}, ValueError),  # too small
        ({"b": np.ones(2, dtype=np.uint32)}, ValueError),
        ({"hashes": np.zeros(4, dtype=np.uint64)}, TypeError),  # wrong item size
        ({"out": np.empty((2, 6), dtype=np.uint32)[:, ::2]}, ValueError),  # not contiguous
    ],
)
def test_minhash_refuses_what_would_leave_its_buffers(change: dict, error: type) -> None:
    a = _arrays(**change)
    assert kernels.native is not None
    with pytest.raises(error):
        kernels.native.minhash(a["hashes"], a["offsets"], a["a"], a["b"], a["out"])


def test_the_other_kernels_refuse_what_would_leave_their_buffers() -> None:
    native = kernels.native
    assert native is not None
    tokens = np.arange(5, dtype=np.uint64)
    mult = np.ones(8, dtype=np.uint64)
    offsets = np.array([0, 5], dtype=np.int64)
    with pytest.raises(ValueError, match="k not in"):
        native.shingle_hashes(tokens, offsets, 9, mult, np.empty(1, dtype=np.uint32))
    with pytest.raises(ValueError, match="every shingle"):
        native.shingle_hashes(tokens, offsets, 2, mult, np.empty(3, dtype=np.uint32))
    with pytest.raises(ValueError, match="offsets"):
        native.fingerprints(tokens, np.array([0, 6], np.int64), np.empty(1, dtype=np.uint64))
    with pytest.raises(ValueError):
        native.fingerprints(tokens, offsets, np.empty(2, dtype=np.uint64))
    with pytest.raises(ValueError, match="read-only"):
        native.fingerprints(tokens, offsets, np.frombuffer(bytes(8), dtype=np.uint64))


def _corpus(path: Path) -> None:
    """Documents with exact and near copies across and inside them, boilerplate, CJK."""
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)] + ["Trump’s", "[t]his", "naïve", "中文", "ไทย"]
    base = [" ".join(rng.choice(words, 40)) for _ in range(30)]
    lines = []
    for d in range(40):
        paragraphs = [base[(d + j) % 30] for j in range(4)]
        if d % 3 == 0:  # a near copy of another document's paragraph
            paragraphs.append(base[(d + 7) % 30].replace("w1 ", "w2 ", 1) + " extra")
        if d % 4 == 0:  # a paragraph repeated inside the document
            paragraphs.append(paragraphs[0])
        paragraphs.append("Share this article on social media")  # boilerplate
        text = "\n\n".join(paragraphs)
        lines.append(
            json.dumps({"id": str(d), "url": f"https://s{d % 2}.example/{d}", "text": text})
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_run_gives_the_same_output_and_audit_without_the_kernels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "in.jsonl"
    _corpus(corpus)
    outputs = []
    for name, native in (("compiled", kernels.native), ("numpy", None)):
        monkeypatch.setattr(kernels, "native", native)
        out, audit = tmp_path / f"{name}.jsonl", tmp_path / f"{name}-audit.jsonl"
        args = ["run", str(corpus), "-o", str(out), "--audit", str(audit), "-q"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        outputs.append((out.read_bytes(), audit.read_bytes()))
    assert outputs[0] == outputs[1]
    assert b'"dedup' in outputs[0][1]  # dedup removed something: the kernels had work to do
