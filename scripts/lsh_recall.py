#!/usr/bin/env python3
"""Measure LSH candidate recall and noise for document dedup settings (issue 14, step 1).

    python scripts/lsh_recall.py --pairs 4000 --corpus /tmp/c/corpus.jsonl

Two measurements, for every (num_perm, rows) setting asked for (bands = num_perm // rows):
- planted pairs: pairs of texts whose exact word-pair Jaccard is spread around the threshold
  (a random text and a copy with a random share of its words replaced); the share of pairs
  that share a band, per exact-Jaccard band of width 0.05 (the measured S-curve), next to
  the formula 1 - (1 - s^r)^b;
- a corpus (gen_corpus.py output): candidate pairs found per document, and the recall of the
  pairs whose exact Jaccard reaches the threshold, taking as reference every such pair that
  any measured setting found; with the bucket's first member only (heads=1) and with the
  bounded heads the step uses (cleanup.dedup.clusters.BUCKET_HEADS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: a test run may point at another checkout

from cleanup.dedup.lsh import band_keys  # noqa: E402
from cleanup.dedup.minhash import MinHasher  # noqa: E402
from cleanup.dedup.shingles import shingle_hashes, token_hashes  # noqa: E402


def planted_pair(rng: np.random.Generator, words: int, edit: float) -> tuple[str, str]:
    """Return a random text of `words` tokens and a copy with a share `edit` of words replaced."""
    a = rng.integers(0, 1_000_000, words)
    b = a.copy()
    hit = rng.random(words) < edit
    b[hit] = rng.integers(1_000_000, 2_000_000, int(hit.sum()))
    return " ".join(f"w{x}" for x in a), " ".join(f"w{x}" for x in b)


def planted_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Return `count` planted pairs whose exact Jaccard falls mostly in 0.25..0.65."""
    rng = np.random.default_rng(seed)
    return [
        planted_pair(rng, int(rng.integers(80, 600)), float(rng.uniform(0.12, 0.42)))
        for _ in range(count)
    ]


