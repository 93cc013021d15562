"""Trial runs: --limit and --sample/--seed pick a repeatable part of the input, teach no state."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cleanup import runner
from cleanup.cli import cli
from cleanup.document import Document
from cleanup.options import RunOptions
from cleanup.runner import execute

WORDS = ["river", "stone", "maple", "cloud", "ember", "harbor", "lantern", "meadow", "quartz"]


def _text(rng: random.Random, words: int = 60) -> str:
    return " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(words)) + "."


def _records(count: int, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [{"id": f"doc-{i}", "text": _text(rng)} for i in range(count)]


def _write(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _run(*args: str | Path) -> Any:
    result = CliRunner().invoke(cli, ["run", *map(str, args)])
    assert result.exit_code == 0, result.stderr
    return result


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def test_sample_is_the_same_for_any_worker_count_and_input_order(tmp_path: Path) -> None:
    records = _records(60)
    src = _write(tmp_path / "in.jsonl", records)
    shuffled = list(records)
    random.Random(5).shuffle(shuffled)
    src2 = _write(tmp_path / "shuffled.jsonl", shuffled)
    chosen = []
    for name, inputs, workers in (("w1", src, "1"), ("w2", src, "2"), ("sh", src2, "2")):
        out = tmp_path / f"{name}.jsonl"
        _run(inputs, "-o", out, "--sample", "0.5", "--seed", "7", "--workers", workers)
        chosen.append(_ids(out))
    assert chosen[0] == chosen[1]
    assert sorted(chosen[2]) == sorted(chosen[0])
    assert 0 < len(chosen[0]) < 60
    other = tmp_path / "seed8.jsonl"
    _run(src, "-o", other, "--sample", "0.5", "--seed", "8", "--workers", "1")
    assert _ids(other) != chosen[0]
    whole = tmp_path / "whole.jsonl"
    _run(src, "-o", whole, "--sample", "1")
    assert _ids(whole) == [r["id"] for r in records]


def test_sample_of_whole_files_picks_by_path_id(tmp_path: Path) -> None:
    rng = random.Random(3)
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(30):
        (folder / f"f{i:02}.txt").write_text(_text(rng), encoding="utf-8")
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        _run(folder, "-o", out, "--sample", "0.3", "--workers", workers)
        outs.append(_ids(out))
    assert outs[0] == outs[1]
    assert 0 < len(outs[0]) < 30


def test_limit_stops_reading_after_n_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    def endless(*args: Any, **kwargs: Any) -> Iterator[Document]:
        for i in range(3):
            yield Document.from_text(f"d{i}", f"Document number {i} has some words.")
        raise AssertionError("read past --limit")

    monkeypatch.setattr(runner, "read_inputs", endless)
    seen: list[str] = []
    summary = execute(
        RunOptions(inputs=["x"], output="-", limit=3), on_document=lambda d: seen.append(d.id)
    )
    assert seen == ["d0", "d1", "d2"]
    assert summary.documents_in == 3
    assert "trial run" in summary.line()


def test_limit_on_the_command_line_counts_after_the_sample(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", _records(40))
    out = tmp_path / "out.jsonl"
    result = _run(src, "-o", out, "--limit", "5")
    assert _ids(out) == [f"doc-{i}" for i in range(5)]
    assert "5 documents in" in result.stderr
    sampled = tmp_path / "sampled.jsonl"
    _run(src, "-o", sampled, "--sample", "0.5")
    limited = tmp_path / "limited.jsonl"
    _run(src, "-o", limited, "--sample", "0.5", "--limit", "4")
    assert _ids(limited) == _ids(sampled)[:4]
    huge = tmp_path / "huge.jsonl"  # past sys.maxsize: every document (islice refused it)
    _run(src, "-o", huge, "--limit", str(10**30))
    assert _ids(huge) == [f"doc-{i}" for i in range(40)]


@pytest.mark.parametrize("trial", [["--sample", "0.5"], ["--limit", "3"]])
def test_trial_run_reads_the_state_but_leaves_it_byte_identical(
    tmp_path: Path, trial: list[str]
) -> None:
    day1 = _records(10, seed=1)
    state = tmp_path / "st.sqlite"
    _run(_write(tmp_path / "day1.jsonl", day1), "-o", tmp_path / "d1.jsonl", "--state", state)
    before = state.read_bytes()
    siblings = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("st.sqlite"))
    # Day 2: yesterday's documents again, under new ids, and new ones.
    again = [{"id": f"again-{i}", "text": r["text"]} for i, r in enumerate(day1)]
    src = _write(tmp_path / "day2.jsonl", again + _records(10, seed=2))
    out = tmp_path / "d2.jsonl"
    result = _run(src, "-o", out, "--state", state, *trial)
    assert "trial run: state not updated" in result.stderr
    assert state.read_bytes() == before
    # The state was read: no copy of yesterday's documents came through.
    assert not any(i.startswith("again-") for i in _ids(out))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("st.sqlite")) == siblings


def test_sample_and_limit_refuse_out_of_range_values(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", _records(2))
    for args in (["--sample", "0"], ["--sample", "1.5"], ["--limit", "0"], ["--seed", "-1"]):
        result = CliRunner().invoke(cli, ["run", str(src), *args])
        assert result.exit_code == 2, args
        assert f"'{args[0]}'" in result.stderr
