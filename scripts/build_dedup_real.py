#!/usr/bin/env python3
"""Build benchmarks/dedup-real/: real Wikipedia text with copies made by a documented process.

No labelled public near-duplicate set could be reached from here (the NEWS-COPY set's data
sits behind a file-sharing link; the Clough & Stevenson corpus and MRPC are held out), so
the documents are real text, WikiText-2's test split (Wikipedia Good and Featured articles,
CC BY-SA 3.0; see NOTICE), and the copies are made from them by this script, seeded:

    python scripts/build_dedup_real.py [--out benchmarks/dedup-real] [--seed 14]

Originals: each article is cut at its second-level headings ("= = Career = =") into section
documents of at least MIN_WORDS words (the title joins the first section); WikiText's
tokenization is undone (" @-@ " -> "-", " , " -> ", " ...); "<unk>" stays (WikiText's
stand-in for rare words). Then, for the originals in a seeded random order:

- near (30%): a copy with a share of its words substituted (by a word of the corpus),
  inserted or deleted, at one of the controlled rates 0.03, 0.08, 0.15, and in half of them
  one sentence dropped.                                               positive
- partial (15%): a 40-70% excerpt (consecutive paragraphs, else sentences) with 2% of its
  words edited.                                                       positive
- rewrite (10%): the same edits at 0.35-0.50 of the words: a heavy rewrite whose word-pair
  Jaccard is far below 0.4.                                           negative
- quote (10%): an original of another article gets one paragraph of this one inserted
  (a paragraph of at most a third of this section and a quarter of the other; before or
  after the other's own copies are made).                             negative (never drop)
- related: consecutive sections of one article (same names and topic). negative

corpus.jsonl holds {"id", "title", "text"} records in a seeded order (copies are not next to
their originals); truth.json holds "pairs": [[A, B, KIND], ...] (A made from B, or for
"related" the later section) in the format scripts/eval_dedup.py --planted reads.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "benchmarks" / "dedup-real" / "wikitext-2-test.txt"
MIN_WORDS = 80
RATES = (0.03, 0.08, 0.15)
_DETOK = ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."), (" 's ", "'s "), (" n't", "n't"),
          ("( ", "("), (" )", ")"), (" ,", ","), (" .", "."), (" ;", ";"), (" :", ":"))  # fmt: skip


def detokenize(line: str) -> str:
    """Undo WikiText's tokenization of one paragraph (spaces around punctuation)."""
    text = line.strip()
    for a, b in _DETOK:
        text = text.replace(a, b)
    return re.sub(r'" (.*?) "', r'"\1"', text)


def sections(source: str) -> list[tuple[str, str, list[str]]]:
    """Return (article title, section title, paragraphs) for each second-level section."""
    out: list[tuple[str, str, list[str]]] = []
    article, heading, paras = "", "", []
    for raw in source.split("\n"):
        line = raw.strip()
        top = re.fullmatch(r"= ([^=].*?) =", line)
        second = re.fullmatch(r"= = ([^=].*?) = =", line)
        if top or second:
            if paras:
                out.append((article, heading, paras))
            paras = []
            if top:
                article, heading = detokenize(top.group(1)), detokenize(top.group(1))
            else:
                heading = detokenize(second.group(1))  # type: ignore[union-attr]
            continue
        if line and not line.startswith("="):
            paras.append(detokenize(line))
    if paras:
        out.append((article, heading, paras))
    return [s for s in out if sum(len(p.split()) for p in s[2]) >= MIN_WORDS]


def edit(rng: random.Random, paras: list[str], rate: float, vocab: list[str]) -> list[str]:
    """Substitute, insert or delete `rate` of the words of every paragraph."""
    out = []
    for p in paras:
        words: list[str] = []
        for w in p.split(" "):
            if rng.random() >= rate:
                words.append(w)
                continue
            kind = rng.random()
            if kind < 1 / 3:
                words.append(rng.choice(vocab))
            elif kind < 2 / 3:
                words.extend((w, rng.choice(vocab)))
        out.append(" ".join(words) or p.split(" ")[0])
    return out