def shingle_sets(texts: list[str], size: int = 2) -> list[np.ndarray]:
    """Return the sorted unique shingle hashes of each text (what signatures are made of)."""
    tokens, offsets = token_hashes(texts)
    sh, off = shingle_hashes(tokens, offsets, size)
    return [np.unique(sh[off[i] : off[i + 1]]) for i in range(len(texts))]


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Return the exact Jaccard of two sorted unique arrays."""
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


def s_curve(texts: list[str], jac: np.ndarray, perms: list[int], rows: list[int]) -> dict:
    """Return, per setting, the share of planted pairs sharing a band per exact-Jaccard bin."""
    out: dict = {}
    bins = np.floor(jac / 0.05).astype(int)
    for num_perm in perms:
        sigs = MinHasher(num_perm, 1, 2).signatures(texts)
        for r in rows:
            b = num_perm // r
            keys = band_keys(sigs, b, r)
            hit = (keys[0::2] == keys[1::2]).any(axis=1)
            curve = {}
            for k in sorted(set(bins.tolist())):
                sel = bins == k
                s = (k + 0.5) * 0.05
                curve[f"{k * 0.05:.2f}"] = {
                    "pairs": int(sel.sum()),
                    "found": round(float(hit[sel].mean()), 4),
                    "formula": round(1 - (1 - s**r) ** b, 4),
                }
            out[f"{num_perm}x{b}b{r}r"] = curve
    return out


def corpus_texts(path: str, limit: int) -> list[str]:
    """Return the texts of the first `limit` documents of a JSONL corpus."""
    texts = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            texts.append(record.get("text") or record.get("html", ""))
            if len(texts) >= limit:
                break
    return texts


def bucket_pairs(keys: np.ndarray, heads: int) -> set[tuple[int, int]]:
    """Return candidate pairs: each bucket member with the bucket's first `heads` members."""
    from cleanup.dedup.clusters import candidate_pairs

    n = keys.shape[0]
    enc = candidate_pairs(keys, np.arange(n), heads)
    return {(int(min(p // n, p % n)), int(max(p // n, p % n))) for p in enc.tolist()}


def corpus_recall(texts: list[str], perms: list[int], rows: list[int], thr: float) -> dict:
    """Return candidates per document and recall of pairs >= thr, per setting and heads."""
    from cleanup.dedup.clusters import BUCKET_HEADS

    sets = shingle_sets(texts)
    found: dict[str, set[tuple[int, int]]] = {}
    cost: dict[str, float] = {}
    for num_perm in perms:
        t0 = time.perf_counter()
        sigs = MinHasher(num_perm, 1, 2).signatures(texts)
        cost[f"sign {num_perm}"] = round(time.perf_counter() - t0, 3)
        for r in rows:
            keys = band_keys(sigs, num_perm // r, r)
            for heads in sorted({1, BUCKET_HEADS}):
                found[f"{num_perm}x{num_perm // r}b{r}r heads={heads}"] = bucket_pairs(keys, heads)
    every = set().union(*found.values())
    good = {p for p in every if exact_jaccard(sets[p[0]], sets[p[1]]) >= thr}
    out = {}
    for name, pairs in found.items():
        out[name] = {
            "candidates per doc": round(len(pairs) / len(texts), 3),
            "recall": round(len(pairs & good) / max(len(good), 1), 4),
            "missed": len(good - pairs),
        }
    return {"reference pairs >= threshold": len(good), "settings": out, "seconds": cost}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=int, default=4000)
    p.add_argument("--corpus", default="")
    p.add_argument("--limit", type=int, default=20000)
    p.add_argument("--threshold", type=float, default=0.4)
    p.add_argument("--perms", default="128,256")
    p.add_argument("--rows", default="2,3,4")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--containment", default="", help="thresholds to measure, e.g. 0.6,0.7,0.8")
    p.add_argument("--cases", type=int, default=1000, help="excerpts (and quoting originals)")
    a = p.parse_args()
    if a.containment:
        thresholds = [float(x) for x in a.containment.split(",")]
        texts = corpus_texts(a.corpus, a.limit)
        print(json.dumps(containment_measure(texts, a.cases, thresholds), indent=1))
        return
    perms = [int(x) for x in a.perms.split(",")]
    rows = [int(x) for x in a.rows.split(",")]
    pairs = planted_pairs(a.pairs, a.seed)
    texts = [t for pair in pairs for t in pair]
    sets = shingle_sets(texts)
    jac = np.array([exact_jaccard(sets[2 * i], sets[2 * i + 1]) for i in range(len(pairs))])
    report: dict = {"s-curve": s_curve(texts, jac, perms, rows)}
    for name, curve in report["s-curve"].items():
        sel = jac >= a.threshold
        report.setdefault("planted recall >= threshold", {})[name] = round(
            sum(v["found"] * v["pairs"] for k, v in curve.items() if float(k) >= a.threshold)
            / max(int(sel.sum()), 1),
            4,
        )
    if a.corpus:
        report["corpus"] = corpus_recall(corpus_texts(a.corpus, a.limit), perms, rows, a.threshold)
    print(json.dumps(report, indent=1))


def edit(rng: np.random.Generator, text: str, rate: float) -> str:
    """Return text with a share `rate` of its words replaced by new ones (a light edit)."""
    out = [f"edit{rng.integers(1_000_000)}" if rng.random() < rate else w for w in text.split()]
    return " ".join(out)


def containment_cases(texts: list[str], count: int, seed: int) -> list[dict]:
    """Return documents for the containment measure: sources, excerpts and quoting originals.

    Excerpt: 30-70% of a source's paragraphs in a row, 3-5% of words edited. Quoting
    original: a document of the other half of `texts` (not itself in the corpus) with one
    paragraph of a source inserted in its middle.
    """
    rng = np.random.default_rng(seed)
    half = len(texts) // 2  # sources; the other half only lends quoting originals their text
    docs = [{"id": f"s{i}", "text": t} for i, t in enumerate(texts[:half])]
    for k in range(count):
        i, j = int(rng.integers(0, half)), half + (k % (len(texts) - half))
        paras = [p for p in texts[i].split("\n\n") if p.strip()]
        if len(paras) < 4:
            continue
        share = rng.uniform(0.3, 0.7)
        take = max(1, round(share * len(paras)))
        start = int(rng.integers(0, len(paras) - take + 1))
        excerpt = "\n\n".join(
            edit(rng, p, rng.uniform(0.03, 0.05)) for p in paras[start : start + take]
        )
        docs.append({"id": f"e{k}", "text": excerpt, "of": f"s{i}", "share": round(share, 2)})
        other = [p for p in texts[j].split("\n\n") if p.strip()]
        quote = paras[int(rng.integers(0, len(paras)))]
        mid = len(other) // 2
        quoting = "\n\n".join([*other[:mid], quote, *other[mid:]])
        docs.append({"id": f"q{k}", "text": quoting, "quotes": f"s{i}"})
    return docs


def containment_measure(texts: list[str], count: int, thresholds: list[float]) -> dict:
    """Return, per --doc-containment, the excerpts found and quoting originals dropped."""
    from cleanup.document import Document
    from cleanup.pipeline import Context, Pipeline

    cases = containment_cases(texts, count, 7)
    out = {}
    for t in thresholds:
        docs = [Document(id=c["id"], paragraphs=c["text"].split("\n\n")) for c in cases]
        started = time.perf_counter()
        result = list(Pipeline(steps=["dedup"], context=Context(), doc_containment=t).run(docs))
        drop = {d.id: d.dropped.detail.get("duplicate_of") for d in result if d.dropped}
        excerpts = [c for c in cases if "of" in c]
        quoting = [c for c in cases if "quotes" in c]
        out[str(t)] = {
            "excerpts found": round(
                sum(drop.get(c["id"]) == c["of"] for c in excerpts) / len(excerpts), 4
            ),
            "quoting originals dropped": sum(c["id"] in drop for c in quoting),
            "sources dropped": sum(1 for k in drop if k.startswith("s")),
            "seconds": round(time.perf_counter() - started, 2),
        }
    return out


if __name__ == "__main__":
    main()
