"""Tests for sharded output (cleanup/io/shards.py): `-o DIR/ --format F --shard-size SIZE`."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from click.testing import CliRunner, Result
from helpers import files_under, one_line_error
from helpers import invoke_run as invoke
from hypothesis import given
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.document import Document
from cleanup.errors import OptionError, OutputError
from cleanup.io import shards
from cleanup.io.shards import MANIFEST, ShardSize, ShardWriter, parse_shard_size
from cleanup.options import RunOptions
from cleanup.runner import execute

JSONL_FORMATS = ["jsonl", "jsonl.gz", "jsonl.zst"]
WORDS = [f"w{n}" for n in range(5000)]


def _story(i: int, words: int = 25) -> str:
    """Return a text unlike every other one (so that dedup keeps them all)."""
    rng = random.Random(i)
    return " ".join(rng.choice(WORDS) for _ in range(words)) + f". Story {i}."


def _corpus(path: Path, n: int, words: int = 25) -> Path:
    """Write `n` JSONL records with unique texts and a carried numeric field."""
    lines = [json.dumps({"id": f"d{i}", "text": _story(i, words), "n": i}) for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _shard(source: Path, out: Path, fmt: str, size: str | None, *more: str | Path) -> Result:
    """Run `cleanup run -q SOURCE -o OUT/ --format FMT [--shard-size SIZE] --workers 1 MORE`."""
    sized = ("--shard-size", size) if size else ()
    return invoke(source, "-o", f"{out}/", "--format", fmt, *sized, "--workers", "1", *more)


def _decompressed(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        return zstandard.ZstdDecompressor().stream_reader(data).read()
    return data


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*"))


def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def leftovers(root: Path) -> list[str]:
    """Return every file or folder below `root` a sharded run may have left: parts, staging."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.startswith("part-") or p.name == MANIFEST or "cleanup-tmp" in p.name
    )


@pytest.mark.parametrize("fmt", JSONL_FORMATS)
def test_jsonl_parts_concatenated_are_the_single_file_output(tmp_path: Path, fmt: str) -> None:
    source = _corpus(tmp_path / "in.jsonl", 30)
    single = tmp_path / "single.jsonl"
    assert invoke(source, "-o", single, "--workers", "1").exit_code == 0
    out = tmp_path / "out"
    assert _shard(source, out, fmt, "7").exit_code == 0
    parts = _parts(out)
    assert [p.name for p in parts] == [f"part-{i:05d}.{fmt}" for i in range(5)]  # 7+7+7+7+2
    assert b"".join(_decompressed(p) for p in parts) == single.read_bytes()
    assert [len(_decompressed(p).splitlines()) for p in parts] == [7, 7, 7, 7, 2]
    assert sorted(os.listdir(out)) == sorted([MANIFEST, *(p.name for p in parts)])


@pytest.mark.parametrize("fmt", ["jsonl.gz", "parquet"])
def test_more_parts_than_the_digits_number_get_names_that_sort_in_input_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    # With 1 digit, as with 5 past part-99999: 12 parts are part-00 ... part-11, not part-0,
    # part-1, part-10, part-11, part-2 (which sort out of input order).
    monkeypatch.setattr(shards, "PART_DIGITS", 1)
    source = _corpus(tmp_path / "in.jsonl", 12)
    out = tmp_path / "out"
    assert _shard(source, out, fmt, "1").exit_code == 0
    parts = _parts(out)
    assert [p.name for p in parts] == [f"part-{i:02d}.{fmt}" for i in range(12)]
    assert [f["name"] for f in _manifest(out)["files"]] == [p.name for p in parts]
    for entry, part in zip(_manifest(out)["files"], parts, strict=True):
        assert entry["sha256"] == hashlib.sha256(part.read_bytes()).hexdigest()
    if fmt != "parquet":
        ids = [json.loads(line)["id"] for p in parts for line in _decompressed(p).splitlines()]
        assert ids == [f"d{i}" for i in range(12)]
    assert sorted(os.listdir(out)) == sorted([MANIFEST, *(p.name for p in parts)])


def test_parquet_parts_share_one_schema_and_hold_the_single_file_rows(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 30)
    assert invoke(source, "-o", tmp_path / "single.parquet", "--workers", "1").exit_code == 0
    out = tmp_path / "out"
    assert _shard(source, out, "parquet", "12").exit_code == 0
    parts = _parts(out)
    assert [p.name for p in parts] == [f"part-0000{i}.parquet" for i in range(3)]
    single = pq.read_table(tmp_path / "single.parquet")
    tables = [pq.read_table(p) for p in parts]
    assert [t.num_rows for t in tables] == [12, 12, 6]
    assert all(t.schema == single.schema for t in tables)
    assert pa.concat_tables(tables).equals(single)
    assert pq.ParquetFile(parts[0]).metadata.row_group(0).column(0).compression == "ZSTD"


