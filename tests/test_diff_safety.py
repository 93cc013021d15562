"""`cleanup diff` and `cleanup explain` at their edges: repeated ids, a run's folder output,
the -o file, files that are not audit trails, truncated compressed input."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.document import Document
from cleanup.report.diff import diff_corpora


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def one_error_line(result: Result, *names: str) -> str:
    """Return the single output line of a failed command, checking it names `names`."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    for name in names:
        assert name in lines[0], result.output
    return lines[0]


def truncated_gzip(path: Path, data: bytes) -> Path:
    whole = gzip.compress(data)
    path.write_bytes(whole[: len(whole) // 2])
    return path


# --- 1. duplicate ids ----------------------------------------------------------------------


def test_duplicate_ids_are_matched_in_order_and_counted(runner: CliRunner, tmp_path: Path) -> None:
    before = write_jsonl(
        tmp_path / "before.jsonl",
        [{"id": "x", "text": "one"}, {"id": "x", "text": "two"}, {"id": "y", "text": "same"},
         {"id": "x", "text": "three"}],
    )  # fmt: skip
    after = write_jsonl(
        tmp_path / "after.jsonl",
        [{"id": "x", "text": "one"}, {"id": "y", "text": "same"}, {"id": "x", "text": "two!"},
         {"id": "y", "text": "extra"}],
    )  # fmt: skip
    result = runner.invoke(cli, ["diff", str(before), str(after), "--format", "json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    summary = report["summary"]
    assert (summary["documents_before"], summary["documents_after"]) == (4, 4)
    assert (summary["changed"], summary["unchanged"], summary["dropped"], summary["added"]) == (
        1, 2, 1, 1,
    )  # fmt: skip
    assert (summary["duplicate_ids_before"], summary["duplicate_ids_after"]) == (2, 2)
    by_status = {d["status"]: d for d in report["documents"]}
    # the second x after pairs with the second x before; the third x before is dropped
    assert by_status["changed"]["before"].endswith("before.jsonl:2")
    assert by_status["dropped"]["before"].endswith("before.jsonl:4")
    assert by_status["dropped"]["paragraphs"] == [{"op": "remove", "text": "three"}]
    assert by_status["added"]["paragraphs"] == [{"op": "add", "text": "extra"}]
    text = runner.invoke(cli, ["diff", str(before), str(after)])
    assert "duplicate ids: 2 in before, 2 in after (matched in order of appearance)" in text.output


def _docs(ids: list[str], side: str) -> list[Document]:
    return [
        Document.from_text(i, f"{side} {n}", source=f"{side}.jsonl:{n}", format="jsonl",
                           relpath=f"{side}.jsonl", explicit_id=True)
        for n, i in enumerate(ids)
    ]  # fmt: skip


@given(st.lists(st.sampled_from("abc"), max_size=8), st.lists(st.sampled_from("abc"), max_size=8))
def test_no_document_is_lost_and_repeats_pair_in_order(before: list[str], after: list[str]) -> None:
    diffs = list(diff_corpora(_docs(before, "b"), _docs(after, "a")))
    assert sum(d.status != "added" for d in diffs) == len(before)
    assert sum(d.status != "dropped" for d in diffs) == len(after)
    for key in "abc":
        pairs = [(d.before_name, d.after_name) for d in diffs if d.id == key and d.before_name
                 and d.after_name]  # fmt: skip
        n = min(before.count(key), after.count(key))
        assert len(pairs) == n
        b_pos = [int(name.rsplit(":", 1)[1]) for name, _ in pairs]
        a_pos = [int(name.rsplit(":", 1)[1]) for _, name in pairs]
        assert b_pos == [i for i, x in enumerate(before) if x == key][:n]
        assert a_pos == [i for i, x in enumerate(after) if x == key][:n]
    assert sum(d.duplicate_before for d in diffs) == len(before) - len(set(before))
    assert sum(d.duplicate_after for d in diffs) == len(after) - len(set(after))


# --- 2. a JSONL corpus against the folder output of its run --------------------------------

CORPUS = [
    {"id": "plain", "text": "A paragraph that needs no cleaning at all, written plainly."},
    {"id": "quote", "text": "It\u2019s a fine day for a walk in the park with friends.\n\n"
                            "The second paragraph stays exactly as it was written."},
    {"id": "copy-1", "text": "This story is repeated word for word in the corpus twice today."},
    {"id": "copy-2", "text": "This story is repeated word for word in the corpus twice today."},
    {"text": "A record without an id lands under its line number in the output folder."},
]  # fmt: skip


def test_diff_of_a_jsonl_corpus_and_its_run_folder_shows_only_the_real_changes(
    runner: CliRunner, tmp_path: Path
) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CORPUS)
    out, audit = tmp_path / "out", tmp_path / "audit.jsonl"
    run = runner.invoke(
        cli, ["run", str(corpus), "-o", f"{out}/", "--audit", str(audit), "--workers", "1", "-q"]
    )
    assert run.exit_code == 0, run.output
    assert (out / "corpus" / "plain.txt").exists()  # the writer's naming, which diff must follow
    records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    edited = {r["id"] for r in records if r["kind"] != "drop"}
    dropped = {r["id"] for r in records if r["kind"] == "drop"}
    assert edited == {"quote"} and dropped == {"copy-2"}  # the corpus does what it should

    result = runner.invoke(
        cli, ["diff", str(corpus), f"{out}/", "--format", "json", "--audit", str(audit)]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    summary = report["summary"]
    assert (summary["changed"], summary["unchanged"], summary["dropped"], summary["added"]) == (
        1, 3, 1, 0,
    )  # fmt: skip
    statuses = {d["status"]: d for d in report["documents"]}
    assert statuses["changed"]["after"].endswith("corpus/quote.txt")
    assert statuses["dropped"]["id"] == "copy-2"
    assert summary["paragraphs_changed"] == 1 and summary["paragraphs_removed"] == 0
    assert summary["changed_by_rule"] == {"normalize:typography": 1}

    reverse = runner.invoke(cli, ["diff", f"{out}/", str(corpus), "--format", "json"])
    back = json.loads(reverse.output)["summary"]
    assert (back["changed"], back["unchanged"], back["dropped"], back["added"]) == (1, 3, 0, 1)


# --- 3. the -o file --------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    before = write_jsonl(tmp_path / "before.jsonl", [{"id": "a", "text": "old text"}])
    after = write_jsonl(tmp_path / "after.jsonl", [{"id": "a", "text": "new text"}])
    return before, after


def test_diff_output_needs_force_to_replace_a_file(
    runner: CliRunner, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    before, after = pair
    report = tmp_path / "diff.txt"
    report.write_text("precious\n", encoding="utf-8")
    result = runner.invoke(cli, ["diff", str(before), str(after), "-o", str(report)])
    assert result.exit_code == 2
    one_error_line(result, "diff.txt", "--force")
    assert report.read_text(encoding="utf-8") == "precious\n"
    forced = runner.invoke(cli, ["diff", str(before), str(after), "-o", str(report), "--force"])
    assert forced.exit_code == 1, forced.output
    assert "{+new+}" in report.read_text(encoding="utf-8")


@pytest.mark.parametrize("target", ["before.jsonl", "after.jsonl", "audit.jsonl"])
def test_diff_output_never_overwrites_an_input(
    runner: CliRunner, pair: tuple[Path, Path], tmp_path: Path, target: str
) -> None:
    before, after = pair
    write_jsonl(tmp_path / "audit.jsonl", [{"id": "a", "rule": "r", "kind": "rewrite"}])
    saved = {p: p.read_bytes() for p in tmp_path.iterdir()}
    result = runner.invoke(
        cli, ["diff", str(before), str(after), "--audit", str(tmp_path / "audit.jsonl"),
              "-o", str(tmp_path / target), "--force"],
    )  # fmt: skip
    assert result.exit_code == 2
    one_error_line(result, target, "refusing")
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == saved


def test_diff_output_that_is_a_hard_link_to_an_input_is_refused(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "doc.txt").write_text("text b\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("text a\n", encoding="utf-8")
    os.link(tmp_path / "b" / "doc.txt", tmp_path / "alias.txt")
    alias = str(tmp_path / "alias.txt")
    args = ["diff", str(tmp_path / "b"), str(tmp_path / "a.txt"), "-o", alias, "--force"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    one_error_line(result, "alias.txt", "refusing to write over the input")
    assert (tmp_path / "alias.txt").read_text(encoding="utf-8") == "text b\n"


def test_diff_output_that_is_a_fifo_or_device_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    # `diff A B -o /dev/null --force` as root replaced the device with the report file.
    (tmp_path / "a.txt").write_text("text a\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("text b\n", encoding="utf-8")
    os.mkfifo(tmp_path / "null")
    args = ["diff", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "-o", str(tmp_path / "null")]
    result = runner.invoke(cli, [*args, "--force"])
    assert result.exit_code == 2
    one_error_line(result, "not a regular file")
    assert (tmp_path / "null").is_fifo()


def test_diff_output_never_goes_inside_an_input_folder(runner: CliRunner, tmp_path: Path) -> None:
    for side in ("b", "a"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "doc.txt").write_text(f"text {side}\n", encoding="utf-8")
    for inside in (tmp_path / "b" / "diff.txt", tmp_path / "a" / "sub" / "diff.txt"):
        result = runner.invoke(
            cli, ["diff", str(tmp_path / "b"), str(tmp_path / "a"), "-o", str(inside)]
        )
        assert result.exit_code == 2
        one_error_line(result, "refusing to write inside the input folder")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b", "doc.txt", "doc.txt"]


def test_diff_output_is_untouched_when_the_diff_fails(
    runner: CliRunner, pair: tuple[Path, Path], tmp_path: Path
) -> None:
    _, after = pair
    bad = truncated_gzip(tmp_path / "bad.jsonl.gz", b'{"id": "a", "text": "x"}\n' * 2000)
    report = tmp_path / "diff.json"
    report.write_text("precious\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["diff", str(after), str(bad), "-o", str(report), "--force", "--format", "json"]
    )
    assert result.exit_code == 2
    one_error_line(result, "bad.jsonl.gz", "truncated")
    assert report.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "after.jsonl", "bad.jsonl.gz", "before.jsonl", "diff.json"
    ]  # fmt: skip


# --- 4. explain with a file that is not an audit trail -------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("corpus.jsonl", b'{"id": "a", "text": "hello"}\n', "not an audit trail"),
        ("notes.txt", b"just some notes\nabout a\n", "not an audit trail"),
        ("empty.jsonl", b"", "empty"),
        ("blob.bin", bytes(range(256)) * 4, "not an audit trail"),
        ("latin.jsonl", '{"id": "a", "rule": "caf\u00e9"}\n'.encode("latin-1"), "binary"),
    ],
)
def test_explain_names_a_file_that_is_not_an_audit(
    runner: CliRunner, tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = runner.invoke(cli, ["explain", "a", "--audit", str(path)])
    assert result.exit_code == 2
    line = one_error_line(result, name, says)
    assert "is not in the audit trail" not in line


def test_explain_with_a_missing_audit_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["explain", "a", "--audit", str(tmp_path / "gone.jsonl")])
    assert result.exit_code == 2
    one_error_line(result, "gone.jsonl", "no such audit file")


# --- 5. truncated compressed input ----------------------------------------------------------


def test_a_truncated_gzip_audit_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    record = {"id": "a", "rule": "r", "kind": "rewrite", "before": "x", "after": "y"}
    audit = truncated_gzip(tmp_path / "audit.jsonl.gz", (json.dumps(record) + "\n").encode() * 2000)
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": "x"}])
    result = runner.invoke(cli, ["diff", str(corpus), str(corpus), "--audit", str(audit)])
    assert result.exit_code == 2
    one_error_line(result, "audit.jsonl.gz", "truncated gzip file")
    explained = runner.invoke(cli, ["explain", "a", "--audit", str(audit)])
    assert explained.exit_code == 1
    one_error_line(explained, "audit.jsonl.gz", "truncated gzip file")


def test_a_truncated_gzip_corpus_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    corpus = truncated_gzip(tmp_path / "c.jsonl.gz", b'{"id": "a", "text": "x"}\n' * 2000)
    whole = write_jsonl(tmp_path / "w.jsonl", [{"id": "a", "text": "x"}])
    for args in ([corpus, whole], [whole, corpus]):
        result = runner.invoke(cli, ["diff", *map(str, args)])
        assert result.exit_code == 2
        one_error_line(result, "c.jsonl.gz", "truncated gzip file")
