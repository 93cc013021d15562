"""Smoke test for scripts/bench.py on a tiny corpus: it runs, and its output is well formed.

No timing assertions: speed is measured by the bench itself, never by tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from script_loader import load_script

bench = load_script("bench")


def _json_report(main: Callable[[list[str]], int], args: list[str], work: Path) -> dict:
    """Run a bench's main with --json into `work` and return what it printed, parsed."""
    out = work / "out.json"
    stdout = sys.stdout
    with open(out, "w") as fh:
        sys.stdout = fh
        try:
            assert main([*args, "--work-dir", str(work), "--json"]) == 0
        finally:
            sys.stdout = stdout
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("bench")
    args = ["--sizes", "60", "--workers", "2", "--steps", "normalize,dedup", "--no-datatrove"]
    return _json_report(bench.main, args, work)


def test_json_has_machine_and_one_row_per_measurement(report: dict) -> None:
    assert report["machine"]["cores"] == os.cpu_count()
    whats = [(r["what"], r["workers"]) for r in report["rows"]]
    assert whats == [
        ("read", 1),
        ("dedup", 1),
        ("dedup", 2),
        ("normalize", 1),
        ("normalize", 2),
        ("cleanup run", 1),
        ("cleanup run", 2),
        ("cleanup run (WARC.gz)", 1),
        ("cleanup run (WARC.gz)", 2),
    ]
    assert {r["size"] for r in report["rows"]} == {60}


def test_the_warc_row_is_measured_on_the_archive_bytes(report: dict) -> None:
    rows = {(r["what"], r["workers"]): r for r in report["rows"]}
    warc, run = rows[("cleanup run (WARC.gz)", 1)], rows[("cleanup run", 1)]
    assert warc["seconds"] is not None, warc["note"]
    assert warc["docs"] == 60 and warc["mbytes"] != run["mbytes"]


def test_measured_rows_have_rates_and_memory_skipped_rows_say_why(report: dict) -> None:
    read = report["rows"][0]
    assert read["docs"] == 60 and read["seconds"] > 0 and read["mb_per_s"] > 0
    for row in report["rows"]:
        if row["seconds"] is None:
            assert row["note"], row
            assert row["mb_per_s"] is None
        else:
            assert row["docs_per_s"] == pytest.approx(row["docs"] / row["seconds"])
            assert row["peak_rss_mib"] > 1
            assert row["mbytes"] > 0


def test_a_step_that_does_not_import_is_skipped_with_a_note(tmp_path: Path) -> None:
    result = bench.child_step(str(tmp_path / "none.jsonl"), "no-such-step", {}, 1)
    assert "skip" in result and "no-such-step" in result["skip"]


def test_an_unknown_option_is_skipped_with_a_note(tmp_path: Path) -> None:
    result = bench.child_step(str(tmp_path / "none.jsonl"), "normalize", {"no_such": 1}, 1)
    assert result == {"skip": "normalize has no option no_such yet"}


def test_markdown_table_has_one_line_per_row() -> None:
    rows = [
        bench.Row(size=10, what="read", workers=1, seconds=2.0, docs=10, mbytes=4.0),
        bench.Row(size=10, what="dedup", workers=2, note="dedup does not import yet"),
    ]
    rows[0].peak_rss_mib = 30.0
    lines = bench.table(rows, markdown=True).splitlines()
    assert lines[0].startswith("| docs | what | workers | docs/s | MB/s |")
    assert lines[2] == "| 10 | read | 1 | 5 | 2.00 | 30 |  |"
    assert "skipped: dedup does not import yet" in lines[3]
    assert len(lines) == 4


def test_measure_reports_the_peak_memory_of_the_child(tmp_path: Path) -> None:
    code = "b = bytearray(200 * 1024 * 1024); print('{\"seconds\": 1}')"
    m = bench.measure([sys.executable, "-c", code], tmp_path / "log")
    assert m.ok and m.result == {"seconds": 1}
    assert m.peak_rss >= 200 * 1024 * 1024


def test_measure_reports_a_failing_child(tmp_path: Path) -> None:
    code = "import sys; sys.exit('boom: it failed')"
    m = bench.measure([sys.executable, "-c", code], tmp_path / "log")
    assert not m.ok and m.error == "boom: it failed"


def test_repeat_keeps_the_fastest_successful_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Noise from other work only slows runs down: --repeat keeps the fastest that worked."""
    results = iter(
        [
            bench.Measured(True, 3.0, 100, {"seconds": 2.5}, ""),
            bench.Measured(False, 0.1, 100, {}, "boom"),
            bench.Measured(True, 2.0, 100, {"seconds": 1.5}, ""),
        ]
    )
    calls: list[list[str]] = []

    def fake(argv: list[str], log: Path, cwd: Path | None = None) -> object:
        calls.append(argv)
        return next(results)

    monkeypatch.setattr(bench, "measure", fake)
    args = bench.parse_args(["--repeat", "3", "--work-dir", str(tmp_path)])
    cleared: list[int] = []
    best = bench.Bench(args).best(["x"], before=lambda: cleared.append(len(calls)))
    assert len(calls) == 3 and best.result == {"seconds": 1.5}
    assert cleared == [0, 1, 2]  # before each run, e.g. clearing datatrove's finished tasks


# --- scripts/bench_ray.py: the Ray engine's driver ----------------------------------------

bench_ray = load_script("bench_ray")


def _skip_without_ray() -> None:
    """Skip when Ray is not installed, without importing it here.

    Importing Ray in the test process would make it read its environment before the engine
    sets its loopback settings (see tests/test_engines.py); the bench runs Ray in children.
    """
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")


@pytest.fixture(scope="module")
def ray_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the Ray bench once on 200 documents, one core, an 80 MiB object store."""
    _skip_without_ray()
    work = tmp_path_factory.mktemp("bench_ray")
    args = ["--sizes", "200", "--workers", "1", "--object-store-mib", "80", "--poll", "0.2"]
    return _json_report(bench_ray.main, args, work)


