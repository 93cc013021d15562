"""Tests for sharded output to object storage: `-o s3://bucket/prefix/ --format F --shard-size N`.

The parts and `_manifest.json` are published through RemotePublisher (cleanup/io/remote.py):
parts first, the manifest last as the commit mark, nothing under the final keys after a
failure, stale parts of an earlier run deleted only once the new manifest is in place. A
moto S3 server runs on loopback (the `endpoint` and `bucket` fixtures, tests/conftest.py).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import fsspec
import pytest
import s3fs
from helpers import aws_env, invoke_run, one_line_error

Events = list[tuple[str, str]]
WORDS = [f"w{n}" for n in range(5000)]


def _s3() -> s3fs.S3FileSystem:
    return fsspec.filesystem("s3")


def _story(n: int) -> str:
    """Return a text unlike every other one (so that dedup keeps them all)."""
    rng = random.Random(n)
    return " ".join(rng.choice(WORDS) for _ in range(25)) + f". Story {n}."


def _corpus(path: Path, count: int) -> Path:
    records = [{"id": f"d{n}", "text": _story(n), "n": n} for n in range(count)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _keys(bucket: str, under: str = "") -> list[str]:
    """Return the keys below the bucket (or its folder `under`), without the bucket name."""
    fs = _s3()
    fs.invalidate_cache()
    return sorted(k.split("/", 1)[1] for k in fs.find(f"{bucket}/{under}"))


def _manifest(url: str) -> dict:
    return json.loads(_s3().cat_file(f"{url}_manifest.json"))


def _records(url: str, fmt: str) -> list[dict]:
    """Read every part the manifest lists back with fsspec, in order."""
    records: list[dict] = []
    for entry in _manifest(url)["files"]:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with fsspec.open(url + entry["name"], "rb") as fh:
                records.extend(pq.read_table(fh).to_pylist())
            continue
        with fsspec.open(url + entry["name"], "rt", compression="infer") as fh:
            records.extend(json.loads(line) for line in fh)
    return records


def _record_calls(monkeypatch: pytest.MonkeyPatch, fail_on: str | None = None) -> Events:
    """Record every copy and delete the store is asked for; fail the copy to a key `fail_on`."""
    events: Events = []
    real_copy, real_rm = s3fs.S3FileSystem._cp_file, s3fs.S3FileSystem._rm_file

    async def copy(self: s3fs.S3FileSystem, path1: str, path2: str, **kw: object) -> None:
        events.append(("copy", path2))
        if fail_on and path2.endswith(fail_on):
            raise PermissionError("Access Denied")
        await real_copy(self, path1, path2, **kw)

    async def remove(self: s3fs.S3FileSystem, path: str, **kw: object) -> None:
        events.append(("rm", path))
        await real_rm(self, path, **kw)

    monkeypatch.setattr(s3fs.S3FileSystem, "_cp_file", copy)
    monkeypatch.setattr(s3fs.S3FileSystem, "_rm_file", remove)
    s3fs.S3FileSystem.clear_instance_cache()  # an instance's rm_file is bound when it is made
    return events


@pytest.mark.parametrize("fmt", ["jsonl.zst", "parquet"])
def test_parts_then_the_manifest_are_written_under_the_prefix(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    source = _corpus(tmp_path / "in.jsonl", 25)
    url = f"s3://{bucket}/clean/day/"
    events = _record_calls(monkeypatch)
    result = invoke_run(source, "-o", url, "--format", fmt, "--shard-size", "10")
    assert result.exit_code == 0, result.output
    parts = [f"part-0000{i}.{fmt}" for i in range(3)]
    assert _keys(bucket) == [f"clean/day/{n}" for n in sorted([*parts, "_manifest.json"])]
    copied = [path.rsplit("/", 1)[1] for kind, path in events if kind == "copy"]
    assert copied == [*parts, "_manifest.json"]  # the commit mark last
    manifest = _manifest(url)
    assert [f["name"] for f in manifest["files"]] == parts
    assert manifest["total_documents"] == 25
    assert manifest["options"]["run"]["output"] == url  # the URL, not the staging folder
    fs = _s3()
    for entry in manifest["files"]:
        assert fs.info(f"{url}{entry['name']}")["size"] == entry["bytes"]
    # the same parts as a local sharded run writes
    local = tmp_path / "local"
    assert (
        invoke_run(source, "-o", f"{local}/", "--format", fmt, "--shard-size", "10").exit_code == 0
    )
    local_manifest = json.loads((local / "_manifest.json").read_text())
    assert local_manifest["files"] == manifest["files"]
    expected = [json.loads(line) for line in source.read_text().splitlines()]
    assert _records(url, fmt) == expected


def test_duckdb_reads_the_parts_downloaded_from_the_prefix(bucket: str, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    source = _corpus(tmp_path / "in.jsonl", 25)
    url = f"s3://{bucket}/out/"
    assert invoke_run(source, "-o", url, "--format", "jsonl.gz", "--shard-size", "7").exit_code == 0
    download = tmp_path / "download"
    download.mkdir()
    names = [entry["name"] for entry in _manifest(url)["files"]]
    for name in names:
        _s3().get_file(f"{url}{name}", str(download / name))
    files = ", ".join(f"'{download / name}'" for name in names)
    count = duckdb.sql(f"select count(*), sum(n) from read_json_auto([{files}])").fetchall()[0]
    assert count == (25, sum(range(25)))
    row = duckdb.sql(f"select id, text from read_json_auto([{files}]) where n = 11").fetchall()
    assert row == [("d11", _story(11))]


def test_a_failed_manifest_copy_leaves_no_part_manifest_or_temporary_key(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _corpus(tmp_path / "in.jsonl", 25)
    _s3().pipe_file(f"{bucket}/elsewhere.txt", b"not ours\n")
    url = f"s3://{bucket}/out/"
    with monkeypatch.context() as patch:
        events = _record_calls(patch, fail_on="out/_manifest.json")
        result = invoke_run(source, "-o", url, "--format", "jsonl.zst", "--shard-size", "10")
    line = one_line_error(result, 1)
    assert f"{url}_manifest.json" in line and "permission denied" in line
    assert [p for kind, p in events if kind == "copy"][-1].endswith("out/_manifest.json")
    assert sum(kind == "copy" for kind, _ in events) == 4  # the three parts were copied ...
    assert _keys(bucket) == ["elsewhere.txt"]  # ... and deleted again, temporaries too


def test_a_failed_force_rerun_leaves_the_earlier_output_as_it_was(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/out/"
    first = _corpus(tmp_path / "first.jsonl", 12)
    assert invoke_run(first, "-o", url, "--format", "jsonl", "--shard-size", "3").exit_code == 0
    fs = _s3()
    before = {key: fs.cat_file(f"{bucket}/{key}") for key in _keys(bucket)}
    second = _corpus(tmp_path / "second.jsonl", 5)
    with monkeypatch.context() as patch:
        _record_calls(patch, fail_on="out/_manifest.json")
        args = ["-o", url, "--format", "jsonl", "--shard-size", "3", "--force"]
        one_line_error(invoke_run(second, *args), 1)
    assert {key: fs.cat_file(f"{bucket}/{key}") for key in _keys(bucket)} == before


def test_an_existing_manifest_or_part_under_the_prefix_needs_force(
    bucket: str, tmp_path: Path
) -> None:
    source = _corpus(tmp_path / "in.jsonl", 6)
    fs = _s3()
    url = f"s3://{bucket}/out/"
    args = ["-o", url, "--format", "jsonl", "--shard-size", "4"]
    assert invoke_run(source, *args).exit_code == 0
    before = {key: fs.cat_file(f"{bucket}/{key}") for key in _keys(bucket)}
    line = one_line_error(invoke_run(source, *args), 2)
    assert line.startswith(f"Error: -o {url}: already holds") and "--force" in line
    assert {key: fs.cat_file(f"{bucket}/{key}") for key in _keys(bucket)} == before
    # a part left without a manifest counts too; an unrelated object does not
    fs.pipe_file(f"{bucket}/stray/part-00007.jsonl.gz", b"old\n")
    fs.pipe_file(f"{bucket}/other/notes.txt", b"notes\n")
    stray = f"s3://{bucket}/stray/"
    one_line_error(invoke_run(source, "-o", stray, "--format", "jsonl"), 2)
    other = f"s3://{bucket}/other/"
    assert invoke_run(source, "-o", other, "--format", "jsonl").exit_code == 0
    assert _keys(bucket, "other/") == [
        "other/_manifest.json",
        "other/notes.txt",
        "other/part-00000.jsonl",
    ]
    assert fs.cat_file(f"{bucket}/other/notes.txt") == b"notes\n"


def test_a_smaller_force_rerun_removes_stale_parts_after_the_new_manifest(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/out/"
    first = _corpus(tmp_path / "first.jsonl", 12)
    assert invoke_run(first, "-o", url, "--format", "jsonl.gz", "--shard-size", "3").exit_code == 0
    assert len(_manifest(url)["files"]) == 4
    _s3().pipe_file(f"{bucket}/out/part-00009.jsonl.zst", b"a part of another format\n")
    _s3().pipe_file(f"{bucket}/out/keep.txt", b"not a part\n")
    second = _corpus(tmp_path / "second.jsonl", 5)
    events = _record_calls(monkeypatch)
    args = ["-o", url, "--format", "jsonl.gz", "--shard-size", "3", "--force"]
    result = invoke_run(second, *args)
    assert result.exit_code == 0, result.output
    new = ["part-00000.jsonl.gz", "part-00001.jsonl.gz"]
    assert [f["name"] for f in _manifest(url)["files"]] == new
    assert _keys(bucket) == sorted(f"out/{n}" for n in [*new, "_manifest.json", "keep.txt"])
    assert [r["id"] for r in _records(url, "jsonl.gz")] == [f"d{n}" for n in range(5)]
    manifest_at = events.index(("copy", f"{bucket}/out/_manifest.json"))
    stale = ["part-00002.jsonl.gz", "part-00003.jsonl.gz", "part-00009.jsonl.zst"]
    removed_at = {p.rsplit("/", 1)[1]: i for i, (kind, p) in enumerate(events) if kind == "rm"}
    assert all(removed_at[name] > manifest_at for name in stale)


def test_a_stale_part_that_cannot_be_deleted_stays_unlisted_and_the_run_succeeds(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/out/"
    first = _corpus(tmp_path / "first.jsonl", 6)
    assert invoke_run(first, "-o", url, "--format", "jsonl", "--shard-size", "2").exit_code == 0
    real_rm = s3fs.S3FileSystem._rm_file

    async def deny_stale(self: s3fs.S3FileSystem, path: str, **kw: object) -> None:
        if path.endswith("out/part-00002.jsonl"):
            raise PermissionError("Access Denied")
        await real_rm(self, path, **kw)

    monkeypatch.setattr(s3fs.S3FileSystem, "_rm_file", deny_stale)
    s3fs.S3FileSystem.clear_instance_cache()
    second = _corpus(tmp_path / "second.jsonl", 3)
    args = ["-o", url, "--format", "jsonl", "--shard-size", "2", "--force"]
    result = invoke_run(second, *args)
    assert result.exit_code == 0, result.output
    assert [f["name"] for f in _manifest(url)["files"]] == ["part-00000.jsonl", "part-00001.jsonl"]
    assert "out/part-00002.jsonl" in _keys(bucket)  # stale, unlisted: the manifest is the truth
    assert not [k for k in _keys(bucket) if ".cleanup-" in k]


@pytest.mark.parametrize(
    ("input_", "args", "expected"),
    [
        ("s3://{b}/in/", ["-o", "s3://{b}/in/sub/"], "inside the input prefix"),
        ("s3://{b}/in/", ["-o", "s3://{b}/in/"], "refusing to write over the input"),
        ("s3://{b}/in/a.jsonl", ["-o", "s3a://{b}//in/"], "holds the input"),
        (
            "s3://{b}/in/a.jsonl",
            ["-o", "s3://{b}/out/", "--audit", "s3://{b}/out/audit.jsonl"],
            "inside the output folder",
        ),
    ],
)
def test_path_rules_hold_for_a_sharded_prefix(
    bucket: str, input_: str, args: list[str], expected: str
) -> None:
    fs = _s3()
    fs.pipe_file(f"{bucket}/in/a.jsonl", json.dumps({"id": "a", "text": _story(1)}).encode())
    before = _keys(bucket)
    cli_args = [input_.format(b=bucket), *[a.format(b=bucket) for a in args], "--format", "jsonl"]
    line = one_line_error(invoke_run(*cli_args), 2)
    assert expected in line
    assert _keys(bucket) == before


def test_a_folder_url_without_format_is_still_refused(bucket: str, tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 3)
    line = one_line_error(invoke_run(source, "-o", f"s3://{bucket}/texts/"), 2)
    assert "a folder of text files cannot be written to a URL" in line and "--format" in line
    assert _keys(bucket) == []


def test_a_real_process_writes_a_sharded_prefix(endpoint: str, bucket: str, tmp_path: Path) -> None:
    source = _corpus(tmp_path / "in.jsonl", 9)
    url = f"s3://{bucket}/out/"
    proc = subprocess.run(
        [sys.executable, "-m", "cleanup", "run", "-q", str(source), "-o", url,
         "--format", "jsonl.zst", "--shard-size", "4"],
        env=aws_env(endpoint),
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(_manifest(url)["files"]) == 3
    assert [r["n"] for r in _records(url, "jsonl.zst")] == list(range(9))
    assert not [k for k in _keys(bucket) if ".cleanup-" in k]
