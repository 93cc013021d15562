#!/usr/bin/env python3
"""Measure `cleanup run` on single huge documents: the shapes that once cost minutes or gigabytes.

    python scripts/bench_pages.py [--mb 50] [--cases article,tiny-p,text-node,lines]
                                  [--repeat N] [--markdown | --json]

Each case is one JSONL record of about --mb megabytes of text (generated once, cached under
--work-dir), run through `python -m cleanup run CASE.jsonl -o OUT.jsonl --force -q --workers 1`
in its own process group (scripts/bench.py's `measure`: wall time, peak RSS of the tree):

- article: an HTML article of short paragraphs, each two to five phrases drawn from a bank of
  phrases over a 70-word vocabulary, so nearly every paragraph shares word shingles with many
  others (in-document near-copy search: before the per-document pair budget, a 50 MB page took
  276 s and 5.7 GB);
- tiny-p: an HTML page of one-word `<p>` elements (strip-html's per-element walk);
- text-node: an HTML page that is one huge text node (whitespace collapsing);
- lines: a plain text of one-word lines (paragraph splitting, in-document exact repeats).

The documents stay under the default --max-document-size (64 MiB). No case has a target: the
figures show that time and memory grow with the page, and by how much. Timing figures belong in
the README, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import compile_package, machine, measure

_WORDS = (  # 70
    "the of and to in a is that for it as was with be by on not he this are or his from "
    "at which but have an had they you were their one all we can her has there been if "
    "more when will would who so no city river council report water school year people "
    "market road train house team game plan court bank price land party state"
)
VOCABULARY = _WORDS.split()


def article(rng: random.Random, size: int) -> str:
    """An HTML article of paragraphs made of phrases from a small vocabulary."""
    phrases = [
        " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(3, 7)))
        for _ in range(max(3000, size // 600))
    ]
    parts, total = ["<html><head><title>Page</title></head><body><article><h1>Page</h1>"], 0
    while total < size:
        words = " ".join(rng.choice(phrases) for _ in range(rng.randint(2, 5)))
        parts.append(f"<p>{words.capitalize()}.</p>")
        total += len(parts[-1])
    return "".join(parts) + "</article></body></html>"


def tiny_p(rng: random.Random, size: int) -> str:
    """An HTML page of one-word paragraphs."""
    count = size // 12
    body = "".join(f"<p>{rng.choice(VOCABULARY)}</p>" for _ in range(count))
    return f"<html><body>{body}</body></html>"


def text_node(rng: random.Random, size: int) -> str:
    """An HTML page that is one text node of words and runs of spaces."""
    words = [rng.choice(VOCABULARY) + " " * rng.randint(1, 3) for _ in range(size // 6)]
    return f"<html><body><div>{''.join(words)}</div></body></html>"


def lines(rng: random.Random, size: int) -> str:
    """A plain text of one-word lines."""
    return "\n".join(rng.choice(VOCABULARY) for _ in range(size // 5))


CASES: dict[str, Callable[[random.Random, int], str]] = {
    "article": article,
    "tiny-p": tiny_p,
    "text-node": text_node,
    "lines": lines,
}


def case_file(work: Path, name: str, mb: float, seed: int) -> Path:
    """Write (once) the case's one-record JSONL file and return its path."""
    path = work / f"{name}-{mb:g}mb-seed{seed}.jsonl"
    if not path.exists():
        text = CASES[name](random.Random(seed), int(mb * 1_000_000))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"id": name, "text": text}) + "\n", encoding="utf-8")
        tmp.replace(path)
    return path


def run_case(path: Path, work: Path, repeat: int) -> dict[str, object]:
    """Run `cleanup run` on one case `repeat` times; return the fastest run's figures."""
    out = work / f"{path.stem}.out.jsonl"
    argv = [sys.executable, "-m", "cleanup", "run", str(path), "-o", str(out), "--force", "-q"]
    best = None
    for _ in range(repeat):
        m = measure([*argv, "--workers", "1"], work / "bench_pages.log")
        if not m.ok:
            return {"error": m.error}
        if best is None or m.wall < best.wall:
            best = m
    assert best is not None
    size = path.stat().st_size
    return {
        "input_bytes": size,
        "output_bytes": out.stat().st_size,
        "seconds": round(best.wall, 3),
        "mb_per_s": round(size / 1e6 / best.wall, 3),
        "peak_rss_mib": round(best.peak_rss / 2**20, 1),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=50.0, help="megabytes of text a case (50)")
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated cases")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1, help="runs a case, the fastest kept")
    p.add_argument("--work-dir", default=os.path.join(tempfile.gettempdir(), "cleanup-bench-pages"))
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON for machines")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - set(CASES)
    if unknown or not args.cases:
        p.error(f"--cases takes a comma-separated subset of {','.join(CASES)}")
    if not 0 < args.mb <= 60 or args.repeat < 1:
        p.error("--mb must be in (0, 60] (a case stays under 64 MiB) and --repeat at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate the cases, run them, print the table."""
    args = parse_args(argv)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    compile_package()
    rows = []
    for name in args.cases:
        path = case_file(work, name, args.mb, args.seed)
        rows.append({"case": name, **run_case(path, work, args.repeat)})
    if args.json:
        print(json.dumps({"machine": machine(), "rows": rows}, indent=1))
        return 0
    head = ["case", "input MB", "seconds", "MB/s", "peak RSS MiB"]
    body = [
        [
            str(r["case"]),
            f"{r['input_bytes'] / 1e6:.1f}" if "input_bytes" in r else "-",
            str(r.get("seconds", r.get("error", "-"))),
            str(r.get("mb_per_s", "-")),
            str(r.get("peak_rss_mib", "-")),
        ]
        for r in rows
    ]
    if args.markdown:
        print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
        print("\n".join("| " + " | ".join(row) + " |" for row in body))
    else:
        print("\n".join("  ".join(row) for row in [head, *body]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
