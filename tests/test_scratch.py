"""Scratch space: workers leave their documents there, and nothing of it outlives a run."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import generated_corpus, skip_without_ray

from cleanup.cli import cli
from cleanup.dedup import corpus as corpus_module
from cleanup.dedup import spool as spool_module
from cleanup.dedup.jobs import SummaryJob, summary_job
from cleanup.dedup.settings import DedupSettings
from cleanup.dedup.spool import BatchSpool, DeferredBatch, unpickled
from cleanup.document import Document
from cleanup.errors import UsageProblem
from cleanup.scratch import (
    OWNER,
    PREFIX,
    Scratch,
    ScratchRef,
    discard,
    put,
    release,
    remove_stale,
    settle,
)

ROOT = Path(__file__).resolve().parent.parent


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _fake_run_folder(base: Path, name: str, host: str, pid: int) -> Path:
    folder = base / f"{PREFIX}{name}"
    folder.mkdir()
    (folder / OWNER).write_text(json.dumps({"host": host, "pid": pid}), encoding="utf-8")
    (folder / "batch").write_bytes(b"x" * 10)
    return folder


def test_put_writes_atomically_under_a_fresh_name(tmp_path: Path) -> None:
    a, b = put(str(tmp_path), b"one"), put(str(tmp_path), b"one")
    assert a.path != b.path
    assert (a.read(), a.size) == (b"one", 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [Path(a.path).name, Path(b.path).name]
    )


def test_a_run_folder_is_created_owned_and_removed(tmp_path: Path) -> None:
    scratch = Scratch(str(tmp_path), "run1")
    folder = Path(scratch.path)
    assert folder.parent == tmp_path and folder.name == f"{PREFIX}run1"
    owner = json.loads((folder / OWNER).read_text(encoding="utf-8"))
    assert owner == {"host": socket.gethostname(), "pid": os.getpid()}
    put(scratch.path, b"data")
    scratch.remove()
    assert not folder.exists()


def test_stale_folders_of_ended_runs_on_this_machine_are_removed(tmp_path: Path) -> None:
    host = socket.gethostname()
    stale = _fake_run_folder(tmp_path, "dead", host, _dead_pid())
    alive = _fake_run_folder(tmp_path, "alive", host, os.getpid())
    elsewhere = _fake_run_folder(tmp_path, "elsewhere", host + "-other", _dead_pid())
    no_owner = tmp_path / f"{PREFIX}starting"
    no_owner.mkdir()
    other = tmp_path / "not-ours"
    other.mkdir()
    assert remove_stale(str(tmp_path)) == 1
    assert not stale.exists()
    assert alive.exists() and elsewhere.exists() and no_owner.exists() and other.exists()


@pytest.mark.parametrize("problem", ["missing", "file"])
def test_an_unusable_base_is_one_usage_line(tmp_path: Path, problem: str) -> None:
    base = tmp_path / "base"
    if problem == "file":
        base.write_text("x", encoding="utf-8")
    with pytest.raises(UsageProblem, match=r"--scratch .*base: no such folder"):
        Scratch(str(base), "run")


def _docs(n: int) -> list[Document]:
    return [
        Document(id=f"d{i}", paragraphs=[f"paragraph {i} of a document", "a footer"])
        for i in range(n)
    ]


def test_the_read_pass_leaves_a_pickled_batch_in_scratch(tmp_path: Path) -> None:
    job = SummaryJob(DedupSettings(), sign=True, pickled=True, scratch=str(tmp_path))
    batch = _docs(5)
    summary = summary_job(job, batch)
    assert isinstance(summary.docs, ScratchRef)
    assert Path(summary.docs.path).parent == tmp_path
    assert [d.id for d in unpickled(summary.docs)] == [d.id for d in batch]
    spool = BatchSpool(budget=0)
    spool.write(summary.docs)
    assert list(spool.read()) == [summary.docs]  # the name, not the documents
    resolved = DeferredBatch(summary.docs, 5, None).resolve()
    assert [d.paragraphs for d in resolved] == [d.paragraphs for d in batch]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_local_engine_refuses_a_missing_scratch_folder(tmp_path: Path, workers: str) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "hello"}\n', encoding="utf-8")
    cmd = ["run", str(src), "--scratch", str(tmp_path / "nope"), "--workers", workers]
    result = CliRunner().invoke(cli, cmd)
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: --scratch {tmp_path / 'nope'}: no such folder"


def test_ray_refuses_a_missing_scratch_folder_before_starting(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "hello"}\n', encoding="utf-8")
    cmd = ["run", str(src), "--engine", "ray", "--scratch", str(tmp_path / "nope")]
    result = CliRunner().invoke(cli, cmd)
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: --scratch {tmp_path / 'nope'}: no such folder"


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_workers_spool_to_scratch_and_the_run_leaves_nothing_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    if engine == "ray":
        skip_without_ray()
    from cleanup.runner import RunOptions, execute

    src = str(generated_corpus(tmp_path / "corpus", 800, 4))
    base = tmp_path / "scratch"
    base.mkdir()
    stale = _fake_run_folder(base, "killed", socket.gethostname(), _dead_pid())
    spooled: list[object] = []
    write = spool_module.BatchSpool.write

    def spy(self: BatchSpool, batch: spool_module.Batch) -> None:
        spooled.append(batch)
        write(self, batch)

    monkeypatch.setattr(spool_module.BatchSpool, "write", spy)
    # local workers keep batches in memory (tests/test_kept.py); with no room: scratch
    monkeypatch.setattr(corpus_module, "SPOOL_MEMORY", 0)
    local, many_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    execute(RunOptions(inputs=[src], output=str(local), workers=1))
    spooled.clear()
    options = RunOptions(
        inputs=[src], output=str(many_out), workers=2, engine=engine, scratch=str(base)
    )
    execute(options)
    assert local.read_bytes() == many_out.read_bytes()
    assert len(spooled) > 1 and all(isinstance(b, ScratchRef) for b in spooled)
    assert all(Path(b.path).parent.parent == base for b in spooled)  # type: ignore[attr-defined]
    assert not stale.exists()  # a killed run's scratch, removed by the next run
    assert list(base.iterdir()) == []  # and this run's own, removed at its end
    assert pickle.loads(pickle.dumps(spooled[0])) == spooled[0]


def _wait_for_batches(base: Path, proc: subprocess.Popen[bytes], seconds: float = 180) -> Path:
    """Return the run's scratch folder once a task has left a batch in it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for folder in base.glob(f"{PREFIX}*"):
            if any(p.name != OWNER and not p.name.startswith(".") for p in folder.iterdir()):
                return folder
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no batch reached scratch (run status {proc.poll()})")


