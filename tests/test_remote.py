"""Tests for inputs and outputs on object storage and URLs (cleanup/io/remote.py).

A moto S3 server runs on loopback (the `endpoint` and `bucket` fixtures, tests/conftest.py);
each test gets its own bucket, with the standard AWS environment pointed at the server.
"""

from __future__ import annotations

import gzip
import http.server
import importlib.util
import json
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import fsspec
import pytest
import s3fs
import zstandard
from click.testing import CliRunner
from helpers import aws_env, invoke_run, one_line_error

from cleanup.cli import cli
from cleanup.errors import OutputError
from cleanup.io import remote

RECORDS = [
    {"id": "a1", "text": "The first story begins here.\n\nIt goes on for a while, then ends."},
    {"text": "A second story without an id, about something else entirely."},
    {"id": "a3", "text": ""},  # dropped as empty: a line in --rejects
    {"id": "a4", "text": "Third one, short and plain, with enough words to keep."},
]


def _s3() -> s3fs.S3FileSystem:
    return fsspec.filesystem("s3")


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _corpus(folder: Path) -> Path:
    """Write a small corpus folder: JSONL, gzip JSONL in a subfolder, text, and skipped files."""
    (folder / "sub").mkdir(parents=True)
    (folder / "a.jsonl").write_bytes(_jsonl(RECORDS[:2]))
    (folder / "sub" / "b.jsonl.gz").write_bytes(gzip.compress(_jsonl(RECORDS[2:])))
    (folder / "c.txt").write_text("A plain text file.\n\nWith two paragraphs of words.\n")
    (folder / "notes.csv").write_text("a,b\n")
    (folder / ".hidden.jsonl").write_bytes(_jsonl(RECORDS[:1]))
    return folder


def _upload(folder: Path, url: str) -> None:
    fs = _s3()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fs.put_file(str(path), f"{url}{path.relative_to(folder).as_posix()}")


def _keys(bucket: str) -> dict[str, bytes]:
    fs = _s3()
    return {k: fs.cat_file(k) for k in sorted(fs.find(bucket))}


