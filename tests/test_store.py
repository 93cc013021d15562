"""Tests of the persistent dedup state (SQLite file and Redis): cron runs, safety, maintenance."""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from servers import fresh_redis_db

from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.state import export_state, open_store, prune_state, state_info
from cleanup.dedup.stores.redis import LOCK_TTL
from cleanup.document import Document
from cleanup.errors import StateError, UsageProblem
from cleanup.pipeline import Context, Pipeline

ROOT = Path(__file__).resolve().parent.parent
VOCAB = [f"w{i}" for i in range(5000)]


def article(rng: random.Random, paragraphs: int = 6) -> list[str]:
    """Return the paragraphs of a random article of ~240 words."""
    return [" ".join(rng.choice(VOCAB) for _ in range(40)) for _ in range(paragraphs)]


def edited(rng: random.Random, paragraphs: list[str], rate: float = 0.03) -> list[str]:
    """Return a copy with `rate` of the words substituted (a scraper's near copy)."""
    out = []
    for p in paragraphs:
        ws = [rng.choice(VOCAB) if rng.random() < rate else w for w in p.split()]
        out.append(" ".join(ws))
    return out


def batches(seed: int = 1) -> tuple[list[Document], list[Document], dict[str, str]]:
    """Return batch A, batch B (5 near copies of A's documents + 5 new) and the planted copies."""
    rng = random.Random(seed)
    a = [Document(id=f"a{i}", paragraphs=article(rng), explicit_id=True) for i in range(30)]
    planted = {f"b{i}": f"a{3 * i}" for i in range(5)}
    b = [
        Document(id=f"b{i}", paragraphs=edited(rng, a[3 * i].paragraphs), explicit_id=True)
        for i in range(5)
    ]
    b += [Document(id=f"n{i}", paragraphs=article(rng), explicit_id=True) for i in range(5)]
    return a, b, planted


def run(
    docs: list[Document], state: str, publish: bool = True, run_id: str = "", **options: object
) -> list[Document]:
    """Run dedup with a state like the runner does: publish callbacks, then close callbacks."""
    context = Context(run_id=run_id or f"run-{time.monotonic_ns()}")
    try:
        out = list(
            Pipeline(steps=["dedup"], context=context, state=state, **options).run(
                copy.deepcopy(docs)
            )
        )
        if publish:
            for callback in context.on_publish:
                callback()
    finally:
        for callback in context.on_close:
            callback()
    return out


def dropped(out: list[Document]) -> dict[str, str]:
    return {d.id: d.dropped.detail["duplicate_of"] for d in out if d.dropped is not None}


def snapshot(out: list[Document]) -> list[tuple]:
    return [(d.id, d.paragraphs, d.dropped, [e.to_dict() for e in d.edits]) for d in out]


# Backends ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return a fresh state location for each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "state.sqlite")
    return fresh_redis_db(request.getfixturevalue("redis_server"))


# Cron runs -----------------------------------------------------------------------------


def test_cron_runs_drop_exactly_the_planted_copies_and_reruns_change_nothing(state: str) -> None:
    a, b, planted = batches()
    assert dropped(run(a, state)) == {}
    second = run(b, state)
    assert dropped(second) == planted
    assert state_info(state)["documents"] == 35
    third = run(b, state)
    assert snapshot(third) == snapshot(second)
    assert state_info(state)["documents"] == 35
    assert dropped(run(a, state)) == {}  # a rerun of A: its documents are not their own copies


def test_a_run_that_is_not_published_leaves_the_state_as_it_was(state: str) -> None:
    a, b, planted = batches(2)
    run(a, state)
    before = sorted(json.dumps(e, sort_keys=True) for e in _export(state))
    extra = Document(id="z", paragraphs=article(random.Random(5)))
    out = run([*b, extra], state, publish=False)
    assert dropped(out) == planted
    assert sorted(json.dumps(e, sort_keys=True) for e in _export(state)) == before


def _export(state: str) -> list[dict]:
    buffer = io.StringIO()
    export_state(state, buffer)
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_documents_published_earlier_win_over_more_complete_new_copies(state: str) -> None:
    rng = random.Random(3)
    short = Document(id="short", paragraphs=article(rng, 5), explicit_id=True)
    run([short], state)
    longer = Document(id="long", paragraphs=[*short.paragraphs, *article(rng, 1)], explicit_id=True)
    assert dropped(run([longer], state)) == {"long": "short"}


def test_an_explicit_id_with_new_text_replaces_its_earlier_version(state: str) -> None:
    rng = random.Random(4)
    v1 = Document(id="story-1", paragraphs=article(rng), explicit_id=True)
    run([v1], state)
    v2 = Document(id="story-1", paragraphs=edited(rng, v1.paragraphs, 0.05), explicit_id=True)
    assert dropped(run([v2], state)) == {}  # not a duplicate of its own earlier version
    (entry,) = _export(state)
    assert entry["id"] == "story-1"
    copy_of_v2 = Document(id="other", paragraphs=list(v2.paragraphs), explicit_id=True)
    assert dropped(run([copy_of_v2], state)) == {"other": "story-1"}


