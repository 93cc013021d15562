"""Documents finished on the workers (cleanup/tally.py) give the run the same bytes and counts.

Without side files and without an `on_document` callback, the local engine's workers count
each batch into a Tally and join its output lines; the runner merges those. These tests run
the same corpus both ways (an `on_document` callback forces documents back to the main
process) and compare every output byte and every count, and check the merge field by field
against counting each document, so that a count the Tally left out would show.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from cleanup.document import Document
from cleanup.engines import processes
from cleanup.engines.processes import Segment
from cleanup.io.parts import EncodeLines
from cleanup.io.writers import JsonlWriter
from cleanup.runner import RunOptions, Summary, execute
from cleanup.summary import DUPLICATE_EXAMPLES
from cleanup.tally import Finish, Tally, count, is_bad, tally_of

SIDE_FREE = ("seconds",)


def _corpus(tmp_path: Path, n: int = 900) -> Path:
    """Write a corpus with every case the runner counts: bad lines, repeated ids, empty texts,
    edits, exact and near duplicates."""
    lines = []
    for i in range(n):
        if i % 97 == 5:
            lines.append("{broken")
            continue
        if i % 41 == 7:
            text = "   "
        elif i % 13 == 3:
            text = "Same story copied.\n\nEvery word of it, again and again, copied here."
        else:
            text = f"Story {i} says “hello”\u00a0 world.\n\nScroll down for video\n\nEnd {i % 7}."
        record: dict[str, Any] = {"text": text, "n": i}
        if i % 5:
            record["id"] = f"d{i % 300}"  # some ids come back: duplicate ids
        lines.append(json.dumps(record, ensure_ascii=False))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def _run(
    src: Path, out: Path, *, full: bool, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> tuple[bytes, dict[str, Any], list[str], int]:
    """Run with two workers; return the output, the summary, the bad inputs and the tallies."""
    tallies: list[int] = []
    write_lines = JsonlWriter.write_lines

    def spy(self: JsonlWriter, lines: bytes) -> None:
        tallies.append(len(lines))
        write_lines(self, lines)

    monkeypatch.setattr(JsonlWriter, "write_lines", spy)
    bad: list[str] = []
    done: list[int] = []
    summary = execute(
        RunOptions(inputs=[str(src)], output=str(out), workers=2, skip_bad=True, **options),
        on_bad=bad.append,
        on_document=(lambda d: None) if full else None,
        on_documents=done.append,
    )
    counts = dataclasses.asdict(summary)
    for key in SIDE_FREE:
        counts.pop(key)
    assert sum(done) == summary.documents_in
    return out.read_bytes(), counts, bad, len(tallies)


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz"])
def test_finishing_on_workers_writes_and_counts_as_the_main_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    src = _corpus(tmp_path)
    full = _run(src, tmp_path / f"full.{suffix}", full=True, monkeypatch=monkeypatch)
    slim = _run(src, tmp_path / f"slim.{suffix}", full=False, monkeypatch=monkeypatch)
    assert full[3] == 0 and slim[3] > 1  # the slim run did finish batches on the workers
    if suffix == "jsonl":
        assert slim[0] == full[0]
    else:  # the gzip header names the temporary file: compare what follows it
        assert slim[0][slim[0].index(b"\0", 10) :] == full[0][full[0].index(b"\0", 10) :]
    assert slim[1] == full[1]
    assert slim[2] == full[2] and len(full[2]) == 10
    assert full[1]["duplicate_ids"] > 0 and full[1]["dropped_by_rule"]["empty"] > 0


def test_keep_empty_is_applied_on_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _corpus(tmp_path)
    args = {"monkeypatch": monkeypatch, "keep_empty": True}
    full = _run(src, tmp_path / "full.jsonl", full=True, **args)
    slim = _run(src, tmp_path / "slim.jsonl", full=False, **args)
    assert slim[3] > 1 and (slim[0], slim[1]) == (full[0], full[1])


def _documents() -> list[Document]:
    docs = []
    for i in range(40):
        doc = Document.from_text(f"d{i % 15}", f"Story {i}.\n\nEnd {i % 3}.")
        doc.explicit_id = i % 4 != 0
        doc.notes.bytes_in = 10 + i
        if i % 9 == 2:
            doc.remove([1], "dedup", "dedup:paragraph", "a copy")
        if i % 7 == 1:
            doc.drop("dedup", f"dedup:rule-{i % 2}", "near duplicate")
        if i % 11 == 4:
            doc.paragraphs = []
        if i % 17 == 9:
            doc.drop("read", "read:bad-input", f"line {i}: bad")
        docs.append(doc)
    return docs


def _count_here(docs: list[Document], keep_empty: bool) -> tuple[Summary, list[str]]:
    summary, bad = Summary(), []
    for doc in docs:
        if is_bad(doc):
            assert doc.dropped is not None
            bad.append(doc.dropped.why)
            continue
        summary.note_id(doc)
        count(doc, summary, keep_empty)
    summary.flush_ids()  # as the runner does at the end
    return summary, bad


@pytest.mark.parametrize("keep_empty", [False, True])
def test_merged_tallies_equal_counting_each_document(keep_empty: bool) -> None:
    expected, expected_bad = _count_here(_documents(), keep_empty)
    merged, bad = Summary(), []
    docs = _documents()
    encode = EncodeLines("text", "id")
    for start in range(0, len(docs), 12):
        tally = next(Finish(encode, keep_empty)(docs[start : start + 12]))
        bad.extend(tally.bad)
        merged.merge(tally)
    merged.flush_ids()
    assert dataclasses.asdict(merged) == dataclasses.asdict(expected)
    assert list(merged.edits_by_rule) == list(expected.edits_by_rule)  # first-seen order
    assert list(merged.dropped_by_rule) == list(expected.dropped_by_rule)
    assert bad == expected_bad and bad
    assert 0 < len(merged.duplicate_id_examples) <= DUPLICATE_EXAMPLES


def test_a_tally_holds_every_written_line_in_order() -> None:
    docs = list(EncodeLines("text", "id")(_documents()))
    lines = [d.notes.encoded for d in docs if d.dropped is None and d.paragraphs]
    tally = tally_of(docs, keep_empty=False)
    assert tally.lines == b"".join(line or b"" for line in lines)
    assert tally.documents_out == len(lines)


def test_a_tally_refuses_a_written_document_without_its_line() -> None:
    with pytest.raises(RuntimeError, match="without its line"):
        tally_of([Document.from_text("x", "Some text.")], keep_empty=False)


def test_a_tally_pickles_whole() -> None:
    import pickle

    tally = tally_of(EncodeLines("text", "id")(_documents()), keep_empty=False)
    assert pickle.loads(pickle.dumps(tally)) == tally
    assert isinstance(pickle.loads(pickle.dumps(tally)), Tally)


def test_dedup_gets_the_steps_before_it_fused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documents out of the first steps go straight into dedup's jobs on the workers."""
    fused: list[bool] = []
    map_batches = processes.BatchEngine.map_batches

    def spy(self: Any, fn: Any, items: Any, *args: Any, **kw: Any) -> Any:
        if fn.__name__ == "summary_job":
            fused.append(isinstance(items, Segment))
        return map_batches(self, fn, items, *args, **kw)

    monkeypatch.setattr(processes.BatchEngine, "map_batches", spy)
    src = _corpus(tmp_path)
    phases: list[tuple[str, int | None]] = []
    execute(
        RunOptions(inputs=[str(src)], output=str(tmp_path / "o.jsonl"), workers=2, skip_bad=True),
        on_phase=lambda *p: phases.append(p),
    )
    assert fused == [True]
    assert phases == [("reading", None), ("deciding", 900), ("writing", 900)]
