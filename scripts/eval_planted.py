"""Score document dedup on planted pairs: `python scripts/eval_dedup.py --planted ...`.

The truth (truth.json) lists planted pairs as "pairs": [[A, B, KIND], ...], A the copy (or
the later document) and B its source. Kinds: near, exact, cjk (near-copies that should be
found), partial (an excerpt of B: found by containment), template (reports from one
template, Jaccard below the threshold: must never be merged), quote (A quotes one paragraph
of B: A must never be dropped), unrelated (a labelled negative). gen_corpus.py --hard-cases
writes such a truth; a labelled real set (benchmarks/dedup-real/) uses the same format.

The corpus runs through `cleanup pipe dedup --mark` as a user would run it, so this script
reads only `meta.duplicate_of` and works with any version of the decision. A pair counts as
found when its two documents end in one group (a document joins the document it is marked a
duplicate of). Exact similarities are computed on the same shingles the pipeline uses
(cleanup.dedup.shingles over the paragraphs dedup kept, site boilerplate removed): Jaccard
|A∩B|/|A∪B|, and containment |S∩L|/|S| of the smaller set S in the larger L.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path
from typing import Any

import numpy as np

from cleanup.dedup.shingles import shingle_hashes, token_hashes
from cleanup.document import split_paragraphs

POSITIVE = ("near", "exact", "cjk", "partial")
BAND = 0.05
ROOT = Path(__file__).resolve().parent.parent


def run_mark(corpus: Path, out: Path, dedup_args: str, run_args: str) -> float:
    """Run `cleanup pipe dedup --mark` over the corpus into `out`; return the seconds."""
    cmd = [sys.executable, "-c", "from cleanup.cli import main; main()", "pipe"]
    cmd += ["-i", str(corpus), "-o", str(out), "--force", *shlex.split(run_args)]
    cmd += ["dedup", "--mark", *shlex.split(dedup_args)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def read_output(out: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Return each document's kept text and the duplicate_of of each marked document."""
    texts: dict[str, str] = {}
    dup_of: dict[str, str] = {}
    with open(out, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            texts[rec["id"]] = rec["text"]
            target = (rec.get("meta") or {}).get("duplicate_of")
            if target is not None:
                dup_of[rec["id"]] = target
    return texts, dup_of


def shingle_sets(texts: dict[str, str], ids: set[str], k: int) -> dict[str, np.ndarray]:
    """Return the sorted unique shingle hashes of documents `ids`, as the pipeline makes them."""
    out: dict[str, np.ndarray] = {}
    todo = sorted(i for i in ids if i in texts)
    for start in range(0, len(todo), 2000):
        chunk = todo[start : start + 2000]
        paras = [split_paragraphs(texts[i])[0] for i in chunk]
        counts = np.array([len(p) for p in paras])
        tokens, offsets = token_hashes([p for ps in paras for p in ps])
        bounds = np.concatenate(([0], np.cumsum(counts)))
        hashes, sh_off = shingle_hashes(tokens, offsets[bounds], k)
        for j, doc_id in enumerate(chunk):
            out[doc_id] = np.unique(hashes[sh_off[j] : sh_off[j + 1]])
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Return the exact Jaccard and containment (smaller in larger) of two shingle sets."""
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    small = min(len(a), len(b))
    return (inter / union if union else 0.0), (inter / small if small else 0.0)


def groups(dup_of: dict[str, str]) -> dict[str, str]:
    """Return each marked document's group root (following duplicate_of to a kept document)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        return root

    for a, b in dup_of.items():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    return {x: find(x) for x in set(parent) | set(dup_of.values())}


def s_curve(rows: list[tuple[float, bool]]) -> list[dict[str, Any]]:
    """Return the share found per band of width BAND of the similarity."""
    bands: dict[int, list[int]] = {}
    for sim, found in rows:
        b = bands.setdefault(min(int(sim / BAND + 1e-9), int(1 / BAND) - 1), [0, 0])
        b[0] += 1
        b[1] += found
    return [
        {"band": f"{k * BAND:.2f}-{(k + 1) * BAND:.2f}", "pairs": n, "found": round(f / n, 4)}
        for k, (n, f) in sorted(bands.items())
    ]


def pair_scores(pairs: list[list[str]], root: dict[str, str]) -> dict[str, float]:
    """Return pair precision, recall and F1 of the predicted groups against the positive pairs."""
    gold: dict[str, str] = {}
    for a, b, kind in pairs:
        if kind in POSITIVE:
            gold[a] = b
    gold_root = groups(gold)
    gold_pairs = _within(gold_root)
    pred_pairs = _within(root)
    tp = len(gold_pairs & pred_pairs)
    p = tp / len(pred_pairs) if pred_pairs else 1.0
    r = tp / len(gold_pairs) if gold_pairs else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)}


