"""The readers' edges: byte-order marks, what folder walks skip, duplicate ids, bad-input limits.

Each skip is counted in the summary, so that nothing in an input folder vanishes unnoticed.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import jsonl_with_bad_lines

from cleanup.cli import cli
from cleanup.errors import BadInput
from cleanup.io import read_inputs
from cleanup.io.readers import Skipped
from cleanup.runner import RunOptions, Summary, execute

TEXT = "Le café “naïve” — 日本語 😀"
BOMS = {
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}


def _with_bom(text: str, codec: str) -> bytes:
    return BOMS[codec] + text.encode(codec)


@pytest.mark.parametrize("codec", list(BOMS))
def test_utf16_and_utf32_text_file_is_decoded_by_its_bom(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(_with_bom(f"{TEXT}\n\nSecond paragraph.\n", codec))
    (doc,) = read_inputs([str(path)])
    assert doc.paragraphs == [TEXT, "Second paragraph."]
    assert doc.edits == []  # a byte-order mark declares the encoding: nothing was guessed


@pytest.mark.parametrize("codec", list(BOMS))
def test_utf16_and_utf32_html_file_is_decoded_by_its_bom(tmp_path: Path, codec: str) -> None:
    page = f"<html><body><p>{TEXT}</p></body></html>"
    path = tmp_path / "a.html"
    path.write_bytes(_with_bom(page, codec))
    (doc,) = read_inputs([str(path)])
    assert doc.raw == page and doc.format == "html"


@pytest.mark.parametrize("codec", list(BOMS))
def test_utf16_and_utf32_jsonl_is_decoded_by_its_bom(tmp_path: Path, codec: str) -> None:
    records = [{"id": "a", "text": TEXT}, {"id": "b", "text": "plain"}]
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path = tmp_path / "d.jsonl"
    path.write_bytes(_with_bom(lines, codec))
    docs = list(read_inputs([str(path)]))
    assert [(d.id, d.text) for d in docs] == [("a", TEXT), ("b", "plain")]


def test_utf16_jsonl_across_chunk_boundaries_and_compressed(tmp_path: Path) -> None:
    """Characters split between two read chunks (a surrogate pair in UTF-16) still decode."""
    lines = "".join(
        json.dumps({"id": str(i), "text": f"{i} 😀 {TEXT}"}, ensure_ascii=False) + "\n"
        for i in range(30000)
    )
    data = _with_bom(lines, "utf-16-le")
    assert len(data) > 2 << 20  # several 1 MB chunks
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(gzip.compress(data))
    docs = list(read_inputs([str(path)]))
    assert len(docs) == 30000 and docs[-1].text == f"29999 😀 {TEXT}"


@pytest.mark.parametrize("name", ["a.txt", "d.jsonl"])
def test_bytes_that_break_their_bom_are_bad_input_naming_the_file(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(codecs.BOM_UTF16_LE + '{"text": "x"}\n'.encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(BadInput, match=rf"{name}: bytes are not valid UTF-16-LE"):
        list(read_inputs([str(path)]))


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.txt").write_text("beta\n")
    for name in ("data.csv", "sub/more.csv", "notes.md", "Makefile"):
        (root / name).write_text("not read\n")
    (root / ".hidden.csv").write_text("silently skipped\n")
    (root / ".git").mkdir()
    (root / ".git" / "x.txt").write_text("silently skipped\n")
    return root


def test_unsupported_files_are_counted_and_hidden_ones_stay_silent(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    skipped: list[Skipped] = []
    docs = list(read_inputs([str(root)], on_skip=skipped.append))
    assert [d.id for d in docs] == ["a.txt", "sub/b.txt"]
    assert sorted(os.path.relpath(s.path, root) for s in skipped) == [
        "Makefile",
        "data.csv",
        "notes.md",
        os.path.join("sub", "more.csv"),
    ]
    assert {s.kind for s in skipped} == {"type"}


def test_summary_counts_unsupported_types(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    out = tmp_path / "o.jsonl"
    summary = execute(RunOptions(inputs=[str(root)], output=str(out)), calls=[])
    assert summary.unsupported_skipped == 4
    assert summary.unsupported_types == [".csv", ".md", "no extension"]
    assert "4 files of unsupported types skipped: .csv, .md, no extension" in summary.line()


def test_cli_names_each_unsupported_file_with_verbose(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    runner = CliRunner()
    args = ["run", str(root), "-o", str(tmp_path / "o.jsonl")]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "4 files of unsupported types skipped" in result.stderr
    assert "data.csv" not in result.stderr
    result = runner.invoke(cli, [*args, "--force", "-v"])
    assert result.exit_code == 0, result.output
    for name in ("data.csv", "more.csv", "notes.md", "Makefile"):
        assert f"{name}: unsupported type" in result.stderr
    assert "hidden" not in result.stderr and ".git" not in result.stderr


def _linked(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text("inside\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the input folder\n")
    os.symlink(outside / "secret.txt", root / "linked.txt")
    os.symlink(outside, root / "linked_dir")
    os.symlink(root, root / "loop")  # a link to an ancestor: must not recurse forever
    return root


def test_links_inside_a_folder_are_skipped_and_counted(tmp_path: Path) -> None:
    root = _linked(tmp_path)
    summary = execute(RunOptions(inputs=[str(root)], output=str(tmp_path / "o.jsonl")), [])
    lines = (tmp_path / "o.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a.txt"]
    assert summary.links_skipped == 3
    assert "3 symbolic links skipped" in summary.line()


def test_follow_links_reads_them_and_stops_at_a_loop(tmp_path: Path) -> None:
    root = _linked(tmp_path)
    skipped: list[Skipped] = []
    docs = list(read_inputs([str(root)], follow_links=True, on_skip=skipped.append))
    assert [d.id for d in docs] == ["a.txt", "linked.txt", "linked_dir/secret.txt"]
    assert [(s.kind, os.path.basename(s.path)) for s in skipped] == [("link", "loop")]
    assert "loop" in skipped[0].why


def test_a_fifo_inside_a_folder_is_skipped_and_counted_not_waited_on(tmp_path: Path) -> None:
    # Opening a FIFO no one writes to blocks for ever: the run hung on `run day/`.
    root = tmp_path / "day"
    root.mkdir()
    (root / "a.jsonl").write_text('{"id": "a", "text": "Hello."}\n')
    os.mkfifo(root / "b.jsonl")
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(cli, ["run", str(root), "-o", str(out), "-v"])
    assert result.exit_code == 0, result.output
    assert "1 document in" in result.stderr
    assert "1 file of an unsupported type skipped: not a regular file" in result.stderr
    assert "b.jsonl: not a regular file" in result.stderr


def test_a_link_named_on_the_command_line_is_always_read(tmp_path: Path) -> None:
    root = _linked(tmp_path)
    docs = list(read_inputs([str(root / "linked.txt"), str(root / "linked_dir")]))
    assert [d.id for d in docs] == ["linked.txt", "secret.txt"]


def test_cli_follow_links_option(tmp_path: Path) -> None:
    root = _linked(tmp_path)
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(cli, ["run", str(root), "-o", str(out), "--follow-links", "-v"])
    assert result.exit_code == 0, result.output
    assert "3 documents in" in result.stderr  # linked.txt and linked_dir/secret.txt: one file
    assert "1 symbolic link skipped" in result.stderr and "loop" in result.stderr


def test_duplicate_ids_are_counted_and_the_run_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    ids = ["a", "b", "a", "c", "a", "b"]
    src.write_text(
        "".join(
            json.dumps({"id": i, "text": f"Record {n} about {i}, unlike any other."}) + "\n"
            for n, i in enumerate(ids)
        )
        + json.dumps({"text": "no id: never a duplicate"})
        + "\n"
        + json.dumps({"text": "no id either"})
        + "\n"
    )
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(cli, ["run", str(src), "-o", str(out), "-v"])
    assert result.exit_code == 0, result.output
    assert "8 documents in" in result.stderr and out.exists()
    assert "3 duplicate ids" in result.stderr
    assert "duplicate ids: a, b" in result.stderr


def test_one_duplicate_id_is_singular() -> None:
    assert "; 1 duplicate id" in Summary(documents_in=2, duplicate_ids=1).line()
    assert "duplicate" not in Summary(documents_in=2).line()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_skip_bad_reports_the_count_in_the_summary(tmp_path: Path, workers: str) -> None:
    src = jsonl_with_bad_lines(tmp_path, {5, 250, 699})
    args = ["run", str(src), "-o", str(tmp_path / "o.jsonl"), "--skip-bad", "--workers", workers]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "3 bad inputs skipped" in result.stderr
    assert result.stderr.count("skipped: ") == 3


@pytest.mark.parametrize("workers", ["1", "2"])
def test_max_bad_stops_the_run_past_the_limit(tmp_path: Path, workers: str) -> None:
    src = jsonl_with_bad_lines(tmp_path, {5, 250, 699})
    out = tmp_path / "o.jsonl"
    runner = CliRunner()
    args = ["run", str(src), "-o", str(out), "--workers", workers, "--max-bad"]
    result = runner.invoke(cli, [*args, "2"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"{src}:699" in errors[0] and "--max-bad 2" in errors[0]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # nothing published
    result = runner.invoke(cli, [*args, "3"])  # --max-bad implies --skip-bad
    assert result.exit_code == 0, result.output
    assert "3 bad inputs skipped" in result.stderr and out.exists()


def test_max_bad_counts_whole_files_that_cannot_be_read(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "a.txt").write_text("fine\n")
    (root / "b.txt").write_bytes(bytes(range(256)) * 10)
    (root / "c.txt").write_bytes(bytes(range(256)) * 10)
    options = RunOptions(inputs=[str(root)], output=str(tmp_path / "o.jsonl"), max_bad=1)
    with pytest.raises(BadInput, match=r"c\.txt: binary data.*more than --max-bad 1"):
        execute(options, calls=[])
    assert not (tmp_path / "o.jsonl").exists()


def test_summary_uses_singular_for_one() -> None:
    one = Summary(
        documents_in=1, documents_out=1, paragraphs_removed=1, bytes_out=1, bad_input_skipped=1
    )
    line = one.line()
    assert "1 document in," in line and "1 paragraph removed" in line
    assert "-> 1 byte;" in line and "1 bad input skipped" in line
    many = Summary(documents_in=2, documents_out=2, paragraphs_removed=0, bytes_out=2)
    assert "2 documents in," in many.line() and "0 paragraphs removed" in many.line()


def test_empty_run_still_reports_what_it_skipped(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    (root / "table.csv").write_text("a,b\n")
    summary = execute(RunOptions(inputs=[str(root)], output=str(tmp_path / "o.jsonl")), [])
    assert summary.line() == (
        "cleanup: no documents in the input, nothing to do; "
        "1 file of an unsupported type skipped: .csv"
    )


def _corpus(tmp_path: Path, n: int = 600) -> Path:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": f"Story number {i} tells its own tale."}) + "\n"
            for i in range(n)
        )
    )
    return src


@pytest.mark.parametrize("workers", [1, 2])
def test_phases_of_a_corpus_dedup_run(tmp_path: Path, workers: int) -> None:
    src = _corpus(tmp_path)
    phases: list[tuple[str, int | None]] = []
    reads: list[int] = []
    options = RunOptions(inputs=[str(src)], output=str(tmp_path / "o.jsonl"), workers=workers)
    execute(options, None, on_phase=lambda *p: phases.append(p), on_read=lambda: reads.append(1))
    assert phases == [("reading", None), ("deciding", 600), ("writing", 600)]
    assert len(reads) == 600


def test_a_streaming_run_only_reads(tmp_path: Path) -> None:
    src = _corpus(tmp_path, 10)
    phases: list[tuple[str, int | None]] = []
    calls = [("dedup", {"scope": "document"}), ("normalize", {})]
    options = RunOptions(inputs=[str(src)], output=str(tmp_path / "o.jsonl"))
    execute(options, calls, on_phase=lambda *p: phases.append(p))
    assert phases == [("reading", None)]


def test_duplicate_ids_are_counted_with_workers(tmp_path: Path) -> None:
    """Documents come back from the workers with their ids: the count is the same."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"d{i % 500}", "text": f"Story {i} about {i * 7919 % 10007}."}) + "\n"
            for i in range(700)
        )
    )
    counts = []
    for workers in (1, 2):
        out = tmp_path / f"o{workers}.jsonl"
        summary = execute(RunOptions(inputs=[str(src)], output=str(out), workers=workers), [])
        counts.append((summary.duplicate_ids, summary.duplicate_id_examples))
    assert counts[0] == counts[1] == (200, ["d0", "d1", "d2", "d3", "d4"])


def test_a_folder_that_cannot_be_listed_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to vanish without a word (os.walk ignores errors); now it is named."""
    root = tmp_path / "in"
    (root / "locked").mkdir(parents=True)
    (root / "a.txt").write_text("fine\n")
    real = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(BadInput, match=r"locked: cannot read folder: Permission denied"):
        list(read_inputs([str(root)]))
    messages: list[str] = []
    docs = list(read_inputs([str(root)], skip_bad=True, on_bad=messages.append))
    assert [d.id for d in docs] == ["a.txt"] and len(messages) == 1
