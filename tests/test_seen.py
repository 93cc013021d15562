"""The compact key set (cleanup/seen.py) tells what a Python set tells, and the run's summary
counts duplicate ids as before however its ids are batched."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup import summary as summary_module
from cleanup.seen import SeenKeys
from cleanup.summary import DUPLICATE_EXAMPLES, Summary
from cleanup.tally import Tally

keys = st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3)  # crowded values too


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(keys, max_size=12), max_size=40))
def test_seen_keys_answer_as_a_set_does(batches: list[list[int]]) -> None:
    seen = SeenKeys()
    reference: set[int] = set()
    for batch in batches:
        expect = []
        for key in batch:
            expect.append(key in reference)
            reference.add(key)
        assert seen.add(np.array(batch, dtype=np.int64)).tolist() == expect
    assert len(seen) == len(reference)
    for run in seen.runs:  # sorted and unique, and no key in two runs
        assert (run[1:] > run[:-1]).all()
    assert sorted(np.concatenate(seen.runs).tolist() if seen.runs else []) == sorted(reference)
    assert len(seen.runs) <= math.log2(len(reference) + 1) + 1  # the runs stay few


def _reference(ids: list[str]) -> tuple[int, list[str]]:
    seen: set[str] = set()
    count, examples = 0, []
    for ident in ids:
        if ident in seen:
            count += 1
            if len(examples) < DUPLICATE_EXAMPLES and ident not in examples:
                examples.append(ident)
        seen.add(ident)
    return count, examples


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([f"id{i}" for i in range(15)]), max_size=60),
    st.integers(1, 7),
    st.lists(st.integers(0, 8), max_size=10),
)
def test_the_summary_counts_duplicate_ids_in_order_however_they_come(
    ids: list[str], pending: int, cuts: list[int]
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(summary_module, "PENDING_IDS", pending)
        summary = Summary()
        rest = list(ids)
        for cut in cuts:  # some ids one by one, some in a worker's batch
            for ident in rest[:cut]:
                summary.note_explicit_id(ident)
            rest = rest[cut:]
            summary.merge(Tally(ids=rest[:cut]))
            rest = rest[cut:]
        for ident in rest:
            summary.note_explicit_id(ident)
        summary.flush_ids()
    assert (summary.duplicate_ids, summary.duplicate_id_examples) == _reference(ids)
