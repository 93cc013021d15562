"""Fixtures shared by several test files: a local S3 server (moto) and a fresh bucket on it.

Every local Ray a test starts (in this process or in a `cleanup` subprocess, which inherits the
environment) gets a small object store, RAY_STORE_MIB, through Ray's own
RAY_DEFAULT_OBJECT_STORE_MAX_MEMORY_BYTES: a driver that kept task results pinned there would
stall or spill, not pass unnoticed on a store the size of the machine's memory.

The server runs on loopback once per test session; each test that asks for `bucket` gets its
own bucket and the standard AWS environment pointed at the server (AWS_ENDPOINT_URL, which
botocore honours), with no credentials or config files of the machine in the way. moto and
s3fs are imported only by the tests that use these fixtures.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator

import pytest
from helpers import aws_env
from servers import free_port, start_redis

RAY_STORE_MIB = 96  # above Ray's 75 MiB floor, far below what it takes by default
os.environ.setdefault("RAY_DEFAULT_OBJECT_STORE_MAX_MEMORY_BYTES", str(RAY_STORE_MIB << 20))


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a throwaway redis-server on loopback with a random port (skip if absent)."""
    proc, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """Start a moto S3 server on loopback and return its URL."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the AWS environment at the server and return a new, empty bucket's name."""
    import fsspec
    import s3fs

    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in aws_env(endpoint).items():
        monkeypatch.setenv(key, value)
    s3fs.S3FileSystem.clear_instance_cache()  # a cached client keeps the old environment
    name = f"b-{uuid.uuid4().hex[:12]}"
    fsspec.filesystem("s3").mkdir(name)
    yield name
    s3fs.S3FileSystem.clear_instance_cache()