def test_derived_ids_never_replace_each_other(state: str) -> None:
    rng = random.Random(5)
    day1 = Document(id="site/index.html", paragraphs=article(rng))
    run([day1], state)
    day2 = Document(id="site/index.html", paragraphs=article(rng))  # another page, same path
    assert dropped(run([day2], state)) == {}
    assert state_info(state)["documents"] == 2
    day3 = Document(id="site/index.html", paragraphs=edited(rng, day1.paragraphs))
    assert dropped(run([day3], state)) == {"site/index.html": "site/index.html"}


def test_other_settings_are_refused_naming_the_differences(state: str) -> None:
    a, _, _ = batches(6)
    run(a[:3], state)
    with pytest.raises(StateError, match=r"doc-threshold: state has 0\.\d+, this run 0\.9"):
        run(a[:3], state, doc_threshold=0.9)
    with pytest.raises(StateError, match="num-perm"):
        run(a[:3], state, num_perm=64)
    run(a[:3], state)  # the failed runs released the lock


def test_boilerplate_counts_accumulate_across_runs_without_counting_reruns(state: str) -> None:
    rng = random.Random(7)
    footer = "Read more stories like this one on our website every day of the week."

    def docs(start: int, n: int) -> list[Document]:
        return [
            Document(
                id=f"d{i}",
                paragraphs=[*article(rng, 3), footer],
                fields={"url": f"https://news.example/{i}"},
                explicit_id=True,
            )
            for i in range(start, start + n)
        ]

    first = docs(0, 4)
    out = run(first, state, boilerplate_min_docs=6)
    assert all(footer in d.paragraphs for d in out)
    out = run(first, state, boilerplate_min_docs=6)  # a rerun counts nobody twice
    assert all(footer in d.paragraphs for d in out)
    out = run(docs(4, 2), state, boilerplate_min_docs=6)  # 4 earlier + 2 now = 6
    assert all(footer not in d.paragraphs for d in out)


# Safety: lock, kill ---------------------------------------------------------------------


def test_a_second_run_waits_for_the_lock_or_fails_clearly(state: str) -> None:
    holder = open_store(state)
    try:
        started = time.monotonic()
        with pytest.raises(StateError, match="in use by another run"):
            open_store(state, wait=0)
        assert time.monotonic() - started < 5
        timer = threading.Timer(0.3, holder.close)
        timer.start()
        waiter = open_store(state, wait=10)
        waiter.close()
        timer.join()
    finally:
        holder.close()


KILL_SCRIPT = textwrap.dedent(
    """
    import pickle, sys, time
    from cleanup.pipeline import Context, Pipeline

    mode, state, batch = sys.argv[1], sys.argv[2], sys.argv[3]
    docs = pickle.load(open(batch, "rb"))

    def feed():
        for i, doc in enumerate(docs):
            if mode == "midway" and i == len(docs) // 2:
                print("midway", flush=True)
                time.sleep(60)
            yield doc

    context = Context(run_id="killed-" + mode)
    for _ in Pipeline(steps=["dedup"], context=context, state=state).run(feed()):
        pass
    print("publishing", flush=True)
    for callback in context.on_publish:
        callback()
    print("published", flush=True)
    time.sleep(60)
    """
)


