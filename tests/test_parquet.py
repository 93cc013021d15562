"""Tests for Parquet input and output (cleanup/io/parquet.py, the `cleanup[parquet]` extra)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import files_under, one_line_error
from helpers import invoke_run as invoke

from cleanup.cli import cli
from cleanup.errors import OutputError
from cleanup.io import parquet

TEXTS = [
    "The first story begins here.\n\nIt goes on for a while, then ends.",
    "A second story, about something else entirely.",
    "Third one: short and plain.",
]


def _records() -> list[dict]:
    return [
        {"id": f"d{i}", "text": t, "n": i * 10, "score": i / 4, "tags": ["a", str(i)], "ok": i > 0}
        for i, t in enumerate(TEXTS)
    ]


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _story(i: int) -> str:
    """Return a text unlike every other one (so that dedup keeps them all)."""
    return " ".join(f"w{(i * 31 + j * 7) % 997}" for j in range(25)) + "."


def _typed_table(rows: int = 3) -> pa.Table:
    """Return a table with columns whose types inference would not give back."""
    stamp = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
    return pa.table(
        {
            "text": pa.array([_story(i) for i in range(rows)], pa.string()),
            "count": pa.array(list(range(rows)), pa.int32()),
            "weight": pa.array([i / 2 for i in range(rows)], pa.float32()),
            "labels": pa.array([[i, i + 1] for i in range(rows)], pa.list_(pa.int16())),
            "seen": pa.array(
                [stamp + dt.timedelta(hours=i) for i in range(rows)], pa.timestamp("ms", tz="UTC")
            ),
        }
    )


def test_jsonl_to_parquet_to_jsonl_keeps_texts_and_fields(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "in.jsonl", _records())
    result = invoke(source, "-o", tmp_path / "mid.parquet")
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "mid.parquet")
    assert table.schema.field("n").type == pa.int64()  # inferred from the values
    assert table.schema.field("tags").type == pa.list_(pa.string())
    meta = pq.ParquetFile(tmp_path / "mid.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    result = invoke(tmp_path / "mid.parquet", "-o", tmp_path / "back.jsonl")
    assert result.exit_code == 0, result.output
    back = [json.loads(line) for line in (tmp_path / "back.jsonl").read_text().splitlines()]
    assert back == _records()


def test_parquet_to_parquet_keeps_the_column_types(tmp_path: Path) -> None:
    table = _typed_table()
    pq.write_table(table, tmp_path / "in.parquet")
    result = invoke(tmp_path / "in.parquet", "-o", tmp_path / "out.parquet")
    assert result.exit_code == 0, result.output
    out = pq.read_table(tmp_path / "out.parquet")
    # no id column in the input: the id is PATH:ROW, 1-based, and comes first
    assert out.column("id").to_pylist() == ["in.parquet:1", "in.parquet:2", "in.parquet:3"]
    kept = out.drop_columns(["id"])
    assert kept.schema.equals(table.schema), kept.schema
    assert kept.to_pylist() == table.to_pylist()


def test_a_parquet_id_column_is_the_id_and_keeps_its_type(tmp_path: Path) -> None:
    table = _typed_table().append_column("id", pa.array([7, 8, 9], pa.int64()))
    pq.write_table(table, tmp_path / "in.parquet")
    assert invoke(tmp_path / "in.parquet", "-o", tmp_path / "out.parquet").exit_code == 0
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.equals(table.schema)
    assert out.column("id").to_pylist() == [7, 8, 9]


def test_parquet_input_is_read_by_row_group_and_output_written_in_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pq.write_table(_typed_table(10), tmp_path / "in.parquet", row_group_size=3)
    monkeypatch.setattr(parquet, "GROUP_ROWS", 4)
    assert invoke(tmp_path / "in.parquet", "-o", tmp_path / "out.parquet").exit_code == 0
    out = pq.ParquetFile(tmp_path / "out.parquet")
    sizes = [out.metadata.row_group(i).num_rows for i in range(out.num_row_groups)]
    assert sizes == [4, 4, 2]
    ids = out.read().column("id").to_pylist()
    assert ids == [f"in.parquet:{i}" for i in range(1, 11)]


def test_a_corrupt_parquet_file_is_one_line_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not really a parquet file")
    line = one_line_error(invoke(bad, "-o", tmp_path / "out.jsonl"), 1)
    assert line.startswith("Error:") and str(bad) in line and "Parquet" in line
    assert not (tmp_path / "out.jsonl").exists()


def test_a_corrupt_row_group_is_one_line_naming_the_row_group(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(_typed_table(40), path, row_group_size=20, compression="none")
    data = bytearray(path.read_bytes())
    second = pq.ParquetFile(path).metadata.row_group(1).column(0)
    start = second.data_page_offset
    data[start : start + 40] = b"\xff" * 40  # the second row group's first page header
    path.write_bytes(bytes(data))
    line = one_line_error(invoke(path, "-o", tmp_path / "out.jsonl"), 1)
    assert str(path) in line and "row group 2" in line


def test_skip_bad_skips_a_corrupt_parquet_file_and_counts_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"garbage")
    good = _jsonl(tmp_path / "good.jsonl", _records())
    result = CliRunner().invoke(cli, ["run", str(bad), str(good), "--skip-bad", "-o",
                                      str(tmp_path / "out.jsonl")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 bad input skipped" in result.output
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == len(TEXTS)


def test_a_parquet_file_without_the_text_column_is_one_line(tmp_path: Path) -> None:
    pq.write_table(_typed_table(), tmp_path / "in.parquet")
    line = one_line_error(invoke(tmp_path / "in.parquet", "--text-field", "body"), 1)
    assert "in.parquet" in line and "'body'" in line


def test_a_row_without_text_is_bad_input_naming_the_row(tmp_path: Path) -> None:
    pq.write_table(pa.table({"text": ["fine text here", None]}), tmp_path / "in.parquet")
    line = one_line_error(invoke(tmp_path / "in.parquet"), 1)
    assert "in.parquet:2" in line and "text field" in line


def test_input_format_parquet_reads_a_file_without_the_extension(tmp_path: Path) -> None:
    pq.write_table(_typed_table(), tmp_path / "data.bin")
    result = invoke(tmp_path / "data.bin", "--input-format", "parquet", "-o", tmp_path / "o.jsonl")
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 3


def test_a_failed_run_leaves_no_parquet_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _jsonl(tmp_path / "in.jsonl", _records())

    def full_disk(path: str) -> None:
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(parquet, "fsync_path", full_disk)
    before = files_under(tmp_path)
    line = one_line_error(invoke(source, "-o", tmp_path / "out.parquet"), 1)
    assert "out.parquet" in line and "No space left" in line
    assert files_under(tmp_path) == before  # no out.parquet, no temporary left behind


def test_a_run_failing_after_writing_leaves_no_parquet_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pq.write_table(_typed_table(10), tmp_path / "in.parquet")
    monkeypatch.setattr(parquet, "GROUP_ROWS", 2)  # row groups are on disk before the failure

    def fail(*args: object, **kwargs: object) -> None:
        raise OutputError(str(tmp_path / "stats.json"), OSError(5, "Input/output error"))

    monkeypatch.setattr("cleanup.runner.write_stats", fail)
    before = files_under(tmp_path)
    result = invoke(tmp_path / "in.parquet", "-o", tmp_path / "out.parquet",
                    "--stats", tmp_path / "stats.json")  # fmt: skip
    assert "stats.json" in one_line_error(result, 1)
    assert files_under(tmp_path) == before


def test_a_field_that_cannot_fit_its_column_is_one_line(tmp_path: Path) -> None:
    records = [{"text": f"Text number {i} here.", "n": i} for i in range(3)]
    records.append({"text": "A late one.", "n": "not a number"})
    source = _jsonl(tmp_path / "in.jsonl", records)
    line = one_line_error(invoke(source, "-o", tmp_path / "out.parquet"), 1)
    assert "in.jsonl:4" in line and "'n'" in line
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.parametrize(
    ("value", "at", "why"),
    [
        (10**30, 1, "cannot type"),  # past int64: OverflowError escaped as a bare message
        ([1, "a"], 1, "cannot type"),  # a list of mixed kinds: pyarrow failed in the handler
        ({}, 1, "row group"),  # a struct with no field: failed when the writer was made
    ],
)
def test_a_field_parquet_cannot_store_is_one_line_naming_the_record(
    tmp_path: Path, value: object, at: int, why: str
) -> None:
    records = [{"text": "Only one here.", "n": value}, {"text": "Another one.", "n": None}]
    source = _jsonl(tmp_path / "in.jsonl", records)
    line = one_line_error(invoke(source, "-o", tmp_path / "out.parquet"), 1)
    assert f"in.jsonl:{at}:" in line and why in line
    assert not (tmp_path / "out.parquet").exists()


def test_without_pyarrow_the_error_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _jsonl(tmp_path / "in.jsonl", _records())
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import fails
    line = one_line_error(invoke(source, "-o", tmp_path / "out.parquet"), 2)
    assert "cleanup[parquet]" in line
    pq.write_table(_typed_table(), tmp_path / "in.parquet")
    line = one_line_error(invoke(tmp_path / "in.parquet"), 2)
    assert "cleanup[parquet]" in line
    assert not (tmp_path / "out.parquet").exists()