def test_the_ray_row_has_driver_memory_store_bytes_and_both_rates(ray_report: dict) -> None:
    (row,) = ray_report["rows"]
    assert row["note"] == "" and (row["size"], row["workers"]) == (200, 1)
    assert row["driver_peak_rss_mib"] > 20  # a Python interpreter running ray.init
    assert row["samples"] >= 1  # the sidecar found the driver in the raylet's stats
    assert row["driver_store_mib"] >= 0 and row["driver_owned_objects"] >= 0
    assert row["driver_total_mib"] == pytest.approx(
        row["driver_peak_rss_mib"] + row["driver_store_mib"]
    )
    assert row["ray_mb_per_s"] > 0 and row["local_mb_per_s"] > 0
    assert row["ray_vs_local"] == pytest.approx(row["ray_seconds"] / row["local_seconds"])
    # the bench capped Ray's object store through Ray's own variable, and Ray took it
    assert row["store_capacity_mib"] == pytest.approx(80, abs=1)
    assert ray_report["machine"]["object_store_mib"] == 80


def test_high_water_is_the_peak_of_that_process_alone(tmp_path: Path) -> None:
    import subprocess

    code = "import time; b = bytearray(150 * 1024 * 1024); del b; time.sleep(0.5)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    hwm = bench_ray.HighWater(proc.pid, every=0.02)
    proc.wait()
    assert hwm.stop() >= 150 * 1024 * 1024  # freed before exit: only the kernel's mark has it


def test_the_ray_table_has_one_line_per_size_and_says_why_a_size_failed() -> None:
    good = bench_ray.RayRow(size=20000, workers=2, mbytes=40.0, ray_seconds=10.0)
    good.local_seconds, good.driver_peak_rss_mib, good.driver_store_mib = 5.0, 400.0, 100.0
    bad = bench_ray.RayRow(size=100, workers=2, mbytes=1.0, note="the sidecar never saw it")
    lines = bench_ray.table([good, bad], markdown=True).splitlines()
    assert lines[0].startswith("| docs | workers | driver peak RSS MiB |")
    assert lines[2].startswith("| 20,000 | 2 | 400 | 100.0 | 500 |")
    assert lines[2].endswith("| 4.00 | 8.00 | 2.0x |")
    assert lines[3].startswith("| 100 | 2 | — |")
    assert lines[4:] == ["", "failed: 100 docs: the sidecar never saw it"]  # after the table


def test_a_ray_run_that_does_not_finish_is_stopped_and_reported(tmp_path: Path) -> None:
    """A driver that stalls (as one can with too small an object store) cannot hang the bench."""
    _skip_without_ray()
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    run = bench_ray.measure_ray(argv, dict(os.environ), tmp_path / "log", 0.2, timeout=1.0)
    assert not run.ok and run.error == "stopped after 1 s without finishing"
    assert run.wall < 30


def test_the_bench_leaves_the_package_bytecode_as_an_install_would(report: dict) -> None:
    """The children start as an installed package does: every module's bytecode is there."""
    spec = importlib.util.find_spec("cleanup")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations)))
    modules = [folder / "document.py", folder / "dedup" / "corpus.py", folder / "cli" / "run.py"]
    for module in modules:
        assert Path(importlib.util.cache_from_source(str(module))).exists(), module


# --- scripts/bench_pages.py: single huge documents ----------------------------------------


def test_pages_bench_runs_every_case_and_reports_its_figures(tmp_path: Path) -> None:
    pages = load_script("bench_pages")
    report = _json_report(pages.main, ["--mb", "0.05"], tmp_path)
    rows = report["rows"]
    assert [r["case"] for r in rows] == ["article", "tiny-p", "text-node", "lines"]
    for row in rows:
        assert "error" not in row, row
        assert 40_000 <= row["input_bytes"] <= 80_000  # about --mb of text, one JSONL record
        assert 0 < row["output_bytes"] < row["input_bytes"]  # markup or repeats went
        assert row["seconds"] > 0 and row["peak_rss_mib"] > 0
    record = json.loads((tmp_path / "article-0.05mb-seed1.jsonl").read_text())
    assert record["text"].count("<p>") > 100  # many paragraphs, as the case promises


def test_pages_bench_refuses_a_case_past_the_document_limit(tmp_path: Path) -> None:
    pages = load_script("bench_pages")
    with pytest.raises(SystemExit):
        pages.parse_args(["--mb", "100"])
    with pytest.raises(SystemExit):
        pages.parse_args(["--cases", "article,nope"])
