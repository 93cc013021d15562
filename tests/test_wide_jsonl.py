"""JSONL in UTF-16/32 without a byte-order mark is read (told by where its NUL bytes stand)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import one_line_error

from cleanup.cli import cli
from cleanup.io.splits import plan_splits

_WORDS = np.random.default_rng(3).choice([f"w{i}" for i in range(5000)], (40, 12))
# Distinct texts (near copies would be dropped by dedup), with some non-ASCII in each.
RECORDS = [{"id": f"d{i}", "text": "Grüße " + " ".join(w)} for i, w in enumerate(_WORDS)]
JSONL = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS)


def _run(src: Path, *extra: str) -> list[dict[str, str]]:
    out = src.with_name("out.jsonl")
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_jsonl_without_a_byte_order_mark_is_read(tmp_path: Path, codec: str) -> None:
    """It was "line 2: binary data, not text": the lines were cut at b"\\n" inside characters."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(JSONL.encode(codec))
    assert [r["text"] for r in _run(src)] == [r["text"] for r in RECORDS]


def test_such_a_file_is_recoded_whole_not_cut_into_byte_ranges(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(JSONL.encode("utf-16-le"))
    (split,) = plan_splits([str(src)], target_bytes=64)  # a UTF-8 file this size: many ranges
    assert split.size == src.stat().st_size
    assert len(_run(src, "--workers", "2")) == len(RECORDS)


def test_numbers_stored_in_16_bits_are_still_binary_data(tmp_path: Path) -> None:
    """Small numbers have the NUL high bytes UTF-16 text has; decoded, they are controls."""
    src = tmp_path / "nums.jsonl"
    np.arange(5000, dtype=np.uint16).tofile(src)
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(tmp_path / "o.jsonl")])
    assert one_line_error(result, 1) == f"Error: {src}:1: binary data, not text"


def test_bytes_that_are_not_the_guessed_codec_are_named(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(JSONL.encode("utf-16-le") + b"\x00\xdc")  # a lone low surrogate at the end
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(tmp_path / "o.jsonl")])
    line = one_line_error(result, 1)
    assert "not valid UTF-16-LE, which the NUL bytes of its start pointed to" in line