def test_parquet_parts_keep_the_first_parts_schema(tmp_path: Path) -> None:
    """A column that first appears in a later part stops the run, as in one Parquet file:
    parts with different schemas would not load as one dataset."""
    records = [{"id": f"d{i}", "text": _story(i)} for i in range(8)]
    records[6]["extra"] = "late"
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out"
    error = one_line_error(_shard(source, out, "parquet", "4"), 1)
    assert "in.jsonl:7" in error and "'extra'" in error
    assert leftovers(tmp_path) == []


def test_shard_by_bytes_ends_each_jsonl_part_at_the_first_line_past_the_size(
    tmp_path: Path,
) -> None:
    source = _corpus(tmp_path / "in.jsonl", 60)
    out = tmp_path / "out"
    result = _shard(source, out, "jsonl", "2kB")
    assert result.exit_code == 0, result.output
    parts = _parts(out)
    assert len(parts) > 2
    for part in parts[:-1]:
        data = part.read_bytes()
        last_line = data[:-1].rsplit(b"\n", 1)[-1] + b"\n"
        assert len(data) >= 2000 > len(data) - len(last_line)
    assert parts[-1].stat().st_size > 0
    assert _manifest(out)["shard_size"] == {"bytes": 2000}


@pytest.mark.parametrize("fmt", ["jsonl.zst", "jsonl.gz", "parquet"])
def test_shard_by_bytes_counts_compressed_bytes_on_disk(tmp_path: Path, fmt: str) -> None:
    """Compressed parts end once their file reaches the size (a compressor or row group later)."""
    source = _corpus(tmp_path / "in.jsonl", 3000, words=40)
    out = tmp_path / "out"
    options = RunOptions(
        inputs=[str(source)], output=f"{out}/", format=fmt, shard_size="40KiB", workers=1
    )
    summary = execute(options, [("normalize", {})])
    parts = _parts(out)
    assert len(parts) >= 3
    assert all(p.stat().st_size >= 40 * 1024 for p in parts[:-1])
    manifest = _manifest(out)
    assert manifest["total_documents"] == summary.documents_out == 3000
    assert [f["bytes"] for f in manifest["files"]] == [p.stat().st_size for p in parts]


@pytest.mark.parametrize("fmt", [*JSONL_FORMATS, "parquet"])
def test_manifest_lists_every_part_with_counts_bytes_and_sha256(tmp_path: Path, fmt: str) -> None:
    source = _corpus(tmp_path / "in.jsonl", 25)
    out = tmp_path / "out"
    stats = tmp_path / "stats.json"
    assert _shard(source, out, fmt, "10", "--stats", stats).exit_code == 0
    manifest = _manifest(out)
    parts = _parts(out)
    assert manifest["manifest_version"] == 1
    assert manifest["format"] == fmt
    assert manifest["shard_size"] == {"documents": 10}
    assert [f["name"] for f in manifest["files"]] == [p.name for p in parts]
    assert [f["documents"] for f in manifest["files"]] == [10, 10, 5]
    assert manifest["total_documents"] == 25
    for entry, part in zip(manifest["files"], parts, strict=True):
        assert entry["bytes"] == part.stat().st_size
        assert entry["sha256"] == hashlib.sha256(part.read_bytes()).hexdigest()
    assert manifest["total_bytes"] == sum(p.stat().st_size for p in parts)
    # The run's settings, as --stats records them.
    assert manifest["options"] == json.loads(stats.read_text())["options"]
    assert manifest["options"]["run"]["format"] == fmt


