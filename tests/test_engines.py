"""Engines: worker processes and Ray give the same documents, in the same order, as one process."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import descendants, jsonl_with_bad_lines

from cleanup.document import Document
from cleanup.engines import build_engine
from cleanup.engines.processes import (
    ProcessEngine,
    WorkerFailed,
    batches,
    freeze,
    run_batch,
    segments,
)
from cleanup.pipeline import Context, Deferred, build_chain

CALLS = [("strip-artifacts", {}), ("normalize", {})]


def _docs(n: int) -> list[Document]:
    return [
        Document.from_text(
            f"d{i}", f"Story {i} says “hello”\u00a0 world.\n\nScroll down for video\n\nEnd {i % 7}."
        )
        for i in range(n)
    ]


def _plain(docs: list[Document]) -> list[tuple[str, list[str], int]]:
    return [(d.id, d.paragraphs, len(d.edits)) for d in docs]


def test_segments_group_per_document_steps() -> None:
    groups = segments([("strip-html", {}), ("normalize", {}), ("dedup", {}), ("normalize", {})])
    assert [(p, [n for n, _ in c]) for p, c in groups] == [
        (True, ["strip-html", "normalize"]),
        (False, ["dedup"]),
        (True, ["normalize"]),
    ]


def test_process_engine_matches_one_process() -> None:
    expected = list(build_chain(CALLS, Context())(_docs(1000)))
    context = Context()
    engine = build_engine("local", CALLS, context, workers=2)
    try:
        got = list(engine(_docs(1000)))
    finally:
        for close in context.on_close:
            close()
    assert _plain(got) == _plain(expected)


def _die(batch: list[int]) -> list[int]:
    os._exit(3)


def test_dead_worker_is_an_error_naming_the_batch() -> None:
    context = Context()
    engine = build_engine("local", CALLS, context, workers=2)
    assert isinstance(engine, ProcessEngine)
    try:
        with pytest.raises(WorkerFailed, match="batch 1"):
            list(engine.map_batches(_die, range(1000)))
    finally:
        for close in context.on_close:
            close()
    del engine


def _listening_addresses(pids: set[int]) -> list[str]:
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        if any(f"pid={pid}," in line for pid in pids):
            found.append(line.split()[3])
    return found


def test_ray_engine_matches_local_and_listens_on_loopback_only() -> None:
    if importlib.util.find_spec("ray") is None:  # importing Ray here would beat the engine's env
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")
    if subprocess.run(["which", "ss"], capture_output=True).returncode != 0:
        pytest.skip("ss (iproute2) is not installed; cannot list listening sockets")
    expected = list(build_chain(CALLS, Context())(_docs(600)))
    context = Context()
    engine = build_engine("ray", CALLS, context, workers=2)
    try:
        got = list(engine(_docs(600)))
        addresses = _listening_addresses(descendants(os.getpid()) | {os.getpid()})
    finally:
        for close in context.on_close:
            close()
    assert _plain(got) == _plain(expected)
    assert addresses, "found no Ray sockets to check"
    outside = [a for a in addresses if not a.startswith(("127.", "[::1]", "[::ffff:127."))]
    assert outside == [], f"Ray listens outside loopback: {outside}"
    import ray

    assert not ray.is_initialized()


def test_engine_output_in_a_full_run_is_identical(tmp_path: Path) -> None:
    from cleanup.runner import RunOptions, execute

    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in _docs(500)),
        encoding="utf-8",
    )
    execute(RunOptions(inputs=[str(src)], output=str(tmp_path / "a.jsonl")), CALLS)
    execute(RunOptions(inputs=[str(src)], output=str(tmp_path / "b.jsonl"), workers=2), CALLS)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def _generated_corpus(tmp_path: Path, docs: int) -> Path:
    script = Path(__file__).parent.parent / "scripts" / "gen_corpus.py"
    out = tmp_path / "corpus"
    cmd = [sys.executable, str(script), "--docs", str(docs), "--seed", "7", "--out", str(out), "-q"]
    subprocess.run(cmd, check=True)
    return out / "corpus.jsonl"


def test_ray_engine_full_default_pipeline_is_byte_identical(tmp_path: Path) -> None:
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")
    from cleanup.runner import RunOptions, execute

    src = _generated_corpus(tmp_path, 600)
    local, ray_out = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    execute(RunOptions(inputs=[str(src)], output=str(local), workers=1))
    execute(RunOptions(inputs=[str(src)], output=str(ray_out), workers=2, engine="ray"))
    assert local.read_bytes() == ray_out.read_bytes()
    assert len(local.read_bytes().splitlines()) < 600  # the corpus has duplicates to drop


def test_workers_full_default_pipeline_is_byte_identical(tmp_path: Path) -> None:
    """More than one batch, dedup included: signatures on workers, decisions in one place."""
    from cleanup.runner import RunOptions, execute

    src = _generated_corpus(tmp_path, 900)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    audit1, audit2 = tmp_path / "a1.jsonl", tmp_path / "a2.jsonl"
    execute(RunOptions(inputs=[str(src)], output=str(one), workers=1, audit=str(audit1)))
    execute(RunOptions(inputs=[str(src)], output=str(two), workers=2, audit=str(audit2)))
    assert one.read_bytes() == two.read_bytes()
    assert audit1.read_bytes() == audit2.read_bytes()


@pytest.mark.parametrize("mode", ["exact", "near"])
def test_workers_identical_with_cross_document_paragraphs(tmp_path: Path, mode: str) -> None:
    """Near mode signs paragraphs on the workers; the decisions must not change."""
    from cleanup.pipeline import DEFAULT_STEPS
    from cleanup.runner import RunOptions, execute

    src = _generated_corpus(tmp_path, 700)
    calls = [(n, {"cross_doc_paragraphs": mode} if n == "dedup" else {}) for n in DEFAULT_STEPS]
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    s1 = execute(RunOptions(inputs=[str(src)], output=str(one), workers=1), calls)
    s2 = execute(RunOptions(inputs=[str(src)], output=str(two), workers=2), calls)
    assert one.read_bytes() == two.read_bytes()
    assert s1.edits_by_rule == s2.edits_by_rule
    assert s1.edits_by_rule.get("cross-document-paragraph", 0) > 0


def test_bad_lines_are_skipped_and_reported_in_order_with_workers(tmp_path: Path) -> None:
    """Lines are parsed on the workers; skips are still counted and reported in input order."""
    from cleanup.runner import RunOptions, execute

    src = jsonl_with_bad_lines(tmp_path, {5, 250, 251, 699})
    results = []
    for workers in (1, 2):
        messages: list[str] = []
        out = tmp_path / f"out{workers}.jsonl"
        options = RunOptions(inputs=[str(src)], output=str(out), skip_bad=True, workers=workers)
        summary = execute(options, CALLS, on_bad=messages.append)
        counts = (summary.bad_input_skipped, summary.documents_in)
        results.append((out.read_bytes(), messages, *counts))
    assert results[0] == results[1]
    _, messages, skipped, count = results[1]
    assert skipped == 4 and count == 696
    assert [m.split(":")[1] for m in messages] == ["5", "250", "251", "699"]


def test_first_bad_input_in_input_order_stops_a_run_with_workers(tmp_path: Path) -> None:
    """A bad line parsed on a worker is reported before a later file that cannot be read."""
    from cleanup.errors import BadInput
    from cleanup.runner import RunOptions, execute

    first = jsonl_with_bad_lines(tmp_path, {450})
    second = tmp_path / "later.jsonl.gz"
    second.write_bytes(b"\x1f\x8b\x08\x00 truncated")
    options = RunOptions(inputs=[str(first), str(second)], output=str(tmp_path / "o.jsonl"))
    for workers in (1, 2):
        options.workers = workers
        with pytest.raises(BadInput, match=r"in\.jsonl:450: malformed JSON line"):
            execute(options, CALLS)
        assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst", "-"])
def test_lines_encoded_on_workers_are_the_lines_one_process_writes(
    tmp_path: Path, suffix: str
) -> None:
    """With workers, the last segment encodes the JSONL lines; every output kind agrees."""
    from click.testing import CliRunner

    from cleanup.cli import cli
    from cleanup.io.compression import read_all

    src = jsonl_with_bad_lines(tmp_path, set(), total=650)
    outputs = []
    for workers in ("1", "2"):
        out = "-" if suffix == "-" else str(tmp_path / f"out{workers}{suffix}")
        args = ["run", str(src), "-o", out, "--workers", workers, "--scope", "document"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        if suffix == "-":
            outputs.append(result.stdout_bytes)
        else:
            with open(out, "rb") as fh:
                outputs.append(read_all(fh, out))
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") == 650


@pytest.mark.parametrize("dedup", [{"mark": True}, {"state": "STATE"}, {"scope": "document"}])
def test_workers_identical_when_dedup_hands_its_batches_to_the_workers(
    tmp_path: Path, dedup: dict[str, object]
) -> None:
    """Dedup's write pass is resolved on the workers (DeferredBatch): marks, state, scopes agree."""
    from cleanup.pipeline import DEFAULT_STEPS
    from cleanup.runner import RunOptions, execute

    src = _generated_corpus(tmp_path, 650)
    outputs = []
    for workers in (1, 2):
        opts = {
            k: str(tmp_path / f"state{workers}.db") if v == "STATE" else v for k, v in dedup.items()
        }
        calls = [(n, opts if n == "dedup" else {}) for n in DEFAULT_STEPS]
        out = tmp_path / f"out{workers}.jsonl"
        for _ in (1, 2):  # with a state, the second run dedups against the first
            execute(
                RunOptions(inputs=[str(src)], output=str(out), workers=workers, force=True), calls
            )
            outputs.append(out.read_bytes())
    assert outputs[:2] == outputs[2:]
    if "mark" in dedup:
        assert b'"duplicate_of"' in outputs[0]
    if "state" in dedup:
        assert outputs[1] == outputs[0]  # a rerun against its own state changes nothing


