"""`cleanup state migrate`: re-band a state from its signatures, or say how to rebuild it."""

from __future__ import annotations

import copy
import random
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from servers import fresh_redis_db

from cleanup.cli import cli
from cleanup.dedup.lsh import band_keys
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.state import migrate_state, open_store
from cleanup.document import Document
from cleanup.errors import StateError
from cleanup.pipeline import Context, Pipeline

VOCAB = [f"w{i}" for i in range(5000)]


def _batches() -> tuple[list[Document], list[Document], dict[str, str]]:
    """Return 20 articles, 5 near copies of some of them plus 5 new ones, and the copies."""
    rng = random.Random(3)

    def article() -> list[str]:
        return [" ".join(rng.choice(VOCAB) for _ in range(40)) for _ in range(6)]

    a = [Document(id=f"a{i}", paragraphs=article(), explicit_id=True) for i in range(20)]
    b = []
    for i in range(5):
        paras = [" ".join(rng.choice(VOCAB) if rng.random() < 0.03 else w for w in p.split())
                 for p in a[3 * i].paragraphs]  # fmt: skip
        b.append(Document(id=f"b{i}", paragraphs=paras, explicit_id=True))
    b += [Document(id=f"n{i}", paragraphs=article(), explicit_id=True) for i in range(5)]
    return a, b, {f"b{i}": f"a{3 * i}" for i in range(5)}


def _run(docs: list[Document], state: str, **options: object) -> dict[str, str]:
    """Run dedup with a state and publish; return the dropped documents and what they copy."""
    context = Context(run_id=f"run-{time.monotonic_ns()}")
    try:
        out = list(
            Pipeline(steps=["dedup"], context=context, state=state, **options).run(
                copy.deepcopy(docs)
            )
        )
        for callback in context.on_publish:
            callback()
    finally:
        for callback in context.on_close:
            callback()
    return {d.id: d.dropped.detail["duplicate_of"] for d in out if d.dropped is not None}


@pytest.fixture(params=["sqlite", "redis"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return a state location holding batch A, built with the default settings."""
    if request.param == "sqlite":
        location = str(tmp_path / "state.sqlite")
    else:
        location = fresh_redis_db(request.getfixturevalue("redis_server"))
    _run(_batches()[0], location)
    return location


def _settings(**options: object) -> dict[str, object]:
    return DedupSettings.from_options(**options).state_settings()


def test_a_run_with_other_bands_points_to_migrate(state: str) -> None:
    _, b, _ = _batches()
    with pytest.raises(StateError, match="cleanup state migrate --state"):
        _run(b, state, doc_threshold=0.6)


def test_migrate_rebands_so_runs_with_the_new_settings_find_the_old_documents(
    state: str,
) -> None:
    _, b, planted = _batches()
    old, new = DedupSettings.from_options(), DedupSettings.from_options(doc_threshold=0.6)
    (ob, orow), (nb, nrow) = old.bands, new.bands
    assert (ob, orow) != (nb, nrow)
    message = migrate_state(state, _settings(doc_threshold=0.6))
    assert "re-banded 20 entries" in message and f"{ob}x{orow} -> {nb}x{nrow}" in message
    store = open_store(state, create=False, lock=False)
    try:
        assert store.settings() == _settings(doc_threshold=0.6)
        entries = store.fetch(np.arange(1, 21), old.minhash.num_perm)
        keys = band_keys(entries.sigs.reshape(20, -1), nb, nrow)
        assert len(store.candidates(keys.reshape(-1))) == 20
        assert len(store.candidates(band_keys(entries.sigs.reshape(20, -1), ob, orow))) == 0
    finally:
        store.close()
    assert _run(b, state, doc_threshold=0.6) == planted
    assert migrate_state(state, _settings(doc_threshold=0.6)).endswith("nothing to do")


def test_other_signatures_cannot_be_migrated_and_the_state_stays_usable(state: str) -> None:
    _, b, planted = _batches()
    perm = DedupSettings.from_options().minhash.num_perm
    with pytest.raises(StateError) as err:
        migrate_state(state, _settings(num_perm=perm * 2))
    text = str(err.value)
    assert "\n" not in text and f"num-perm {perm} -> {perm * 2}" in text
    assert "--state NEW" in text and f"keep the state's --num-perm {perm}" in text
    assert _run(b, state) == planted


def test_a_failed_migration_leaves_the_sqlite_state_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = str(tmp_path / "state.sqlite")
    _run(_batches()[0], location)
    db = sqlite3.connect(location)

    def snapshot() -> tuple[list, list]:
        return sorted(db.execute("SELECT bk, h FROM lsh")), db.execute(
            "SELECT * FROM meta"
        ).fetchall()

    before = snapshot()

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("cleanup.dedup.stores.sqlite.band_keys", broken)
    with pytest.raises(OSError):
        migrate_state(location, _settings(doc_threshold=0.6))
    assert snapshot() == before
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "lsh_new" not in tables


def test_migrate_through_the_command_line(tmp_path: Path) -> None:
    location = str(tmp_path / "state.sqlite")
    _run(_batches()[0], location)
    runner = CliRunner()
    ok = runner.invoke(cli, ["state", "migrate", "--state", location, "--doc-threshold", "0.6"])
    assert ok.exit_code == 0, ok.output
    assert "re-banded 20 entries" in ok.output
    refused = runner.invoke(cli, ["state", "migrate", "--state", location, "--num-perm", "64"])
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1 and refused.output.startswith("Error: cannot migrate")
    missing = runner.invoke(cli, ["state", "migrate", "--state", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 1 and "no state" in missing.output
    usage = runner.invoke(cli, ["state", "migrate"])
    assert usage.exit_code == 2


def test_a_failed_migration_leaves_the_redis_state_as_it_was(
    redis_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    location = fresh_redis_db(redis_server)
    client = redis.Redis.from_url(location)
    client.flushdb()
    _run(_batches()[0], location)

    def snapshot() -> tuple[list, object]:
        keys = sorted(client.scan_iter(match="cleanup:dedup:lsh:*"))
        return [(k, sorted(client.smembers(k))) for k in keys], client.hget(
            "cleanup:dedup:meta", "settings"
        )

    before = snapshot()

    def broken(*args: object) -> None:
        raise OSError("out of memory")

    monkeypatch.setattr("cleanup.dedup.stores.redis.band_keys", broken)
    with pytest.raises(OSError):
        migrate_state(location, _settings(doc_threshold=0.6))
    assert snapshot() == before
    monkeypatch.undo()
    assert "re-banded 20 entries" in migrate_state(location, _settings(doc_threshold=0.6))
    assert snapshot() != before
