"""Hostile input, round 6: files and streams a run reads besides its corpus (config and rule
files, audit trails) and text in UTF-16/32 without a byte-order mark. Each is read, or is one
line naming the file, never a traceback, silent garbage or memory without bound."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import one_line_error

from cleanup import tomlfile
from cleanup.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def _capped_memory() -> None:
    """Run a child with 2 GiB of address space: reading /dev/zero whole ends in MemoryError."""
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


def _cleanup_capped(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m cleanup ARGS` in 2 GiB of address space (a guard, not a speed bound)."""
    return subprocess.run(
        [sys.executable, "-m", "cleanup", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_capped_memory,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["run", "IN", "-o", "OUT", "--config", "/dev/zero"],
        ["run", "IN", "-o", "OUT", "--rules-file", "/dev/zero"],
        ["rules", "test", "/dev/zero"],
    ],
)
def test_a_config_or_rule_file_that_never_ends_is_refused_in_one_line(
    tmp_path: Path, args: list[str]
) -> None:
    """tomllib.load read /dev/zero whole: all the machine's memory, then MemoryError."""
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"text": "Hello world."}\n')
    argv = [a.replace("IN", str(src)).replace("OUT", str(out)) for a in args]
    done = _cleanup_capped(*argv)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "/dev/zero: larger than 16 MiB, too large for a TOML file" in done.stderr
    assert not out.exists()


def test_a_toml_file_over_the_limit_is_refused_and_one_at_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tomlfile, "MAX_TOML_BYTES", 2**20)
    config = tmp_path / "c.toml"
    body = "[run]\nworkers = 1\n"
    config.write_text(body + "#" * (2**20 - len(body) - 1) + "\n")
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"text": "Hello world."}\n')
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out), "--config", config])
    assert result.exit_code == 0, result.output
    with config.open("a") as fh:
        fh.write("#")
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out), "--config", config])
    line = one_line_error(result, 2)
    assert line == f"Error: --config {config}: larger than 1 MiB, too large for a TOML file"


TEXT = "Hello world, this is the first paragraph.\n\nCafé crème, the second one."


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("text", [TEXT, TEXT.replace("é", "e").replace("è", "e")])
def test_utf16_and_utf32_without_a_byte_order_mark_are_read_as_such(
    tmp_path: Path, codec: str, text: str
) -> None:
    """ASCII text came out with a U+FFFD between every two letters (its NULs, valid UTF-8),
    and text with one letter past ASCII was refused as binary data."""
    src, out, audit = tmp_path / "in.txt", tmp_path / "out.jsonl", tmp_path / "audit.jsonl"
    src.write_bytes(text.encode(codec))
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out), "--audit", audit])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["text"] == text
    edit = json.loads(audit.read_text().splitlines()[0])
    assert (edit["rule"], edit["after"]) == ("read:decode-charset", codec)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"Hello\x00world. Some text.\n\nMore\x00\x00 text\n", "Hello\ufffdworld. Some text."),
        ("Hi, a\nb".encode("utf-16-le")[:-1], None),  # odd length: no UTF-16 text
    ],
)
def test_stray_nuls_are_not_taken_for_utf16(data: bytes, expected: str | None) -> None:
    from cleanup.io.decoding import decode

    text, edits = decode(data, "x.txt")
    assert all(edit.rule != "read:decode-charset" for edit in edits)
    if expected is not None:
        assert text.startswith(expected)


@pytest.mark.parametrize("data", [bytes(20000), b"ab" + bytes(3000), bytes(100) + b"\n" * 3])
def test_a_file_of_nul_bytes_is_binary_data(tmp_path: Path, data: bytes) -> None:
    """A preallocated or crash-truncated file (mostly NULs, valid UTF-8) became a document of
    U+FFFD; HTML was refused already. Now both are binary data, in one line."""
    for name in ("zeros.txt", "zeros.html"):
        src, out = tmp_path / name, tmp_path / "out.jsonl"
        src.write_bytes(data)
        result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out)])
        assert one_line_error(result, 1) == f"Error: {src}: binary data, not text"


@pytest.mark.parametrize("width", [2, 4])
def test_small_numbers_stored_in_16_or_32_bits_stay_binary_data(tmp_path: Path, width: int) -> None:
    """Their high bytes are NULs as UTF-16/32 text's are, but decoded they are mostly control
    characters: still refused as binary data, not read as text."""
    rng = random.Random(5)
    src, out = tmp_path / "table.txt", tmp_path / "out.jsonl"
    src.write_bytes(b"".join(rng.randrange(256).to_bytes(width, "little") for _ in range(4000)))
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out)])
    assert one_line_error(result, 1) == f"Error: {src}: binary data, not text"


def test_an_audit_that_never_ends_is_refused_in_one_line(tmp_path: Path) -> None:
    """`cleanup explain --audit /dev/zero` read one endless line until MemoryError."""
    done = _cleanup_capped("explain", "--audit", "/dev/zero", "a")
    assert done.returncode == 2, done.stderr
    assert done.stderr == "Error: /dev/zero: not an audit trail (line 1: longer than 256 MiB)\n"


