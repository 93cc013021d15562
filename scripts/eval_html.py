#!/usr/bin/env python3
"""Score strip-html's main-content extraction against trafilatura on a labelled benchmark.

Runs offline on scrapinghub's article-extraction-benchmark (kept under
benchmarks/article-extraction-benchmark/, MIT licensed): both extractors on the same pages,
scored with the benchmark's metric (token 4-gram shingle precision/recall, each page weighted
equally, F1 of the mean precision and mean recall), plus the share of empty outputs on pages
whose ground truth is not empty, and throughput in MB of HTML per second on one core.

    python scripts/eval_html.py                 # table
    python scripts/eval_html.py --json          # machine-readable
    python scripts/eval_html.py --steps strip-html   # only our extraction step

The metric is reimplemented from the benchmark's evaluate.py (MIT, (c) 2020 Scrapinghub).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """Return the multiset of n-token shingles of a text (the benchmark's tokenisation)."""
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens)


def page_scores(true: str, pred: str) -> tuple[float, float, float]:
    """Return a page's TP/FP/FN shares over shingles, normalised so every page weighs the same."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    if total:
        return tp / total, fp / total, fn / total
    return 0.0, 0.0, 0.0


def score(truth: dict[str, str], pred: dict[str, str]) -> dict[str, float]:
    """Return F1, precision, recall and % empty over all pages, as the benchmark computes them."""
    precisions, recalls = [], []
    empty = 0
    for key, true in truth.items():
        out = pred.get(key) or ""
        tp, fp, fn = page_scores(true, out)
        if fp == fn == 0:
            prec = rec = 1.0
        else:
            prec = 0.0 if tp == fp == 0 else tp / (tp + fp)
            rec = 0.0 if tp == fn == 0 else tp / (tp + fn)
        if tp + fp > 0:
            precisions.append(prec)
        if tp + fn > 0:
            recalls.append(rec)
        if true.strip() and not out.strip():
            empty += 1
    p, r = statistics.mean(precisions), statistics.mean(recalls)
    return {
        "f1": 2 * p * r / (p + r),
        "precision": p,
        "recall": r,
        "empty_pct": 100.0 * empty / len(truth),
    }


def load_pages(bench: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Return the benchmark's pages (id -> HTML) and ground truth (id -> article body)."""
    truth_raw = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    truth = {k: v.get("articleBody") or "" for k, v in truth_raw.items()}
    pages = {}
    for path in sorted((bench / "html").glob("*.html.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            pages[path.name.split(".")[0]] = fh.read()
    return pages, truth


def run_trafilatura(pages: dict[str, str]) -> dict[str, str]:
    """Extract every page with trafilatura's defaults, as the benchmark's own runner does."""
    import trafilatura

    return {k: trafilatura.extract(html, include_comments=False) or "" for k, html in pages.items()}


def run_cleanup(pages: dict[str, str], steps: list[str]) -> Callable[[], dict[str, str]]:
    """Return a runner of our pipeline (`cleanup run` defaults) over the pages."""
    from cleanup.document import Document
    from cleanup.pipeline import Pipeline

    def run() -> dict[str, str]:
        docs = [
            Document(id=k, paragraphs=[html], raw=html, format="html", source=f"{k}.html")
            for k, html in pages.items()
        ]
        out = {}
        for doc in Pipeline(steps=steps).run(docs):
            out[doc.id] = "" if doc.dropped is not None else doc.text
        return out

    return run


def available_steps(wanted: list[str]) -> list[str]:
    """Keep the steps that can be imported (other steps may not exist yet in a checkout)."""
    from cleanup.pipeline import step_spec

    found = []
    for name in wanted:
        try:
            step_spec(name)
        except (ImportError, AttributeError, KeyError) as exc:
            print(f"note: step {name} skipped ({type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        found.append(name)
    return found


def timed(
    runners: dict[str, Callable[[], dict[str, str]]], repeat: int
) -> dict[str, tuple[dict[str, str], float]]:
    """Run each runner `repeat` times, in turns; return its output and best wall time.

    Taking turns spreads any change in machine load over all runners alike.
    """
    best = dict.fromkeys(runners, float("inf"))
    outputs: dict[str, dict[str, str]] = {}
    for _ in range(repeat):
        for name, fn in runners.items():
            start = time.perf_counter()
            outputs[name] = fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (outputs[name], best[name]) for name in runners}


def main() -> None:
    """Run both extractors, score them, print a table or JSON."""
    from cleanup.pipeline import DEFAULT_STEPS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, default=BENCH, help="benchmark folder")
    parser.add_argument(
        "--steps",
        default=",".join(DEFAULT_STEPS),
        help="comma-separated steps to run (default: cleanup run's default pipeline)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="timing runs; the best counts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    pages, truth = load_pages(args.bench)
    megabytes = sum(len(h.encode("utf-8")) for h in pages.values()) / 1e6
    steps = available_steps(args.steps.split(","))
    runs = timed(
        {
            "cleanup (" + "+".join(steps) + ")": run_cleanup(pages, steps),
            "cleanup strip-html only": run_cleanup(pages, ["strip-html"]),
            "trafilatura (defaults)": lambda: run_trafilatura(pages),
        },
        args.repeat,
    )
    results = {
        name: {**score(truth, out), "mb_s": megabytes / seconds}
        for name, (out, seconds) in runs.items()
    }
    if args.json:
        print(
            json.dumps({"pages": len(pages), "megabytes": megabytes, "results": results}, indent=2)
        )
        return
    print(f"{len(pages)} pages, {megabytes:.1f} MB of HTML, one core, best of {args.repeat}")
    base = results["trafilatura (defaults)"]["mb_s"]
    width = max(len(name) for name in results)
    print(
        f"{'extractor':<{width}} {'F1':>6} {'prec':>6} {'recall':>6} {'empty%':>7} "
        f"{'MB/s':>6} {'speed':>6}"
    )
    for name, r in results.items():
        print(
            f"{name:<{width}} {r['f1']:6.3f} {r['precision']:6.3f} {r['recall']:6.3f} "
            f"{r['empty_pct']:7.1f} {r['mb_s']:6.1f} {r['mb_s'] / base:5.2f}x"
        )


if __name__ == "__main__":
    main()
