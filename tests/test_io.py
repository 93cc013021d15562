"""Readers and writers: formats, ids, compression, bad input, atomic output."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import pytest
import zstandard

from cleanup.document import Document
from cleanup.errors import BadInput, UsageProblem
from cleanup.io import open_output, read_inputs
from cleanup.io.writers import output_relpath
from cleanup.paragraphing import split_paragraphs

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_paragraph_rule_lines_when_no_blank_line() -> None:
    text = (FIXTURES / "cnn_sessions.txt").read_text(encoding="utf-8")
    paragraphs, sep = split_paragraphs(text)
    assert sep == "\n"
    assert paragraphs[0] == "Story highlights"
    assert len(paragraphs) == len([line for line in text.splitlines() if line.strip()])


def test_paragraph_rule_blocks_when_blank_lines() -> None:
    paragraphs, sep = split_paragraphs("a\nstill a\n\n \nb\n")
    assert (paragraphs, sep) == (["a\nstill a", "b"], "\n\n")


def test_reads_a_tree_recursively_with_relative_ids(tmp_path: Path) -> None:
    (tmp_path / "site1").mkdir()
    (tmp_path / "site1" / "a.txt").write_text("one\n\ntwo\n", encoding="utf-8")
    (tmp_path / "b.html").write_text("<p>x</p>", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("ignored", encoding="utf-8")
    docs = list(read_inputs([str(tmp_path)]))
    assert [d.id for d in docs] == ["b.html", "site1/a.txt"]
    assert docs[0].format == "html" and docs[0].raw == "<p>x</p>"
    assert docs[1].paragraphs == ["one", "two"] and docs[1].site == "site1"


def test_jsonl_ids_fields_and_prefix(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "text": "x", "lang": "en"}\n\n{"text": "y"}\n', encoding="utf-8")
    docs = list(read_inputs([str(path)], id_prefix="day1/"))
    assert [d.id for d in docs] == ["a", "day1/d.jsonl:3"]
    assert docs[0].explicit_id and not docs[1].explicit_id
    assert docs[0].fields["lang"] == "en"


def test_custom_text_and_id_fields(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"url": "u1", "body": "hello"}\n', encoding="utf-8")
    (doc,) = read_inputs([str(path)], text_field="body", id_field="url")
    assert doc.id == "u1" and doc.paragraphs == ["hello"]


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_compressed_inputs(tmp_path: Path, suffix: str) -> None:
    data = b'{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n'
    packed = gzip.compress(data) if suffix == ".gz" else zstandard.ZstdCompressor().compress(data)
    (tmp_path / f"d.jsonl{suffix}").write_bytes(packed)
    assert [d.id for d in read_inputs([str(tmp_path)])] == ["a", "b"]


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_truncated_compressed_file_keeps_records_before_the_cut(
    tmp_path: Path, suffix: str
) -> None:
    data = b"".join(b'{"id": "%d", "text": "some text here"}\n' % i for i in range(50000))
    packed = gzip.compress(data) if suffix == ".gz" else zstandard.ZstdCompressor().compress(data)
    path = tmp_path / f"d.jsonl{suffix}"
    path.write_bytes(packed[: len(packed) // 2])
    seen: list[str] = []
    with pytest.raises(BadInput, match=rf"d\.jsonl{suffix}: truncated"):
        for doc in read_inputs([str(path)]):
            seen.append(doc.id)
    assert len(seen) > 1000 and seen[:3] == ["0", "1", "2"]
    messages: list[str] = []
    kept = list(read_inputs([str(path)], skip_bad=True, on_bad=messages.append))
    assert len(kept) == len(seen) and len(messages) == 1


def test_malformed_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": \n{"text": "z"}\n')
    with pytest.raises(BadInput, match=r"d\.jsonl:2: malformed JSON"):
        list(read_inputs([str(path)]))
    messages: list[str] = []
    docs = list(read_inputs([str(path)], skip_bad=True, on_bad=messages.append))
    assert [d.id for d in docs] == ["a", "d.jsonl:3"]
    assert len(messages) == 1 and ":2:" in messages[0]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"id": "a"}', "has no text field"),
        ('{"id": "a", "text": 3}', "has a non-string text field"),
    ],
)
def test_record_without_string_text(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(BadInput, match=rf"d\.jsonl:1: record {problem}"):
        list(read_inputs([str(path)]))


def test_binary_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(BadInput, match=r"x\.txt: binary data"):
        list(read_inputs([str(path)]))


def test_unreadable_file_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("secret")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: use a folder named like a file
        path.chmod(0o644)
        path.unlink()
        path.mkdir()
        (path / "inner").mkdir()
        target = [str(tmp_path / "x.txt" / "inner" / ".." / "..")]
        bad = tmp_path / "y.txt"
        os.symlink(tmp_path / "missing", bad)  # a dangling link, read when links are followed
        with pytest.raises(BadInput, match=r"y\.txt: cannot read"):
            list(read_inputs(target, follow_links=True))
        return
    with pytest.raises(BadInput, match=r"x\.txt: cannot read"):
        list(read_inputs([str(path)]))


def test_non_utf8_text_is_decoded_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    text = "Le café était fermé à cause de la grève des employés, a-t-il déclaré."
    path.write_bytes(text.encode("cp1252"))
    (doc,) = read_inputs([str(path)])
    assert doc.paragraphs == [text]
    assert doc.edits[0].rule == "read:decode-charset"


def test_stray_nul_and_lone_surrogate_are_replaced_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "text": "x\\u0000y \\ud800z"}\n')
    (doc,) = read_inputs([str(path)])
    assert doc.paragraphs == ["x\ufffdy \ufffdz"]
    assert doc.edits[0].rule == "read:bad-character" and doc.edits[0].detail == {"count": 2}


def test_empty_file_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "e.txt").write_bytes(b"")
    (tmp_path / "e.jsonl").write_bytes(b"")
    docs = list(read_inputs([str(tmp_path)]))
    assert [(d.id, d.paragraphs) for d in docs] == [("e.txt", [])]


def test_stdin_defaults_to_jsonl() -> None:
    stdin = io.BytesIO(b'{"id": "a", "text": "x"}\n')
    (doc,) = read_inputs(["-"], stdin=stdin)
    assert doc.id == "a" and doc.source == "<stdin>:1"


def test_missing_input_is_a_usage_problem(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem, match="no such file"):
        list(read_inputs([str(tmp_path / "nope")]))


def _doc(doc_id: str, relpath: str, fmt: str = "txt") -> Document:
    return Document.from_text(doc_id, "a\n\nb", relpath=relpath, format=fmt, source=relpath)


def test_folder_writer_mirrors_tree_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out"
    writer = open_output(str(out) + "/")
    writer.write(_doc("x/a.html", "x/a.html", "html"))
    assert not out.exists()  # built under a temporary sibling name
    writer.commit()
    assert (out / "x" / "a.txt").read_text() == "a\n\nb\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_folder_writer_abort_leaves_nothing(tmp_path: Path) -> None:
    writer = open_output(str(tmp_path / "out") + "/")
    writer.write(_doc("a.txt", "a.txt"))
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_folder_writer_name_collision_names_both(tmp_path: Path) -> None:
    writer = open_output(str(tmp_path / "out") + "/")
    writer.write(_doc("a.txt", "a.txt"))
    with pytest.raises(UsageProblem, match=r"a\.txt and a\.html would both be written to a\.txt"):
        writer.write(_doc("a.html", "a.html", "html"))
    writer.abort()


def test_jsonl_record_in_folder_lands_under_file_stem() -> None:
    doc = Document.from_text("d.jsonl:7", "x", relpath="d.jsonl", format="jsonl")
    assert output_relpath(doc) == "d/7.txt"


def test_existing_output_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old")
    with pytest.raises(UsageProblem, match="already exists"):
        open_output(str(target))
    writer = open_output(str(target), force=True)
    writer.write(Document.from_text("a", "new"))
    assert target.read_text() == "old"
    writer.commit()
    assert json.loads(target.read_text()) == {"id": "a", "text": "new"}


def test_refuses_output_inside_input_tree_or_over_input(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text("")
    with pytest.raises(UsageProblem, match="inside the input folder"):
        open_output(str(tmp_path / "in" / "out") + "/", inputs=[str(tmp_path / "in")])
    with pytest.raises(UsageProblem, match="over the input"):
        open_output(
            str(tmp_path / "in" / "a.jsonl"), force=True, inputs=[str(tmp_path / "in" / "a.jsonl")]
        )
    with pytest.raises(UsageProblem, match="holds input"):
        open_output(str(tmp_path) + "/", force=True, inputs=[str(tmp_path / "in")])


def test_unknown_output_kind_is_usage_problem(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem, match="give a folder"):
        open_output(str(tmp_path / "out.txt"))


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl_output_round_trips(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"out{suffix}"
    writer = open_output(str(target))
    writer.write(Document.from_text("a", "x\ny"))
    writer.commit()
    assert [d.text for d in read_inputs([str(target)])] == ["x\ny"]


def test_stale_temporary_of_a_killed_run_is_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".out.cleanup-tmp-999999999"
    stale.mkdir()
    writer = open_output(str(tmp_path / "out") + "/")
    assert not stale.exists()
    writer.abort()


@pytest.mark.parametrize("suffix", ["notes", "12a", "", "0", "\u0663"])  # \u0663: Arabic 3
def test_a_file_named_like_a_temporary_but_not_of_a_process_is_left_alone(
    tmp_path: Path, suffix: str
) -> None:
    """Only `.NAME.cleanup-tmp-PID` is ours: `.out.jsonl.cleanup-tmp-notes` is not removed."""
    out = tmp_path / "out.jsonl"
    mine = [tmp_path / f".out.jsonl.cleanup-{kind}-{suffix}" for kind in ("tmp", "old")]
    for path in mine:
        path.write_text("keep me")
    writer = open_output(str(out))
    writer.write(Document.from_text("a", "x"))
    writer.commit()
    assert [p.read_text() for p in mine] == ["keep me", "keep me"]
    assert [d.text for d in read_inputs([str(out)])] == ["x"]


def test_output_moved_aside_by_a_killed_replace_is_put_back(tmp_path: Path) -> None:
    """Killed between the two renames of --force: the old folder returns, nothing is lost."""
    old = tmp_path / ".out.cleanup-old-999999999"
    old.mkdir()
    (old / "a.txt").write_text("published")
    (tmp_path / ".out.cleanup-tmp-999999999").mkdir()
    writer = open_output(str(tmp_path / "out") + "/", force=True)
    writer.abort()
    assert (tmp_path / "out" / "a.txt").read_text() == "published"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
