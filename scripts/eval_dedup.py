#!/usr/bin/env python3
"""Score near-duplicate document detection against labelled data; print the chosen thresholds.

    python scripts/eval_dedup.py --docs 5000 --seed 1            # generates a corpus
    python scripts/eval_dedup.py --corpus DIR                    # DIR/corpus.jsonl + truth.json
    python scripts/eval_dedup.py --shingles 1,2,3,5 --thresholds 0.3,0.4,0.5,0.6,0.7,0.8

The labelled data is scripts/gen_corpus.py's truth: near copies (5-15% of words substituted,
inserted or deleted, often on another site with other boilerplate) and exact copies of earlier
documents. For each shingle size and threshold, the dedup step runs in --mark mode over the
whole corpus, exactly as `cleanup run` would; predicted clusters are compared with the true
ones by pair precision / recall / F1 (pairs of documents put in the same cluster) and the
adjusted Rand index over all documents.

The generated corpus has no hard negatives (different articles about the same event share
words, not just random vocabulary), so the script also measures one real pair from
fixtures/: CNN's and the Daily Mail's reports of the same story, which must never be taken
for copies. A setting qualifies only if its threshold is at least SAFETY times that pair's
Jaccard (related texts vary a lot from story to story, so the margin is relative); among
those, the best F1 wins, then the one with fewer LSH bands (a smaller, cheaper index).

    python scripts/eval_dedup.py --planted --corpus DIR [--dedup-args "--num-perm 256"]

scores the pairs a truth.json plants ("pairs": [[A, B, KIND], ...]; gen_corpus.py
--hard-cases or a labelled real set, see scripts/eval_planted.py) against the output of
`cleanup pipe dedup --mark`: the S-curve against exact Jaccard and exact containment,
recall above the threshold, templated reports merged, partial copies found, quoting
originals dropped, documents dropped below the threshold, and pair precision/recall/F1.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# Appended, not prepended: an installed or PYTHONPATH `cleanup` (another checkout's code, to
# score it) wins over this checkout's; scripts/ itself is already first on the path.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from cleanup.dedup.lsh import optimal_bands
from cleanup.dedup.shingles import shingle_hashes, token_hashes
from cleanup.document import Document
from cleanup.io import read_inputs
from cleanup.pipeline import Context, Pipeline

SAFETY = 3.0
HARD_NEGATIVE = ("cnn_sessions.txt", "dailymail_sessions.txt")


def hard_negative_jaccard(shingle: int) -> float:
    """Return the exact Jaccard of the two fixture reports of one story at a shingle size."""
    folder = Path(__file__).resolve().parent.parent / "fixtures"
    texts = [(folder / name).read_text(encoding="utf-8") for name in HARD_NEGATIVE]
    tokens, offsets = token_hashes(texts)
    hashes, off = shingle_hashes(tokens, offsets, shingle)
    a, b = set(hashes[off[0] : off[1]].tolist()), set(hashes[off[1] : off[2]].tolist())
    return len(a & b) / len(a | b)


def true_clusters(truth: dict, ids: list[str]) -> np.ndarray:
    """Return a cluster label per document from the generator's truth (copies join originals)."""
    pos = {d: i for i, d in enumerate(ids)}
    labels = np.arange(len(ids))
    for copy, info in truth.get("near_copies", {}).items():
        labels[pos[copy]] = pos[info["of"]]
    for copy, original in truth.get("exact_copies", {}).items():
        labels[pos[copy]] = pos[original]
    return labels


def pairs_of(labels: np.ndarray) -> set[tuple[int, int]]:
    """Return every unordered pair of items sharing a label."""
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels.tolist()):
        groups.setdefault(lab, []).append(i)
    out: set[tuple[int, int]] = set()
    for members in groups.values():
        out.update(itertools.combinations(members, 2))
    return out


