"""The dev sets for main-content extraction and scripts/eval_html.py, which scores them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from script_loader import load_script

import cleanup.pipeline
from cleanup.document import Document

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
PAGE = (
    "<html><body><nav><a href='/'>Home</a></nav><article><h1>Title</h1>"
    "<p>{0} is the first paragraph of a short article, long enough to be kept.</p>"
    "<p>{0} has a second paragraph too, with more words in it than the menu.</p>"
    "</article><footer>Copyright</footer></body></html>"
)


L3S = BENCHMARKS / "l3s-gn1"
# The pages are not in the repository (their licence is non-transferable): built locally.
needs_l3s = pytest.mark.skipif(
    not (L3S / "ground-truth.json").exists(),
    reason="L3S-GN1 not built here: see benchmarks/l3s-gn1/README.md",
)


def test_l3s_gn1_notice_is_kept_and_its_data_is_not_committed() -> None:
    notice = (L3S / "NOTICE").read_text(encoding="utf-8")
    assert "research use only" in notice and "Kohlschuetter" in notice
    ignored = (BENCHMARKS.parent / ".gitignore").read_text(encoding="utf-8").split()
    assert "/benchmarks/l3s-gn1/html/" in ignored
    assert "/benchmarks/l3s-gn1/ground-truth.json" in ignored


@needs_l3s
def test_l3s_gn1_built_locally_has_every_page() -> None:
    bench = L3S
    pages = {p.name.split(".")[0] for p in (bench / "html").glob("*.html.gz")}
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    assert len(pages) == 621 and pages == set(truth)
    assert all(v["articleBody"].strip() and v["url"].startswith("http") for v in truth.values())


def test_eval_sets_name_both_dev_sets() -> None:
    ev = load_script("eval_html")
    assert set(ev.SETS) == {"scrapinghub", "l3s-gn1"}


@needs_l3s
def test_eval_loads_every_l3s_gn1_page() -> None:
    ev = load_script("eval_html")
    pages, truth = ev.load_pages(ev.SETS["l3s-gn1"])
    assert len(pages) == len(truth) == 621


ANNOTATED = """<html><body>
<div class="x-nc-sel0">Menu <a href="/">Home</a></div>
<h1><span class="x-nc-sel1">The headline</span></h1>
<p><span class="x-nc-sel2">First part of a sentence</span>
<a href="/x"><span class="x-nc-sel2">with a link</span></a>\
<span class="x-nc-sel2">, and its end.</span></p>
<p><span class="x-nc-sel2">Second <span class="x-nc-sel2">nested</span> block.</span></p>
<div class="x-nc-invisible"><span class="x-nc-sel2">Hidden text.</span></div>
<p><span class="x-nc-sel5">A comment.</span></p>
</body></html>"""


def test_build_takes_visible_full_text_blocks_in_order() -> None:
    build = load_script("build_l3s_gn1")
    assert build.labelled_text(ANNOTATED, build.FULL_TEXT) == (
        "First part of a sentence with a link , and its end.\nSecond nested block."
    )
    assert build.labelled_text(ANNOTATED, build.HEADLINE) == "The headline"


def test_build_writes_pages_unchanged_and_truth(tmp_path: Path) -> None:
    build = load_script("build_l3s_gn1")
    src = tmp_path / "src"
    (src / "original").mkdir(parents=True)
    (src / "annotated").mkdir()
    raw = b"<html><body><p>Original page, bytes kept.</p></body></html>"
    (src / "original" / "abc.html").write_bytes(raw)
    (src / "annotated" / "abc.html").write_text(ANNOTATED, encoding="utf-8")
    (src / "url-mapping.txt").write_text("<urn:uuid:abc>\thttp://example.org/a\n")
    assert build.build(src, tmp_path / "out") == 1
    assert gzip.decompress((tmp_path / "out" / "html" / "abc.html.gz").read_bytes()) == raw
    truth = json.loads((tmp_path / "out" / "ground-truth.json").read_text(encoding="utf-8"))
    assert truth["abc"]["url"] == "http://example.org/a"
    assert truth["abc"]["articleBody"].endswith("Second nested block.")


def _tiny_set(root: Path, names: list[str]) -> Path:
    """Write a dev set of tiny pages whose ground truth is their article."""
    (root / "html").mkdir(parents=True)
    truth = {}
    for name in names:
        with gzip.open(root / "html" / f"{name}.html.gz", "wt", encoding="utf-8") as fh:
            fh.write(PAGE.format(name))
        truth[name] = {
            "articleBody": f"{name} is the first paragraph of a short article, long enough to "
            f"be kept.\n{name} has a second paragraph too, with more words in it than the menu."
        }
    (root / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return root


def test_eval_counts_crashes_per_page_and_keeps_other_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = load_script("eval_html")
    bench = _tiny_set(tmp_path / "set", ["Alpha", "Bravo", "Charlie"])

    class CrashingPipeline(cleanup.pipeline.Pipeline):
        def run(self, docs: Iterable[Document]) -> Iterator[Document]:  # type: ignore[override]
            docs = list(docs)
            if any(d.id == "Bravo" for d in docs):
                raise RuntimeError("boom")
            yield from super().run(docs)

    monkeypatch.setattr(cleanup.pipeline, "Pipeline", CrashingPipeline)
    import trafilatura

    real = trafilatura.extract

    def extract(html: str, **kw: object) -> str | None:
        if "Charlie" in html:
            raise ValueError("boom")
        return real(html, **kw)

    monkeypatch.setattr(trafilatura, "extract", extract)
    figures = ev.evaluate(bench, ["strip-html"], repeat=1)
    ours = figures["results"]["cleanup strip-html only"]
    assert ours["crashed"] == ["Bravo"] and ours["crashes"] == 1
    assert ours["recall"] == pytest.approx(2 / 3)  # Alpha and Charlie fully kept
    theirs = figures["results"][ev.TRAFILATURA]
    assert theirs["crashed"] == ["Charlie"]


def test_eval_json_reports_every_chosen_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ev = load_script("eval_html")
    bench = _tiny_set(tmp_path / "tiny", ["Alpha", "Bravo"])
    monkeypatch.setattr("sys.argv", ["eval_html", "--bench", str(bench), "--json", "--repeat", "1"])
    ev.main()
    report = json.loads(capsys.readouterr().out)
    (figures,) = report["sets"].values()
    assert figures["pages"] == 2
    for result in figures["results"].values():
        assert result["crashes"] == 0 and result["mb_s"] > 0
        assert {"f1", "precision", "recall", "empty_pct"} <= set(result)
    assert figures["results"]["cleanup strip-html only"]["f1"] == pytest.approx(1.0)


def test_eval_rejects_an_unknown_set(monkeypatch: pytest.MonkeyPatch) -> None:
    ev = load_script("eval_html")
    monkeypatch.setattr("sys.argv", ["eval_html", "--set", "nope"])
    with pytest.raises(SystemExit) as exc:
        ev.main()
    assert exc.value.code == 2


def test_page_f1_and_worst_pages_name_the_page_that_loses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ev = load_script("eval_html")
    assert ev.page_f1("", "") == 1.0
    assert ev.page_f1("one two three four five", "one two three four five") == 1.0
    assert ev.page_f1("one two three four five", "") == 0.0
    bench = _tiny_set(tmp_path / "tiny", ["Alpha", "Bravo", "Charlie"])
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    truth["Bravo"]["articleBody"] = "a ground truth that no extractor can find on this page"
    (bench / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    argv = ["eval_html", "--bench", str(bench), "--repeat", "1", "--worst", "1"]
    monkeypatch.setattr("sys.argv", argv)
    ev.main()
    out = capsys.readouterr().out
    worst = out.split("worst 1 pages")[1].splitlines()[1].split()
    assert worst == ["Bravo", "0.000", "0.000"]
