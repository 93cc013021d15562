"""Dedup's tokenizer, shingles, paragraph features and in-document dedup as they were before.

A frozen copy of the earlier code (cleanup/dedup/shingles.py, paragraphs.py and jobs.py at
the commit before issue 18's dedup speed-up, 2b1f39e), so tests can check that the faster
code gives exactly the same hashes, shingles, fingerprints, features, suspects and edits.
find_duplicates and detail_of are the frozen copies of tests/paragraphs_reference.py; the
byte helpers the one-pass tokenizer replaced (_lower_utf8, _changes_case, _cjk_leads) and
the hash mixing and fingerprints (fmix64, fingerprints) are frozen here as they were at
129f23d, and the removal of paragraphs one Edit at a time (remove_paragraphs) as at b144f35.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from paragraphs_reference import detail_of, find_duplicates

from cleanup.dedup.jobs import STEP, Removals
from cleanup.dedup.paragraphs import WHY, BatchFeatures, ParagraphFeatures
from cleanup.dedup.settings import ParagraphSettings
from cleanup.dedup.shingles import (
    _CLASS,
    _DELETE_2,
    _DELETE_3,
    _SHINGLE_MULT,
    CJK_CHARS,
    DELETE,
    SEP,
    U64,
    WORD,
    _following,
    _merge_chars,
    _powers,
)
from cleanup.document import Document, Edit


def fmix64(h: np.ndarray) -> np.ndarray:
    """Mix 64-bit hashes (MurmurHash3 finalizer), as at 129f23d."""
    h = h ^ (h >> U64(33))
    h = h * U64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> U64(33))
    h = h * U64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> U64(33))


def fingerprints(tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Return one 64-bit fingerprint per text from its token hashes, as at 129f23d."""
    n = len(offsets) - 1
    counts = np.diff(offsets)
    if len(tokens) == 0:
        return np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        idx = np.arange(len(tokens)) - np.repeat(offsets[:-1], counts)
        weighted = fmix64(tokens + idx.astype(np.uint64) * U64(0x9E3779B97F4A7C15))
        padded = np.concatenate((weighted, [U64(0)]))
        sums = np.add.reduceat(padded, np.minimum(offsets[:-1], len(tokens)))
        fp = fmix64(np.where(counts > 0, sums, U64(0)) + counts.astype(np.uint64))
    return np.where(counts > 0, fp | U64(1), U64(0))


def _lower_utf8(text: str) -> bytes:
    """Return `text.lower()` encoded as UTF-8 (surrogates passed through), as at 129f23d."""
    raw = text.encode("utf-8", "surrogatepass")
    if text.isascii() or not _changes_case(raw):
        return raw.lower()
    return text.lower().encode("utf-8", "surrogatepass")


def _changes_case(raw: bytes) -> bool:
    """Tell whether lower() changes any non-ASCII character of this UTF-8 text."""
    b = np.frombuffer(raw, dtype=np.uint8)
    lead = np.flatnonzero(b >= 0xC0)
    if len(lead) == 0:
        return False
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


def _cjk_leads(b: np.ndarray) -> np.ndarray:
    """Return the positions of the first bytes of characters of scripts written without spaces."""
    lead = np.flatnonzero((b >= 0xE0) & (b <= 0xEF))
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


def classify(b: np.ndarray) -> np.ndarray:
    """Return the class (SEP, WORD, DELETE) of every byte of lowercased UTF-8 text.

    The multi-byte rules are tested only at the bytes that can lead a listed character
    (>= 0xC2, a few per cent of news text), not over the whole batch.
    """
    cls = _CLASS[b]
    lead = np.flatnonzero(b >= 0xC2)
    if len(lead) == 0:
        return cls
    b0, c1, c2 = b[lead], _following(b, lead, 1), _following(b, lead, 2)
    is2 = (b0 == 0xC2) & (c1 >= 0xA0) & (c1 <= 0xBF)
    lead2 = lead[is2]
    if len(lead2):
        mark = np.full(len(lead2), SEP, dtype=np.uint8)
        for x, y in _DELETE_2:
            mark[(b0[is2] == x) & (c1[is2] == y)] = DELETE
        cls[lead2] = mark
        cls[lead2 + 1] = mark
    is3 = (
        ((b0 == 0xE2) & ((c1 == 0x80) | (c1 == 0x81)))
        | ((b0 == 0xE2) & (c1 == 0x88) & (c2 == 0x92))
        | ((b0 == 0xE3) & (c1 == 0x80))
        | ((b0 == 0xEF) & (c1 == 0xBB) & (c2 == 0xBF))
    )
    lead3 = lead[is3]
    if len(lead3):
        mark3 = np.full(len(lead3), SEP, dtype=np.uint8)
        for x, y, z in _DELETE_3:
            mark3[(b0[is3] == x) & (c1[is3] == y) & (c2[is3] == z)] = DELETE
        cls[lead3] = mark3
        cls[lead3 + 1] = mark3
        cls[lead3 + 2] = mark3
    return cls


