"""Make document pairs of a controlled exact Jaccard, for the dedup tests (issue 14).

The texts are random tokens (w123...), so the only shingles two texts share are the ones
planted; scripts/lsh_recall.py makes its pairs the same way (planted_pair).
"""

from __future__ import annotations

import numpy as np
from script_loader import load_script

lsh_recall = load_script("lsh_recall")


def jaccard(a: str, b: str, size: int = 2) -> float:
    """Return the exact Jaccard of two texts' shingle sets (`size` words per shingle)."""
    sa, sb = lsh_recall.shingle_sets([a, b], size)
    return float(lsh_recall.exact_jaccard(sa, sb))


def containment(a: str, b: str) -> float:
    """Return the share of text a's word-pair shingles found in text b."""
    sa, sb = lsh_recall.shingle_sets([a, b])
    return len(np.intersect1d(sa, sb)) / max(len(sa), 1)


def pairs_near(target: float, count: int, seed: int, width: float = 0.05) -> list[tuple[str, str]]:
    """Return `count` pairs whose exact Jaccard lies in [target, target + width)."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, str]] = []
    # Replacing a share e of the words keeps about (1 - e)^2 of the word pairs.
    edit = 1 - np.sqrt(2 * (target + width / 2) / (1 + target + width / 2))
    while len(out) < count:
        a, b = lsh_recall.planted_pair(rng, int(rng.integers(100, 500)), float(edit))
        if target <= jaccard(a, b) < target + width:
            out.append((a, b))
    return out


def words(rng: np.random.Generator, n: int, base: int = 0) -> list[str]:
    """Return n random distinct-looking tokens (from a vocabulary offset by `base`)."""
    return [f"w{x}" for x in rng.integers(base, base + 1_000_000, n)]


def blocks(seed: int, count: int, size: int = 60) -> list[str]:
    """Return `count` blocks of `size` random tokens each (no two blocks share a shingle)."""
    rng = np.random.default_rng(seed)
    return [" ".join(words(rng, size, base=k * 10_000_000)) for k in range(count)]


def run_docs(texts: list[str], dates: list[str] | None = None, **options: object) -> list:
    """Run the dedup step alone over documents d0, d1, ... with these texts; return them.

    `dates` go into each document's `published` field.
    """
    from cleanup.document import Document
    from cleanup.pipeline import Context, Pipeline

    docs = [
        Document(id=f"d{i}", paragraphs=[t], fields={"published": dates[i]} if dates else {})
        for i, t in enumerate(texts)
    ]
    return list(Pipeline(steps=["dedup"], context=Context(), **options).run(docs))


def dropped_of(out: list) -> dict[str, tuple[str, float]]:
    """Return {dropped id: (duplicate_of, similarity)} for near-duplicate drops."""
    found = {}
    for d in out:
        if d.dropped is not None:
            detail = d.dropped.detail
            found[d.id] = (detail["duplicate_of"], detail["similarity"])
    return found
