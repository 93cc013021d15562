"""Measure the fix-encoding step (with and without its fast path) and normalize, on one core.

    python scripts/bench_encoding.py [--mb 5] [--json]

Corpora, each built to about --mb MB from the seed fixtures:
  fixtures      the seed articles as they are (news text with curly quotes, no mojibake)
  news-mojibake the same with 1 paragraph in 20 turned into UTF-8-read-as-Windows-1252 mojibake
                and 1 in 50 given an HTML entity
  multilingual  correct French, German, Russian, Greek, Chinese and Spanish paragraphs
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252)

from cleanup.document import Document
from cleanup.steps.encoding import fix_encoding
from cleanup.steps.normalize import normalize

ROOT = Path(__file__).resolve().parent.parent
MULTILINGUAL = [
    "Le cœur de l’été — « très » belle journée à Paris. Ça coûte 100 € à l’hôtel, dit-elle.",
    "Über die Brücke „gehen“ wir: Straße, Größe, Ärger. Öl und Übung machen den Meister.",
    "Россия — крупнейшая страна «мира». Всё хорошо, съезд прошёл в Москве в №5 зале.",
    "Η Ελλάδα είναι χώρα της νοτιοανατολικής Ευρώπης. Ο Γιώργος «είπε» ότι θα έρθει.",
    "中文文本，没有问题。「引号」和日本語のテキストも大丈夫です。",
    "¿Qué pasó? ¡Olé! El niño comió piña en el año 2024 y pagó 5 €.",
]


def fixture_paragraphs() -> list[str]:
    """Return the paragraphs of the seed fixtures."""
    out: list[str] = []
    for path in sorted((ROOT / "fixtures").glob("*.txt")):
        out += Document.from_text(path.name, path.read_text(encoding="utf-8")).paragraphs
    return out


def corpus(paragraphs: list[str], mb: float, per_doc: int = 20) -> list[list[str]]:
    """Repeat `paragraphs` into documents of `per_doc` paragraphs until about `mb` MB."""
    docs: list[list[str]] = []
    size = 0
    i = 0
    while size < mb * 1e6:
        doc = [paragraphs[(i + k) % len(paragraphs)] for k in range(per_doc)]
        size += sum(len(p.encode()) for p in doc)
        docs.append(doc)
        i += per_doc
    return docs


def with_mojibake(paragraphs: list[str], seed: int = 1) -> list[str]:
    """Turn some paragraphs into mojibake and give some an HTML entity, as scraped text has."""
    rng = random.Random(seed)
    out = []
    for p in paragraphs:
        r = rng.random()
        if r < 0.05:
            p = p.encode("utf-8").decode("sloppy-windows-1252")
        elif r < 0.07:
            p = p.replace(" ", " &amp; ", 1)
        out.append(p)
    return out


def measure(
    step: Callable[[Iterable[Document]], Iterator[Document]], docs: list[list[str]]
) -> float:
    """Return the MB/s of `step` over fresh copies of `docs` (best of 3 runs, CPU time).

    CPU time of this one process, so other work on the machine does not skew the figure.
    """
    mb = sum(len(p.encode()) for d in docs for p in d) / 1e6
    best = float("inf")
    for _ in range(3):
        batch = [Document(id=str(i), paragraphs=list(d)) for i, d in enumerate(docs)]
        start = time.process_time()
        for _doc in step(batch):
            pass
        best = min(best, time.process_time() - start)
    return mb / best


def main() -> None:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0, help="size of each corpus in MB")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    seed = fixture_paragraphs()
    corpora = {
        "fixtures": corpus(seed, args.mb),
        "news-mojibake": corpus(with_mojibake(seed), args.mb),
        "multilingual": corpus(MULTILINGUAL, args.mb),
    }
    steps: dict[str, Callable[[Iterable[Document]], Iterator[Document]]] = {
        "fix-encoding (ftfy on every paragraph)": lambda d: fix_encoding(d, ftfy_fast_path=False),
        "fix-encoding (fast path)": fix_encoding,
        "normalize": normalize,
    }
    results = {
        name: {step_name: round(measure(step, docs), 1) for step_name, step in steps.items()}
        for name, docs in corpora.items()
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    header = ["corpus (MB/s, one core)", *steps]
    rows = [[name, *(f"{v:.1f}" for v in r.values())] for name, r in results.items()]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
