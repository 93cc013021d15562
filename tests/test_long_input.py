"""Documents past MAX_DOCUMENT_BYTES (a runaway JSONL line, an endless file): one bad-input line,
skippable with --skip-bad, read in bounded memory; and `split_lines` against a plain split."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.io.compression import split_lines

ROOT = Path(__file__).parent.parent


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(max_size=12).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    st.booleans(),
    st.lists(st.integers(0, 120), max_size=10),
    st.one_of(st.none(), st.integers(0, 10)),
)
def test_lines_in_any_chunks_are_the_lines_of_the_whole(
    lines: list[bytes], ending: bool, cuts: list[int], limit: int | None
) -> None:
    """Each line comes out once, in order, wherever the chunks cut it; a line past `limit`
    comes out as None."""
    data = b"\n".join(lines) + (b"\n" if ending and lines else b"")
    want = data.split(b"\n")
    if want and want[-1] == b"":
        want.pop()  # the ending closes the last line: no empty line after it
    want_out = [line if limit is None or len(line) <= limit else None for line in want]
    assert list(split_lines(_chunked(data, cuts), limit)) == want_out


def test_an_endless_line_is_reported_once_it_passes_the_limit() -> None:
    """Not waited for: the None comes before the line ends (or never ends)."""
    endless = (b"x" * 7 for _ in iter(int, 1))
    assert next(split_lines(endless, 20)) is None


def test_a_line_past_the_limit_is_bad_input_named_and_skippable(tmp_path: Path) -> None:
    corpus = tmp_path / "in.jsonl"
    records = [{"id": "a", "text": "Short one."}, {"id": "b", "text": "x" * 500}, {"id": "c"}]
    records[2]["text"] = "Short two."
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out.jsonl"
    limit = ["--max-document-size", "200"]
    result = CliRunner().invoke(cli, ["run", str(corpus), "-o", str(out), "-q", *limit])
    assert result.exit_code == 1
    assert f"{corpus}:2: line longer than 200 bytes, the most one" in result.output
    assert not out.exists()
    result = CliRunner().invoke(
        cli, ["run", str(corpus), "-o", str(out), "-q", "--skip-bad", *limit]
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "c"]


@pytest.mark.parametrize("fmt", ["txt", "jsonl"])
def test_an_endless_input_stops_at_the_limit_in_one_line(tmp_path: Path, fmt: str) -> None:
    """`cleanup run /dev/zero` read it whole (15.8 GB in 15 s) before the limit."""
    out = tmp_path / "out.jsonl"
    argv = [sys.executable, "-m", "cleanup", "run", "/dev/zero", "--input-format", fmt]
    done = subprocess.run(
        [*argv, "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("Error: /dev/zero") and "the most one document may hold" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr and not out.exists()
