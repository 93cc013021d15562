"""Dedup's compact id list gives back exactly the strings put in (dedup/names.py)."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleanup.dedup import names as names_mod
from cleanup.dedup.names import Joined, Names

ANY_TEXT = st.text(st.characters(codec=None, blacklist_categories=()), max_size=12)


@given(st.lists(ANY_TEXT, max_size=30), st.lists(ANY_TEXT, max_size=30))
def test_names_read_back_as_put_lone_surrogates_and_all(first: list[str], more: list[str]) -> None:
    names = Names(first)
    names.extend(more)
    want = first + more
    assert len(names) == len(want)
    assert list(names) == want
    assert [names[i] for i in range(-len(want), 0)] == want
    assert names[1:4] == want[1:4]


def test_lone_surrogates_and_empty_ids_survive() -> None:
    names = Names(["", "a\ud800b", "日本", ""])
    assert list(names) == ["", "a\ud800b", "日本", ""]
    with pytest.raises(IndexError):
        names[4]


@given(st.lists(ANY_TEXT, max_size=10), st.lists(ANY_TEXT, max_size=10))
def test_joined_reads_the_first_then_the_second(first: list[str], second: list[str]) -> None:
    joined = Joined(Names(first), second)
    assert len(joined) == len(first) + len(second)
    assert list(joined) == first + second
    assert [joined[i] for i in range(-len(joined), 0)] == first + second


@given(
    st.lists(st.lists(ANY_TEXT, max_size=8), max_size=8),
    st.integers(0, 40),
    st.integers(1, 40),
    st.integers(1, 5),
    st.randoms(use_true_random=False),
)
def test_names_spilled_to_a_file_read_back_in_order_and_by_index(
    batches: list[list[str]], memory: int, chunk: int, window: int, rnd: random.Random
) -> None:
    want = [name for batch in batches for name in batch]
    with (
        mock.patch.object(names_mod, "BLOB_MEMORY", memory),
        mock.patch.object(names_mod, "READ_CHUNK", chunk),
        mock.patch.object(names_mod, "ENDS_WINDOW", window),
    ):
        names = Names()
        for batch in batches:
            names.extend(batch)
        try:
            assert list(names) == want
            assert [names[i] for i in range(len(want))] == want
            asked = [rnd.randrange(len(want)) for _ in want]  # out of order: windows move
            assert [names[i] for i in asked] == [want[i] for i in asked]
            assert len(names._blob) <= memory  # the rest went to the file, their ends too
            assert len(names._ends) + names._flushed_ids == len(want)
        finally:
            names.close()