def test_an_audit_line_past_the_limit_is_named_by_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cleanup.report import audit as audit_module

    src, out, audit = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "audit.jsonl"
    src.write_text('{"id": "a", "text": "Scroll down for video\\n\\nHello world, a sentence."}\n')
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out), "--audit", audit])
    assert result.exit_code == 0, result.output
    first = audit.read_bytes()
    monkeypatch.setattr(audit_module, "MAX_AUDIT_LINE", len(first) + 10)
    result = CliRunner().invoke(cli, ["diff", str(src), str(out), "--audit", str(audit)])
    assert result.exit_code == 1, result.output  # the files differ; the audit is read
    audit.write_bytes(first + b'{"id": "a", "rule": "' + b"x" * len(first) + b'"}\n')
    result = CliRunner().invoke(cli, ["diff", str(src), str(out), "--audit", str(audit)])
    line = one_line_error(result, 2)
    assert line == f"Error: {audit}:2: malformed audit line (longer than 0 MiB)"


def test_an_agency_credit_of_many_agencies_is_decided_at_once(tmp_path: Path) -> None:
    """de-credit matched each agency in `(dpa afp afp ...` two ways (a name, or any 2-4
    letters): 2^n tries before failing, so one paragraph of 170 bytes never finished."""
    src = tmp_path / "in.jsonl"
    paragraphs = ["Ein Satz hier, wirklich."]
    paragraphs += ["(dpa" + sep * 40 + " x!" for sep in (" afp", ", ap", "/ddp", " reuters")]
    paragraphs += ["(dpa" + " afp" * 40 + ")"]  # a match: it goes
    src.write_text(json.dumps({"id": "a", "text": "\n".join(paragraphs)}) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "cleanup", "pipe", "-q", "-i", str(src), "strip-artifacts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a hang, not a speed: before the fix this took 2^40 steps a paragraph
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["text"] == "\n".join(paragraphs[:-1])


def test_a_state_on_a_full_disk_says_so_and_is_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite rolls back by itself on a full disk; the ROLLBACK after it failed and its
    message ('cannot rollback - no transaction is active (is it a cleanup state, and
    intact?)') hid the full disk and called the state damaged."""
    import sqlite3

    state, out = tmp_path / "state.db", tmp_path / "out.jsonl"
    day1, day2 = tmp_path / "day1.jsonl", tmp_path / "day2.jsonl"
    for path, seed in ((day1, 0), (day2, 1)):
        texts = (" ".join(f"w{seed}x{n}y{k}" for k in range(30)) for n in range(200))
        path.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts))
    args = ["run", "-q", "--workers", "1", "--state", str(state), "-o", str(out), "--force"]
    result = CliRunner().invoke(cli, [*args, str(day1)])
    assert result.exit_code == 0, result.output
    before = state.read_bytes()
    connect = sqlite3.connect

    def full_disk(*a: object, **k: object) -> sqlite3.Connection:
        db = connect(*a, **k)  # type: ignore[arg-type]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow: SQLITE_FULL
        return db

    monkeypatch.setattr(sqlite3, "connect", full_disk)
    out.unlink()
    line = one_line_error(CliRunner().invoke(cli, [*args, str(day2)]), 1)
    assert line.startswith(f"Error: state {state}: no space left on device (")
    assert state.read_bytes() == before and not out.exists()


@pytest.mark.parametrize(
    ("given", "target"),
    [
        (".out.jsonl.cleanup-tmp-99999999", ["-o", "out.jsonl"]),
        (".out.cleanup-tmp-99999999/day", ["-o", "out/"]),  # a killed run's staging folder
        (".out.jsonl.cleanup-old-99999999", ["-o", "out.jsonl"]),
        (".audit.jsonl.cleanup-tmp-99999999", ["-o", "out.jsonl", "--audit", "audit.jsonl"]),
    ],
)
def test_an_input_named_as_a_stale_temporary_of_a_target_is_refused_not_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, target: list[str]
) -> None:
    """Before writing NAME a run removes `.NAME.cleanup-tmp-PID` of a process that is gone:
    an input of that name was deleted, and the run then said it did not exist."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / given / "in.jsonl" if given.endswith("day") else tmp_path / given
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text('{"text": "Hello world, a sentence."}\n')
    result = CliRunner().invoke(cli, ["run", "-q", given, *target])
    line = one_line_error(result, 2)
    assert f"the input {given} is named as a temporary of it" in line
    assert src.read_text() == '{"text": "Hello world, a sentence."}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == [given.split("/")[0]]


def test_an_input_only_named_like_a_temporary_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only names ending in a process id are a run's temporaries (temporaries.temporary_of):
    `.out.jsonl.cleanup-tmp-notes` is neither removed nor refused, it is read."""
    monkeypatch.chdir(tmp_path)
    given = ".out.jsonl.cleanup-tmp-notes"
    (tmp_path / given).write_text('{"text": "Hello world, a sentence."}\n')
    result = CliRunner().invoke(cli, ["run", "-q", given, "-o", "out.jsonl"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / given).read_text() == '{"text": "Hello world, a sentence."}\n'
    assert "Hello world" in (tmp_path / "out.jsonl").read_text()