def adjusted_rand(a: np.ndarray, b: np.ndarray) -> float:
    """Return the adjusted Rand index of two labelings."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table: dict[tuple[int, int], int] = {}
    for x, y in zip(ai.tolist(), bi.tolist(), strict=True):
        table[(x, y)] = table.get((x, y), 0) + 1

    def comb2(v: np.ndarray) -> float:
        return float((v * (v - 1) / 2).sum())

    n = len(a)
    index = comb2(np.array(list(table.values()), dtype=float))
    sa = comb2(np.bincount(ai).astype(float))
    sb = comb2(np.bincount(bi).astype(float))
    expected = sa * sb / (n * (n - 1) / 2)
    maximum = (sa + sb) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def predicted_clusters(docs: list[Document], shingle: int, threshold: float) -> np.ndarray:
    """Run the dedup step in mark mode and return a cluster label per document."""
    out = list(
        Pipeline(
            steps=["dedup"],
            context=Context(),
            mark=True,
            doc_shingle_size=shingle,
            doc_threshold=threshold,
        ).run([_copy(d) for d in docs])
    )
    labels = np.arange(len(out))
    first: dict[str, int] = {}
    for i, d in enumerate(out):
        cluster = d.meta.get("cluster")
        if cluster is not None:
            labels[i] = first.setdefault(cluster, i)
    return labels


def _copy(doc: Document) -> Document:
    return Document(
        id=doc.id,
        paragraphs=list(doc.paragraphs),
        source=doc.source,
        site=doc.site,
        format=doc.format,
        sep=doc.sep,
        fields=dict(doc.fields),
        explicit_id=doc.explicit_id,
    )


def main() -> None:
    """Parse arguments, evaluate the grid and print a table and the choice."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", help="folder with corpus.jsonl and truth.json")
    ap.add_argument(
        "--planted",
        action="store_true",
        help="score the planted pairs (gen_corpus --hard-cases or a labelled set) instead",
    )
    ap.add_argument("--threshold", type=float, default=0.4, help="--planted: Jaccard threshold")
    ap.add_argument("--shingle", type=int, default=2, help="--planted: words per shingle")
    ap.add_argument("--containment", type=float, default=0.8, help="--planted: containment")
    ap.add_argument("--dedup-args", default="", help="--planted: more `dedup` options")
    ap.add_argument(
        "--cjk-chars",
        default="",
        help="with --corpus: compare characters per CJK token (e.g. 1,2,3,4) and exit",
    )
    ap.add_argument("--run-args", default="", help="--planted: more `cleanup pipe` options")
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shingles", default="1,2,3,4,5")
    ap.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7,0.8")
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = ap.parse_args()
    if args.cjk_chars:
        from eval_planted import cjk_sizes

        sizes = [int(x) for x in args.cjk_chars.split(",")]
        print(cjk_sizes(Path(args.corpus), sizes, args.threshold, args.shingle))
        return
    if args.planted:
        from eval_planted import evaluate_planted

        evaluate_planted(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.corpus) if args.corpus else Path(tmp)
        if not args.corpus:
            script = Path(__file__).resolve().parent / "gen_corpus.py"
            subprocess.run(
                [sys.executable, str(script), "--docs", str(args.docs), "--seed", str(args.seed),
                 "--out", str(folder)],
                check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        truth = json.loads((folder / "truth.json").read_text())
        docs = list(read_inputs([str(folder / "corpus.jsonl")]))
    ids = [d.id for d in docs]
    gold = true_clusters(truth, ids)
    gold_pairs = pairs_of(gold)
    rows = []
    for shingle in (int(s) for s in args.shingles.split(",")):
        negative = hard_negative_jaccard(shingle)
        for threshold in (float(t) for t in args.thresholds.split(",")):
            started = time.perf_counter()
            pred = predicted_clusters(docs, shingle, threshold)
            seconds = time.perf_counter() - started
            pred_pairs = pairs_of(pred)
            tp = len(gold_pairs & pred_pairs)
            precision = tp / len(pred_pairs) if pred_pairs else 1.0
            recall = tp / len(gold_pairs) if gold_pairs else 1.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            rows.append(
                {
                    "shingle": shingle,
                    "threshold": threshold,
                    "precision": round(precision, 4),
                    "recall": round(recall, 4),
                    "f1": round(f1, 4),
                    "ari": round(adjusted_rand(gold, pred), 4),
                    "hard_negative": round(negative, 3),
                    "safety": round(threshold / max(negative, 1e-9), 2),
                    "bands": optimal_bands(threshold, 128)[0],
                    "seconds": round(seconds, 2),
                }
            )
    safe = [r for r in rows if r["safety"] >= SAFETY] or rows
    best = max(safe, key=lambda r: (round(r["f1"], 3), -r["bands"]))
    if args.json:
        print(
            json.dumps(
                {"documents": len(docs), "true_pairs": len(gold_pairs), "rows": rows, "best": best}
            )
        )
        return
    print(f"{len(docs)} documents, {len(gold_pairs)} true duplicate pairs")
    print("| shingle | threshold | precision | recall | F1 | ARI | same-story J | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['shingle']} | {r['threshold']} | {r['precision']:.3f} | {r['recall']:.3f} "
            f"| {r['f1']:.3f} | {r['ari']:.3f} | {r['hard_negative']:.3f} | {r['seconds']} |"
        )
    print(
        f"chosen: --doc-shingle-size {best['shingle']} --doc-threshold {best['threshold']} "
        f"(F1 {best['f1']:.3f}, precision {best['precision']:.3f}, recall {best['recall']:.3f}; "
        f"threshold {best['safety']:.1f}x the same-story pair's Jaccard, required {SAFETY}x)"
    )


if __name__ == "__main__":
    main()
