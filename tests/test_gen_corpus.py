"""Tests for scripts/gen_corpus.py: determinism, and that its truth describes its corpus."""

from __future__ import annotations

import collections
import html
import json
import re
from pathlib import Path
from typing import Any

import ftfy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from script_loader import load_script

from cleanup.paragraphing import split_paragraphs

gen = load_script("gen_corpus")


def _generate(out: Path, docs: int = 1500, seed: int = 7, *extra: str) -> Path:
    args = ["--docs", str(docs), "--seed", str(seed), "--out", str(out), "-q", *extra]
    assert gen.main(args) == 0
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    out = _generate(tmp_path_factory.mktemp("corpus"), 1500, 7, "--html-share", "0.2")
    records = {}
    with open(out / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            records[record["id"]] = record
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return records, truth


def _paragraphs(record: dict[str, Any]) -> list[str]:
    """Return a record's paragraphs: cleanup's rule for text, the block elements for HTML."""
    if record["content_type"] == "text/plain":
        return split_paragraphs(record["text"])[0]
    body = record["text"].split("<body>", 1)[1]
    blocks = re.findall(r"<(nav|p)\b[^>]*>(.*?)</\1>", body)
    return [
        html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("\xa0", " ") for _, inner in blocks
    ]


def test_same_seed_gives_same_bytes(tmp_path: Path) -> None:
    a = _generate(tmp_path / "a", 300, 3, "--html-share", "0.3")
    b = _generate(tmp_path / "b", 300, 3, "--html-share", "0.3")
    c = _generate(tmp_path / "c", 300, 4, "--html-share", "0.3")
    for name in ("corpus.jsonl", "truth.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
        assert (a / name).read_bytes() != (c / name).read_bytes()


def test_records_have_the_documented_fields(corpus: tuple[dict, dict]) -> None:
    records, truth = corpus
    assert len(records) == 1500
    for record in records.values():
        assert list(record) == [
            "id", "url", "site", "title", "date", "lang", "text", "content_type",
        ]  # fmt: skip
        assert record["site"] in truth["sites"]
        assert record["url"].startswith(f"https://{record['site']}/")
    sites = collections.Counter(r["site"] for r in records.values())
    assert len(sites) == 8


def test_plain_documents_have_3_to_20_body_paragraphs(corpus: tuple[dict, dict]) -> None:
    records, truth = corpus
    extras = ("boilerplate", "wire", "caption", "caption_repeat", "video_prompt")
    for doc_id, record in records.items():
        if record["content_type"] != "text/plain" or doc_id in truth["exact_copies"]:
            continue
        labels = truth["documents"].get(doc_id, {})
        n_extra = sum(len(labels.get(k, ())) for k in extras)
        assert 3 <= len(_paragraphs(record)) - n_extra <= 20


def test_labels_point_at_the_paragraphs_they_name(corpus: tuple[dict, dict]) -> None:
    records, truth = corpus
    seen: collections.Counter[str] = collections.Counter()
    prompts = {p for s in truth["sites"].values() for p in s["video_prompts"]}
    for doc_id, labels in truth["documents"].items():
        record = records[doc_id]
        site = truth["sites"][record["site"]]
        paragraphs = _paragraphs(record)
        for i in labels.get("boilerplate", ()):
            assert paragraphs[i] in site["boilerplate"].values()
        for i in labels.get("video_prompt", ()):
            assert paragraphs[i] in prompts  # a copy on another site keeps its original's
        for i, wire_id in labels.get("wire", {}).items():
            assert paragraphs[int(i)] == truth["wire"][wire_id]
        for first, repeat in zip(
            labels.get("caption", ()), labels.get("caption_repeat", ()), strict=True
        ):
            assert repeat == first + 1
            assert paragraphs[first].replace("’", "'") == paragraphs[repeat].replace("’", "'")
        for i in labels.get("mojibake", ()):
            assert ftfy.fix_encoding(paragraphs[i]) != paragraphs[i]
        seen.update(k for k in labels)
    for kind in ("boilerplate", "wire", "caption", "caption_repeat", "video_prompt", "mojibake"):
        assert seen[kind] > 10, kind


def test_unlabelled_paragraphs_are_not_boilerplate(corpus: tuple[dict, dict]) -> None:
    records, truth = corpus
    lines = {line for s in truth["sites"].values() for line in s["boilerplate"].values()}
    for doc_id, record in records.items():
        labelled = set(truth["documents"].get(doc_id, {}).get("boilerplate", ()))
        for i, p in enumerate(_paragraphs(record)):
            assert (p in lines) == (i in labelled)


def test_wire_paragraphs_are_shared_by_many_documents(corpus: tuple[dict, dict]) -> None:
    _, truth = corpus
    uses = collections.Counter(
        w for labels in truth["documents"].values() for w in labels.get("wire", {}).values()
    )
    assert uses.most_common(1)[0][1] >= 20


def test_near_copies_edit_5_to_15_percent_of_an_earlier_original(
    corpus: tuple[dict, dict],
) -> None:
    records, truth = corpus
    near = truth["near_copies"]
    assert 100 <= len(near) <= 200
    rates = []
    for copy_id, info in near.items():
        original = info["of"]
        assert original < copy_id
        assert original not in near and original not in truth["exact_copies"]
        rates.append(info["edit_rate"])
        a = set(records[copy_id]["text"].split())
        b = set(records[original]["text"].split())
        assert len(a & b) / len(a | b) > 0.4
    assert 0.05 <= sum(rates) / len(rates) <= 0.15
    assert min(rates) > 0.0


def test_exact_copies_repeat_an_original_text(corpus: tuple[dict, dict]) -> None:
    records, truth = corpus
    assert truth["exact_copies"]
    for copy_id, original in truth["exact_copies"].items():
        assert records[copy_id]["text"] == records[original]["text"]
        assert records[copy_id]["url"] != records[original]["url"]


def test_html_share_is_respected(corpus: tuple[dict, dict]) -> None:
    records, _ = corpus
    share = sum(r["content_type"] == "text/html" for r in records.values()) / len(records)
    assert 0.15 <= share <= 0.25


def test_vocabulary_is_zipf_like(corpus: tuple[dict, dict]) -> None:
    records, _ = corpus
    counts = collections.Counter(
        w.lower() for r in list(records.values())[:300] for w in r["text"].split()
    )
    ranked = [c for _, c in counts.most_common(1000)]
    assert counts.most_common(1)[0][0] == "the"
    assert ranked[0] > 5 * ranked[99] > 5 * ranked[999]


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_mojibake_is_reversible_cp1252_of_the_utf8_bytes(text: str) -> None:
    damaged = gen.mojibake(text)
    to_byte = {ord(ch): b for b, ch in gen._CP1252.items()}
    assert bytes(to_byte[ord(c)] for c in damaged).decode("utf-8") == text
    assert (damaged == text) == text.isascii()


def test_mojibake_of_news_text_round_trips_through_ftfy() -> None:
    text = "“It’s over — finally,” said Zoë."
    assert gen.mojibake(text) == "â€œItâ€™s over â€” finally,â€\x9d said ZoÃ«."
    assert ftfy.fix_encoding(gen.mojibake(text)) == text


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        gen.main(["--docs", "10", "--out", str(tmp_path), "--html-share", "1.5"])


def test_hard_case_flags_at_zero_keep_the_plain_corpus(tmp_path: Path) -> None:
    zeros = ["--template-share", "0", "--partial-share", "0", "--quote-share", "0"]
    a = _generate(tmp_path / "a", 400, 3)
    b = _generate(tmp_path / "b", 400, 3, *zeros, "--cjk-share", "0")
    for name in ("corpus.jsonl", "truth.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert "pairs" not in json.loads((a / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    out = _generate(tmp_path_factory.mktemp("hard"), 2500, 11, "--hard-cases")
    with open(out / "corpus.jsonl", encoding="utf-8") as fh:
        records = {r["id"]: r for r in map(json.loads, fh)}
    return records, json.loads((out / "truth.json").read_text(encoding="utf-8"))


def _body(record: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Return a plain record's paragraphs without its labelled boilerplate or mojibake."""
    skip = set(truth["documents"].get(record["id"], {}).get("boilerplate", []))
    return [ftfy.fix_text(p) for i, p in enumerate(_paragraphs(record)) if i not in skip]


def test_hard_cases_record_the_kind_of_every_planted_pair(hard: tuple[dict, dict]) -> None:
    records, truth = hard
    kinds = collections.Counter(kind for _, _, kind in truth["pairs"])
    assert set(kinds) == {"near", "exact", "template", "partial", "quote", "cjk"}
    for a, b, _ in truth["pairs"]:
        assert a in records and b in records and a != b
    assert kinds["near"] == len(truth["near_copies"])


def test_templated_reports_stay_below_the_threshold(hard: tuple[dict, dict]) -> None:
    cases = load_script("gen_cases")
    records, truth = hard
    pairs = [(a, b) for a, b, kind in truth["pairs"] if kind == "template"]
    assert len(pairs) > 100
    sims = [
        cases.jaccard(
            cases.shingle_set(_body(records[a], truth), 2),
            cases.shingle_set(_body(records[b], truth), 2),
        )
        for a, b in pairs
    ]
    assert max(sims) < 0.4
    assert sum(s > 0.2 for s in sims) > len(sims) / 4  # hard: same template, not unrelated


def test_partial_copies_are_excerpts_and_quotes_hold_a_source_paragraph(
    hard: tuple[dict, dict],
) -> None:
    records, truth = hard
    for copy, info in truth["partial_copies"].items():
        assert 0.3 <= info["share"] <= 1.0 and info["edit_rate"] <= 0.08
        source_words = set(" ".join(_body(records[info["of"]], truth)).split())
        copy_words = " ".join(_body(records[copy], truth)).split()
        assert sum(w in source_words for w in copy_words) > 0.8 * len(copy_words)
    for doc, info in truth["quotes"].items():
        shared = set(_body(records[doc], truth)) & set(_body(records[info["of"]], truth))
        assert shared and len(_body(records[doc], truth)) >= 6


def test_cjk_documents_have_no_spaces_and_copies_edit_an_original(
    hard: tuple[dict, dict],
) -> None:
    records, truth = hard
    langs = collections.Counter(info["lang"] for info in truth["cjk"].values())
    assert set(langs) == {"zh", "ja"}
    for doc, info in truth["cjk"].items():
        assert records[doc]["lang"] == info["lang"]
        body = _body(records[doc], truth)
        assert all(" " not in p for p in body if not p.isascii())
        if info["of"] is not None:
            assert truth["cjk"][info["of"]]["of"] is None
            assert 0.03 <= info["edit_rate"] <= 0.2
