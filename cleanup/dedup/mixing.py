"""The numbers behind dedup's hashes: MurmurHash3's 64-bit finalizer over numpy arrays, and the
cached tables of powers the token and fingerprint hashes use (cleanup/dedup/shingles.py)."""

from __future__ import annotations

import numpy as np

U64 = np.uint64
_P = U64(0x100000001B3)  # FNV-64 prime: odd, so invertible mod 2^64
_P_INV = U64(pow(0x100000001B3, -1, 1 << 64))
_GOLDEN = U64(0x9E3779B97F4A7C15)  # weights a token by its position in fingerprints

_powers_cache: dict[str, np.ndarray] = {}


def fmix64(h: np.ndarray) -> np.ndarray:
    """Mix 64-bit hashes (MurmurHash3 finalizer) so low bits depend on every input bit."""
    return _fmix64_into(np.array(h, dtype=np.uint64))


def _fmix64_into(h: np.ndarray) -> np.ndarray:
    """Mix the uint64 array `h` in place (fmix64 without a new array per step); return it."""
    t = np.empty_like(h)
    with np.errstate(over="ignore"):
        for mult in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0):
            np.right_shift(h, U64(33), out=t)
            h ^= t
            if mult:
                h *= U64(mult)
    return h


def _steps(n: int) -> np.ndarray:
    """Return i * the golden-ratio constant mod 2^64 for i < n (cached and grown)."""
    have = _powers_cache.get("steps")
    if have is None or len(have) < n:
        size = max(n, 1 << 20, 0 if have is None else 2 * len(have))
        with np.errstate(over="ignore"):
            _powers_cache["steps"] = np.arange(size, dtype=np.uint64) * _GOLDEN
    return _powers_cache["steps"][:n]


def _power_table(base: int, n: int) -> np.ndarray:
    """Return base^i mod 2^64 for i < n, by doubling (log2(n) vector multiplies, no cumprod)."""
    out = np.empty(max(n, 1), dtype=np.uint64)
    out[0] = 1
    have = 1
    step = U64(base)
    with np.errstate(over="ignore"):
        while have < n:
            take = min(have, n - have)
            out[have : have + take] = out[:take] * step
            have += take
            step = step * step
    return out[:n]


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return P^i and P^-i mod 2^64 for i < n (cached and grown, since batches repeat sizes)."""
    have = _powers_cache.get("p")
    if have is None or len(have) < n:
        size = max(n, 1 << 20, 0 if have is None else 2 * len(have))
        _powers_cache["p"] = _power_table(int(_P), size)
        _powers_cache["q"] = _power_table(int(_P_INV), size)
    return _powers_cache["p"][:n], _powers_cache["q"][:n]