def _within(root: dict[str, str]) -> set[tuple[str, str]]:
    """Return every unordered pair of documents with the same root."""
    members: dict[str, list[str]] = {}
    for x, r in root.items():
        members.setdefault(r, []).append(x)
    out: set[tuple[str, str]] = set()
    for m in members.values():
        m.sort()
        out.update((m[i], m[j]) for i in range(len(m)) for j in range(i + 1, len(m)))
    return out


def score(truth: dict[str, Any], texts: dict[str, str], dup_of: dict[str, str], args: Any) -> dict:
    """Return every figure of the planted-pair evaluation."""
    pairs = [p for p in truth["pairs"] if p[0] in texts and p[1] in texts]
    root = groups(dup_of)
    ids = {x for p in pairs for x in p[:2]} | set(dup_of) | set(dup_of.values())
    sets = shingle_sets(texts, ids, args.shingle)
    rows = []
    for a, b, kind in pairs:
        j, c = similarity(sets[a], sets[b])
        found = root.get(a, a) == root.get(b, b)
        rows.append({"kind": kind, "jaccard": j, "containment": c, "found": found})
    kinds: dict[str, list[int]] = {}
    for r in rows:
        k = kinds.setdefault(r["kind"], [0, 0])
        k[0] += 1
        k[1] += r["found"]
    above = [r for r in rows if r["jaccard"] >= args.threshold and r["kind"] != "template"]
    dropped_low = [similarity(sets[a], sets[b]) for a, b in dup_of.items()]
    quoted = {a: b for a, b, kind in pairs if kind == "quote"}
    partners: dict[str, set[str]] = {}
    for a, b, kind in pairs:
        if kind in POSITIVE:
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
    return {
        "documents": len(texts),
        "marked_duplicates": len(dup_of),
        "pairs_by_kind": {k: {"pairs": n, "found": f} for k, (n, f) in sorted(kinds.items())},
        "recall_at_threshold": round(sum(r["found"] for r in above) / max(len(above), 1), 4),
        "pairs_at_threshold": len(above),
        "templated_pairs_merged": kinds.get("template", [0, 0])[1],
        "partial_copies_found": round(
            kinds.get("partial", [0, 0])[1] / max(kinds.get("partial", [0, 0])[0], 1), 4
        ),
        "quoting_originals_dropped": sum(
            q in dup_of and _dropped_for_quote(q, src, root, partners.get(q, set()))
            for q, src in quoted.items()
        ),
        "dropped_below_threshold": sum(j < args.threshold for j, _ in dropped_low),
        "dropped_below_both": sum(
            j < args.threshold and c < args.containment for j, c in dropped_low
        ),
        "scores": pair_scores(pairs, root),
        "s_curve_jaccard": s_curve([(r["jaccard"], r["found"]) for r in rows]),
        "s_curve_containment": s_curve(
            [(r["containment"], r["found"]) for r in rows if r["jaccard"] < args.threshold]
        ),
    }


def _dropped_for_quote(q: str, source: str, root: dict[str, str], partners: set[str]) -> bool:
    """Tell whether a dropped quoting original went with its source, or with no copy of its own.

    A quoting original that has planted near or exact copies of its own may go to one of them;
    that is a copy decision, not the quote's fault.
    """
    mine = root.get(q, q)
    return root.get(source, source) == mine or not any(root.get(p, p) == mine for p in partners)


