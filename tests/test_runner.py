"""The runner: reading, writing, side outputs and publishing, independent of the steps."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cleanup.errors import BadInput
from cleanup.runner import RunOptions, execute


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_copies_records_and_carried_fields(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x\ny", "lang": "en"}])
    out = tmp_path / "out.jsonl"
    summary = execute(RunOptions(inputs=[str(src)], output=str(out)), calls=[])
    assert json.loads(out.read_text()) == {"id": "a", "text": "x\ny", "lang": "en"}
    assert (summary.documents_in, summary.documents_out) == (1, 1)


def test_empty_documents_are_dropped_unless_kept(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": " \n"}, {"id": "b", "text": "x"}])
    rejects = tmp_path / "rejects.jsonl"
    out = tmp_path / "out.jsonl"
    summary = execute(
        RunOptions(inputs=[str(src)], output=str(out), rejects=str(rejects)), calls=[]
    )
    assert summary.documents_dropped == 1 and summary.dropped_by_rule == {"empty": 1}
    assert json.loads(rejects.read_text())["id"] == "a"
    out2 = tmp_path / "out2.jsonl"
    execute(RunOptions(inputs=[str(src)], output=str(out2), keep_empty=True), calls=[])
    assert len(out2.read_text().splitlines()) == 2


def test_bad_input_stops_and_leaves_no_output(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "x"}\nnot json\n')
    out = tmp_path / "out.jsonl"
    audit = tmp_path / "audit.jsonl"
    with pytest.raises(BadInput, match=r"in\.jsonl:2"):
        execute(RunOptions(inputs=[str(src)], output=str(out), audit=str(audit)), calls=[])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_skip_bad_counts(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "x"}\nnot json\n')
    seen: list[str] = []
    summary = execute(
        RunOptions(inputs=[str(src)], output=str(tmp_path / "o.jsonl"), skip_bad=True),
        calls=[],
        on_bad=seen.append,
    )
    assert summary.bad_input_skipped == 1 and summary.documents_out == 1 and len(seen) == 1


def test_stats_file(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x"}])
    stats = tmp_path / "stats.json"
    execute(RunOptions(inputs=[str(src)], output=str(tmp_path / "o.jsonl"), stats=str(stats)), [])
    data = json.loads(stats.read_text())
    assert data["documents_in"] == 1 and data["version"] and data["options"]["run"]["inputs"]


def test_publish_callbacks_run_only_after_output_is_in_place(tmp_path: Path) -> None:
    from cleanup.pipeline import STEP_MODULES

    assert "dedup" in STEP_MODULES  # the real dedup step registers on_publish; simulate it here
    src = _jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "x"}])
    out = tmp_path / "o.jsonl"
    seen: list[bool] = []

    import cleanup.runner as runner

    original = runner.Context

    class Spy(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.on_publish.append(lambda: seen.append(out.exists()))

    runner.Context = Spy
    try:
        execute(RunOptions(inputs=[str(src)], output=str(out)), calls=[])
    finally:
        runner.Context = original
    assert seen == [True]


def test_killed_run_leaves_no_partial_output(tmp_path: Path) -> None:
    """SIGKILL a run midway: no file under the final name, and the next run succeeds."""
    src = _jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": "x " * 50} for i in range(200)])
    out = tmp_path / "out"
    script = textwrap.dedent(
        f"""
        import time
        from cleanup.runner import RunOptions, execute
        def slow(doc):
            time.sleep(0.01)
        execute(RunOptions(inputs=[{str(src)!r}], output={str(out) + "/"!r}), calls=[],
                on_document=slow)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=os.getcwd())
    deadline = time.time() + 30
    while time.time() < deadline:
        temps = [p for p in tmp_path.iterdir() if p.name.startswith(".out.cleanup-tmp-")]
        if temps and any(temps[0].rglob("*.txt")):
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    execute(RunOptions(inputs=[str(src)], output=str(out) + "/"), calls=[])
    assert len(list((out / "in").iterdir())) == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out"]


@pytest.mark.parametrize("text", ["", "plain ascii", "café ☕ 😀", "lone \ud800 surrogate"])
def test_utf8_size_counts_bytes_as_written(text: str) -> None:
    from cleanup.runner import utf8_size

    assert utf8_size(text) == len(text.encode("utf-8", "replace"))