@pytest.mark.parametrize("engine", ["local", "ray"])
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_a_stopped_run_leaves_no_scratch_and_a_killed_ones_goes_with_the_next_run(
    tmp_path: Path, how: int, engine: str
) -> None:
    if engine == "ray":
        skip_without_ray()
    corpus = generated_corpus(tmp_path / "corpus", 6000, 9)
    base = tmp_path / "scratch"
    base.mkdir()
    run = [sys.executable, "-m", "cleanup", "run", "--engine", engine, "--workers", "2"]
    run += ["--scratch", str(base)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's cleanup, wherever the cwd is
    proc = subprocess.Popen(
        [*run, str(corpus), "-o", str(tmp_path / "out.jsonl")],
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
    )
    try:
        folder = _wait_for_batches(base, proc)
        proc.send_signal(how)
        _, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert not (tmp_path / "out.jsonl").exists()
    if how == signal.SIGTERM:
        assert proc.returncode == 143, err
        assert not folder.exists()  # removed on the way out
        return
    assert folder.exists()  # killed outright: nothing could remove it
    small = tmp_path / "small.jsonl"
    small.write_text('{"id": "a", "text": "hello"}\n', encoding="utf-8")
    done = subprocess.run([*run, str(small), "-o", str(tmp_path / "small-out.jsonl")], env=env)
    assert done.returncode == 0
    assert not folder.exists()  # the next run with this --scratch removed it
    assert list(base.iterdir()) == []


def test_scratch_inside_an_input_folder_is_refused_before_reading(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"id": "a", "text": "hello"}\n', encoding="utf-8")
    cmd = ["run", str(folder), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray"]
    result = CliRunner().invoke(cli, [*cmd, "--scratch", str(folder)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"Error: --scratch {folder}/{PREFIX}*: refusing to write inside the input folder {folder}"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["a.jsonl"]


def test_files_discarded_are_deleted_on_the_reapers_thread_in_each_process(
    tmp_path: Path,
) -> None:
    """Files a run is done with go on a thread of their own (missing ones skipped), also in a
    process forked after the thread started (a fork copies no thread: it starts its own)."""
    mine = [tmp_path / f"set{k}" for k in range(3)]
    for path in mine:
        path.write_bytes(b"x" * 100)
    spool = (tmp_path / "spool").open("wb")
    discard([str(p) for p in mine] + [str(tmp_path / "never-made")])
    release(spool)
    settle()
    assert not any(p.exists() for p in mine) and spool.closed
    child = tmp_path / "child"
    child.write_bytes(b"y")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        try:
            signal.alarm(20)  # a child whose reaper never started would wait forever
            discard([str(child)])
            settle()
            os._exit(0 if not child.exists() else 3)
        finally:
            os._exit(4)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not child.exists()


@pytest.mark.parametrize("once", [True, False])
def test_a_batch_in_scratch_goes_once_the_write_pass_reads_it_unless_a_retry_may(
    tmp_path: Path, once: bool
) -> None:
    """With the process engine (no task runs twice) the write pass's read deletes the batch's
    file on the reaper's thread; with Ray (`once` False: a task may be retried) it stays."""
    docs = [Document(id="a", paragraphs=["one", "two"])]
    ref = put(str(tmp_path), pickle.dumps(docs))
    got = DeferredBatch(ref, 1, None, once).resolve()
    settle()
    assert [d.paragraphs for d in got] == [["one", "two"]]
    assert os.path.exists(ref.path) is not once