def evaluate_planted(args: Namespace) -> None:
    """Generate or read the corpus, run dedup --mark, print the figures (or JSON)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.corpus) if args.corpus else Path(tmp)
        if not args.corpus:
            gen = str(ROOT / "scripts" / "gen_corpus.py")
            cmd = [sys.executable, gen, "--hard-cases", "--docs", str(args.docs),
                   "--seed", str(args.seed), "--out", tmp, "-q"]  # fmt: skip
            subprocess.run(cmd, check=True)
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        out = Path(tmp) / "marked.jsonl"
        seconds = run_mark(folder / "corpus.jsonl", out, args.dedup_args, args.run_args)
        texts, dup_of = read_output(out)
    result = score(truth, texts, dup_of, args)
    result["dedup_seconds"] = round(seconds, 1)
    if args.json:
        print(json.dumps(result))
        return
    print(render(result, args))


def render(r: dict[str, Any], args: Any) -> str:
    """Return the figures as Markdown."""
    t, c = args.threshold, args.containment
    lines = [
        f"{r['documents']:,} documents, {r['marked_duplicates']:,} marked duplicates, "
        f"`cleanup pipe dedup --mark` {r['dedup_seconds']} s",
        "",
        f"- pairs with exact Jaccard >= {t} found: {r['recall_at_threshold']:.4f} "
        f"({r['pairs_at_threshold']:,} pairs)",
        f"- templated report pairs merged: {r['templated_pairs_merged']}",
        f"- partial copies found: {r['partial_copies_found']:.4f}",
        f"- quoting originals dropped: {r['quoting_originals_dropped']}",
        f"- dropped documents with exact Jaccard < {t} to their kept document: "
        f"{r['dropped_below_threshold']} (of which containment < {c} too: "
        f"{r['dropped_below_both']})",
        "- pair precision {precision:.4f}, recall {recall:.4f}, F1 {f1:.4f}".format(**r["scores"]),
        "",
        "| kind | pairs | found |",
        "|---|---|---|",
    ]
    for kind, v in r["pairs_by_kind"].items():
        lines.append(f"| {kind} | {v['pairs']:,} | {v['found'] / max(v['pairs'], 1):.4f} |")
    contained = f"exact containment (pairs with Jaccard < {t})"
    for name, key in (("exact Jaccard", "s_curve_jaccard"), (contained, "s_curve_containment")):
        lines += ["", f"| {name} | pairs | found |", "|---|---|---|"]
        lines += [f"| {b['band']} | {b['pairs']:,} | {b['found']:.4f} |" for b in r[key]]
    return "\n".join(lines)


def cjk_sizes(folder: Path, sizes: list[int], threshold: float, shingle: int) -> str:
    """Return a table: per characters per CJK token, Jaccard of CJK near-copies and of unrelated
    CJK documents (pairs of originals of one language), on the document text as read."""
    from cleanup.dedup import shingles

    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    cjk = truth.get("cjk", {})
    texts: dict[str, str] = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec["id"] in cjk:
                texts[rec["id"]] = rec["text"]
    copies = [(a, info["of"]) for a, info in cjk.items() if info["of"] is not None]
    rng = np.random.default_rng(0)
    by_lang: dict[str, list[str]] = {}
    for a, info in cjk.items():
        if info["of"] is None:
            by_lang.setdefault(info["lang"], []).append(a)
    unrelated = [tuple(rng.choice(ids, 2, replace=False)) for ids in by_lang.values()
                 for _ in range(2000) if len(ids) > 1]  # fmt: skip
    lines = [
        f"| chars per token | char shingle | copies >= {threshold} | copies p5 | "
        "unrelated mean | unrelated p99.9 | unrelated max |",
        "|---|---|---|---|---|---|---|",
    ]
    saved = shingles.CJK_CHARS
    try:
        for size in sizes:
            shingles.CJK_CHARS = size
            sets = shingle_sets(texts, set(texts), shingle)
            cj = np.array([similarity(sets[a], sets[b])[0] for a, b in copies])
            un = np.array([similarity(sets[a], sets[b])[0] for a, b in unrelated])
            lines.append(
                f"| {size} | {size + shingle - 1} | {np.mean(cj >= threshold):.4f} | "
                f"{np.percentile(cj, 5):.3f} | {un.mean():.4f} | "
                f"{np.percentile(un, 99.9):.3f} | {un.max():.3f} |"
            )
    finally:
        shingles.CJK_CHARS = saved
    return "\n".join(lines)