def test_a_prefix_reads_like_the_same_local_folder(bucket: str, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in")
    _upload(corpus, f"s3://{bucket}/day/")
    local = tmp_path / "local.jsonl"
    assert invoke_run(corpus, "-o", local).exit_code == 0
    out = tmp_path / "remote.jsonl"
    result = invoke_run(f"s3://{bucket}/day/", "-o", out)
    assert result.exit_code == 0, result.output
    # same order, same ids (relative to the prefix, like a local folder's), same texts
    assert out.read_bytes() == local.read_bytes()
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == ["a1", "a.jsonl:2", "c.txt", "a4"]


def test_one_object_and_a_gzip_object_are_read_with_the_url_as_source(
    bucket: str, tmp_path: Path
) -> None:
    fs = _s3()
    fs.pipe_file(f"{bucket}/x/one.jsonl", _jsonl(RECORDS[:3]))
    fs.pipe_file(f"{bucket}/x/two.jsonl.gz", gzip.compress(_jsonl(RECORDS[3:])))
    rejects = tmp_path / "rejects.jsonl"
    out = tmp_path / "out.jsonl"
    one, two = f"s3://{bucket}/x/one.jsonl", f"s3://{bucket}/x/two.jsonl.gz"
    result = invoke_run(one, two, "-o", out, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["a1", "one.jsonl:2", "a4"]
    rejected = json.loads(rejects.read_text())
    assert (rejected["id"], rejected["source"]) == ("a3", f"{one}:3")


def test_output_and_side_files_are_written_to_s3(bucket: str, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in")
    base = f"s3://{bucket}/out/"
    names = {"-o": "clean.jsonl.zst", "--audit": "audit.jsonl", "--rejects": "rejects.jsonl",
             "--stats": "stats.json", "--report": "report.html"}  # fmt: skip
    args = [a for option, name in names.items() for a in (option, base + name)]
    staged_before = set(Path(tempfile.gettempdir()).glob("cleanup-stage-*"))
    result = invoke_run(corpus, *args)
    assert result.exit_code == 0, result.output
    local = tmp_path / "local"
    local_args = [a for option, name in names.items() for a in (option, local / name)]
    local.mkdir()
    assert invoke_run(corpus, *local_args).exit_code == 0
    keys = _keys(bucket)
    assert sorted(keys) == sorted(f"{bucket}/out/{n}" for n in names.values())  # no temp keys
    unzstd = zstandard.ZstdDecompressor()
    clean = unzstd.decompressobj().decompress(keys[f"{bucket}/out/clean.jsonl.zst"])
    assert clean == unzstd.decompressobj().decompress((local / "clean.jsonl.zst").read_bytes())
    assert keys[f"{bucket}/out/rejects.jsonl"] == (local / "rejects.jsonl").read_bytes()
    assert keys[f"{bucket}/out/audit.jsonl"] == (local / "audit.jsonl").read_bytes()
    stats = json.loads(keys[f"{bucket}/out/stats.json"])
    assert stats["options"]["run"]["output"] == base + "clean.jsonl.zst"  # the URL, not a temp
    assert set(Path(tempfile.gettempdir()).glob("cleanup-stage-*")) == staged_before


def test_an_existing_output_object_needs_force(bucket: str, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in")
    fs = _s3()
    url = f"s3://{bucket}/out.jsonl"
    fs.pipe_file(url, b"old\n")
    line = one_line_error(invoke_run(corpus, "-o", url), 2)
    assert "already exists (use --force" in line and url in line
    assert fs.cat_file(url) == b"old\n"
    side = f"s3://{bucket}/audit.jsonl"
    fs.pipe_file(side, b"old audit\n")
    line = one_line_error(invoke_run(corpus, "-o", tmp_path / "o.jsonl", "--audit", side), 2)
    assert f"--audit {side}: already exists" in line
    assert invoke_run(corpus, "-o", url, "--force").exit_code == 0
    assert fs.cat_file(url).startswith(b'{"id": "a1"')
    assert sorted(_keys(bucket)) == [f"{bucket}/audit.jsonl", f"{bucket}/out.jsonl"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["s3://{b}/in/a.jsonl", "-o", "s3a://{b}/in//a.jsonl"],
            "refusing to write over the input",
        ),
        (["s3://{b}/in/", "-o", "s3://{b}/in/sub/out.jsonl"], "inside the input prefix"),
        (
            [
                "s3://{b}/in/a.jsonl",
                "--audit",
                "s3://{b}/x.jsonl",
                "--rejects",
                "s3a://{b}//x.jsonl",
            ],
            "the same path as --audit",
        ),
        (["s3://{b}/in/", "--state", "s3://{b}/state.sqlite"], "--state s3://"),
        (["s3://{b}/in/", "-o", "https://example.invalid/out.jsonl"], "read-only"),
        (["s3://{b}/in/", "-o", "s3://{b}/folder/"], "cannot be written to a URL"),
        # named by its URL, not by the local file it would be built in
        (["s3://{b}/in/", "-o", "s3://{b}/out.txt"], "-o s3://{b}/out.txt: give a folder"),
    ],
)
def test_path_rules_hold_for_urls(bucket: str, args: list[str], expected: str) -> None:
    fs = _s3()
    fs.pipe_file(f"{bucket}/in/a.jsonl", _jsonl(RECORDS))
    before = _keys(bucket)
    line = one_line_error(invoke_run(*[a.format(b=bucket) for a in args]), 2)
    assert expected.format(b=bucket) in line
    assert _keys(bucket) == before


def test_a_failed_publish_leaves_no_new_object_and_no_temporary_key(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _corpus(tmp_path / "in")
    fs = _s3()
    fs.pipe_file(f"{bucket}/out/audit.jsonl", b"the audit of an earlier run\n")
    before = _keys(bucket)
    copies: list[tuple[str, str]] = []
    real_copy = s3fs.S3FileSystem._cp_file

    async def copy_then_fail(self: s3fs.S3FileSystem, path1: str, path2: str, **kw: object) -> None:
        copies.append((path1, path2))
        if len(copies) == 3:  # the audit set aside and copied into place, then one failure
            raise PermissionError("Access Denied")
        await real_copy(self, path1, path2, **kw)

    monkeypatch.setattr(s3fs.S3FileSystem, "_cp_file", copy_then_fail)
    result = invoke_run(
        corpus,
        "-o", f"s3://{bucket}/out/clean.jsonl",
        "--audit", f"s3://{bucket}/out/audit.jsonl",
        "--force",
    )  # fmt: skip
    line = one_line_error(result, 1)
    assert f"s3://{bucket}/out/clean.jsonl" in line and "permission denied" in line
    assert copies[1][1].endswith("out/audit.jsonl")  # the audit really was replaced ...
    assert copies[3][1].endswith("out/audit.jsonl")  # ... and put back
    monkeypatch.undo()
    assert _keys(bucket) == before


def test_a_missing_bucket_is_one_line_naming_the_url(bucket: str, tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "in")
    line = one_line_error(invoke_run("s3://no-such-bucket-here/in/a.jsonl"), 1)
    assert line.startswith("Error: s3://no-such-bucket-here/in/a.jsonl: cannot read: not found")
    line = one_line_error(invoke_run(corpus, "-o", "s3://no-such-bucket-here/o.jsonl"), 1)
    assert "s3://no-such-bucket-here/o.jsonl" in line and "bucket no-such-bucket-here does" in line
    line = one_line_error(invoke_run(f"s3://{bucket}/nothing.jsonl"), 1)
    assert line == f"Error: s3://{bucket}/nothing.jsonl: cannot read: not found"


def test_missing_credentials_are_one_line_naming_the_url(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    s3fs.S3FileSystem.clear_instance_cache()
    line = one_line_error(invoke_run(f"s3://{bucket}/in/a.jsonl"), 1)
    assert f"s3://{bucket}/in/a.jsonl: cannot read: no credentials found" in line
    out = f"s3://{bucket}/out.jsonl"
    line = one_line_error(invoke_run(_corpus(tmp_path / "in"), "-o", out), 1)
    assert out in line and "no credentials found" in line


def test_skip_bad_skips_and_counts_an_unreadable_object_in_a_prefix(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _corpus(tmp_path / "in")
    _upload(corpus, f"s3://{bucket}/day/")
    real_open = s3fs.S3FileSystem.open

    def deny(self: s3fs.S3FileSystem, path: str, *args: object, **kw: object) -> object:
        if path.endswith("c.txt"):
            raise PermissionError("Access Denied")
        return real_open(self, path, *args, **kw)

    monkeypatch.setattr(s3fs.S3FileSystem, "open", deny)
    url = f"s3://{bucket}/day/c.txt"
    line = one_line_error(invoke_run(f"s3://{bucket}/day/", "-o", tmp_path / "o.jsonl"), 1)
    assert line == f"Error: {url}: cannot read: permission denied (Access Denied)"
    stats = tmp_path / "stats.json"
    out = tmp_path / "o.jsonl"
    result = invoke_run(f"s3://{bucket}/day/", "-o", out, "--skip-bad", "--stats", stats)
    assert result.exit_code == 0, result.output
    assert json.loads(stats.read_text())["bad_input_skipped"] == 1
    assert len(out.read_text().splitlines()) == 3


def test_parquet_objects_are_read_from_s3(bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "in.parquet"
    source = tmp_path / "in.jsonl"
    source.write_bytes(_jsonl(RECORDS))
    assert invoke_run(source, "-o", local, "--keep-empty").exit_code == 0
    _s3().put_file(str(local), f"{bucket}/p/in.parquet")
    out = tmp_path / "out.jsonl"
    assert invoke_run(f"s3://{bucket}/p/in.parquet", "-o", out).exit_code == 0
    texts = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert texts[0].startswith("The first story") and len(texts) == 3


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """Serve a folder over HTTP on loopback (http.server: no Range support, like many)."""
    folder = tmp_path / "served"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_https_input_is_streamed_from_a_web_server(
    http_folder: tuple[Path, str], tmp_path: Path
) -> None:
    folder, base = http_folder
    (folder / "page.jsonl.gz").write_bytes(gzip.compress(_jsonl(RECORDS)))
    local = tmp_path / "local.jsonl"
    assert invoke_run(folder / "page.jsonl.gz", "-o", local).exit_code == 0
    out = tmp_path / "out.jsonl"
    result = invoke_run(f"{base}/page.jsonl.gz", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == local.read_bytes()
    line = one_line_error(invoke_run(f"{base}/missing.jsonl", "-o", tmp_path / "x.jsonl"), 1)
    assert f"{base}/missing.jsonl: cannot read: not found" in line


def test_a_real_process_reads_and_writes_s3(endpoint: str, bucket: str, tmp_path: Path) -> None:
    fs = _s3()
    fs.pipe_file(f"{bucket}/in/a.jsonl", _jsonl(RECORDS))
    out = f"s3://{bucket}/out/clean.jsonl.gz"
    proc = subprocess.run(
        [sys.executable, "-m", "cleanup", "run", "-q", f"s3://{bucket}/in/", "-o", out],
        env=aws_env(endpoint),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = gzip.decompress(fs.cat_file(out)).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["a1", "a.jsonl:2", "a4"]
    assert sorted(fs.find(bucket)) == [f"{bucket}/in/a.jsonl", f"{bucket}/out/clean.jsonl.gz"]


def test_urls_are_normalised_for_comparison() -> None:
    assert remote.normalise("S3A://b//x/y/") == "s3://b/x/y"
    assert remote.normalise("gcs://b/x") == "gs://b/x"
    assert remote.inside("s3://b/x/y", "s3://b/x")
    assert not remote.inside("s3://b/xy", "s3://b/x")
    assert remote.is_remote("s3://b/x") and remote.is_remote("https://h/x")
    assert not remote.is_remote("redis://localhost:6379") and not remote.is_remote("/tmp/x")


def test_store_errors_are_described_in_one_line() -> None:
    class NoCredentialsError(Exception):
        pass

    class EndpointConnectionError(Exception):
        pass

    assert remote.describe(NoCredentialsError("Unable to locate credentials")).startswith(
        "no credentials found (Unable to locate credentials)"
    )
    assert remote.describe(EndpointConnectionError("Could not connect")).startswith(
        "cannot reach the store"
    )
    assert remote.describe(PermissionError("Access Denied")) == "permission denied (Access Denied)"
    assert remote.describe(ValueError("two\nlines")) == "ValueError: two"


def test_a_failed_publish_does_not_commit_the_state(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _corpus(tmp_path / "in")
    state = tmp_path / "state.sqlite"
    url = f"s3://{bucket}/clean.jsonl"

    async def fail(self: s3fs.S3FileSystem, path1: str, path2: str, **kw: object) -> None:
        raise PermissionError("Access Denied")

    with monkeypatch.context() as patch:
        patch.setattr(s3fs.S3FileSystem, "_cp_file", fail)
        one_line_error(invoke_run(corpus, "-o", url, "--state", state), 1)
    assert _keys(bucket) == {}
    assert _state_runs(state) == 0  # prepared, never committed
    assert invoke_run(corpus, "-o", url, "--state", state).exit_code == 0
    assert len(_s3().cat_file(url).splitlines()) == 4
    assert _state_runs(state) == 1


def _state_runs(state: Path) -> int:
    result = CliRunner().invoke(cli, ["state", "info", str(state)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["runs"]


def test_without_fsspec_a_url_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)  # import fsspec raises ImportError
    line = one_line_error(invoke_run("s3://b/in.jsonl", "-o", tmp_path / "o.jsonl"), 2)
    assert line == "Error: s3://b/in.jsonl: URLs need fsspec: pip install 'cleanup[remote]'"


def test_gs_without_gcsfs_is_one_line_naming_the_package(tmp_path: Path) -> None:
    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed: gs:// would go to Google Cloud Storage")
    line = one_line_error(invoke_run("gs://b/in.jsonl", "-o", tmp_path / "o.jsonl"), 2)
    assert line == "Error: gs://b/in.jsonl: gs:// needs gcsfs: pip install gcsfs"


def test_the_publisher_commits_the_last_file_last_and_undoes_a_failure_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check the call a sharded writer makes: parts, then `_manifest.json` as the commit mark."""
    from fsspec.implementations.memory import MemoryFileSystem

    parts = []
    for i in range(3):
        parts.append(tmp_path / f"part-{i:05d}.jsonl")
        parts[-1].write_text(f"part {i}\n")
    manifest = tmp_path / "_manifest.json"
    manifest.write_text("{}\n")
    prefix = f"memory://out-{uuid.uuid4().hex[:8]}/"
    pairs = [(str(p), prefix + p.name) for p in parts]
    copied: list[str] = []
    real_copy = MemoryFileSystem.cp_file

    def record(self: MemoryFileSystem, path1: str, path2: str, **kw: object) -> None:
        copied.append(path2.rsplit("/", 1)[-1])
        if path2.endswith("_manifest.json") and len(copied) == 4:  # the first run's manifest
            raise OSError("store went away")
        real_copy(self, path1, path2, **kw)

    monkeypatch.setattr(MemoryFileSystem, "cp_file", record)
    fs = fsspec.filesystem("memory")
    publisher = remote.RemotePublisher(pairs, last=(str(manifest), prefix + "_manifest.json"))
    failed = r"cannot write memory://.*/_manifest\.json: .*store went away"
    with pytest.raises(OutputError, match=failed):
        publisher.publish()
    assert copied[-1] == "_manifest.json" and len(copied) == 4
    assert fs.find(prefix) == []  # the parts copied before the failure were deleted again
    publisher = remote.RemotePublisher(pairs, last=(str(manifest), prefix + "_manifest.json"))
    publisher.publish()
    assert copied[4:] == [p.name for p in parts] + ["_manifest.json"]
    names = sorted(k.rsplit("/", 1)[-1] for k in fs.find(prefix))
    assert names == sorted([p.name for p in parts] + ["_manifest.json"])


def test_a_run_that_cannot_start_leaves_no_staging_folder(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    url = f"s3://{bucket}/out.parquet"
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # the Parquet writer cannot be opened
    line = one_line_error(invoke_run(_corpus(tmp_path / "in"), "-o", url), 2)
    assert "cleanup[parquet]" in line
    assert list((tmp_path / "tmp").iterdir()) == []