class _Many(Deferred):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def resolve(self) -> list[Document]:
        return [Document.from_text(f"m{i}", f"Text {i}.") for i in range(self.n)]


def test_batches_weigh_deferred_items_by_the_documents_they_stand_for() -> None:
    items = [_Many(150), 1, 2, _Many(60), _Many(500), 3]
    sizes = [[len(i) if isinstance(i, Deferred) else 1 for i in b] for b in batches(items, 200)]
    assert sizes == [[150, 1, 1], [60], [500], [1]]  # over 200 only when one item alone is


def test_workers_resolve_deferred_items_before_the_steps() -> None:
    """A whole-stream step's `stream` variant may yield Deferred items; the workers resolve them."""
    items = [_Many(3), Document.from_text("x", "Scroll down for video\n\nBody.")]
    (docs,) = [run_batch((None, None), freeze(CALLS), items)]
    assert [d.id for d in docs] == ["m0", "m1", "m2", "x"]
    assert docs[-1].paragraphs == ["Body."]


@pytest.mark.parametrize("steps", [["dedup"], ["dedup", "dedup"], ["normalize", "dedup"]])
def test_pipes_that_start_or_end_with_a_whole_stream_step_agree_with_one_process(
    tmp_path: Path, steps: list[str]
) -> None:
    """Parsing runs alone on the workers ahead of dedup; after dedup, lines encode here."""
    from click.testing import CliRunner

    from cleanup.cli import cli

    src = _generated_corpus(tmp_path, 450)
    outputs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        args = ["pipe", "-i", str(src), "-o", str(out), "--workers", workers, *steps]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
