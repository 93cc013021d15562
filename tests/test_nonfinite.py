"""Valid input gives valid output: a NaN or infinity that a Parquet file holds (natively) is
written to JSON as null, to Parquet as itself; one a JSONL line spelled as `NaN`/`Infinity`
is echoed as it came (README, "Parquet")."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from helpers import invoke_run

from cleanup.cli import cli
from cleanup.io.jsonline import BigNumber, dumps, line, loads
from cleanup.io.readers import RawLine, RecordFormat, Source, parse_line

NAN, INF = float("nan"), float("inf")
TEXTS = ["Hello world paragraph one.", "Another paragraph for two.", "Third text is here now."]


def _strict(text: str) -> Any:
    """Parse JSON as RFC 8259 has it: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _strict_lines(data: bytes | str) -> list[dict[str, Any]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return [_strict(row) for row in text.splitlines()]


def _table(texts: list[str] = TEXTS) -> pa.Table:
    """Three rows whose float columns, flat and nested, hold NaN, +inf and -inf."""
    return pa.table(
        {
            "text": texts,
            "x": [NAN, INF, -INF],
            "f32": pa.array([NAN, -INF, 1.5], pa.float32()),
            "l": [[1.0, NAN], [INF], None],
            "s": [{"a": NAN, "b": "k"}, {"a": 1.0, "b": "m"}, {"a": -INF, "b": None}],
            "m": pa.array([[(NAN, 1.0)], [(1.0, INF)], []], pa.map_(pa.float64(), pa.float64())),
        }
    )


# What each row's carried fields are in JSON: every non-finite float is null.
EXPECTED = [
    {"x": None, "f32": None, "l": [1.0, None], "s": {"a": None, "b": "k"}, "m": [[None, 1.0]]},
    {"x": None, "f32": None, "l": [None], "s": {"a": 1.0, "b": "m"}, "m": [[1.0, None]]},
    {"x": None, "f32": 1.5, "l": None, "s": {"a": None, "b": None}, "m": []},
]


def _parquet(tmp_path: Path, texts: list[str] = TEXTS) -> Path:
    path = tmp_path / "in.parquet"
    pq.write_table(_table(texts), path)
    return path


def _fields(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("id", "text")}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_parquet_nan_and_infinity_are_null_in_jsonl_output(tmp_path: Path, workers: str) -> None:
    # They were written as NaN, Infinity, -Infinity: a valid Parquet file gave invalid JSON.
    out = tmp_path / "out.jsonl"
    result = invoke_run(_parquet(tmp_path), "-o", out, "--workers", workers)
    assert result.exit_code == 0, result.output
    records = _strict_lines(out.read_text())
    assert [_fields(r) for r in records] == EXPECTED
    assert [r["text"] for r in records] == TEXTS


def test_parquet_nan_and_infinity_are_null_on_standard_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "-q", str(_parquet(tmp_path))])
    assert result.exit_code == 0, result.output
    assert [_fields(r) for r in _strict_lines(result.stdout)] == EXPECTED


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz"])
def test_parquet_nan_and_infinity_are_null_in_sharded_jsonl(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out"
    args = ("-o", f"{out}/", "--format", fmt, "--shard-size", "2", "--workers", "2")
    result = invoke_run(_parquet(tmp_path), *args)
    assert result.exit_code == 0, result.output
    parts = sorted(out.glob("part-*"))
    assert len(parts) == 2
    data = b"".join(
        gzip.decompress(p.read_bytes()) if fmt == "jsonl.gz" else p.read_bytes() for p in parts
    )
    assert [_fields(r) for r in _strict_lines(data)] == EXPECTED
    _strict((out / "_manifest.json").read_text())


def _same(a: Any, b: Any) -> bool:
    """Tell whether two values are equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def test_parquet_to_parquet_keeps_nan_and_infinity(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    result = invoke_run(_parquet(tmp_path), "-o", out)
    assert result.exit_code == 0, result.output
    written = pq.read_table(out)
    table = _table()
    assert written.select(table.column_names[1:]).schema == table.schema.remove(0)
    rows = [_fields(r) for r in written.to_pylist()]
    assert _same(rows, [_fields(r) for r in table.to_pylist()])


def test_audit_rejects_and_diff_over_parquet_write_no_nan(tmp_path: Path) -> None:
    source = _parquet(tmp_path, [TEXTS[0], TEXTS[1], ""])  # the third row is dropped: empty
    out, audit, rejects = tmp_path / "out.jsonl", tmp_path / "audit.jsonl", tmp_path / "rej.jsonl"
    result = invoke_run(source, "-o", out, "--audit", audit, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    assert len(_strict_lines(out.read_text())) == 2
    assert _strict_lines(audit.read_text())
    (rejected,) = _strict_lines(rejects.read_text())
    assert rejected["fields"] == EXPECTED[2]
    for after in (out, source):
        diff = ["diff", str(source), str(after), "--format", "json", "--audit", str(audit)]
        result = CliRunner().invoke(cli, diff)
        assert result.exit_code in (0, 1), result.output
        _strict(result.stdout)


def test_jsonl_literals_are_echoed_and_read_back_from_parquet_as_null(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Hello world.", "x": NaN, "y": [-Infinity, Infinity]}\n')
    result = invoke_run(src, "-o", tmp_path / "out.jsonl", "--workers", "2")
    assert result.exit_code == 0, result.output
    expect = '{"id": "in.jsonl:1", "text": "Hello world.", "x": NaN, "y": [-Infinity, Infinity]}'
    assert (tmp_path / "out.jsonl").read_text() == expect + "\n"
    result = invoke_run(src, "-o", tmp_path / "mid.parquet")
    assert result.exit_code == 0, result.output
    row = pq.read_table(tmp_path / "mid.parquet").to_pylist()[0]
    assert math.isnan(row["x"]) and row["y"] == [-INF, INF]  # Parquet stores them natively
    result = invoke_run(tmp_path / "mid.parquet", "-o", tmp_path / "back.jsonl")
    assert result.exit_code == 0, result.output
    assert _fields(_strict((tmp_path / "back.jsonl").read_text())) == {"x": None, "y": [None, None]}


def test_a_non_finite_float_is_null_and_a_literal_its_text() -> None:
    record = loads('{"a": NaN, "b": [Infinity, -Infinity, 1e400]}')
    assert all(type(v) is BigNumber for v in (record["a"], *record["b"]))
    assert math.isnan(record["a"]) and record["b"][:2] == [INF, -INF]
    assert dumps(record) == '{"a": NaN, "b": [Infinity, -Infinity, 1e400]}'
    plain = {"a": NAN, "b": [INF, {"c": -INF}], "d": (NAN, 2.5), 1.5: "k"}
    assert dumps(plain) == '{"a": null, "b": [null, {"c": null}], "d": [null, 2.5], "1.5": "k"}'
    mixed = {"a": NAN, "b": BigNumber("NaN"), "c": "text " * 100}
    assert dumps(mixed) == '{"a": null, "b": NaN, "c": ' + json.dumps(mixed["c"]) + "}"
    for record in (plain, mixed, {"a": [NAN]}, {1: NAN}, [INF]):
        assert line(record) == (dumps(record) + "\n").encode()
    assert dumps({NAN: 1}) == '{"NaN": 1}'  # a key is text: json's spelling, valid JSON


def test_an_id_spelled_nan_or_infinity_is_that_text() -> None:
    # As an id 1e400 is "1e400": the text as it came (it was "nan" and "-inf", from float).
    source = Source("in.jsonl", ".", "in.jsonl", "jsonl")
    for spelled in ("NaN", "Infinity", "-Infinity"):
        data = f'{{"id": {spelled}, "text": "Hello."}}'.encode()
        doc = parse_line(RawLine(data, 1, source), RecordFormat())
        assert doc.id == spelled and doc.explicit_id
