"""State lookups by partition (cleanup/dedup/lookup.py) find what the one-process lookup finds,
and a SQLite state is refused when the workers run on several machines."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from servers import fresh_redis_db

from cleanup.dedup.bandfile import BandFile
from cleanup.dedup.lookup import check_shared, state_candidates
from cleanup.dedup.state import open_store
from cleanup.dedup.store import NewEntry, Staged
from cleanup.document import Document
from cleanup.engines.ray import machines
from cleanup.errors import UsageProblem
from cleanup.executor import LocalExecutor
from cleanup.pipeline import Context
from cleanup.steps.dedup import dedup_stream

BANDS, ROWS, PERM = 6, 2, 12


class _Partitions(LocalExecutor):
    """Run partitions here, recording what they were given."""

    def __init__(self, machines: int = 1) -> None:
        self.calls: list[tuple[str, int]] = []
        self.machines = machines

    def map_partitions(
        self, fn: Callable[..., Any], shared: Sequence[Any], parts: int
    ) -> list[Any]:
        self.calls.append((fn.__name__, parts))
        return super().map_partitions(fn, shared, parts)


def _store_with_entries(location: str, keys: np.ndarray) -> None:
    """Commit one entry per row of `keys` (its band keys) to a fresh state."""
    settings = {"bands": BANDS, "rows": ROWS, "num-perm": PERM}
    entries = [
        NewEntry(f"e{i}", f"e{i}", True, i + 1, 10, np.zeros(PERM, np.uint32), row)
        for i, row in enumerate(keys)
    ]
    store = open_store(location)
    try:
        store.commit(Staged(run_id="r1", entries=entries, docs=len(entries)), settings)
    finally:
        store.close()


def _expected(stored: np.ndarray, asked: np.ndarray, valid: np.ndarray) -> list[int]:
    """Return the rows of `stored` sharing a band key with a valid row of `asked` (brute force)."""
    wanted = set(asked[valid].ravel().tolist())
    return [i for i, row in enumerate(stored) if wanted & set(row.tolist())]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_partitions_find_the_entries_the_driver_finds(
    kind: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    rng = np.random.default_rng(7)
    for case in range(12):
        location = (
            str(tmp_path / f"s{case}.sqlite")
            if kind == "sqlite"
            else fresh_redis_db(request.getfixturevalue("redis_server"))
        )
        stored = rng.integers(1, 60, size=(int(rng.integers(1, 25)), BANDS)).astype(np.uint64)
        _store_with_entries(location, stored)
        n = int(rng.integers(1, 30))
        asked = rng.integers(1, 120, size=(n, BANDS)).astype(np.uint64)
        valid = rng.random(n) < 0.7
        folder = tempfile.mkdtemp(dir=tmp_path)
        keys = BandFile(n, BANDS, folder)
        keys.put(0, asked)
        store = open_store(location)  # the driver holds the lock; tasks read without it
        try:
            here = state_candidates(store, keys, valid)
            executor = _Partitions()
            parts = int(rng.integers(2, 8))  # more parts than bands too
            spread = state_candidates(store, keys, valid, executor, parts)
        finally:
            store.close()
            keys.close()
        handles = open_store(location, create=False, lock=False)
        try:
            ids = handles.fetch(spread, PERM).ids
        finally:
            handles.close()
        assert spread.tolist() == here.tolist()
        assert executor.calls == [("partition_candidates", parts)]  # it did go by partition
        assert sorted(int(i[1:]) for i in ids) == _expected(stored, asked, valid)
        assert os.listdir(folder) == []


def test_keys_in_memory_are_looked_up_here(tmp_path: Any) -> None:
    location = str(tmp_path / "s.sqlite")
    stored = np.arange(1, 1 + 3 * BANDS, dtype=np.uint64).reshape(3, BANDS)
    _store_with_entries(location, stored)
    keys = BandFile(2, BANDS)  # an anonymous file: no worker can read it
    keys.put(0, stored[[0, 2]])
    executor = _Partitions()
    store = open_store(location)
    try:
        found = state_candidates(store, keys, np.array([True, True]), executor, 3)
    finally:
        store.close()
        keys.close()
    assert len(found) == 2
    assert executor.calls == []


def test_a_sqlite_state_is_refused_on_several_machines() -> None:
    check_shared("state.sqlite", 1)
    check_shared("redis://10.0.0.1:6379/0", 4)
    with pytest.raises(UsageProblem, match=r"--state state.sqlite: .*has 2; use a Redis state"):
        check_shared("state.sqlite", 2)


def test_ray_nodes_on_one_address_are_one_machine() -> None:
    one = [{"NodeManagerAddress": "127.0.0.1"}, {"NodeManagerAddress": "127.0.0.1"}]
    assert machines(one) == 1
    assert machines([*one, {"NodeManagerAddress": "10.0.0.2"}]) == 2
    assert machines([]) == 1


def test_the_dedup_step_refuses_before_it_opens_the_state(tmp_path: Any) -> None:
    location = tmp_path / "state.sqlite"
    docs = [Document(id="a", paragraphs=["one two three four five six"])]
    stream = dedup_stream(
        iter(docs), context=Context(), executor=_Partitions(machines=3), state=str(location)
    )
    with pytest.raises(UsageProblem, match="this Ray cluster has 3"):
        next(stream)
    assert not location.exists() and not (tmp_path / "state.sqlite.lock").exists()
