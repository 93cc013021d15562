"""Hard near-duplicate cases for scripts/gen_corpus.py: templated reports, partial copies,
originals quoting a paragraph of another document, and CJK (Chinese/Japanese) near-copies.

Kept apart from gen_corpus.py so that file stays readable; gen_corpus calls `HardCases`
only when one of its shares is above 0, so existing invocations produce the same bytes.

- Templated reports: families of reports from one template (the same fixed words, with
  numbers, names and figures in slots that differ from report to report), like daily market,
  sports or weather briefs. Every pair of one family has an exact Jaccard, on the shingles
  the pipeline uses (cleanup.dedup.shingles at --shingle-size), below --threshold: a report
  is redrawn until that holds, and `check_templates` asserts it over every pair at the end.
- Partial copies: a 30-70% excerpt (consecutive paragraphs) of an earlier document, with
  1-3% of its words edited.
- Quoting originals: a fresh document that quotes one ordinary paragraph of an earlier one.
- CJK documents: text without spaces from a generated vocabulary of 1-3 character words over
  a seeded pool of CJK ideographs (and, for Japanese, hiragana particles and katakana words);
  no text from any book or site. Half are originals, half near-copies of an earlier CJK
  original with 5-15% of their characters substituted, inserted or deleted.
"""

from __future__ import annotations

import itertools
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.append(str(Path(__file__).resolve().parent.parent))

from cleanup.dedup.shingles import shingle_hashes, token_hashes

SLOT_KINDS = ("num", "name", "pct", "word")
HIRAGANA = "のにはをがとでもへやからまでよりですますしたないれるられ"
KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロン"
_REDRAWS = 50


def shingle_set(paragraphs: list[str], k: int) -> set[int]:
    """Return a document's shingle hashes as the pipeline makes them (paragraph tokens joined)."""
    tokens, _ = token_hashes(paragraphs)
    doc_offsets = np.array([0, len(tokens)], dtype=np.int64)
    hashes, _ = shingle_hashes(tokens, doc_offsets, k)
    return set(hashes.tolist())


