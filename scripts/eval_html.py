#!/usr/bin/env python3
"""Score strip-html's main-content extraction against trafilatura on labelled dev sets.

Runs offline on two sets kept under benchmarks/: scrapinghub's article-extraction-benchmark
(181 English news pages, MIT) and L3S-GN1 (621 English news pages from 408 sites, 2008, research
use only, so built locally, not stored: see benchmarks/l3s-gn1/README.md). For each set, both
extractors run on the same pages and are scored with scrapinghub's metric (token 4-gram shingle
precision/recall, each page weighted equally, F1 of the mean precision and mean recall); the
table adds the share of empty outputs on pages whose ground truth is not empty, the pages that
crashed an extractor (an exception escaping it; must be 0), and throughput in MB of HTML per
second on one core.

    python scripts/eval_html.py                      # both sets, a table per set
    python scripts/eval_html.py --set l3s-gn1        # one set
    python scripts/eval_html.py --json               # machine-readable
    python scripts/eval_html.py --worst 10           # and the 10 pages strip-html does worst on
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "article-extraction-benchmark"
SETS = {"scrapinghub": BENCH, "l3s-gn1": ROOT / "benchmarks" / "l3s-gn1"}
TRAFILATURA = "trafilatura (defaults)"
OURS = "cleanup strip-html only"
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
    """Return a set's pages (id -> HTML) and ground truth (id -> article body)."""
    truth_raw = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    truth = {k: v.get("articleBody") or "" for k, v in truth_raw.items()}
    pages = {}
    for path in sorted((bench / "html").glob("*.html.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            pages[path.name.split(".")[0]] = fh.read()
    missing = sorted(set(truth) - set(pages))
    if missing:
        raise SystemExit(f"Error: {bench}: no page for {len(missing)} ground-truth ids")
    return pages, truth


Run = tuple[dict[str, str], list[str]]  # outputs by page id, ids of the pages that crashed


def run_trafilatura(pages: dict[str, str]) -> Run:
    """Extract every page with trafilatura's defaults, as the benchmark's own runner does."""
    import trafilatura

    out, crashed = {}, []
    for key, html in pages.items():
        try:
            out[key] = trafilatura.extract(html, include_comments=False) or ""
        except Exception:  # a crash is a result here, counted and reported
            out[key], crashed = "", [*crashed, key]
    return out, crashed


def run_cleanup(pages: dict[str, str], steps: list[str]) -> Callable[[], Run]:
    """Return a runner of our pipeline over the pages, all in one stream (as `cleanup run`).

    When the stream raises, the pages are run again one by one to name the ones that crash
    (the rest keep their output), so one bad page cannot hide the scores of the others.
    """
    from cleanup.document import Document
    from cleanup.pipeline import Pipeline

    def docs(keys: list[str]) -> list[Document]:
        return [
            Document(id=k, paragraphs=[pages[k]], raw=pages[k], format="html", source=f"{k}.html")
            for k in keys
        ]

    def collect(keys: list[str]) -> dict[str, str]:
        out = {}
        for doc in Pipeline(steps=steps).run(docs(keys)):
            out[doc.id] = "" if doc.dropped is not None else doc.text
        return out

    def run() -> Run:
        try:
            return collect(list(pages)), []
        except Exception:  # find the pages that crash, below
            pass
        out, crashed = {}, []
        for key in pages:
            try:
                out.update(collect([key]))
            except Exception:  # a crash is a result here
                out[key], crashed = "", [*crashed, key]
        return out, crashed

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


def timed(runners: dict[str, Callable[[], Run]], repeat: int) -> dict[str, tuple[Run, float]]:
    """Run each runner `repeat` times, in turns; return its output and best wall time.

    Taking turns spreads any change in machine load over all runners alike.
    """
    best = dict.fromkeys(runners, float("inf"))
    outputs: dict[str, Run] = {}
    for _ in range(repeat):
        for name, fn in runners.items():
            start = time.perf_counter()
            outputs[name] = fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: (outputs[name], best[name]) for name in runners}


def evaluate(bench: Path, steps: list[str], repeat: int) -> dict[str, Any]:
    """Run every extractor on one set; return its size and each extractor's figures."""
    pages, truth = load_pages(bench)
    megabytes = sum(len(h.encode("utf-8")) for h in pages.values()) / 1e6
    runs = timed(
        {
            "cleanup (" + "+".join(steps) + ")": run_cleanup(pages, steps),
            OURS: run_cleanup(pages, ["strip-html"]),
            TRAFILATURA: lambda: run_trafilatura(pages),
        },
        repeat,
    )
    results = {
        name: {
            **score(truth, out),
            "crashes": len(crashed),
            "crashed": crashed,
            "mb_s": megabytes / seconds,
        }
        for name, ((out, crashed), seconds) in runs.items()
    }
    pages_f1 = {
        key: {name: page_f1(truth[key], out.get(key, "")) for name, ((out, _), _) in runs.items()}
        for key in truth
    }
    return {"pages": len(pages), "megabytes": megabytes, "results": results, "page_f1": pages_f1}


def page_f1(true: str, pred: str) -> float:
    """Return one page's shingle F1 (1.0 when both are empty), to find the pages that lose most."""
    tp, fp, fn = page_scores(true, pred)
    if fp == fn == 0:
        return 1.0
    return 2 * tp / (2 * tp + fp + fn)


def print_worst(figures: dict[str, Any], count: int) -> None:
    """Print the pages on which strip-html scores lowest, with trafilatura's score beside."""
    ranked = sorted(figures["page_f1"].items(), key=lambda item: item[1][OURS])[:count]
    print(f"worst {len(ranked)} pages for {OURS} (page F1, trafilatura's):")
    for key, f1 in ranked:
        print(f"  {key}  {f1[OURS]:.3f}  {f1[TRAFILATURA]:.3f}")


def print_table(name: str, figures: dict[str, Any], repeat: int) -> None:
    """Print one set's figures, speed relative to trafilatura's in the same run."""
    results = figures["results"]
    print(
        f"{name}: {figures['pages']} pages, {figures['megabytes']:.1f} MB of HTML, "
        f"one core, best of {repeat}"
    )
    base = results[TRAFILATURA]["mb_s"]
    width = max(len(n) for n in results)
    print(
        f"{'extractor':<{width}} {'F1':>6} {'prec':>6} {'recall':>6} {'empty%':>7} "
        f"{'crash':>5} {'MB/s':>6} {'speed':>6}"
    )
    for extractor, r in results.items():
        print(
            f"{extractor:<{width}} {r['f1']:6.3f} {r['precision']:6.3f} {r['recall']:6.3f} "
            f"{r['empty_pct']:7.1f} {r['crashes']:5d} {r['mb_s']:6.1f} {r['mb_s'] / base:5.2f}x"
        )
        for key in r["crashed"]:
            print(f"  crashed: {key}")


def main() -> None:
    """Run the extractors on the chosen sets, score them, print tables or JSON."""
    from cleanup.pipeline import DEFAULT_STEPS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--set",
        choices=[*SETS, "all"],
        default="all",
        help="which dev set to score (default: all)",
    )
    parser.add_argument(
        "--bench", type=Path, help="score this folder instead (html/*.html.gz, ground-truth.json)"
    )
    parser.add_argument(
        "--steps",
        default=",".join(DEFAULT_STEPS),
        help="comma-separated steps to run (default: cleanup run's default pipeline)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="timing runs; the best counts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--worst", type=int, default=0, help="also list the N pages strip-html does worst on"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.bench is not None:
        chosen = {args.bench.name: args.bench}
    elif args.set == "all":
        chosen = dict(SETS)
    else:
        chosen = {args.set: SETS[args.set]}
    missing = [n for n, path in chosen.items() if not (path / "ground-truth.json").exists()]
    for name in missing:  # L3S-GN1 is built locally: its licence forbids passing it on
        print(f"{name}: not built here; see {chosen[name]}/README.md", file=sys.stderr)
        del chosen[name]
    if not chosen:
        sys.exit(2)
    steps = available_steps(args.steps.split(","))
    sets = {name: evaluate(path, steps, args.repeat) for name, path in chosen.items()}
    if args.json:
        print(json.dumps({"sets": sets}, indent=2))
        return
    for i, (name, figures) in enumerate(sets.items()):
        if i:
            print()
        print_table(name, figures, args.repeat)
        if args.worst > 0:
            print_worst(figures, args.worst)


if __name__ == "__main__":
    main()
