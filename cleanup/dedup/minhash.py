"""Batch MinHash signatures, compatible with datasketch's default ("affine32") scheme.

Given the same 32-bit shingle hashes, `MinHasher(num_perm, seed)` produces exactly the hash
values of `datasketch.MinHash(num_perm, seed)` updated with them (same permutation
parameters drawn from `np.random.RandomState(seed)`, same MurmurHash3 pre-mix, same
`a * h + b mod 2^32`), so a `datasketch.LeanMinHash` built from a row gives the same
Jaccard estimates. The difference is speed: one numpy pass per permutation over all
shingles of a batch of documents instead of one Python call per document or token.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cleanup.dedup import kernels
from cleanup.dedup.shingles import shingle_hashes, token_hashes

U32 = np.uint32
MAX_HASH = np.uint32(0xFFFFFFFF)
PERM_BLOCK = 8  # permutations hashed in one numpy call
BLOCK_VALUES = 1 << 24  # at most this many hash values in one call's block (64 MiB)


def fmix32(h: np.ndarray) -> np.ndarray:
    """Mix 32-bit hashes with MurmurHash3's finalizer (datasketch's pre-mix)."""
    h = h ^ (h >> U32(16))
    h = h * U32(0x85EBCA6B)
    h = h ^ (h >> U32(13))
    h = h * U32(0xC2B2AE35)
    return h ^ (h >> U32(16))


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw the (a, b) permutation parameters exactly as datasketch 2.x does for affine32."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * U32(2) + U32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class MinHasher:
    """Compute MinHash signatures of many texts at once.

    Signatures are uint32 arrays of shape (n_texts, num_perm); a text without any token
    gets the all-max "empty" signature, which datasketch also uses.
    """

    def __init__(self, num_perm: int = 128, seed: int = 1, shingle_size: int = 3) -> None:
        if num_perm < 1:
            raise ValueError("num_perm must be positive")
        self.num_perm = num_perm
        self.seed = seed
        self.shingle_size = shingle_size
        self.a, self.b = permutations(num_perm, seed)

    def from_hashes(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Return signatures from 32-bit shingle hashes grouped by `offsets` (len n + 1)."""
        if kernels.native is not None:
            return kernels.minhash(
                fmix32(hashes.astype(np.uint32, copy=False)), offsets, self.a, self.b
            )
        n = len(offsets) - 1
        sig = np.full((n, self.num_perm), MAX_HASH, dtype=np.uint32)
        counts = np.diff(offsets)
        nonempty = np.flatnonzero(counts > 0)
        if len(nonempty) == 0:
            return sig
        hv = fmix32(hashes.astype(np.uint32, copy=False))
        starts = offsets[:-1][nonempty]
        # A few permutations per numpy call, as rows of one block: fewer calls and passes than
        # one permutation at a time (~1.15x), with the block bounded for very long texts.
        step = max(1, min(PERM_BLOCK, BLOCK_VALUES // max(len(hv), 1)))
        block = np.empty((step, len(hv)), dtype=np.uint32)
        out = np.empty((self.num_perm, len(nonempty)), dtype=np.uint32)
        with np.errstate(over="ignore"):
            for p in range(0, self.num_perm, step):
                rows = block[: min(step, self.num_perm - p)]
                np.multiply(hv[None, :], self.a[p : p + len(rows), None], out=rows)
                rows += self.b[p : p + len(rows), None]
                np.minimum.reduceat(rows, starts, axis=1, out=out[p : p + len(rows)])
        sig[nonempty] = out.T
        return sig

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """Return the signatures of `texts` (word shingles of `shingle_size` words)."""
        tokens, offsets = token_hashes(texts)
        hashes, sh_offsets = shingle_hashes(tokens, offsets, self.shingle_size)
        return self.from_hashes(hashes, sh_offsets)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Estimate Jaccard similarity from signatures: the share of equal hash values.

    Works row-wise on 2-D arrays (one estimate per pair of rows).
    """
    eq = a == b
    if eq.ndim == 1:
        return float(eq.mean())
    return eq.mean(axis=1)
