"""Dedup's heap settings: batch work in the decisions allocates from the heap, then maps again."""

from __future__ import annotations

from typing import Any

import pytest

from cleanup.dedup import heap


class FakeLibc:
    """Record the mallopt and malloc_trim calls made, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append(("mallopt", (param, value)))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.calls.append(("malloc_trim", pad))
        return 1


def test_batch_work_serves_the_heap_then_trims_and_maps_large_arrays_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_libc", lambda: libc)
    with heap.batch_work():
        assert libc.calls == [("mallopt", (heap.M_MMAP_THRESHOLD, heap.HEAP_THRESHOLD))]
    assert libc.calls[1:] == [
        ("malloc_trim", 0),
        ("mallopt", (heap.M_MMAP_THRESHOLD, heap.MMAP_THRESHOLD)),
    ]


def test_batch_work_maps_large_arrays_again_when_the_work_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_libc", lambda: libc)
    with pytest.raises(RuntimeError), heap.batch_work():
        raise RuntimeError("a batch failed")
    assert libc.calls[-1] == ("mallopt", (heap.M_MMAP_THRESHOLD, heap.MMAP_THRESHOLD))


def test_batch_work_runs_on_this_system_whatever_its_libc() -> None:
    with heap.batch_work():
        data = bytearray(1 << 20)  # a batch-sized allocation inside
    assert len(data) == 1 << 20
