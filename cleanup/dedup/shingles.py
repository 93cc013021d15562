"""Tokens, shingles and fingerprints, hashed for whole batches of texts in a few numpy calls.

Dedup compares texts by their words, not their characters: case, quote style, dashes,
apostrophes and punctuation are folded away first, so `Trump's` and `Trump’s`, or
`[t]his` and `this`, are the same token: the matching form of `normalize.fold` with the
punctuation removed (a test checks that both agree). A token is a run of ASCII letters and
digits or bytes of non-ASCII letters, so the tokenizer classifies the encoded bytes with
numpy and never calls fold or loops over words in Python (fold runs at ~7 MB/s on news
text with curly quotes; the byte classes at several hundred). Token hashes are a
polynomial hash mod 2^64 computed from prefix sums (one `cumsum` over the batch) and mixed
with MurmurHash3's finalizer. Where the install compiled dedup's kernels (dedup/kernels.py),
tokens, shingles and fingerprints are computed by C loops instead, with the same values; the
numpy code here is then the fallback and the reference the tests compare them with.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from cleanup.dedup import kernels
from cleanup.dedup.mixing import _GOLDEN, U64, _fmix64_into, _powers, _steps
from cleanup.dedup.mixing import fmix64 as fmix64  # this module's API before mixing.py

_SHINGLE_MULT = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
     0x27D4EB2F165667C5, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB],
    dtype=np.uint64,
)  # fmt: skip

# Byte classes of the lowercased UTF-8 text: what normalize.fold and punctuation stripping
# would do, decided per byte so numpy can do it for a whole batch at once.
SEP, WORD, DELETE = 0, 1, 2
_CLASS = np.zeros(256, dtype=np.uint8)
for _c in b"abcdefghijklmnopqrstuvwxyz0123456789":
    _CLASS[_c] = WORD
_CLASS[0x80:] = WORD  # bytes of non-ASCII characters: letters unless listed below
for _c in b"'`[]":
    _CLASS[_c] = DELETE  # apostrophes and brackets join what they split: it's, [t]his

_ASCII_DELETE = bytes(np.flatnonzero(_CLASS[:0x80] == DELETE).tolist())  # b"'[]`"

# Multi-byte characters that separate tokens or vanish. U+00A0-U+00BF (no-break space,
# guillemets, signs) separate; U+00AD (soft hyphen) and U+00B4 (acute) vanish.
# U+2000-U+207F (spaces, dashes, quotes, ellipsis, bullets) separate, except the single
# quotes and primes U+2018/2019/201B/2032 (apostrophes) and the invisible joiners
# U+200C/200D/2060, which vanish. U+2212 (minus) and U+3000-U+303F (CJK punctuation)
# separate; U+FEFF (byte order mark) vanishes.
_DELETE_2 = ((0xC2, 0xAD), (0xC2, 0xB4))
_DELETE_3 = (
    (0xE2, 0x80, 0x98), (0xE2, 0x80, 0x99), (0xE2, 0x80, 0x9B), (0xE2, 0x80, 0xB2),
    (0xE2, 0x80, 0x8C), (0xE2, 0x80, 0x8D), (0xE2, 0x81, 0xA0), (0xEF, 0xBB, 0xBF),
)  # fmt: skip
# The characters that vanish, by width, as big-endian numbers of their bytes.
_DELETE_KEYS = {
    2: np.array([(x << 8) | y for x, y in _DELETE_2], dtype=np.uint32),
    3: np.array([(x << 16) | (y << 8) | z for x, y, z in _DELETE_3], dtype=np.uint32),
}

# Characters per token in scripts written without spaces (Chinese, Japanese, Thai): chosen by
# measurement (README, "CJK text"); with the default 2-word shingles, character bigrams.
CJK_CHARS = 1

# Bytes hashed at once (token_hashes): the powers of P (16 bytes a byte, kept for the next
# batch) and the prefix sums (8) are as long as what is hashed at once; a document of
# 3,000,000 lines in one batch held 650 MB of them, so longer texts go a span at a time.
HASH_SPAN = 1 << 22


def _following(b: np.ndarray, at: np.ndarray, k: int) -> np.ndarray:
    """Return the byte k places after each position in `at` (0 past the end of `b`)."""
    n = len(b)
    return np.where(at + k < n, b[np.minimum(at + k, n - 1)], 0).astype(np.uint8)


def _leads(b: np.ndarray) -> np.ndarray:
    """Return where the non-ASCII characters of UTF-8 text start (their first bytes).

    In the UTF-8 of a str (surrogates passed through) every byte >= 0xC0 is >= 0xC2: no
    encoder writes C0 or C1, which could only start an overlong form.
    """
    return np.flatnonzero(b >= 0xC2)


def _char_bytes(b: np.ndarray, lead: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the first three bytes of the characters starting at `lead` (0 past the end)."""
    return b[lead], _following(b, lead, 1), _following(b, lead, 2)


