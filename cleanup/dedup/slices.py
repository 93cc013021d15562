"""The (site, paragraph) keys of every document, dealt into slices of the key space.

Boilerplate counting (cleanup/dedup/decide.py, `count_distinct`) counts the distinct texts
holding each key one slice of the key space at a time, so its sorting temporaries hold a
slice, not every paragraph of the corpus. Keys in memory are sliced as they are; keys on
disk (cleanup/dedup/boilerkeys.py) are read once, each block's keys dealt to their slices
with their document's fingerprint, and each slice is read back in turn: one pass over the
keys however many slices, and the working set stays near PART_KEYS keys as the corpus
grows. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from cleanup.dedup.boilerkeys import BoilerKeys
from cleanup.dedup.rowfile import RowFile

# Keys counted at once, about: the counting's temporaries take ~40 bytes a key (~10 MiB).
PART_KEYS = 1 << 18


def key_slices(
    keys: np.ndarray | BoilerKeys, ends: np.ndarray, fps: np.ndarray, mask: np.ndarray, parts: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield, slice by slice of the key space (by the keys' top bits), the non-zero keys of
    the masked documents and the fingerprint of each key's document.

    The slices are at least `parts`, more for many keys (about PART_KEYS keys each), rounded
    up to a power of two; `ends[i]` is where document i's keys end.
    """
    parts = max(parts, -(-len(keys) // PART_KEYS))
    bits = max(1, (parts - 1).bit_length())
    shift = np.uint64(64 - bits)
    if isinstance(keys, BoilerKeys):
        yield from _dealt(keys, ends, fps, mask, shift, 1 << bits)
        return
    top = keys >> shift
    for part in range(1 << bits):
        idx = np.flatnonzero(top == part)
        yield _owned(keys[idx], idx, ends, fps, mask)


def _owned(
    k: np.ndarray, idx: np.ndarray, ends: np.ndarray, fps: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the keys (at key positions `idx`) of masked documents, non-zero, with the
    fingerprint of their document."""
    doc = np.searchsorted(ends, idx, side="right")
    take = mask[doc] & (k != 0)
    return k[take], fps[doc[take]]


def _dealt(
    keys: BoilerKeys,
    ends: np.ndarray,
    fps: np.ndarray,
    mask: np.ndarray,
    shift: np.uint64,
    parts: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Deal every block of keys on disk to its slices in two temporary files (keys, owners),
    then yield each slice's runs read back together."""
    dealt_keys, dealt_owners = RowFile(1, np.uint64), RowFile(1, np.uint64)
    runs: list[list[tuple[int, int]]] = [[] for _ in range(parts)]  # (first row, rows)
    try:
        for start, block in _sub_blocks(keys):
            k, own = _owned(block, np.arange(start, start + len(block)), ends, fps, mask)
            top = (k >> shift).astype(np.int64)
            order = np.argsort(top, kind="stable")
            bounds = np.searchsorted(top[order], np.arange(parts + 1)).tolist()
            first = len(dealt_keys)
            dealt_keys.append(k[order])
            dealt_owners.append(own[order])
            for part in range(parts):
                if bounds[part + 1] > bounds[part]:
                    runs[part].append((first + bounds[part], bounds[part + 1] - bounds[part]))
        for part_runs in runs:
            if not part_runs:
                continue
            yield (
                np.concatenate([dealt_keys.span(a, n).reshape(-1) for a, n in part_runs]),
                np.concatenate([dealt_owners.span(a, n).reshape(-1) for a, n in part_runs]),
            )
    finally:
        dealt_keys.close()
        dealt_owners.close()


def _sub_blocks(keys: BoilerKeys) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first key, keys) in runs of at most PART_KEYS keys: dealing a run takes ~60
    bytes a key of temporaries, so they stay near a slice's size, not a read block's."""
    for start, block in keys.blocks():
        for at in range(0, len(block), PART_KEYS):
            yield start + at, block[at : at + PART_KEYS]