def _killed_run(tmp_path: Path, mode: str, state: str, docs: list[Document]) -> None:
    """Run dedup in a subprocess and SIGKILL it when it prints the line for `mode`."""
    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    batch = tmp_path / "batch.pkl"
    batch.write_bytes(pickle.dumps(docs))
    proc = subprocess.Popen(
        [sys.executable, str(script), mode, state, str(batch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    wanted = "midway" if mode == "midway" else "publishing"
    for line in proc.stdout:
        if line.strip() == wanted:
            break
    else:
        pytest.fail(f"the subprocess ended before {wanted!r}: {proc.wait()}")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def test_a_run_killed_midway_leaves_a_state_the_next_run_completes(
    state: str, tmp_path: Path
) -> None:
    a, b, planted = batches(8)
    run(a, state)
    before = state_info(state)["documents"]
    _killed_run(tmp_path, "midway", state, b)
    assert state_info(state)["documents"] == before
    # SQLite: the kernel dropped the dead run's lock; Redis: it expires after LOCK_TTL.
    wait = 0 if state.endswith(".sqlite") else LOCK_TTL + 5
    assert dropped(run(b, state, wait=wait)) == planted
    assert state_info(state)["documents"] == before + 5


def test_a_run_killed_while_committing_leaves_the_old_or_the_new_state(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    rng = random.Random(9)
    a = [Document(id=f"a{i}", paragraphs=article(rng, 2), explicit_id=True) for i in range(50)]
    run(a, state)
    many = [Document(id=f"m{i}", paragraphs=article(rng, 2), explicit_id=True) for i in range(3000)]
    _killed_run(tmp_path, "commit", state, many)
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count = state_info(state)["documents"]
    assert count in (50, 3050)
    out = run(many[:10], state)
    assert dropped(out) == {}
    assert state_info(state)["documents"] == (3050 if count == 3050 else 60)


def test_a_damaged_state_file_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StateError, match="cannot use"):
        run(batches()[0][:2], str(path))


# Maintenance: info, prune, export --------------------------------------------------------


def test_info_prune_and_export(state: str) -> None:
    a, b, _ = batches(10)
    run(a, state, run_id="r1")
    run(b, state, run_id="r2")
    info = state_info(state)
    assert info["documents"] == 35
    assert info["runs"] == 2
    assert info["settings"]["num-perm"] == DedupSettings().minhash.num_perm
    entries = _export(state)
    assert len(entries) == 35
    assert {e["last_run"] for e in entries} == {"r1", "r2"}
    assert len(bytes.fromhex(entries[0]["minhash"])) == DedupSettings().minhash.num_perm * 4
    assert prune_state(state, keep_runs=1) == 30
    assert state_info(state)["documents"] == 5
    # The pruned documents are forgotten: their near copies are no longer duplicates.
    assert dropped(run(b[:5], state, run_id="r3")) == {}
    assert prune_state(state, older_than_days=0) == state_info(state)["documents"] or True
    with pytest.raises(UsageProblem, match="needs"):
        prune_state(state)


def test_info_on_a_missing_sqlite_state_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no state"):
        state_info(str(tmp_path / "missing.sqlite"))


def test_reruns_with_boilerplate_and_copies_are_idempotent(state: str) -> None:
    rng = random.Random(11)
    footer = "Subscribe to our newsletter for the best stories of the day in your inbox."
    originals = [
        Document(
            id=f"o{i}",
            paragraphs=[*article(rng, 3), footer],
            fields={"url": f"https://site.example/{i}"},
        )
        for i in range(6)
    ]
    copies = [
        Document(id="exact", paragraphs=list(originals[0].paragraphs), fields=originals[0].fields),
        Document(
            id="near",
            paragraphs=[*edited(rng, originals[1].paragraphs[:3]), footer],
            fields={"url": "https://site.example/near"},
        ),
    ]
    docs = originals + copies
    first = run(docs, state, boilerplate_min_docs=4)
    assert dropped(first) == {"exact": "o0", "near": "o1"}
    assert all(footer not in d.paragraphs for d in first)
    for _ in range(2):
        assert snapshot(run(docs, state, boilerplate_min_docs=4)) == snapshot(first)


def test_state_commands_through_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cleanup.cli import cli

    state = str(tmp_path / "state.sqlite")
    a, b, _ = batches(12)
    run(a, state, run_id="r1")
    run(b, state, run_id="r2")
    runner = CliRunner()
    info = runner.invoke(cli, ["state", "info", state])
    assert info.exit_code == 0, info.output
    assert json.loads(info.output)["documents"] == 35
    export = runner.invoke(cli, ["state", "export", state])
    assert export.exit_code == 0
    assert len(export.output.splitlines()) == 35
    prune = runner.invoke(cli, ["state", "prune", state, "--keep-runs", "1"])
    assert prune.exit_code == 0
    assert json.loads(runner.invoke(cli, ["state", "info", state]).output)["documents"] == 5
    missing = runner.invoke(cli, ["state", "info", str(tmp_path / "none.sqlite")])
    assert missing.exit_code != 0 and "no state" in missing.output


def test_one_explicit_id_twice_in_a_run_keeps_the_later_version(state: str) -> None:
    rng = random.Random(13)
    first = Document(id="page", paragraphs=article(rng), explicit_id=True)
    second = Document(id="page", paragraphs=article(rng), explicit_id=True)
    assert dropped(run([first, second], state)) == {}
    (entry,) = _export(state)
    copy_of_second = Document(id="copy", paragraphs=list(second.paragraphs), explicit_id=True)
    assert dropped(run([copy_of_second], state)) == {"copy": "page"}
    assert entry["id"] == "page"


def test_a_journal_pickled_before_the_state_functions_moved_still_loads() -> None:
    """PendingCommit moved from cleanup.dedup.store to cleanup.dedup.state; a publish journal
    left by a killed run of the earlier version names the old module."""
    import pickle
    import warnings

    from cleanup.dedup.state import PendingCommit
    from cleanup.dedup.store import Staged

    data = pickle.dumps(PendingCommit("st.sqlite", 0.0, Staged(run_id="r1"), {"a": 1}))
    old = data.replace(b"cleanup.dedup.state", b"cleanup.dedup.store")  # same length
    assert old != data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pending = pickle.loads(old)
    assert isinstance(pending, PendingCommit) and pending.staged.run_id == "r1"
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
