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
from cleanup.report import HtmlReport
from cleanup.report.diff import diff_document

gen = load_script("gen_corpus")
STEPS = ["strip-html", "fix-encoding", "strip-artifacts", "dedup", "normalize"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a generated corpus of 600 documents (a fifth HTML), more than one worker batch."""
    out = tmp_path_factory.mktemp("corpus")
    assert gen.main(["--docs", "600", "--seed", "11", "--out", str(out), "-q",
                     "--html-share", "0.2"]) == 0  # fmt: skip
    return out / "corpus.jsonl"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a generated corpus of 2,500 documents."""
    out = tmp_path_factory.mktemp("big")
    assert gen.main(["--docs", "2500", "--seed", "5", "--out", str(out), "-q",
                     "--html-share", "0.1"]) == 0  # fmt: skip
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
    doc.notes.before = ["One.", "Two.", "Three."]
    doc.notes.bytes_in, doc.notes.audit_full, doc.notes.encoded = 12, True, b"{}\n"
    back = pickle.loads(pickle.dumps(doc))
    assert back.notes.before == ["One.", "Two.", "Three."]
    assert (back.notes.bytes_in, back.notes.audit_full, back.notes.encoded) == (12, True, b"{}\n")
    assert back.meta == {} and back.fields == {}


# --- the capped page ---------------------------------------------------------------------


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _rows(page: str) -> dict[str, str]:
    """Return the summary tables of a page as {label: value}."""
    return {unescape(k): unescape(v)
            for k, v in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", page)}  # fmt: skip


def _script(page: str, name: str) -> str:
    return re.search(rf'id="{name}">(.*?)</script>', page, re.S).group(1)  # type: ignore[union-attr]


def _chart_total(page: str, words: str) -> int:
    """Return the sum over the chart's rules of the figures named `words` ("paragraphs removed")."""
    singular = {"paragraphs removed": "paragraph removed", "documents dropped": "document dropped",
                "rewrites": "rewrite"}[words]  # fmt: skip
    labels = re.findall(r"<td class=num>(.*?)</td>", page)
    return sum(_number(n) for label in labels
               for n, w in re.findall(r"([\d,]+) ([a-z ]+?)(?:,|$)", unescape(label))
               if w in (words, singular))  # fmt: skip


def test_capped_report_is_bounded_and_its_figures_are_the_runs(big: Path, tmp_path: Path) -> None:
    cap = 40
    page_path, stats_path = tmp_path / "r.html", tmp_path / "stats.json"
    _invoke(["run", str(big), "-o", str(tmp_path / "out.jsonl"), "-q", "--workers", "1",
             "--report", str(page_path), "--report-max-docs", str(cap),
             "--stats", str(stats_path)])  # fmt: skip
    page = page_path.read_text(encoding="utf-8")
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    rows = _rows(page)

    # The run's figures, under the run summary's words.
    for label, key in [("Documents in", "documents_in"), ("Documents out", "documents_out"),
                       ("Documents dropped", "documents_dropped"),
                       ("Paragraphs removed, all documents", "paragraphs_removed")]:  # fmt: skip
        assert _number(rows[label]) == stats[key], label
    # The diff's figures: kept documents only; with the dropped ones' removals, the run's total.
    changed, unchanged, dropped, added = map(_number, re.findall(r"[\d,]+", rows["Documents"]))
    assert (changed + unchanged, dropped, added) == (
        stats["documents_out"],
        stats["documents_dropped"],
        0,
    )
    kept_removed = _number(rows["Paragraphs, kept documents"].split(" removed")[0])
    in_dropped = _number(rows["Paragraphs removed, documents dropped later"])
    assert in_dropped > 0
    assert kept_removed + in_dropped == stats["paragraphs_removed"]
    # The chart counts every document, listed or not.
    assert _chart_total(page, "paragraphs removed") == stats["paragraphs_removed"]
    assert _chart_total(page, "documents dropped") == stats["documents_dropped"]
    edits = _chart_total(page, "paragraphs removed") + _chart_total(page, "rewrites")
    assert edits == sum(stats["edits_by_rule"].values())

    # What was left out is said, and not embedded.
    note = unescape(re.search(r"<p class=cap id=cap>(.*?)</p>", page).group(1))  # type: ignore[union-attr]
    shown, total, other = map(_number, re.match(
        r"Showing ([\d,]+) of ([\d,]+) documents with changes or edits; the other ([\d,]+) "
        r"are counted", note).groups())  # type: ignore[union-attr]  # fmt: skip
    assert shown == cap and other == total - cap and total >= changed + dropped > cap
    docs = _script(page, "cleanup-docs").strip().splitlines()
    index = json.loads(unescape(_script(page, "cleanup-index")))["docs"]
    assert len(docs) == cap and len(index) <= 2 * cap
    # The page is the listed documents, a few times over at most, plus a fixed part.
    sizes = {json.loads(line)["id"]: len(line.encode()) for line in big.open(encoding="utf-8")}
    listed = sum(sizes[d[0]] for d in index)
    assert len(page.encode()) <= 3 * listed + 100_000 < big.stat().st_size // 10


def _diff(i: int, changed: bool) -> Any:
    before = [f"Paragraph {i} of the story.", "Share this"]
    after = before[:1] if changed else before
    edits = [{"step": "s", "rule": "r", "before": "Share this", "kind": "remove", "index": 1}]
    return diff_document(f"d{i}", before, after, edits if changed else [])


def test_report_holds_no_document_beyond_the_cap(tmp_path: Path) -> None:
    report = HtmlReport(str(tmp_path / "r.html"), max_docs=10)
    for i in range(600):
        report.add_diff(_diff(i, changed=i % 3 != 0))
    assert len(report.index) == 20  # ten of each kind, nothing more held
    assert report.seen == {"full": 400, "plain": 200}
    report.close({"documents_in": 600})
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert len(_script(page, "cleanup-docs").strip().splitlines()) == 10
    assert "Showing 10 of 400 documents with changes or edits; the other 390" in page
    assert "Listing 10 of 200 unchanged documents." in page
    assert _chart_total(page, "paragraphs removed") == 400  # counted, though not listed


def test_uncapped_report_lists_everything_and_says_nothing(tmp_path: Path) -> None:
    report = HtmlReport(str(tmp_path / "r.html"))
    for i in range(60):
        report.add_diff(_diff(i, changed=i % 2 == 0))
    report.close()
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert len(json.loads(unescape(_script(page, "cleanup-index")))["docs"]) == 60
    assert "id=cap" not in page


def test_report_max_docs_must_be_positive(corpus: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", str(corpus), "-o", str(tmp_path / "o.jsonl"), "--report-max-docs", "0"]
    )
    assert result.exit_code == 2
    assert "Error: Invalid value for '--report-max-docs'" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_the_runner_names_strip_html_by_its_step_name() -> None:
    from cleanup import runner
    from cleanup.steps.html import STEP

    assert runner._MARKUP_STEP == STEP


def test_the_page_inlines_its_style_and_script_from_package_data(tmp_path: Path) -> None:
    import tomllib

    from cleanup.report.html import asset

    report = HtmlReport(str(tmp_path / "r.html"))
    report.add_diff(_diff(0, changed=True))
    report.close()
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    css, js = asset("report.css"), asset("report.js")
    assert "table.docs" in css and "cleanup-index" in js
    assert f"<style>{css}</style>" in page and f"<script>{js}</script>" in page
    root = Path(__file__).resolve().parent.parent
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cleanup"]
    for name in ("report.css", "report.js"):
        assert any((root / "cleanup").glob(p) and Path("report/assets", name).match(p)
                   for p in patterns), name  # fmt: skip
