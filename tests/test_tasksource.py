"""Tasks read their own splits: the same records, counts and errors as reading in one place."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import skip_without_ray

from cleanup.engines import build_engine
from cleanup.errors import BadInput
from cleanup.io.readers import RawLine, RecordFormat, Skipped, read_inputs
from cleanup.io.splits import TARGET_BYTES
from cleanup.io.tasksource import (
    MIN_SPLIT_BYTES,
    PartReader,
    SplitSource,
    plan_source,
    readable_in_parts,
    split_target,
)
from cleanup.pipeline import Context
from cleanup.runner import Admit

READER = PartReader("text", "id", "", True)


def _line(i: int, prefix: str = "d") -> str:
    second = f"It has a second paragraph, number {i % 13}."
    text = f"Story {i} of the day.\n\n{second}\n\nScroll down for video"
    return json.dumps({"id": f"{prefix}{i}", "text": text}) + "\n"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A folder of shards: big plain JSONL (cut into ranges), gzip, a bad line, a stray file."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(_line(i) for i in range(30000)), encoding="utf-8")
    bad = "".join(_line(i, "b") for i in range(3000)) + '{"id": "broken", "text": \n'
    (folder / "b.jsonl").write_text(bad + _line(1, "after"), encoding="utf-8")
    with gzip.open(folder / "c.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("".join(_line(i, "c") for i in range(500)))
    (folder / "d.bin").write_bytes(b"\x00")
    return folder


def _source(folder: Path, workers: int = 2, **callbacks: Any) -> SplitSource:
    source = plan_source(
        [str(folder)],
        READER,
        workers=workers,
        input_format=None,
        follow_links=False,
        on_bad=callbacks.get("on_bad"),
        on_skip=callbacks.get("on_skip"),
        on_read=callbacks.get("on_read"),
    )
    assert source is not None
    return source


def _key(item: Any) -> tuple[Any, ...]:
    assert isinstance(item, RawLine)
    return (item.line, item.lineno, item.source)


def test_split_size_gives_each_worker_a_few_splits_within_bounds(inputs: Path) -> None:
    total = sum(p.stat().st_size for p in inputs.iterdir())
    assert split_target([str(inputs)], 1) == max(MIN_SPLIT_BYTES, total // 4)
    assert split_target([str(inputs)], 10_000) == MIN_SPLIT_BYTES
    assert split_target([str(inputs / "missing")], 2) == MIN_SPLIT_BYTES
    assert split_target([str(inputs)], 1) <= TARGET_BYTES


def test_only_local_files_other_than_archives_are_read_by_tasks() -> None:
    assert readable_in_parts(["a.jsonl", "folder/"], None)
    assert not readable_in_parts(["-"], None)
    assert not readable_in_parts(["s3://bucket/day/"], None)
    assert not readable_in_parts(["a.jsonl"], "warc")


def test_reading_each_split_on_its_own_is_reading_the_inputs(inputs: Path) -> None:
    bad: list[str] = []
    skips: list[Skipped] = []
    expected = [
        _key(i)
        for i in read_inputs(
            [str(inputs)], skip_bad=True, on_bad=bad.append, on_skip=skips.append, lazy=True
        )
    ]
    got_skips: list[Skipped] = []
    source = _source(inputs, on_skip=got_skips.append)
    assert len(source.splits) >= 4  # a.jsonl is cut into ranges
    got: list[tuple[Any, ...]] = []
    got_bad: list[str] = []
    for split in source.splits:
        read = READER.read([split])
        assert read.count == len(read.items)
        got.extend(_key(i) for i in read.items)
        got_bad.extend(read.bad)
    assert got == expected
    assert got_skips == skips  # reported once, while planning
    assert got_bad == bad


def test_small_files_are_read_together_and_big_ranges_alone(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    for k in range(300):  # 300 small HTML pages: one split each
        (folder / f"p{k:03}.html").write_text(f"<p>Page {k} " + "word " * 800 + "</p>")
    (folder / "big.jsonl").write_text("".join(_line(i) for i in range(30000)), encoding="utf-8")
    source = _source(folder, workers=2)
    tasks = source.tasks
    assert [s for group in tasks for s in group] == source.splits  # all of them, in order
    pages = [g for g in tasks if all(s.path.endswith(".html") for s in g)]
    assert len(pages) < 30 and max(len(g) for g in pages) > 10  # many pages per task
    for group in tasks[:-1]:
        assert sum(s.size for s in group) >= source.target  # each about the target
        assert sum(s.size for s in group[:-1]) < source.target
    unknown = SplitSource([*source.splits[:3]], READER, target=source.target)
    unsized = [dataclasses.replace(s, size=-1) for s in unknown.splits]
    assert SplitSource(unsized, READER, target=10).tasks == [(s,) for s in unsized]


def test_iterating_the_source_reads_here_with_the_runs_callbacks(inputs: Path) -> None:
    ticks: list[int] = []
    source = _source(inputs, on_read=lambda: ticks.append(1))
    expected = [_key(i) for i in read_inputs([str(inputs)], skip_bad=True, lazy=True)]
    assert [_key(i) for i in source] == expected
    assert len(ticks) == len(expected)


def test_arrived_reports_a_splits_counts_through_the_callbacks() -> None:
    from cleanup.io.tasksource import PartRead

    seen: list[Any] = []
    source = SplitSource([], READER, seen.append, seen.append, lambda: seen.append("tick"))
    skipped = Skipped("record", "x.warc", "revisit")
    source.arrived(PartRead([], 2, ["bad line"], [skipped]))
    assert seen == [skipped, "bad line", "tick", "tick"]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_engine_has_tasks_read_the_splits_with_the_same_output(
    inputs: Path, workers: int
) -> None:
    admit = Admit(RecordFormat(), skip_bad=True)
    calls = [("strip-artifacts", {}), ("normalize", {})]
    source = _source(inputs, workers)
    assert len(source.tasks) >= 2 * workers
    context = Context()
    engine = build_engine("local", calls, context, workers, prelude=admit)
    try:
        got = [(d.id, d.text, d.dropped is None) for d in engine(source)]
    finally:
        for close in context.on_close:
            close()
    here_context = Context()
    here = build_engine("local", calls, here_context, 1, prelude=admit)
    try:
        expected = [
            (d.id, d.text, d.dropped is None)
            for d in here(read_inputs([str(inputs)], skip_bad=True, lazy=True))
        ]
    finally:
        for close in here_context.on_close:  # its scratch folder too
            close()
    assert got == expected


def test_local_workers_read_their_splits_with_the_same_output_and_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --workers 2 the runner hands the process engine splits, which its workers read."""
    from cleanup.engines import processes
    from cleanup.io import tasksource
    from cleanup.runner import RunOptions, execute

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_text("".join(_line(i) for i in range(1500)), encoding="utf-8")
    bad = "".join(_line(i, "b") for i in range(300)) + '{"id": "broken", "text": \n'
    (folder / "b.jsonl").write_text(bad + _line(1, "after"), encoding="utf-8")
    with gzip.open(folder / "c.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("".join(_line(i, "c") for i in range(200)))
    monkeypatch.setattr(tasksource, "split_target", lambda inputs, workers: 20_000)
    spread: list[int] = []
    map_splits = processes.BatchEngine._map_splits

    def spy(self: Any, fn: Any, source: SplitSource, *args: Any) -> Any:
        spread.append(len(source.tasks))
        return map_splits(self, fn, source, *args)

    monkeypatch.setattr(processes.BatchEngine, "_map_splits", spy)
    summaries = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        options = RunOptions(inputs=[str(folder)], output=str(out), workers=workers, skip_bad=True)
        summaries.append(dataclasses.replace(execute(options), seconds=0.0))
    assert spread and spread[0] >= 4  # dedup's read pass: tasks read the splits
    assert (tmp_path / "out1.jsonl").read_bytes() == (tmp_path / "out2.jsonl").read_bytes()
    assert summaries[0] == summaries[1] and summaries[1].bad_input_skipped == 1
    stopped = RunOptions(inputs=[str(folder)], output=str(tmp_path / "x.jsonl"), workers=2)
    with pytest.raises(BadInput, match=re.escape("b.jsonl:301: malformed JSON line")):
        execute(stopped)
    assert not (tmp_path / "x.jsonl").exists()


def _report(stderr: str) -> list[str]:
    """Return the skipped-input lines and the summary line without its timing."""
    lines = [line for line in stderr.splitlines() if line.startswith(("cleanup:", "skipped:"))]
    return [re.sub(r"; [0-9.]+ s", "", line) for line in lines]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cleanup", "run", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def test_ray_tasks_read_splits_with_the_same_output_counts_and_errors(
    inputs: Path, tmp_path: Path
) -> None:
    skip_without_ray()
    assert len(_source(inputs, 2).tasks) >= 4  # enough for the tasks of 2 workers to read
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    one = _run(str(inputs), "-o", str(local), "--skip-bad", "--workers", "1", "--mark")
    assert one.returncode == 0, one.stderr
    many = _run(
        str(inputs), "-o", str(ray_out), "--skip-bad", "--engine", "ray", "--workers", "2", "--mark"
    )
    assert many.returncode == 0, many.stderr
    assert local.read_bytes() == ray_out.read_bytes()
    summary = [
        line for line in one.stderr.splitlines() if line.startswith(("cleanup:", "skipped:"))
    ]
    got = [line for line in many.stderr.splitlines() if line.startswith(("cleanup:", "skipped:"))]
    assert [s.rsplit(";", 3)[0] if s.startswith("cleanup:") else s for s in got] == [
        s.rsplit(";", 3)[0] if s.startswith("cleanup:") else s for s in summary
    ]
    stopped = _run(
        str(inputs), "-o", str(tmp_path / "x.jsonl"), "--engine", "ray", "--workers", "2"
    )
    assert stopped.returncode == 1
    assert stopped.stderr.splitlines()[-1].startswith("Error: ")
    assert "b.jsonl:3001: malformed JSON line" in stopped.stderr
    assert "Traceback" not in stopped.stderr and "ray::" not in stopped.stderr
    assert not (tmp_path / "x.jsonl").exists()
