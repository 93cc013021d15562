#!/usr/bin/env python3
"""Measure the dedup step: signature and whole-step throughput, peak memory, state size.

    python scripts/bench_dedup.py --docs 100000 --seed 1
    python scripts/bench_dedup.py --corpus DIR/corpus.jsonl --json

Each measurement runs in a fresh subprocess so its peak RSS is its own:
- signatures: MinHash signatures of every document (tokenize, shingle, permute), batched as
  the step does it; MB/s and documents/s of text;
- python-loop: the same tokens hashed one word at a time with xxhash in a Python loop, the
  baseline the vectorized path replaces (issue 7: ~16-27 MB/s);
- datasketch: datasketch.MinHash.update_batch per document (on a sample: it is slow);
- step: the whole dedup step (scope corpus: in-document paragraphs, boilerplate, near-duplicate
  documents), documents read beforehand;
- state: the step with --state in a temporary SQLite file, committed; bytes per document;
- read, step-stream: the JSONL file read lazily, alone and through the step, so the peak RSS
  of step-stream is what reading and the step's index hold (the texts are in the spool).
The index estimate for 1,000,000 documents is the measured bytes per document of the
in-memory arrays (signatures, band keys, fingerprints, lengths) times a million.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load(corpus: str) -> list:
    from cleanup.io import read_inputs

    return list(read_inputs([corpus]))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(kind: str, corpus: str, sample: int) -> dict:
    """Run one measurement in this process and return its figures."""
    import numpy as np

    from cleanup.dedup.lsh import band_keys, recall_bands
    from cleanup.dedup.minhash import MinHasher
    from cleanup.executor import BATCH_BYTES
    from cleanup.pipeline import Context, Pipeline
    from cleanup.steps.dedup import SPEC

    defaults = SPEC.defaults()
    if kind in ("read", "step-stream"):
        return _streamed(kind, corpus)
    docs = _load(corpus)
    texts = [d.text for d in docs]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    base_rss = _rss_mb()
    result: dict = {"measure": kind, "documents": len(docs), "mb": round(mb, 2)}
    cpu_started = time.process_time()
    started = time.perf_counter()
    if kind == "signatures":
        hasher = MinHasher(
            defaults["num_perm"], defaults["minhash_seed"], defaults["doc_shingle_size"]
        )
        sigs = []
        batch: list[str] = []
        size = 0
        for t in texts:
            batch.append(t)
            size += len(t)
            if size >= BATCH_BYTES:
                sigs.append(hasher.signatures(batch))
                batch, size = [], 0
        if batch:
            sigs.append(hasher.signatures(batch))
        seconds = time.perf_counter() - started
        allsigs = np.concatenate(sigs)
        bands, rows = recall_bands(defaults["doc_threshold"], defaults["num_perm"])
        keys = band_keys(allsigs, bands, rows)
        per_doc = allsigs.nbytes / len(docs) + keys.nbytes / len(docs) + 8 + 8
        result["index_bytes_per_doc"] = round(per_doc, 1)
        result["index_gib_for_1m_docs"] = round(per_doc * 1e6 / 2**30, 2)
    elif kind == "python-loop":
        import re

        import xxhash

        texts = texts[:sample]
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        result["documents"], result["mb"] = len(texts), round(mb, 2)
        cpu_started = time.process_time()
        started = time.perf_counter()
        word = re.compile(r"\w+")
        for t in texts:
            [xxhash.xxh32_intdigest(w.encode()) for w in word.findall(t.lower())]
        seconds = time.perf_counter() - started
    elif kind == "datasketch":
        from datasketch import MinHash

        texts = texts[:sample]
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        result["documents"], result["mb"] = len(texts), round(mb, 2)
        cpu_started = time.process_time()
        started = time.perf_counter()
        for t in texts:
            ws = t.lower().split()
            m = MinHash(num_perm=defaults["num_perm"], seed=1)
            m.update_batch([" ".join(ws[i : i + 2]).encode() for i in range(len(ws) - 1)])
        seconds = time.perf_counter() - started
    elif kind in ("step", "state"):
        del texts
        docs.reverse()

        def drain() -> Iterator:
            while docs:  # hand documents over one by one, so the step alone holds them
                yield docs.pop()

        with tempfile.TemporaryDirectory() as tmp:
            options = {"state": os.path.join(tmp, "state.sqlite")} if kind == "state" else {}
            context = Context()
            base_rss = _rss_mb()
            cpu_started = time.process_time()
            started = time.perf_counter()
            n_out = n_dropped = n_removed = 0
            for d in Pipeline(steps=["dedup"], context=context, **options).run(drain()):
                n_out += 1
                n_dropped += d.dropped is not None
                n_removed += sum(1 for e in d.edits if e.step == "dedup" and e.kind == "remove")
            for publish in context.on_publish:
                publish()
            seconds = time.perf_counter() - started
            for close in context.on_close:
                close()
            result["dropped"] = n_dropped
            result["paragraphs_removed"] = n_removed
            result["comparisons"] = context.counters.get("dedup comparisons", 0)
            if kind == "state":
                size = os.path.getsize(options["state"])
                kept = n_out - result["dropped"]
                result["state_bytes"] = size
                result["state_bytes_per_doc"] = round(size / max(kept, 1), 1)
    else:
        raise SystemExit(f"unknown measure {kind}")
    cpu = time.process_time() - cpu_started
    result["seconds"] = round(seconds, 3)
    result["cpu_seconds"] = round(cpu, 3)
    result["mb_per_cpu_s"] = round(result["mb"] / cpu, 2)
    result["mb_per_s"] = round(result["mb"] / seconds, 2)
    result["docs_per_s"] = round(result["documents"] / seconds, 1)
    result["peak_rss_mb"] = round(_rss_mb(), 1)
    result["rss_over_loaded_corpus_mb"] = round(_rss_mb() - base_rss, 1)
    return result


def _streamed(kind: str, corpus: str) -> dict:
    """Read the corpus lazily (alone, or through the step): peak RSS is what the step holds."""
    from cleanup.io import read_inputs
    from cleanup.pipeline import Context, Pipeline

    mb = os.path.getsize(corpus) / 1e6
    cpu_started = time.process_time()
    started = time.perf_counter()
    docs = read_inputs([corpus])
    if kind == "step-stream":
        docs = Pipeline(steps=["dedup"], context=Context()).run(docs)
    n = dropped = 0
    for d in docs:
        n += 1
        dropped += d.dropped is not None
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {
        "measure": kind,
        "documents": n,
        "mb": round(mb, 2),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "mb_per_cpu_s": round(mb / cpu, 2),
        "mb_per_s": round(mb / seconds, 2),
        "docs_per_s": round(n / seconds, 1),
        "peak_rss_mb": round(_rss_mb(), 1),
        "dropped": dropped,
        "note": "MB = JSONL file size; times include reading and parsing JSON",
    }


def main() -> None:
    """Generate or take a corpus, run each measurement in a subprocess, print a table."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", help="a JSONL corpus (default: generate one)")
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sample", type=int, default=2000, help="documents for the slow baselines")
    ap.add_argument(
        "--measures",
        default="signatures,python-loop,datasketch,step,state,read,step-stream",
        help="comma list",
    )
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.corpus, args.sample)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus
        if corpus is None:
            subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "gen_corpus.py"), "--docs",
                 str(args.docs), "--seed", str(args.seed), "--out", tmp],
                check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            corpus = os.path.join(tmp, "corpus.jsonl")
        rows = []
        for kind in args.measures.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--one", kind, "--corpus", corpus,
                 "--sample", str(args.sample)],
                check=True,
                capture_output=True,
                text=True,
            )  # fmt: skip
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("| measure | docs | MB | seconds | MB/s | docs/s | peak RSS MB | other |")
    print("|---|---|---|---|---|---|---|---|")
    fixed = {"measure", "documents", "mb", "seconds", "mb_per_s", "docs_per_s", "peak_rss_mb"}
    for r in rows:
        other = ", ".join(f"{k}={v}" for k, v in r.items() if k not in fixed)
        print(
            f"| {r['measure']} | {r['documents']} | {r['mb']} | {r['seconds']} | {r['mb_per_s']} "
            f"| {r['docs_per_s']} | {r['peak_rss_mb']} | {other} |"
        )


if __name__ == "__main__":
    main()