def jaccard(a: set[int], b: set[int]) -> float:
    """Return the Jaccard similarity of two shingle sets (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@dataclass
class Family:
    """One report template: paragraphs of fixed words and slots, and the reports made from it."""

    name: str
    paragraphs: list[list[str]]
    members: list[tuple[str, set[int]]] = field(default_factory=list)


@dataclass
class CjkOriginal:
    """A CJK original a later near-copy edits."""

    id: str
    lang: str
    paragraphs: list[str]


class HardCases:
    """Make the hard cases gen_corpus plants, and record their truth."""

    def __init__(self, args: Any, d: Any, w: Any, edit_words: Callable[..., Any]) -> None:
        self.shares = (args.template_share, args.partial_share, args.quote_share, args.cjk_share)
        self.threshold = args.threshold
        self.k = args.shingle_size
        self.d = d
        self.w = w
        self.edit_words = edit_words
        n_templates = args.docs * args.template_share
        self.family_count = max(3, round(n_templates / 25))
        self.families: list[Family] = []
        self.cjk_pool: deque[CjkOriginal] = deque(maxlen=2000)
        self.kanji, self.cjk_words, self.ja_words = self._cjk_vocabulary()
        self.truth: dict[str, Any] = {
            "templates": {},
            "partial_copies": {},
            "quotes": {},
            "cjk": {},
            "pairs": [],
        }

    @property
    def active(self) -> bool:
        """Tell whether any hard case is planted at all."""
        return any(s > 0 for s in self.shares)

    def pick(self, r: float) -> str | None:
        """Return which hard case a document is, from the share of [0, 1) left after copies."""
        kinds = ("template", "partial", "quote", "cjk")
        acc = 0.0
        for kind, share in zip(kinds, self.shares, strict=True):
            acc += share
            if r < acc:
                return kind
        return None

    # Templated reports -------------------------------------------------------------------
    def _template(self, site: Any) -> list[list[str]]:
        """Return a new template: 4-8 paragraphs of words where about 22-37% are slots."""
        d, w = self.d, self.w
        density = 0.22 + 0.15 * d.random()
        paragraphs = []
        for _ in range(d.integer(4, 8)):
            words = " ".join(w.sentence(site) for _ in range(d.integer(1, 3))).split(" ")
            paragraphs.append([f"{{{d.choice(SLOT_KINDS)}}}" if d.random() < density else x
                               for x in words])  # fmt: skip
        return paragraphs

    def _fill(self, template: list[list[str]]) -> list[str]:
        """Return one report: every slot of the template filled with a fresh value."""
        d, w = self.d, self.w
        values = {
            "{num}": lambda: f"{d.integer(10, 99999):,}",
            "{name}": w.name,
            "{pct}": lambda: f"{d.integer(0, 9)}.{d.integer(0, 99):02d} per cent",
            "{word}": lambda: d.words(1)[0],
        }
        return [" ".join(values[x]() if x in values else x for x in p) for p in template]

    def template_report(self, doc_id: str, site: Any) -> list[str]:
        """Return the body of a templated report whose Jaccard to its family is below threshold."""
        d = self.d
        if len(self.families) < self.family_count:
            fam = Family(f"t{len(self.families):04d}", self._template(site))
            self.families.append(fam)
        else:
            fam = self.families[d.integer(0, len(self.families) - 1)]
        for _ in range(_REDRAWS):
            body = self._fill(fam.paragraphs)
            sh = shingle_set(body, self.k)
            if all(jaccard(sh, other) < self.threshold for _, other in fam.members):
                break
        else:  # the template is too rigid for one more report: start a new one
            fam = Family(f"t{len(self.families):04d}", self._template(site))
            self.families.append(fam)
            body = self._fill(fam.paragraphs)
            sh = shingle_set(body, self.k)
        fam.members.append((doc_id, sh))
        self.truth["templates"][doc_id] = fam.name
        return body

    def check_templates(self) -> float:
        """Assert every pair of one family is below the threshold; return the highest Jaccard."""
        highest = 0.0
        for fam in self.families:
            for (a, sa), (b, sb) in itertools.combinations(fam.members, 2):
                j = jaccard(sa, sb)
                assert j < self.threshold, f"templated reports {a} and {b}: Jaccard {j:.3f}"
                highest = max(highest, j)
                self.truth["pairs"].append([a, b, "template"])
        return highest

    # Partial copies and quotes ------------------------------------------------------------
    def excerpt(self, doc_id: str, source_id: str, paragraphs: list[str]) -> list[str]:
        """Return a 30-70% excerpt (consecutive paragraphs) of `paragraphs`, lightly edited."""
        d = self.d
        share = 0.3 + 0.4 * d.random()
        sizes = [len(p.split(" ")) for p in paragraphs]
        total = sum(sizes)
        start = d.integer(0, len(paragraphs) - 1)
        while start > 0 and sum(sizes[start:]) < share * total:
            start -= 1
        end, got = start, 0
        while end < len(paragraphs) and got < share * total:
            got += sizes[end]
            end += 1
        rate = 0.01 + 0.02 * d.random()
        out, edits = [], 0
        for p in paragraphs[start:end]:
            text, e, _ = self.edit_words(d, p, rate)
            out.append(text)
            edits += e
        self.truth["partial_copies"][doc_id] = {
            "of": source_id,
            "share": round(got / max(total, 1), 4),
            "edit_rate": round(edits / max(got, 1), 4),
        }
        self.truth["pairs"].append([doc_id, source_id, "partial"])
        return out

    def quote_position(self, doc_id: str, source_id: str, n_paragraphs: int) -> int:
        """Return where a quoting original puts the quoted paragraph, and record the pair."""
        pos = self.d.integer(1, n_paragraphs)
        self.truth["quotes"][doc_id] = {"of": source_id}
        self.truth["pairs"].append([doc_id, source_id, "quote"])
        return pos

    # CJK ----------------------------------------------------------------------------------
    def _cjk_vocabulary(self) -> tuple[list[str], list[str], list[str]]:
        """Return the character pool and generated Chinese and Japanese word lists."""
        rng = np.random.default_rng(int(self.d.random() * 2**32))
        kanji = [chr(c) for c in rng.choice(np.arange(0x4E00, 0x9FA6), 2500, replace=False)]
        sizes = rng.choice([1, 2, 2, 2, 3], 8000)
        picks = rng.integers(0, len(kanji), (8000, 3))
        zh = ["".join(kanji[j] for j in row[:n]) for row, n in zip(picks, sizes, strict=True)]
        kata = [
            "".join(KATAKANA[j] for j in rng.integers(0, len(KATAKANA), rng.integers(2, 5)))
            for _ in range(800)
        ]
        ja = zh[:4000] + kata
        return kanji, zh, ja

    def _cjk_sentence(self, lang: str) -> str:
        """Return one sentence of 10-40 words with no spaces, ending in 。."""
        d = self.d
        vocab = self.cjk_words if lang == "zh" else self.ja_words
        n = d.integer(10, 40)
        # Zipf-like choice: squaring a uniform number favours the head of the list.
        words = [vocab[int(d.random() ** 2 * len(vocab))] for _ in range(n)]
        if lang == "ja":  # particles between the content words, as Japanese prose has them
            words = [x if d.random() < 0.7 else x + d.choice(HIRAGANA) for x in words]
        if n > 12:
            words[d.integer(3, n - 3)] += "，" if lang == "zh" else "、"
        return "".join(words) + "。"

    def _cjk_edit(self, text: str, rate: float) -> tuple[str, int]:
        """Substitute, insert or delete about `rate` of the characters; return text and edits."""
        d = self.d
        out: list[str] = []
        edits = 0
        for ch in text:
            if ch in "。，、" or d.random() >= rate:
                out.append(ch)
                continue
            edits += 1
            kind = d.random()
            if kind < 1 / 3:
                out.append(d.choice(self.kanji))
            elif kind < 2 / 3:
                out.extend((ch, d.choice(self.kanji)))
        return "".join(out), edits

    def cjk_document(self, doc_id: str) -> tuple[list[str], str]:
        """Return a CJK body and its language: a new original, or a near-copy of an earlier one."""
        d = self.d
        if self.cjk_pool and d.random() < 0.5:
            src = d.choice(self.cjk_pool)
            rate = 0.05 + 0.10 * d.random()
            out, edits = [], 0
            for p in src.paragraphs:
                text, e = self._cjk_edit(p, rate)
                out.append(text)
                edits += e
            chars = sum(len(p) for p in src.paragraphs)
            self.truth["cjk"][doc_id] = {
                "of": src.id,
                "lang": src.lang,
                "edit_rate": round(edits / max(chars, 1), 4),
            }
            self.truth["pairs"].append([doc_id, src.id, "cjk"])
            return out, src.lang
        lang = "zh" if d.random() < 0.5 else "ja"
        body = [
            "".join(self._cjk_sentence(lang) for _ in range(d.integer(1, 4)))
            for _ in range(d.integer(3, 12))
        ]
        self.cjk_pool.append(CjkOriginal(doc_id, lang, body))
        self.truth["cjk"][doc_id] = {"of": None, "lang": lang}
        return body, lang
