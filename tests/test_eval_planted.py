"""Tests for scripts/eval_planted.py (eval_dedup.py --planted): what each figure counts."""

from __future__ import annotations

import json
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

from script_loader import SCRIPTS, load_script

ev = load_script("eval_planted")
ARGS = Namespace(threshold=0.4, shingle=2, containment=0.8)
WORDS = [f"w{i}" for i in range(400)]


def _text(words: list[str]) -> str:
    return "\n\n".join(" ".join(words[i : i + 20]) for i in range(0, len(words), 20))


def test_figures_count_found_missed_merged_and_dropped_pairs() -> None:
    texts = {
        "orig": _text(WORDS[:100]),
        "copy": _text([*WORDS[:95], "x1", "x2", "x3", "x4", "x5"]),  # Jaccard ~0.9
        "missed": _text(WORDS[:90] + [f"m{i}" for i in range(10)]),  # Jaccard ~0.8, not found
        "tpl_a": _text(WORDS[200:260]),
        "tpl_b": _text(WORDS[200:230] + [f"t{i}" for i in range(30)]),  # ~0.3, merged
        "quoter": _text([f"q{i}" for i in range(80)] + WORDS[:20]),
        "long": _text(WORDS[300:400]),
        "part": _text(WORDS[300:341]),  # contained in long; Jaccard 40/99
    }
    truth = {
        "pairs": [
            ["copy", "orig", "near"],
            ["missed", "orig", "near"],
            ["tpl_b", "tpl_a", "template"],
            ["quoter", "orig", "quote"],
            ["part", "long", "partial"],
        ]
    }
    dup_of = {"copy": "orig", "tpl_b": "tpl_a", "part": "long", "quoter": "copy"}
    r = ev.score(truth, texts, dup_of, ARGS)
    assert r["pairs_by_kind"]["near"] == {"pairs": 2, "found": 1}
    assert r["recall_at_threshold"] == 0.6667  # copy and part found, missed not
    assert r["templated_pairs_merged"] == 1
    assert r["partial_copies_found"] == 1.0
    assert r["quoting_originals_dropped"] == 1  # it went into its source's group
    assert r["dropped_below_threshold"] == 2  # tpl_b (~0.3) and quoter (~0.1)
    assert r["dropped_below_both"] == 2  # containment 0.49 and 0.19
    total = sum(b["pairs"] for b in r["s_curve_jaccard"])
    assert total == len(truth["pairs"])
    # Predicted groups {orig, copy, quoter}, {tpl_a, tpl_b}, {long, part}: 5 pairs, of
    # which orig-copy and long-part are true; true pairs: orig-copy, orig-missed,
    # copy-missed, long-part.
    assert r["scores"]["precision"] == 0.4 and r["scores"]["recall"] == 0.5


def test_planted_mode_runs_dedup_mark_on_a_generated_corpus(tmp_path: Path) -> None:
    cmd = [sys.executable, str(SCRIPTS / "gen_corpus.py"), "--docs", "600", "--seed", "2",
           "--hard-cases", "--out", str(tmp_path), "-q"]  # fmt: skip
    subprocess.run(cmd, check=True)
    cmd = [sys.executable, str(SCRIPTS / "eval_dedup.py"), "--planted", "--corpus",
           str(tmp_path), "--json"]  # fmt: skip
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    assert out["documents"] == 600
    assert sum(v["pairs"] for v in out["pairs_by_kind"].values()) == len(truth["pairs"])
    assert out["pairs_by_kind"]["exact"]["found"] == out["pairs_by_kind"]["exact"]["pairs"]
    assert out["quoting_originals_dropped"] == 0


def test_the_real_text_set_rebuilds_byte_for_byte(tmp_path: Path) -> None:
    build = load_script("build_dedup_real")
    assert build.main(["--out", str(tmp_path)]) == 0
    folder = SCRIPTS.parent / "benchmarks" / "dedup-real"
    for name in ("corpus.jsonl", "truth.json"):
        assert (tmp_path / name).read_bytes() == (folder / name).read_bytes()
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    kinds = {kind for _, _, kind in truth["pairs"]}
    assert kinds == {"near", "partial", "rewrite", "quote", "related"}
    assert (folder / "NOTICE").read_text(encoding="utf-8").count("CC BY-SA 3.0") >= 1
