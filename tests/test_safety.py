"""Data safety: no option destroys an input, every failure is one line and publishes nothing.

Each test here stands for a way a user lost or corrupted data with an earlier version
(docs/architecture.md, "Safety"): side files over inputs or each other, missing or blocked
folders, failures after the output was published, full disks, damaged or lost states.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
from helpers import files_under, one_line_error
from helpers import invoke_run as invoke
from servers import start_redis

from cleanup.dedup.stores.sqlite import SQLiteStore
from cleanup.io import writers

SIDE_OPTIONS = ("--audit", "--rejects", "--stats", "--report")


def _corpus(path: Path, n: int = 40) -> Path:
    lines = []
    for i in range(n):
        words = " ".join(f"w{(i * 7 + j) % 97}" for j in range(30))
        lines.append({"id": f"d{i}", "text": f"Story {i} begins here.\n{words}."})
    lines.append({"id": "copy", "text": lines[0]["text"]})  # a duplicate the state learns
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return _corpus(tmp_path / "victim.jsonl")


# 1. Side files over inputs or existing files ---------------------------------------------


@pytest.mark.parametrize("option", SIDE_OPTIONS)
def test_a_side_file_naming_an_input_is_refused_and_the_input_kept(
    corpus: Path, tmp_path: Path, option: str
) -> None:
    before = corpus.read_bytes()
    line = one_line_error(invoke(corpus, "-o", tmp_path / "out.jsonl", option, corpus), 2)
    assert "input" in line and option in line
    assert corpus.read_bytes() == before
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("option", SIDE_OPTIONS)
def test_an_existing_side_file_needs_force(corpus: Path, tmp_path: Path, option: str) -> None:
    side = tmp_path / "side.file"
    side.write_text("keep me\n")
    line = one_line_error(invoke(corpus, "-o", tmp_path / "out.jsonl", option, side), 2)
    assert "--force" in line
    assert side.read_text() == "keep me\n"
    assert not (tmp_path / "out.jsonl").exists()
    result = invoke(corpus, "-o", tmp_path / "out.jsonl", option, side, "--force")
    assert result.exit_code == 0, result.output
    assert side.read_text() != "keep me\n"


# 3. Missing and blocked folders -----------------------------------------------------------


@pytest.mark.parametrize("option", ("-o", *SIDE_OPTIONS, "--state"))
def test_missing_parent_folders_are_created_for_every_kind(
    corpus: Path, tmp_path: Path, option: str
) -> None:
    target = tmp_path / "new" / "deeper" / "file.jsonl"
    args: list[str | Path] = [corpus, option, target]
    if option != "-o":
        args += ["-o", tmp_path / "out.jsonl"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert target.is_file()


@pytest.mark.parametrize("option", ("-o", *SIDE_OPTIONS, "--state"))
def test_a_file_where_a_folder_should_be_is_one_line_and_creates_nothing(
    corpus: Path, tmp_path: Path, option: str
) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder\n")
    created = tmp_path / "made" / "here"
    args: list[str | Path] = [corpus, option, tmp_path / "blocker" / "sub" / "x.jsonl"]
    if option != "-o":
        args += ["-o", created / "out.jsonl"]
    else:
        args += ["--audit", created / "audit.jsonl"]
    before = files_under(tmp_path)
    line = one_line_error(invoke(*args), 2)
    assert "blocker" in line and "not a folder" in line
    assert files_under(tmp_path) == before
    assert not (tmp_path / "made").exists()  # the folders the check made are gone again


def test_a_permission_error_while_opening_the_output_is_one_line(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: str, final: str) -> object:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    monkeypatch.setattr(writers, "_open_binary", refuse)
    line = one_line_error(invoke(corpus, "-o", tmp_path / "out.jsonl"), 1)
    assert "out.jsonl" in line and "Permission denied" in line
    assert files_under(tmp_path) == {"victim.jsonl": corpus.read_bytes()}


# 4 and 5. Side files that fail late, or collide with the output ---------------------------


def test_a_side_file_in_a_missing_folder_with_a_state_publishes_everything(
    corpus: Path, tmp_path: Path
) -> None:
    result = invoke(
        corpus, "-o", tmp_path / "out.jsonl", "--state", tmp_path / "st.sqlite",
        "--stats", tmp_path / "nodir" / "s.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "nodir" / "s.json").is_file()
    assert _state_runs(tmp_path / "st.sqlite") == 1


@pytest.mark.parametrize(
    ("output", "option", "side"),
    [
        ("od/", "--audit", "od/audit.jsonl"),
        ("od/", "--report", "od/sub/report.html"),
        ("cl/", "--state", "cl/state.sqlite"),
        ("x.jsonl", "--audit", "x.jsonl"),
        ("x.jsonl", "--state", "x.jsonl"),
    ],
)
def test_side_files_inside_the_output_folder_or_equal_to_another_path_are_refused(
    corpus: Path,
    tmp_path: Path,
    output: str,
    option: str,
    side: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # restored after: later tests run `python -m cleanup` from here
    line = one_line_error(invoke(corpus, "-o", output, option, side), 2)
    assert option in line or "-o" in line
    assert files_under(tmp_path) == {"victim.jsonl": corpus.read_bytes()}


def test_two_side_options_naming_one_file_are_refused(corpus: Path, tmp_path: Path) -> None:
    side = tmp_path / "same.jsonl"
    line = one_line_error(
        invoke(corpus, "-o", tmp_path / "o.jsonl", "--audit", side, "--rejects", side), 2
    )
    assert "same path" in line


# Fault injection: full disks, damaged and lost states -------------------------------------


class _FullDisk:
    """A file that takes `room` bytes and then fails like a full device."""

    def __init__(self, fh: object, room: int) -> None:
        self.fh = fh
        self.room = room

    def write(self, data: bytes) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.fh.write(data)  # type: ignore[attr-defined,no-any-return]

    def close(self) -> None:
        self.fh.close()  # type: ignore[attr-defined]


def _fill_disk_for(monkeypatch: pytest.MonkeyPatch, name: str, room: int = 100) -> None:
    real = writers._open_binary

    def open_binary(path: str, final: str) -> object:
        fh = real(path, final)
        return _FullDisk(fh, room) if final.endswith(name) else fh

    monkeypatch.setattr(writers, "_open_binary", open_binary)


def _state_runs(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


@pytest.fixture
def day_one(corpus: Path, tmp_path: Path) -> tuple[Path, bytes]:
    """A state after one published day, and its bytes."""
    state = tmp_path / "st.sqlite"
    result = invoke(corpus, "-o", tmp_path / "day1.jsonl", "--state", state)
    assert result.exit_code == 0, result.output
    return state, state.read_bytes()


@pytest.mark.parametrize("full", ["out.jsonl", "audit.jsonl"])
def test_no_space_left_while_writing_output_or_a_side_file_publishes_nothing(
    tmp_path: Path, day_one: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch, full: str
) -> None:
    state, state_bytes = day_one
    day2 = _corpus(tmp_path / "day2.jsonl", 60)
    _fill_disk_for(monkeypatch, full)
    before = files_under(tmp_path)
    line = one_line_error(
        invoke(day2, "-o", tmp_path / "out.jsonl", "--audit", tmp_path / "audit.jsonl",
               "--state", state),
        1,
    )  # fmt: skip
    assert full in line and "No space left on device" in line
    assert files_under(tmp_path) == before  # nothing published, no temporary left
    assert state.read_bytes() == state_bytes


def test_no_space_left_while_writing_the_state_publishes_nothing(
    tmp_path: Path, day_one: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, state_bytes = day_one
    real = SQLiteStore._write_entries

    def full(self: SQLiteStore, *args: object) -> int:
        real(self, *args)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SQLiteStore, "_write_entries", full)
    before = files_under(tmp_path)
    line = one_line_error(
        invoke(_corpus(tmp_path / "day2.jsonl", 60), "-o", tmp_path / "out.jsonl",
               "--stats", tmp_path / "s.json", "--state", state),
        1,
    )  # fmt: skip
    assert "st.sqlite" in line and "disk is full" in line
    before["day2.jsonl"] = (tmp_path / "day2.jsonl").read_bytes()
    assert files_under(tmp_path) == before
    assert state.read_bytes() == state_bytes


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_sqlite_state_is_one_line_and_publishes_nothing(
    corpus: Path, tmp_path: Path, day_one: tuple[Path, bytes], damage: str
) -> None:
    state, state_bytes = day_one
    damaged = b"this is not a database\n" * 100 if damage == "garbage" else state_bytes[:5000]
    state.write_bytes(damaged)
    before = files_under(tmp_path)
    line = one_line_error(invoke(corpus, "-o", tmp_path / "out.jsonl", "--state", state), 1)
    assert "st.sqlite" in line
    after = files_under(tmp_path)
    after.pop("st.sqlite.lock", None)
    before.pop("st.sqlite.lock", None)
    assert after == before
    assert state.read_bytes() == damaged


def test_redis_stopping_mid_run_is_one_line_and_publishes_nothing(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cleanup.dedup.stores.redis import RedisStore

    proc, url = start_redis(tmp_path)
    try:
        first = invoke(corpus, "-o", tmp_path / "day1.jsonl", "--state", url)
        assert first.exit_code == 0, first.output
        real = RedisStore.candidates

        def stop_server_then_ask(self: RedisStore, keys: object) -> object:
            proc.kill()
            proc.wait(10)
            return real(self, keys)  # type: ignore[arg-type]

        monkeypatch.setattr(RedisStore, "candidates", stop_server_then_ask)
        before = files_under(tmp_path)
        line = one_line_error(invoke(corpus, "-o", tmp_path / "day2.jsonl", "--state", url), 1)
        assert url in line
        assert files_under(tmp_path) == before
    finally:
        proc.kill()
        proc.wait(10)


def test_standard_output_runs_that_fail_commit_no_state(
    tmp_path: Path, day_one: tuple[Path, bytes]
) -> None:
    state, state_bytes = day_one
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "fine"}\n{broken\n')
    result = invoke(bad, "-o", "-", "--state", state)
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output
    assert state.read_bytes() == state_bytes


def test_a_sqlite_database_that_is_not_a_cleanup_state_is_left_alone(
    corpus: Path, tmp_path: Path
) -> None:
    other = tmp_path / "app.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE users (name TEXT)")
        db.execute("INSERT INTO users VALUES ('ada')")
    before = other.read_bytes()
    line = one_line_error(invoke(corpus, "-o", tmp_path / "out.jsonl", "--state", other), 1)
    assert "not a cleanup state" in line
    assert other.read_bytes() == before
    assert not (tmp_path / "out.jsonl").exists()


def test_a_state_or_output_that_is_a_hard_link_to_an_input_is_refused(tmp_path: Path) -> None:
    # SQLite writes its state in place: an empty input linked as --state became a database.
    empty = tmp_path / "day" / "empty.jsonl"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    corpus = _corpus(tmp_path / "victim.jsonl")
    os.link(empty, tmp_path / "state.sqlite")
    os.link(corpus, tmp_path / "alias.jsonl")
    for given, option, target in (
        (empty, "--state", "state.sqlite"),
        (empty.parent, "--state", "state.sqlite"),
        (corpus, "-o", "alias.jsonl"),
        (corpus, "--audit", "alias.jsonl"),
    ):
        args = ["-o", tmp_path / "out.jsonl", option] if option != "-o" else [option]
        line = one_line_error(invoke(given, *args, tmp_path / target, "--force"), 2)
        assert "refusing to write over" in line and option in line
    assert empty.read_bytes() == b""
    assert (tmp_path / "alias.jsonl").read_bytes() == corpus.read_bytes()
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("option", ["-o", "--audit", "--state"])
def test_an_output_that_is_a_fifo_or_device_is_refused_not_replaced(
    corpus: Path, tmp_path: Path, option: str
) -> None:
    # The rename that publishes a file replaced what was there: `--audit /dev/null --force`
    # run as root would have turned /dev/null into a regular file (a FIFO stands in for it).
    special = tmp_path / "special.jsonl"
    os.mkfifo(special)
    args = [option, special] if option == "-o" else ["-o", tmp_path / "o.jsonl", option, special]
    line = one_line_error(invoke(corpus, *args, "--force"), 2)
    assert "not a regular file" in line and option in line
    assert special.is_fifo() and not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("fmt", [None, "jsonl"])
@pytest.mark.parametrize("foreign", ["notes.md", "sub/.git/HEAD", ".hidden.txt", "sub/a.jsonl"])
def test_force_replaces_only_a_folder_of_cleanup_output(
    corpus: Path, tmp_path: Path, fmt: str | None, foreign: str
) -> None:
    """`-o DIR/ --force` replaced the whole folder: `-o ~/ --force` lost everything in it."""
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "earlier.txt").write_text("a text an earlier run wrote\n")
    (out / foreign).parent.mkdir(parents=True, exist_ok=True)
    (out / foreign).write_text("not ours\n")
    before = files_under(out)
    extra = ["--format", fmt] if fmt else []
    line = one_line_error(invoke(corpus, "-o", f"{out}/", "--force", *extra), 2)
    assert f"holds {foreign}, which is no cleanup output" in line
    assert files_under(out) == before


@pytest.mark.parametrize("first", [None, "jsonl"])
@pytest.mark.parametrize("second", [None, "jsonl.gz"])
def test_force_replaces_a_folder_of_cleanup_output(
    corpus: Path, tmp_path: Path, first: str | None, second: str | None
) -> None:
    """Texts, parts and a manifest are cleanup output: either kind replaces the other."""
    out = tmp_path / "out"
    for fmt in (first, second):
        extra = ["--format", fmt] if fmt else []
        result = invoke(corpus, "-o", f"{out}/", "--force", *extra)
        assert result.exit_code == 0, result.output
    names = set(files_under(out))
    if second:
        assert names == {"_manifest.json", "part-00000.jsonl.gz"}
    else:
        assert names and all(name.endswith(".txt") for name in names)
