"""Parquet columns of types JSON has no word for: each is written to JSONL as valid JSON (README,
"Parquet"), or, when Python cannot hold the value at all, is bad input naming the row."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import invoke_run, one_line_error

from cleanup.cli import cli

TEXTS = ["Hello world paragraph one.", "Another paragraph for two.", "Third text is here now."]


def _strict(text: str) -> Any:
    """Parse JSON as RFC 8259 has it: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_types_json_lacks_are_written_as_valid_json(tmp_path: Path) -> None:
    stamp = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
    columns = {
        "text": TEXTS[:2],
        "bin": pa.array([b'\x00\xff"\\', None], pa.binary()),
        "dec": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(20, 2)),
        "ts": pa.array([stamp, None], pa.timestamp("us", tz="Europe/Paris")),
        "date": pa.array([dt.date(2024, 5, 1), None], pa.date32()),
        "dur": pa.array([dt.timedelta(days=1, microseconds=3), None], pa.duration("us")),
        "map": pa.array([[(1, "a"), (2, "b")], []], pa.map_(pa.int64(), pa.string())),
        "big": pa.array([[1, 2], None], pa.large_list(pa.int64())),
        "dict": pa.array(["x", "y"]).dictionary_encode(),
        "u64": pa.array([2**64 - 1, 0], pa.uint64()),
    }
    pq.write_table(pa.table(columns), tmp_path / "in.parquet")
    result = invoke_run(tmp_path / "in.parquet", "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    first, second = map(_strict, (tmp_path / "out.jsonl").read_text().splitlines())
    assert first["bin"] == "b'\\x00\\xff\"\\\\'"  # Python's text of the bytes
    assert first["dec"] == "1.10" and first["date"] == "2024-05-01"
    assert first["ts"] == "2024-05-01 14:30:00+02:00" and first["dur"] == "1 day, 0:00:00.000003"
    assert first["map"] == [[1, "a"], [2, "b"]] and first["big"] == [1, 2]
    assert first["dict"] == "x" and first["u64"] == 2**64 - 1
    assert all(second[k] is None for k in ("bin", "dec", "ts", "date", "dur", "big"))


# Values Parquet holds and Python cannot: a date or timestamp past the year 9999, a duration
# past timedelta's 999,999,999 days, a struct with two fields of one name. They ended the run
# with "Error: date value out of range" or "Python int too large to convert to C int", naming
# no file nor row.
BEYOND = {
    "date32": pa.array([0, -(10**7), 0], pa.date32()),
    "date64": pa.array([0, 10**17, 0], pa.date64()),
    "timestamp": pa.array([0, 300 * 10**12, 0], pa.timestamp("s")),
    "duration": pa.array([0, 2**62, 0], pa.duration("s")),
    "nested": pa.array([[0], [0, -(10**7)], None], pa.list_(pa.date32())),
    "struct with a name twice": pa.StructArray.from_arrays(  # pyarrow makes no dict of it
        [pa.array([1, 2, 3]), pa.array(["x", "y", "z"])],
        names=["a", "a"],
        mask=pa.array([True, False, True]),
    ),
}


@pytest.mark.parametrize("kind", sorted(BEYOND))
def test_a_value_python_cannot_hold_is_bad_input_naming_the_row(tmp_path: Path, kind: str) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": TEXTS, "when": BEYOND[kind]}), source)
    result = CliRunner().invoke(cli, ["run", "-q", str(source), "-o", str(tmp_path / "o.jsonl")])
    line = one_line_error(result, 1)
    assert line.startswith(f"Error: {source}:2: column 'when' holds a value"), line
    assert not (tmp_path / "o.jsonl").exists()


def test_skip_bad_skips_the_row_python_cannot_hold(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": TEXTS, "when": BEYOND["date32"]}), source)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["run", str(source), "-o", str(out), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "1 bad input skipped" in result.output
    rows = [_strict(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["in.parquet:1", "in.parquet:3"]
    assert [r["when"] for r in rows] == ["1970-01-01", "1970-01-01"]
