"""The run's HTML report must not change the output, and its page must stay bounded and honest.

`--report` keeps each document's paragraphs as read until the end of the run; that
bookkeeping must never reach an output record, however many workers or engines run the
steps. The page embeds at most `--report-max-docs` changed documents, says how many it left
out, and its figures are the run's own Summary figures.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from script_loader import load_script

from cleanup.cli import cli
from cleanup.document import Document

gen = load_script("gen_corpus")
STEPS = ["strip-html", "fix-encoding", "strip-artifacts", "dedup", "normalize"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a generated corpus of 600 documents (a fifth HTML), more than one worker batch."""
    out = tmp_path_factory.mktemp("corpus")
    assert gen.main(["--docs", "600", "--seed", "11", "--out", str(out), "-q",
                     "--html-share", "0.2"]) == 0  # fmt: skip
    return out / "corpus.jsonl"


def _invoke(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _keys(value: Any) -> list[str]:
    """Return every key of a JSON value, nested ones included."""
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


RUNS = {
    "run-1": (["run", "{src}", "--workers", "1"], []),
    "run-2": (["run", "{src}", "--workers", "2"], []),
    "pipe-2": (["pipe", "-i", "{src}", "--workers", "2"], STEPS),
    "ray-2": (["run", "{src}", "--workers", "2", "--engine", "ray"], []),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_report_leaves_the_output_byte_identical(corpus: Path, tmp_path: Path, name: str) -> None:
    if name.startswith("ray") and importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (pip install 'cleanup[ray]')")
    head, steps = RUNS[name]
    head = [a.replace("{src}", str(corpus)) for a in head]
    plain, reported = tmp_path / "plain.jsonl", tmp_path / "reported.jsonl"
    _invoke([*head, "-o", str(plain), "-q", *steps])
    _invoke([*head, "-o", str(reported), "--report", str(tmp_path / "r.html"), "-q", *steps])
    assert (tmp_path / "r.html").stat().st_size > 0
    assert reported.read_bytes() == plain.read_bytes()
    records = [json.loads(line) for line in reported.read_text(encoding="utf-8").splitlines()]
    assert records
    assert not [k for r in records for k in _keys(r) if k.startswith("_cleanup")]


def test_run_bookkeeping_survives_pickling_and_is_not_meta() -> None:
    doc = Document.from_text("a", "One.\n\nTwo.")
    doc.before = ["One.", "Two.", "Three."]
    doc.bytes_in, doc.audit_full = 12, True
    back = pickle.loads(pickle.dumps(doc))
    assert back.before == ["One.", "Two.", "Three."]
    assert (back.bytes_in, back.audit_full) == (12, True)
    assert back.meta == {}
