"""Render the HTML report of the fixtures in headless Chromium and check what a reviewer sees."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from test_report import HOSTILE, make_corpora

from cleanup.report import HtmlReport, write_diff

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium chromium-driver)",
)


def chromium(tmp_path: Path, url: str, *extra: str) -> str:
    """Run headless Chromium on `url` with a throwaway profile and return its standard output."""
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def report(tmp_path: Path) -> Path:
    before, after, audit = make_corpora(tmp_path)
    path = tmp_path / "report.html"
    write_diff(str(before), str(after), str(path), format="html", audit=str(audit))
    return path


def test_report_renders_summary_and_labelled_removals(report: Path, tmp_path: Path) -> None:
    dom = chromium(tmp_path, report.as_uri(), "--dump-dom")
    assert "<th>Documents</th><td>2 changed · 0 unchanged · 1 dropped · 0 added</td>" in dom
    # the first changed document is opened: its removed paragraph is struck through and labelled
    assert (
        '<div class="p rm"><del>Story highlights</del>'
        '<span class="rule-label" title="strip-artifacts/short-line: a line of fewer than four '
        'words">short-line</span>'
    ) in dom
    assert '<td class="id">copies/cnn_copy.txt</td>' in dom  # the document list
    assert 'data-rule="document-duplicate"' in dom  # the chart
    shot = tmp_path / "shot.png"
    chromium(tmp_path, report.as_uri(), f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.stat().st_size > 10_000


def test_report_opens_the_document_named_in_the_address(report: Path, tmp_path: Path) -> None:
    url = report.as_uri() + "#doc=" + quote("copies/cnn_copy.txt", safe="")
    dom = chromium(tmp_path, url, "--dump-dom")
    assert "<h3>copies/cnn_copy.txt</h3>" in dom
    banner = "Dropped: dedup/document-duplicate: near-duplicate of a kept document "
    assert f'<p class="banner">{banner}(duplicate of cnn_sessions.txt, similarity 0.97)</p>' in dom


def test_hostile_text_is_shown_not_run(tmp_path: Path) -> None:
    path = tmp_path / "hostile.html"
    rep = HtmlReport(str(path), title="hostile")
    edit = {"kind": "remove", "rule": "r", "step": "s", "before": HOSTILE, "index": 0}
    rep.add(HOSTILE, [HOSTILE, "kept text"], ["kept text"], [edit])
    rep.close()
    dom = chromium(tmp_path, path.as_uri(), "--dump-dom")
    assert "<title>hostile</title>" in dom and "pwned" not in dom.split("<body>")[0]
    assert f"<del>{html.escape(HOSTILE, quote=False)}</del>" in dom
    assert "<img" not in dom


def test_the_address_filters_by_rule_and_searches_by_id(report: Path, tmp_path: Path) -> None:
    by_rule = chromium(tmp_path, report.as_uri() + "#rule=document-duplicate", "--dump-dom")
    assert rows(by_rule) == ["copies/cnn_copy.txt"]
    assert "<h3>copies/cnn_copy.txt</h3>" in by_rule
    by_id = chromium(tmp_path, report.as_uri() + "#q=DAILY", "--dump-dom")
    assert rows(by_id) == ["dailymail_sessions.txt"]
    nothing = chromium(tmp_path, report.as_uri() + "#q=no-such-document", "--dump-dom")
    assert rows(nothing) == [] and "No document matches." in nothing


def rows(dom: str) -> list[str]:
    """Return the ids listed in the document table of a dumped page."""
    body = dom.split('<tbody id="list">', 1)[1].split("</tbody>", 1)[0]
    return [html.unescape(m) for m in re.findall(r'<td class="id">(.*?)</td>', body)]
