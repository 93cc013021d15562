"""Give freed memory back to the system while dedup decides (glibc only; elsewhere nothing).

The decisions allocate and free many corpus-sized arrays. glibc serves an allocation from
its heap once a freed block of that size has raised its dynamic mmap threshold (up to 32
MiB), and a heap fragmented by the read pass's small objects keeps those pages: at 300,000
documents the driver's RSS stayed 130 MiB above what it held. So the decisions start by
trimming the heap (at 1,000,000 documents the read pass leaves ~80 MiB of free pages in it),
and a fixed threshold maps every large array on its own, so freeing it returns its pages.
The write pass that follows allocates per batch, and mapping each of those arrays costs page
faults (about 10% of a small run's CPU), so `end_of_decisions` trims the heap's free pages,
then raises the threshold to glibc's own ceiling (32 MiB): batch-sized arrays come from the
heap again. Batch work that runs in this process during the decisions (signing without
boilerplate, building candidates' shingle sets, with a local executor) allocates and frees
batch-sized arrays by the thousand: mapping each one cost a third of a 10,000-document
run's page faults and ~20% of its CPU, so it runs inside `batch_work`, which serves them
from the heap and trims it after. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

M_MMAP_THRESHOLD = -3  # from <malloc.h>
MMAP_THRESHOLD = 64 << 10
HEAP_THRESHOLD = 32 << 20  # glibc's largest dynamic threshold on 64-bit systems


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt  # noqa: B018  (glibc's; musl has none)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


def map_large_arrays() -> None:
    """Give back the free pages the read pass left in the heap, then serve allocations of
    64 KiB and more by mmap from now on (freed: given back at once)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def end_of_decisions() -> None:
    """Give the heap's free pages back to the system; serve arrays up to 32 MiB from the heap."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
        libc.mallopt(M_MMAP_THRESHOLD, HEAP_THRESHOLD)


@contextmanager
def batch_work() -> Iterator[None]:
    """Serve arrays up to 32 MiB from the heap inside the block (batch-sized temporaries, made
    and freed many times), then give the freed pages back and map large arrays again.

    Only for work whose arrays are batch-sized or freed before it ends: a corpus-sized
    array made inside would stay in the heap.
    """
    libc = _libc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, HEAP_THRESHOLD)
    try:
        yield
    finally:
        if libc is not None:
            libc.malloc_trim(0)
            libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