def test_manifest_is_renamed_into_place_after_every_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        renamed.append(os.path.basename(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    source = _corpus(tmp_path / "in.jsonl", 25)
    out = tmp_path / "out"
    assert _shard(source, out, "jsonl.gz", "10").exit_code == 0
    names = [n for n in renamed if n.startswith("part-") or n == MANIFEST]
    assert names == ["part-00000.jsonl.gz", "part-00001.jsonl.gz", "part-00002.jsonl.gz", MANIFEST]


def _doc(i: int) -> Document:
    return Document(id=f"d{i}", paragraphs=[_story(i)], fields={"n": i}, format="jsonl")


def test_finished_writer_exposes_parts_and_manifest_for_a_publisher(tmp_path: Path) -> None:
    """The contract of a remote publisher: after finish(), local parts (in order) + manifest."""
    final = str(tmp_path / "out")
    writer = ShardWriter(final, "jsonl.zst", ShardSize(documents=4), "text", "id", {"run": {}})
    for i in range(10):
        writer.write(_doc(i))
    assert writer.output is None
    writer.finish()
    finished = writer.output
    assert finished is not None
    assert [p.name for p in finished.parts] == [f"part-0000{i}.jsonl.zst" for i in range(3)]
    assert [p.documents for p in finished.parts] == [4, 4, 2]
    assert all(os.path.isfile(path) for path in finished.part_paths())
    assert not os.path.exists(final)  # nothing under the final name before publish
    manifest = json.loads(finished.manifest)
    assert manifest["files"][0]["sha256"] == finished.parts[0].sha256
    assert Path(finished.folder, finished.manifest_name).read_bytes() == finished.manifest
    writer.publish()
    assert writer.output is not None and writer.output.folder == final
    assert (Path(final) / MANIFEST).read_bytes() == finished.manifest
    assert [Path(p).name for p in writer.output.part_paths()] == [p.name for p in finished.parts]


def test_a_failed_run_leaves_no_manifest_and_no_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = shards._describe

    def fail_on_third(path: str, documents: int) -> shards.Part:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OutputError(path, OSError(28, "No space left on device"))
        return real(path, documents)

    monkeypatch.setattr(shards, "_describe", fail_on_third)
    source = _corpus(tmp_path / "in.jsonl", 40)
    out = tmp_path / "out"
    result = _shard(source, out, "jsonl.zst", "5")
    assert "No space left on device" in one_line_error(result, 1)
    assert calls["n"] == 3
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_a_failed_force_run_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _corpus(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out"
    assert _shard(source, out, "jsonl", "5").exit_code == 0
    before = files_under(out)

    def broken(path: str, documents: int) -> shards.Part:
        raise OutputError(path, OSError(5, "Input/output error"))

    monkeypatch.setattr(shards, "_describe", broken)
    result = _shard(source, out, "jsonl", "3", "--force")
    one_line_error(result, 1)
    assert files_under(out) == before
    assert [p for p in leftovers(tmp_path) if "cleanup-tmp" in p] == []


def test_force_replaces_every_part_of_a_bigger_earlier_run(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 20)
    out = tmp_path / "out"
    assert _shard(source, out, "jsonl", "3").exit_code == 0
    assert len(_parts(out)) == 7
    before = files_under(out)
    again = ("-o", f"{out}/", "--format", "jsonl", "--shard-size", "100")
    error = one_line_error(invoke(source, *again), 2)
    assert "already exists (use --force" in error
    assert files_under(out) == before
    assert invoke(source, *again, "--force").exit_code == 0
    assert sorted(os.listdir(out)) == [MANIFEST, "part-00000.jsonl"]
    assert _manifest(out)["files"][0]["documents"] == 20


def test_force_replaces_a_folder_of_text_files(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 4)
    out = tmp_path / "out"
    assert invoke(source, "-o", f"{out}/").exit_code == 0  # one .txt per document
    assert invoke(source, "-o", f"{out}/", "--format", "parquet", "--force").exit_code == 0
    assert sorted(os.listdir(out)) == [MANIFEST, "part-00000.parquet"]


def test_an_empty_output_has_a_manifest_and_no_part(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("", encoding="utf-8")
    out = tmp_path / "out"
    assert invoke(source, "-o", f"{out}/", "--format", "jsonl.zst").exit_code == 0
    assert os.listdir(out) == [MANIFEST]
    manifest = _manifest(out)
    assert (manifest["files"], manifest["total_documents"]) == ([], 0)
    assert manifest["shard_size"] == {"documents": 100000}  # the default


def test_sharded_output_keeps_the_path_rules(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    source = _corpus(data / "in.jsonl", 3)
    error = one_line_error(invoke(data, "-o", f"{data}/out/", "--format", "jsonl"), 2)
    assert "inside the input folder" in error
    out = tmp_path / "out"
    stats = f"{out}/stats.json"
    error = one_line_error(
        invoke(source, "-o", f"{out}/", "--format", "jsonl", "--stats", stats), 2
    )
    assert "inside the output folder" in error
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-o", "x.jsonl", "--format", "parquet"], "does not agree with -o x.jsonl"),
        (["-o", "x.jsonl.zst", "--format", "jsonl"], "does not agree with -o x.jsonl.zst"),
        (["--format", "jsonl.gz"], "standard output is plain JSONL"),
        (["-o", "x", "--format", "jsonl"], "end the folder name with /"),
        (["-o", "x.jsonl", "--shard-size", "10"], "--shard-size needs --format"),
        (["-o", "x/", "--format", "jsonl", "--shard-size", "0"], "at least 1"),
        (["-o", "x/", "--format", "jsonl", "--shard-size", "1.5GB"], "such as 256MB"),
    ],
)
def test_usage_errors_are_one_line_before_reading(
    tmp_path: Path, args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    source = _corpus(tmp_path / "in.jsonl", 2)
    assert expected in one_line_error(invoke(source, *args), 2)
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]


def test_an_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(_corpus(tmp_path / "in.jsonl", 2), "-o", f"{tmp_path}/x/", "--format", "csv")
    assert result.exit_code == 2
    assert "'csv' is not one of 'jsonl', 'jsonl.gz', 'jsonl.zst', 'parquet'" in result.output
    assert not (tmp_path / "x").exists()


def test_a_file_output_whose_extension_agrees_with_format_is_written(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 3)
    assert invoke(source, "-o", tmp_path / "a.jsonl.zst", "--format", "jsonl.zst").exit_code == 0
    assert invoke(source, "-o", tmp_path / "b.jsonl.zst").exit_code == 0
    assert _decompressed(tmp_path / "a.jsonl.zst") == _decompressed(tmp_path / "b.jsonl.zst")


def test_format_and_shard_size_come_from_the_config_file(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 9)
    config = tmp_path / "c.toml"
    config.write_text('[run]\noutput = "out/"\nformat = "jsonl.gz"\nshard-size = 4\n')
    result = CliRunner().invoke(cli, ["run", "-q", str(source), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert len(_parts(tmp_path / "out")) == 3
    assert _parts(tmp_path / "out")[2].name == "part-00002.jsonl.gz"
    config.write_text('[run]\nformat = "jsonl"\nshard-size = "lots"\n')
    result = CliRunner().invoke(cli, ["run", "-q", str(source), "--config", str(config)])
    assert "[run] shard-size: must be a number of documents" in one_line_error(result, 2)


def test_parse_shard_size() -> None:
    assert [parse_shard_size(v) for v in ("100000", 7, "256MB", "1GiB", "64 kib", "10B")] == [
        ShardSize(documents=100000),
        ShardSize(documents=7),
        ShardSize(bytes=256 * 10**6),
        ShardSize(bytes=2**30),
        ShardSize(bytes=64 * 1024),
        ShardSize(bytes=10),
    ]
    with pytest.raises(OptionError, match="--shard-size must be at least 1"):
        parse_shard_size("0kB")


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["", "kB", "MiB", "GB"]))
def test_shard_size_counts_documents_without_a_unit_and_bytes_with_one(n: int, unit: str) -> None:
    size = parse_shard_size(f"{n}{unit}")
    if unit:
        assert size.documents is None and size.bytes is not None and size.bytes >= n * 1000
    else:
        assert size == ShardSize(documents=n)


def test_worker_processes_write_the_same_parts(tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 40)
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert _shard(source, out, "jsonl.zst", "9", "--workers", workers).exit_code == 0
    assert _manifest(tmp_path / "w1")["files"] == _manifest(tmp_path / "w2")["files"]


def test_ray_engine_writes_the_same_parts(tmp_path: Path) -> None:
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")
    source = _corpus(tmp_path / "in.jsonl", 40)
    outs = {}
    for engine, workers in (("local", 1), ("ray", 2)):
        out = tmp_path / engine
        sharded = {"output": f"{out}/", "format": "jsonl", "shard_size": "15"}
        execute(RunOptions(inputs=[str(source)], workers=workers, engine=engine, **sharded))
        outs[engine] = _manifest(out)["files"]
    assert outs["local"] == outs["ray"]
    assert len(outs["ray"]) == 3


def test_datasets_loads_jsonl_and_parquet_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets")
    source = _corpus(tmp_path / "in.jsonl", 25)
    expected = [json.loads(line) for line in source.read_text().splitlines()]
    for fmt, builder in (("jsonl.zst", "json"), ("parquet", "parquet")):
        out = tmp_path / fmt
        assert _shard(source, out, fmt, "10").exit_code == 0
        files = sorted(str(p) for p in _parts(out))
        loaded = datasets.load_dataset(
            builder, data_files=files, split="train", cache_dir=str(tmp_path / "cache")
        )
        assert loaded.num_rows == 25
        assert [dict(row) for row in loaded] == expected


def test_duckdb_reads_jsonl_and_parquet_parts(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    source = _corpus(tmp_path / "in.jsonl", 25)
    for fmt, reader in (("jsonl.zst", "read_json_auto"), ("parquet", "read_parquet")):
        out = tmp_path / fmt.replace(".", "_")
        assert _shard(source, out, fmt, "10").exit_code == 0
        glob = f"{out}/part-*.{fmt}"
        count = duckdb.sql(f"select count(*), sum(n) from {reader}('{glob}')").fetchall()[0]
        assert count == (25, sum(range(25)))
        first = duckdb.sql(f"select id, text from {reader}('{glob}') where n = 11").fetchall()[0]
        assert first == ("d11", _story(11))
