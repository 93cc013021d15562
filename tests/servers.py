"""Throwaway servers for tests: a redis-server on loopback that a test may also kill."""

from __future__ import annotations

import itertools
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    """Return a TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start redis-server on 127.0.0.1 and return the process and its URL (skip if absent)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("redis-server did not start")
    return proc, f"redis://127.0.0.1:{port}"


_NEXT_DB: dict[str, Iterator[int]] = {}


def fresh_redis_db(url: str) -> str:
    """Return the URL of an emptied database of the server at `url` (1-15 in turn)."""
    import redis

    db = next(_NEXT_DB.setdefault(url, itertools.cycle(range(1, 16))))
    redis.Redis.from_url(f"{url}/{db}").flushdb()
    return f"{url}/{db}"
