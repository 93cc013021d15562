"""`cleanup run --engine ray` on a real two-node Ray cluster gives what the local engine gives.

The cluster (tests/ray_cluster.py) runs once for this module: a head and a second node on
127.0.0.1, one CPU and a 90 MiB object store each, as processes of their own, so this test
process never imports Ray. Every run is a real `python -m cleanup run` subprocess that joins it
with `--address`, over a folder of JSONL shards (plain and gzip) from scripts/gen_corpus.py,
compared with the local engine (`--workers 1`) on the same input.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from helpers import files_under
from ray_cluster import RayCluster, start
from servers import fresh_redis_db

ROOT = Path(__file__).parent.parent
# Day 1 is four shards in two folders, two of them gzip; day 2 is two more shards of the same
# generated corpus, so some of its documents copy documents of day 1.
DAY1 = {"a.jsonl": (0, 100), "b.jsonl.gz": (100, 200), "news/c.jsonl": (200, 300),
        "news/d.jsonl.gz": (300, 400)}  # fmt: skip
DAY2 = {"e.jsonl": (400, 500), "f.jsonl.gz": (500, 600)}


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    """Start the two-node loopback cluster once for the module; stop it even if a test fails."""
    if importlib.util.find_spec("ray") is None:  # importing Ray here would beat the engine's env
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")
    # Ray's Unix sockets live under this folder: a short path keeps them under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="raymn-", dir="/tmp"))
    try:
        cluster = start(root)
        try:
            nodes = cluster.alive_nodes()
            assert len(nodes) == 2, nodes
            assert {n["id"] for n in nodes} == set(cluster.nodes)
            assert all(n["ip"] == "127.0.0.1" and n["cpus"] == 1 for n in nodes), nodes
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write the two days' shards (600 generated documents, hard cases on) and return the folder."""
    base = tmp_path_factory.mktemp("multinode")
    script = ROOT / "scripts" / "gen_corpus.py"
    cmd = [sys.executable, str(script), "--docs", "600", "--seed", "11", "--hard-cases",
           "--out", str(base / "gen"), "-q"]  # fmt: skip
    subprocess.run(cmd, check=True)
    lines = (base / "gen" / "corpus.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == 600
    for day, shards in (("day1", DAY1), ("day2", DAY2)):
        for name, (begin, end) in shards.items():
            path = base / day / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = b"".join(lines[begin:end])
            path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return base


def _run(cluster: RayCluster | None, inputs: Sequence[Path], output: str, *args: str) -> None:
    """Run `python -m cleanup run -q` on Ray (joining `cluster`) or on the local engine."""
    cmd = [sys.executable, "-m", "cleanup", "run", "-q", *map(str, inputs), "-o", output, *args]
    if cluster is None:
        cmd += ["--workers", "1"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    else:
        cmd += ["--engine", "ray", "--address", cluster.address]
        env = cluster.driver_env()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr


def _both(
    cluster: RayCluster, inputs: Sequence[Path], out: Path, suffix: str, *args: str
) -> tuple[Path, Path]:
    """Run the local engine and Ray with the same arguments; return (local, ray) outputs."""
    local, ray = out / f"local{suffix}", out / f"ray{suffix}"
    _run(None, inputs, str(local), *args)
    _run(cluster, inputs, str(ray), *args)
    return local, ray


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_cluster_listens_on_loopback_only(ray_cluster: RayCluster) -> None:
    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed; cannot list listening sockets")
    addresses = ray_cluster.listening()
    assert len(addresses) >= 3, addresses  # the GCS server and two raylets at least
    outside = [a for a in addresses if not a.startswith(("127.", "[::1]", "[::ffff:127."))]
    assert outside == [], f"the test cluster listens outside loopback: {outside}"


def test_default_pipeline_one_file_is_byte_identical(
    ray_cluster: RayCluster, corpus: Path, tmp_path: Path
) -> None:
    local, ray = _both(ray_cluster, [corpus / "day1"], tmp_path, ".jsonl")
    assert local.read_bytes() == ray.read_bytes()
    assert 0 < len(_ids(local)) < 400  # dedup dropped copies, across shards too


def test_scratch_on_storage_both_nodes_see_is_byte_identical(
    ray_cluster: RayCluster, corpus: Path, tmp_path: Path
) -> None:
    """With --scratch (here a folder both loopback nodes see) tasks spool and read there."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    args = ("--mark", "--scratch", str(scratch))
    local, ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    _run(None, [corpus / "day1"], str(local), "--mark")
    _run(ray_cluster, [corpus / "day1"], str(ray), *args)
    assert local.read_bytes() == ray.read_bytes()
    assert list(scratch.iterdir()) == []  # the run's scratch folder is gone


def test_a_scratch_folder_that_does_not_exist_is_one_line(
    ray_cluster: RayCluster, corpus: Path, tmp_path: Path
) -> None:
    cmd = [sys.executable, "-m", "cleanup", "run", "-q", str(corpus / "day1"), "-o",
           str(tmp_path / "o.jsonl"), "--engine", "ray", "--address", ray_cluster.address,
           "--scratch", str(tmp_path / "nowhere")]  # fmt: skip
    done = subprocess.run(cmd, env=ray_cluster.driver_env(), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == f"Error: --scratch {tmp_path / 'nowhere'}: no such folder\n"


def test_work_ran_on_both_nodes(ray_cluster: RayCluster, corpus: Path, tmp_path: Path) -> None:
    before = ray_cluster.log_sizes()
    _run(ray_cluster, [corpus / "day1"], str(tmp_path / "out.jsonl"))
    assert ray_cluster.nodes_that_ran("_call", since=before) == set(ray_cluster.nodes)


def test_mark_is_byte_identical(ray_cluster: RayCluster, corpus: Path, tmp_path: Path) -> None:
    local, ray = _both(ray_cluster, [corpus / "day1"], tmp_path, ".jsonl", "--mark")
    assert local.read_bytes() == ray.read_bytes()
    marked = [json.loads(line) for line in local.read_text(encoding="utf-8").splitlines()]
    assert any("duplicate_of" in doc.get("meta", {}) for doc in marked)


def test_cross_doc_paragraphs_near_is_byte_identical(
    ray_cluster: RayCluster, corpus: Path, tmp_path: Path
) -> None:
    near = ("--cross-doc-paragraphs", "near")
    local, ray = _both(ray_cluster, [corpus / "day1"], tmp_path, ".jsonl", *near)
    assert local.read_bytes() == ray.read_bytes()
    audits = []
    for cluster, name in ((None, "local"), (ray_cluster, "ray")):
        audit = tmp_path / f"{name}.audit.jsonl"
        _run(cluster, [corpus / "day1"], str(tmp_path / f"{name}2.jsonl"), *near, "--audit",
             str(audit))  # fmt: skip
        audits.append(audit.read_bytes())
    assert audits[0] == audits[1]
    assert b'"cross-document-paragraph"' in audits[0]  # the option removed paragraphs


def _state(kind: str, name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Return a fresh state: a SQLite file, or its own database of the Redis server."""
    if kind == "sqlite":
        return str(tmp_path / f"{name}.sqlite")
    return fresh_redis_db(request.getfixturevalue("redis_server"))


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_state_over_two_days_is_byte_identical(
    ray_cluster: RayCluster,
    corpus: Path,
    tmp_path: Path,
    kind: str,
    request: pytest.FixtureRequest,
) -> None:
    outputs: dict[str, list[bytes]] = {}
    scratch = tmp_path / "scratch"  # with it, partition tasks on both nodes look the state up
    scratch.mkdir()
    for cluster, name in ((None, "local"), (ray_cluster, "ray")):
        state = _state(kind, name, tmp_path, request)
        more = ("--scratch", str(scratch)) if cluster else ()
        _run(cluster, [corpus / "day1"], str(tmp_path / f"{name}1.jsonl"), "--state", state, *more)
        rejects = tmp_path / f"{name}2.rejects.jsonl"
        _run(cluster, [corpus / "day2"], str(tmp_path / f"{name}2.jsonl"), "--state", state,
             "--rejects", str(rejects), *more)  # fmt: skip
        outputs[name] = [
            (tmp_path / f"{name}1.jsonl").read_bytes(),
            (tmp_path / f"{name}2.jsonl").read_bytes(),
            rejects.read_bytes(),
        ]
    assert outputs["local"] == outputs["ray"]
    day1 = set(_ids(tmp_path / "local1.jsonl"))
    dropped = [json.loads(line) for line in outputs["local"][2].decode().splitlines()]
    # the state decided: day 2 dropped copies of documents published on day 1
    assert any(r.get("detail", {}).get("duplicate_of") in day1 for r in dropped)


def test_folder_output_has_the_same_files(
    ray_cluster: RayCluster, corpus: Path, tmp_path: Path
) -> None:
    local, ray = tmp_path / "local", tmp_path / "ray"
    _run(None, [corpus / "day1"], f"{local}/")
    _run(ray_cluster, [corpus / "day1"], f"{ray}/")
    local_files = files_under(local)
    assert files_under(ray) == local_files
    shards = {Path(name).parent.as_posix() for name in local_files}
    assert shards == {"a", "b", "news/c", "news/d"}  # one folder per input shard


def _records(folder: Path) -> Counter[bytes]:
    """Return the multiset of records in the .jsonl.gz parts of a sharded output."""
    found: Counter[bytes] = Counter()
    for part in folder.rglob("*.jsonl.gz"):
        found.update(gzip.decompress(part.read_bytes()).splitlines())
    return found


def test_sharded_output_has_the_same_records(
    ray_cluster: RayCluster, corpus: Path, tmp_path: Path
) -> None:
    local, ray = tmp_path / "local", tmp_path / "ray"
    args = ("--format", "jsonl.gz", "--shard-size", "100")
    _run(None, [corpus / "day1"], f"{local}/", *args)
    _run(ray_cluster, [corpus / "day1"], f"{ray}/", *args)
    assert (ray / "_manifest.json").is_file()
    records = _records(local)
    assert _records(ray) == records
    assert 100 < sum(records.values()) < 400