def _listed2(b0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """Tell which characters (by their first bytes) are listed two-byte characters."""
    return (b0 == 0xC2) & (c1 >= 0xA0) & (c1 <= 0xBF)


def _listed3(b0: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """Tell which characters (by their first three bytes) are listed three-byte characters."""
    return (
        ((b0 == 0xE2) & ((c1 == 0x80) | (c1 == 0x81)))
        | ((b0 == 0xE2) & (c1 == 0x88) & (c2 == 0x92))
        | ((b0 == 0xE3) & (c1 == 0x80))
        | ((b0 == 0xEF) & (c1 == 0xBB) & (c2 == 0xBF))
    )


def _vanishing(b0: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tell which characters (by their first three bytes) vanish: two-byte ones, three-byte ones."""
    key2 = (b0.astype(np.uint32) << np.uint32(8)) | c1
    key3 = (key2 << np.uint32(8)) | c2
    return np.isin(key2, _DELETE_KEYS[2]), np.isin(key3, _DELETE_KEYS[3])


def classify(b: np.ndarray) -> np.ndarray:
    """Return the class (SEP, WORD, DELETE) of every byte of lowercased UTF-8 text.

    The byte rules one byte at a time (for tests and explanations: the tokenizer deletes
    the characters that vanish from the bytes first and then tells word bytes, _folded).
    """
    cls = _CLASS.take(b)  # take: ~2x faster than fancy indexing
    lead = _leads(b)
    if len(lead) == 0:
        return cls
    b0, c1, c2 = _char_bytes(b, lead)
    gone2, gone3 = _vanishing(b0, c1, c2)
    for listed, gone, width in ((_listed2(b0, c1), gone2, 2), (_listed3(b0, c1, c2), gone3, 3)):
        mark = np.where(gone[listed], DELETE, SEP).astype(np.uint8)
        for k in range(width):
            cls[lead[listed] + k] = mark
    return cls


def _word_bytes(b: np.ndarray, lead: np.ndarray) -> np.ndarray:
    """Return which bytes of lowercased UTF-8 text are word bytes, the vanishing characters
    deleted first; `lead`: where its non-ASCII characters start (_leads).

    ASCII letters and digits and the bytes of non-ASCII characters are word bytes (three
    comparisons over the bytes, ~3x faster than a table lookup), except those of the listed
    characters, which separate tokens: only the characters starting at `lead` are tested.
    """
    w = np.subtract(b, ord("a"), dtype=np.uint8) < 26  # wraps below "a": one comparison
    w |= np.subtract(b, ord("0"), dtype=np.uint8) < 10
    w |= b >= 0x80
    if len(lead) == 0:
        return w
    b0, c1, c2 = _char_bytes(b, lead)
    for listed, width in ((_listed2(b0, c1), 2), (_listed3(b0, c1, c2), 3)):
        for k in range(width):
            w[lead[listed] + k] = False
    return w


def _lowered(text: str) -> tuple[bytes, np.ndarray]:
    """Return `text.lower()` encoded as UTF-8 (surrogates passed through), and where its
    non-ASCII characters start (_leads).

    str.lower is slow on text with any non-ASCII character (one curly quote suffices:
    ~200 MB/s), bytes.lower several times faster but folds ASCII letters only. The two
    agree whenever lower() leaves every non-ASCII character of the text as it is (ASCII
    letters fold alike, and only Σ's folding depends on its neighbours), which is checked
    once per distinct non-ASCII character. bytes.lower moves no byte, so the characters
    found before it start where they did.
    """
    raw = text.encode("utf-8", "surrogatepass")
    lead = _leads(np.frombuffer(raw, dtype=np.uint8))
    if len(lead) == 0 or not _changes_case(np.frombuffer(raw, dtype=np.uint8), lead):
        return raw.lower(), lead
    low = text.lower().encode("utf-8", "surrogatepass")
    return low, _leads(np.frombuffer(low, dtype=np.uint8))


def _changes_case(b: np.ndarray, lead: np.ndarray) -> bool:
    """Tell whether lower() changes any of the non-ASCII characters starting at `lead`."""
    width = 2 + (b[lead] >= 0xE0) + (b[lead] >= 0xF0)
    key = np.zeros(len(lead), dtype=np.uint32)
    for k in range(4):  # the character's bytes, big-endian, zero past its width
        byte = _following(b, lead, k).astype(np.uint32)
        key |= np.where(k < width, byte, 0).astype(np.uint32) << np.uint32(24 - 8 * k)
    for code in np.unique(key).tolist():
        char = code.to_bytes(4, "big").rstrip(b"\x00").decode("utf-8", "surrogatepass")
        if char.lower() != char:
            return True
    return False


def _folded(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the batch's folded bytes (deleted bytes gone), which of them are word bytes and
    where its non-ASCII characters start (_leads).

    Texts are joined with NUL, which is never a word byte, so it separates texts and tokens.
    What vanishes is deleted from the bytes before they are classified: the listed
    multi-byte characters (found among the non-ASCII characters only) by joining the bytes
    between them, the ASCII ones by bytes.translate. Each is a whole character, and the
    class of a byte depends on its own character only, so the others keep their classes.
    """
    raw, lead = _joined_lowered(texts)
    size = len(raw)
    raw = _without_vanishing(raw, lead).translate(None, _ASCII_DELETE)
    b = np.frombuffer(raw, dtype=np.uint8)
    if len(raw) != size:
        lead = _leads(b)
    return b, _word_bytes(b, lead), lead


def _joined_lowered(texts: Sequence[str]) -> tuple[bytes, np.ndarray]:
    """Return the texts joined with NUL, lowercased and encoded (_lowered), and where their
    non-ASCII characters start; a NUL inside a text becomes a space, as in any text."""
    data = "\x00".join(texts)
    if data.count("\x00") > len(texts) - 1:
        data = "\x00".join(t.replace("\x00", " ") for t in texts)
    return _lowered(data)


def _without_vanishing(raw: bytes, lead: np.ndarray) -> bytes:
    """Return UTF-8 text without its listed multi-byte characters that vanish; `lead`: where
    its non-ASCII characters start (_leads)."""
    if len(lead) == 0:
        return raw
    gone2, gone3 = _vanishing(*_char_bytes(np.frombuffer(raw, dtype=np.uint8), lead))
    gone = gone2 | gone3
    if not gone.any():
        return raw
    cut = lead[gone]
    ends = (cut + np.where(gone3[gone], 3, 2)).tolist()
    return b"".join([raw[a:z] for a, z in zip([0, *ends], [*cut.tolist(), len(raw)], strict=True)])


def _token_bytes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the batch's folded bytes (deleted bytes gone) and which of them are word bytes."""
    b, w, _ = _folded(texts)
    return b, w


def _runs(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return start and end positions of the runs of True in `w`.

    Runs and gaps alternate, so the changes of `w` (padded with False at both ends) are
    start, end, start, end, ...: one comparison and one flatnonzero for both.
    """
    padded = np.zeros(len(w) + 2, dtype=bool)
    padded[1:-1] = w
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return change[0::2], change[1::2]


def _cjk_leads(b: np.ndarray, lead: np.ndarray | None = None) -> np.ndarray:
    """Return the positions of the first bytes of characters of scripts written without spaces.

    Thai (U+0E00-0E7F), kana and CJK ideographs (U+3040-9FFF: hiragana, katakana, CJK
    extension A and unified ideographs) and CJK compatibility ideographs (U+F900-FAFF), all
    three bytes long in UTF-8. Hangul is not among them: Korean puts spaces between words.
    `lead`: where the text's non-ASCII characters start (_leads), when known.
    """
    if lead is None:
        lead = _leads(b)
    lead = lead[(b[lead] >= 0xE0) & (b[lead] <= 0xEF)]
    if len(lead) == 0:
        return lead
    b0, b1 = b[lead], _following(b, lead, 1)
    hit = (
        ((b0 == 0xE0) & ((b1 == 0xB8) | (b1 == 0xB9)))
        | ((b0 == 0xE3) & (b1 >= 0x81))
        | ((b0 >= 0xE4) & (b0 <= 0xE9))
        | ((b0 == 0xEF) & (b1 >= 0xA4) & (b1 <= 0xAB))
    )
    return lead[hit]


def _token_spans(
    b: np.ndarray, w: np.ndarray, lead: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return start and end byte positions of the tokens: runs of word bytes, split per character
    in scripts written without spaces (then every CJK_CHARS consecutive characters of one run
    make a token, so a document's k-shingles there are character (CJK_CHARS + k - 1)-grams).

    Text with no such character gives exactly the runs of word bytes, so nothing changes for
    it; mixed text is split per run, so each paragraph's spaced words stay words. `lead`:
    where the text's non-ASCII characters start (_leads), when known.
    """
    leads = _cjk_leads(b, lead)
    if len(leads) == 0:
        return _runs(w)
    n = len(b)
    cut = np.zeros(n + 1, dtype=bool)
    cut[leads] = True
    cut[np.minimum(leads + 3, n)] = True
    prev = np.concatenate(([False], w))
    nxt = np.concatenate((w, [False]))
    starts = np.flatnonzero(nxt[:n] & (~prev[:n] | cut[:n]))
    ends = np.flatnonzero(prev & (~nxt | cut))
    if CJK_CHARS == 1:
        return starts, ends
    return _merge_chars(starts, ends, np.isin(starts, leads), CJK_CHARS)


def _merge_chars(
    starts: np.ndarray, ends: np.ndarray, cjk: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the tokens with each CJK character replaced by the `width` characters from it.

    A run of CJK characters shorter than `width` becomes one token; the last width-1
    characters of a longer run start no token of their own.
    """
    m = len(starts)
    # Run of CJK characters: consecutive CJK tokens that touch (no separator between).
    joined = np.zeros(m, dtype=bool)
    joined[1:] = cjk[1:] & cjk[:-1] & (starts[1:] == ends[:-1])
    run_id = np.cumsum(~joined) - 1
    run_start = np.flatnonzero(~joined)
    run_len = np.diff(np.append(run_start, m))
    pos = np.arange(m) - run_start[run_id]
    length = run_len[run_id]
    keep = ~cjk | (pos + width <= length) | ((pos == 0) & (length < width))
    last = np.minimum(np.arange(m) + width - 1, run_start[run_id] + length - 1)
    new_ends = np.where(cjk, ends[last], ends)
    return starts[keep], new_ends[keep]


def token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every token of every text in one pass; return (hashes uint64, offsets).

    `offsets` has len(texts) + 1 entries: the tokens of text i are hashes[offsets[i]:
    offsets[i + 1]]. The work is a handful of numpy calls over the batch's bytes, which is
    what makes signatures fast (a Python loop per word runs at ~20 MB/s).
    """
    if kernels.native is not None and CJK_CHARS == 1 and texts:
        return kernels.tokens(_joined_lowered(texts)[0], len(texts))
    b, w, lead = _folded(texts)
    n = len(b)
    if n == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts) + 1, dtype=np.int64)
    starts, ends = _token_spans(b, w, lead)
    h = _mixed_span_hashes(b, starts, ends)
    bounds = np.concatenate(([0], np.flatnonzero(b == 0)))
    offsets = np.searchsorted(starts, bounds).astype(np.int64)
    return h, np.append(offsets, len(starts))


def _mixed_span_hashes(b: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return each token's mixed hash, fmix64(_span_hashes + its length)."""
    n = len(b)
    if n <= HASH_SPAN:
        h = _span_hashes(b, starts, ends)
    else:  # a huge batch (a document of millions of lines): a span of tokens at a time
        h = np.empty(len(starts), dtype=np.uint64)
        cuts = [*np.searchsorted(starts, np.arange(0, n, HASH_SPAN)).tolist(), len(starts)]
        for a, z in itertools.pairwise(cuts):
            if a < z:
                base = int(starts[a])
                h[a:z] = _span_hashes(b[base : ends[z - 1]], starts[a:z] - base, ends[a:z] - base)
    with np.errstate(over="ignore"):
        h = _fmix64_into(h + (ends - starts).astype(np.uint64))
    return h


def _span_hashes(b: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return each token's polynomial hash, sum of b[j] * P^(j - start): a token's own bytes
    only, so the same for any span of `b` that holds it (token_hashes' spans)."""
    n = len(b)
    pw, pinv = _powers(n + 1)
    g = np.empty(n + 1, dtype=np.uint64)
    g[0] = 0
    with np.errstate(over="ignore"):
        np.multiply(b, pw[:n], out=g[1:])  # in place: no uint64 copy of the bytes
        np.cumsum(g[1:], out=g[1:])
        return (g[ends] - g[starts]) * pinv[starts]


def shingle_hashes(
    tokens: np.ndarray, offsets: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Combine the token hashes of each text into k-word shingle hashes (uint32); return offsets.

    A text with fewer than k tokens (but at least one) yields one shingle of all its tokens,
    so short texts still have a signature; an empty text yields none. Shingles never cross
    from one text into the next. Every token's k-token window is summed from k shifted
    slices of the batch (contiguous, no per-shingle gathers), then the windows that start a
    shingle are taken (_starts_shingle); only texts shorter than k are summed apart.
    """
    if not 1 <= k <= len(_SHINGLE_MULT):
        raise ValueError(f"shingle size must be 1..{len(_SHINGLE_MULT)}, got {k}")
    counts = np.diff(offsets)
    n_sh = np.where(counts > 0, np.maximum(counts - k + 1, 1), 0)
    sh_offsets = np.concatenate(([0], np.cumsum(n_sh))).astype(np.int64)
    total = int(sh_offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint32), sh_offsets
    if kernels.native is not None:
        return kernels.shingle_hashes(tokens, offsets, k, _SHINGLE_MULT, total), sh_offsets
    n = len(tokens)
    padded = np.zeros(n + k - 1, dtype=np.uint64)
    padded[:n] = tokens
    with np.errstate(over="ignore"):
        window = padded[:n] * _SHINGLE_MULT[0]
        for j in range(1, k):
            window += padded[j : j + n] * _SHINGLE_MULT[j]
        acc = window[_starts_shingle(offsets, counts, k)]  # a fresh array, in shingle order
        short = np.flatnonzero((counts > 0) & (counts < k))
        if len(short):
            acc[sh_offsets[short]] = _short_windows(tokens, offsets[short], counts[short])
        acc = _fmix64_into(acc)  # a fresh gather: mixed in place
    return acc.astype(np.uint32), sh_offsets


def _starts_shingle(offsets: np.ndarray, counts: np.ndarray, k: int) -> np.ndarray:
    """Tell which tokens start a k-shingle: all but the last k - 1 of each text (of a text
    shorter than k, its first only). One mask over the tokens, set from the texts' ends:
    cheaper than the position of every shingle (a range and a repeat over the shingles)."""
    take = np.ones(int(offsets[-1]), dtype=bool)
    held = counts > 0
    ends, firsts = offsets[1:][held], offsets[:-1][held]
    for j in range(1, k):
        cut = ends - j
        take[cut[cut > firsts]] = False  # not before the text's first token (nor in another)
    return take


def _short_windows(tokens: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return the weighted token sums of texts shorter than a shingle (their one shingle)."""
    acc = np.zeros(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(int(counts.max())):
            has = counts > j
            acc[has] += tokens[starts[has] + j] * _SHINGLE_MULT[j]
    return acc


def words(text: str) -> list[str]:
    """Return the tokens of one text in their matching form (for tests and explanations)."""
    b, w = _token_bytes([text])
    data = b.tobytes()
    starts, ends = _token_spans(b, w)
    return [data[s:e].decode("utf-8", "replace") for s, e in zip(starts, ends, strict=True)]


def fingerprints(tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Return one 64-bit fingerprint per text from its token hashes (0 for a text with no token).

    Two texts get the same fingerprint when their token sequences are equal, which is the
    project's "exact duplicate after normalization". Token j of a text is weighted by
    j * the golden-ratio constant: the global position's multiple (a cached table) less
    that of the text's first token, so no position array is made.
    """
    n = len(offsets) - 1
    counts = np.diff(offsets)
    m = len(tokens)
    if m == 0:
        return np.zeros(n, dtype=np.uint64)
    if kernels.native is not None:
        return kernels.fingerprints(tokens, offsets)
    padded = np.empty(m + 1, dtype=np.uint64)  # a 0 after the last: texts ending there sum it
    padded[m] = 0
    weighted = padded[:m]
    with np.errstate(over="ignore"):
        np.add(tokens, _steps(m), out=weighted)
        weighted -= np.repeat(offsets[:-1].astype(np.uint64) * _GOLDEN, counts)
        _fmix64_into(weighted)
        sums = np.add.reduceat(padded, np.minimum(offsets[:-1], m))
        fp = _fmix64_into(np.where(counts > 0, sums, U64(0)) + counts.astype(np.uint64))
    return np.where(counts > 0, fp | U64(1), U64(0))
