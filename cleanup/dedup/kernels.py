"""The compiled dedup kernels, when the install built them (docs/architecture.md, "Dedup kernels").

`native` is the C module `cleanup.dedup._kernels`, or None where it was not built (no C
compiler at install time); the callers then run their numpy code, which gives the same
values. These wrappers only make the arrays the C code takes.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

native: ModuleType | None
try:
    native = importlib.import_module("cleanup.dedup._kernels")
except ImportError:  # pragma: no cover - an install without a C compiler
    native = None


def minhash(hashes: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return MinHash rows (len(offsets) - 1, len(a)) of the mixed uint32 `hashes`."""
    assert native is not None  # the callers test kernels.native first
    out = np.empty((len(offsets) - 1, len(a)), dtype=np.uint32)
    native.minhash(
        np.ascontiguousarray(hashes, dtype=np.uint32),
        np.ascontiguousarray(offsets, dtype=np.int64),
        np.ascontiguousarray(a, dtype=np.uint32),
        np.ascontiguousarray(b, dtype=np.uint32),
        out,
    )
    return out


def shingle_hashes(
    tokens: np.ndarray, offsets: np.ndarray, k: int, mult: np.ndarray, total: int
) -> np.ndarray:
    """Return the `total` k-token shingle hashes of the texts (shingles.shingle_hashes)."""
    assert native is not None  # the callers test kernels.native first
    out = np.empty(total, dtype=np.uint32)
    native.shingle_hashes(
        np.ascontiguousarray(tokens, dtype=np.uint64),
        np.ascontiguousarray(offsets, dtype=np.int64),
        k,
        np.ascontiguousarray(mult, dtype=np.uint64),
        out,
    )
    return out


def fingerprints(tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Return one fingerprint per text from its token hashes (shingles.fingerprints)."""
    assert native is not None  # the callers test kernels.native first
    out = np.empty(len(offsets) - 1, dtype=np.uint64)
    native.fingerprints(
        np.ascontiguousarray(tokens, dtype=np.uint64),
        np.ascontiguousarray(offsets, dtype=np.int64),
        out,
    )
    return out


def tokens(lowered: bytes, texts: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the token hashes of `texts` texts, lowercased, encoded and joined by NUL, and
    their offsets (shingles.token_hashes)."""
    assert native is not None  # the callers test kernels.native first
    hashes, offsets = native.tokens(lowered, texts)
    return np.frombuffer(hashes, dtype=np.uint64), np.frombuffer(offsets, dtype=np.int64)