def _token_bytes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the batch's folded bytes (deleted bytes gone) and which of them are word bytes.

    Texts are joined with NUL, which is never a word byte, so it separates texts and tokens.
    """
    data = "\x00".join(t.replace("\x00", " ") for t in texts)
    b = np.frombuffer(_lower_utf8(data), dtype=np.uint8)
    cls = classify(b)
    keep = cls != DELETE
    if not keep.all():
        b, cls = b[keep], cls[keep]
    return b, cls == WORD


def _runs(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return start and end positions of the runs of True in `w`."""
    edge = np.diff(np.concatenate(([False], w, [False])).astype(np.int8))
    return np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)


def _token_spans(b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return start and end byte positions of the tokens: runs of word bytes, split per character
    in scripts written without spaces (then every CJK_CHARS consecutive characters of one run
    make a token, so a document's k-shingles there are character (CJK_CHARS + k - 1)-grams).

    Text with no such character gives exactly the runs of word bytes, so nothing changes for
    it; mixed text is split per run, so each paragraph's spaced words stay words.
    """
    leads = _cjk_leads(b)
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


def token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hash every token of every text in one pass; return (hashes uint64, offsets).

    `offsets` has len(texts) + 1 entries: the tokens of text i are hashes[offsets[i]:
    offsets[i + 1]]. The work is a handful of numpy calls over the batch's bytes, which is
    what makes signatures fast (a Python loop per word runs at ~20 MB/s).
    """
    b, w = _token_bytes(texts)
    n = len(b)
    if n == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(len(texts) + 1, dtype=np.int64)
    starts, ends = _token_spans(b, w)
    pw, pinv = _powers(n + 1)
    with np.errstate(over="ignore"):
        g = np.empty(n + 1, dtype=np.uint64)
        g[0] = 0
        np.cumsum(b.astype(np.uint64) * pw[:n], out=g[1:])
        h = (g[ends] - g[starts]) * pinv[starts]
        h = fmix64(h + (ends - starts).astype(np.uint64))
    bounds = np.concatenate(([0], np.flatnonzero(b == 0)))
    offsets = np.searchsorted(starts, bounds).astype(np.int64)
    return h, np.append(offsets, len(starts))


def shingle_hashes(
    tokens: np.ndarray, offsets: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Combine the token hashes of each text into k-word shingle hashes (uint32); return offsets.

    A text with fewer than k tokens (but at least one) yields one shingle of all its tokens,
    so short texts still have a signature; an empty text yields none. Shingles never cross
    from one text into the next.
    """
    if not 1 <= k <= len(_SHINGLE_MULT):
        raise ValueError(f"shingle size must be 1..{len(_SHINGLE_MULT)}, got {k}")
    counts = np.diff(offsets)
    n_sh = np.where(counts > 0, np.maximum(counts - k + 1, 1), 0)
    sh_offsets = np.concatenate(([0], np.cumsum(n_sh))).astype(np.int64)
    total = int(sh_offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint32), sh_offsets
    doc_of = np.repeat(np.arange(len(counts)), n_sh)
    pos = np.arange(total) - sh_offsets[doc_of] + offsets[:-1][doc_of]
    end = offsets[1:][doc_of]
    acc = np.zeros(total, dtype=np.uint64)
    padded = np.concatenate((tokens, np.zeros(k, dtype=np.uint64)))
    with np.errstate(over="ignore"):
        for j in range(k):
            idx = pos + j
            val = padded[idx] if j == 0 else np.where(idx < end, padded[idx], U64(0))
            acc += val * _SHINGLE_MULT[j]
        acc = fmix64(acc)
    return acc.astype(np.uint32), sh_offsets


def features_batch(
    docs: Sequence[Sequence[str]], settings: ParagraphSettings | None = None
) -> BatchFeatures:
    """Compute paragraph features for many documents in one numpy pass (batches are fast).

    Also tells, for the whole batch at once, which documents may hold a duplicate: an
    exact repeat, or a long paragraph whose shingles mostly recur in other paragraphs of
    its document. Only those go through find_duplicates' Python code; for the others (most
    documents) nothing runs per document.
    """
    settings = settings or ParagraphSettings()
    shingle_size = settings.shingle_size
    flat = [p for paras in docs for p in paras]
    tokens, offsets = token_hashes(flat)
    fps = fingerprints(tokens, offsets)
    nwords = np.diff(offsets)
    sh, sh_off = shingle_hashes(tokens, offsets, shingle_size)
    # Unique shingles per paragraph, for the whole batch at once: sort by (paragraph, hash).
    para_of = np.repeat(np.arange(len(flat), dtype=np.uint64), np.diff(sh_off))
    # Stable: values sorted in runs by paragraph sort ~3x faster than with quicksort.
    combined = np.sort((para_of << np.uint64(32)) | sh.astype(np.uint64), kind="stable")
    fresh = np.ones(len(combined), dtype=bool)
    fresh[1:] = combined[1:] != combined[:-1]
    combined = combined[fresh]
    ush = (combined & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    upara = (combined >> np.uint64(32)).astype(np.int64)
    bounds = np.searchsorted(upara, np.arange(len(flat) + 1)).tolist()
    n_par = np.array([len(p) for p in docs], dtype=np.int64)
    suspect = _suspects(fps, nwords, upara, ush, n_par, settings)
    out: list[ParagraphFeatures] = []
    firsts = [0]
    start = 0
    for k, paras in enumerate(docs):
        end = start + len(paras)
        sets = [ush[bounds[i] : bounds[i + 1]] for i in range(start, end)] if suspect[k] else []
        out.append(ParagraphFeatures(fps[start:end], nwords[start:end], sets))
        firsts.append(end)
        start = end
    kept = np.ones(len(flat), dtype=bool)
    # The earlier code compared shingles in every suspect document: all were "near".
    return BatchFeatures(tokens, offsets, firsts, out, kept, suspect, sh, sh_off, suspect)


def _suspects(
    fps: np.ndarray,
    nwords: np.ndarray,
    upara: np.ndarray,
    ush: np.ndarray,
    n_par: np.ndarray,
    settings: ParagraphSettings,
) -> np.ndarray:
    """Flag documents that may hold duplicate paragraphs (a superset of those that do)."""
    doc_of_para = np.repeat(np.arange(len(n_par), dtype=np.uint64), n_par)
    suspect = np.zeros(len(n_par), dtype=bool)
    with np.errstate(over="ignore"):
        live = fps != 0
        keyed = fmix64(fps[live] ^ (doc_of_para[live] * np.uint64(0x9E3779B97F4A7C15)))
        _, first, counts = np.unique(keyed, return_index=True, return_counts=True)
        suspect[doc_of_para[live][first[counts > 1]].astype(np.int64)] = True
        long = (nwords >= settings.min_words) & live
        pick = long[upara]
        if not pick.any():
            return suspect
        para = upara[pick]
        pair = (doc_of_para[para] << np.uint64(32)) | ush[pick].astype(np.uint64)
        order = np.argsort(pair, kind="stable")
        spair = pair[order]
        start = np.ones(len(spair), dtype=bool)
        start[1:] = spair[1:] != spair[:-1]
        run_id = np.cumsum(start) - 1
        run_len = np.bincount(run_id)
        shared = np.empty(len(spair), dtype=bool)
        shared[order] = run_len[run_id] > 1
    size = np.bincount(para, minlength=len(fps))
    hits = np.bincount(para, weights=shared, minlength=len(fps))
    coverage = np.divide(hits, size, out=np.zeros(len(fps)), where=size > 0)
    near = coverage >= settings.threshold
    suspect[doc_of_para[near].astype(np.int64)] = True
    return suspect


def remove_paragraphs(doc: Document, removals: Removals) -> None:
    """Remove paragraphs by original index (jobs.remove_paragraphs as at b144f35: apply of
    one Edit.removal per paragraph)."""
    doc.apply(
        Edit.removal(STEP, rule, i, doc.paragraphs[i], why, detail)
        for i, (rule, why, detail) in sorted(removals.items())
    )


def dedup_paragraphs_batch(
    docs: list[Document], settings: ParagraphSettings, enabled: bool = True
) -> BatchFeatures:
    """Remove duplicate paragraphs inside each document of a batch; return the batch's features.

    Dropped documents are passed over (their features are computed but nothing is removed).
    The returned features describe the paragraphs as they were before removal; `kept`
    tells, per paragraph, whether it is still there.
    """
    feats = features_batch([d.paragraphs for d in docs], settings)
    for k, (doc, feat) in enumerate(zip(docs, feats.docs, strict=True)):
        if not enabled or doc.dropped is not None or not feats.suspect[k]:
            continue
        dups = find_duplicates(feat, settings)
        if dups:
            remove_paragraphs(
                doc, {d.index: (d.rule, WHY[d.rule], detail_of(d, doc.paragraphs)) for d in dups}
            )
            first = feats.first_paragraph[k]
            feats.kept[[first + d.index for d in dups]] = False
    return feats