def drop_sentence(rng: random.Random, paras: list[str]) -> list[str]:
    """Return the paragraphs with one sentence of a multi-sentence paragraph left out."""
    multi = [i for i, p in enumerate(paras) if p.count(". ") >= 1]
    if not multi:
        return paras
    i = rng.choice(multi)
    sentences = paras[i].split(". ")
    del sentences[rng.randrange(len(sentences))]
    return [*paras[:i], ". ".join(sentences), *paras[i + 1 :]]


def excerpt(rng: random.Random, paras: list[str]) -> list[str]:
    """Return 40-70% of the words as consecutive paragraphs (or sentences of one paragraph)."""
    share = rng.uniform(0.4, 0.7)
    units = paras if len(paras) >= 3 else [s + "." for p in paras for s in p.split(". ")]
    sizes = [len(u.split()) for u in units]
    want = share * sum(sizes)
    start = rng.randrange(len(units))
    while start > 0 and sum(sizes[start:]) < want:
        start -= 1
    end, got = start, 0
    while end < len(units) and got < want:
        got += sizes[end]
        end += 1
    return units[start:end] if len(paras) >= 3 else [" ".join(units[start:end])]


def _quotable(para: str, source: list[str], host: list[str]) -> bool:
    """Tell whether a paragraph is a quote, not most of a text: at most a third of its source
    section's words and a quarter of the host's."""
    n = len(para.split())
    return 3 * n <= sum(len(p.split()) for p in source) and 4 * n <= sum(
        len(p.split()) for p in host
    )


def build(seed: int) -> tuple[list[dict], list[list[str]]]:
    """Return the documents and the planted pairs."""
    rng = random.Random(seed)
    secs = sections(SOURCE.read_text(encoding="utf-8"))
    vocab = sorted({w for _, _, ps in secs for p in ps for w in p.split(" ") if w.isalpha()})
    docs = [
        {"id": f"wiki-{i:04d}", "title": f"{art}: {head}", "paras": paras, "article": art}
        for i, (art, head, paras) in enumerate(secs)
    ]
    pairs: list[list[str]] = []
    for a, b in itertools.pairwise(docs):
        if a["article"] == b["article"]:
            pairs.append([b["id"], a["id"], "related"])
    order = list(range(len(docs)))
    rng.shuffle(order)
    cut = [int(len(order) * x) for x in (0.30, 0.45, 0.55, 0.65)]
    made: list[dict] = []
    for k, i in enumerate(order):
        src = docs[i]
        copy_id = f"copy-{k:04d}"
        if k < cut[0]:
            paras = edit(rng, src["paras"], rng.choice(RATES), vocab)
            paras = drop_sentence(rng, paras) if rng.random() < 0.5 else paras
            kind = "near"
        elif k < cut[1]:
            paras, kind = edit(rng, excerpt(rng, src["paras"]), 0.02, vocab), "partial"
        elif k < cut[2]:
            paras, kind = edit(rng, src["paras"], rng.uniform(0.35, 0.5), vocab), "rewrite"
        elif k < cut[3]:
            others = [d for d in docs if d["article"] != src["article"]]
            host = rng.choice(others)
            quotable = [p for p in src["paras"] if _quotable(p, src["paras"], host["paras"])]
            if quotable:
                at = rng.randrange(1, len(host["paras"]) + 1)
                host["paras"] = [*host["paras"][:at], rng.choice(quotable), *host["paras"][at:]]
                pairs.append([host["id"], src["id"], "quote"])
            continue
        else:
            continue
        made.append({"id": copy_id, "title": src["title"], "paras": paras})
        pairs.append([copy_id, src["id"], kind])
    everything = docs + made
    rng.shuffle(everything)
    records = [{"id": d["id"], "title": d["title"], "text": "\n\n".join(d["paras"])}
               for d in everything]  # fmt: skip
    return records, pairs


def main(argv: list[str] | None = None) -> int:
    """Write corpus.jsonl and truth.json into --out."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(SOURCE.parent))
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args(argv)
    records, pairs = build(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    truth = {"format": "cleanup-dedup-real/1", "seed": args.seed, "pairs": pairs}
    (out / "truth.json").write_text(json.dumps(truth, indent=0) + "\n", encoding="utf-8")
    print(f"{len(records)} documents, {len(pairs)} planted pairs in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
