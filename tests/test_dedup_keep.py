"""Which copy stays (issue 14, item 4): --keep earliest|first|longest, --date-field, --state."""

from __future__ import annotations

import json
import math
from pathlib import Path

from dedup_pairs import blocks, dropped_of, jaccard
from helpers import invoke_run

from cleanup.dedup.keep import parse_date
from cleanup.document import Document
from cleanup.pipeline import Context, Pipeline


def _original_and_rewrite() -> tuple[str, str]:
    """Return an original report and a longer rewrite of it (J >= 0.4)."""
    p = blocks(21, 4, 80)
    original, rewrite = " ".join(p[:2]), " ".join([p[2], *p[:2]])
    assert jaccard(original, rewrite) >= 0.5
    return original, rewrite


def _run(docs: list[Document], **options: object) -> dict[str, tuple[str, float]]:
    return dropped_of(list(Pipeline(steps=["dedup"], context=Context(), **options).run(docs)))


def _news(dated: bool = True) -> list[Document]:
    """Return the rewrite first in input order, the original (published a day earlier) after."""
    original, rewrite = _original_and_rewrite()
    return [
        Document(
            id="rewrite", paragraphs=[rewrite], fields={"date": "2024-05-02"} if dated else {}
        ),
        Document(
            id="original", paragraphs=[original], fields={"date": "2024-05-01"} if dated else {}
        ),
    ]


def test_parse_date_reads_iso_dates_and_numbers() -> None:
    assert parse_date("2024-05-01T00:00:00Z") == parse_date("2024-05-01") == 1714521600.0
    assert parse_date("2024-05-01T02:00:00+02:00") == 1714521600.0
    assert parse_date(1714521600) == 1714521600.0
    for bad in ("yesterday", None, True, {"a": 1}, float("inf")):
        assert math.isnan(parse_date(bad))


def test_the_earliest_copy_stays_by_default_not_the_longer_rewrite() -> None:
    assert _run(_news(), date_field="date").keys() == {"rewrite"}
    assert _run(_news(), date_field="date")["rewrite"][0] == "original"


def test_keep_longest_and_first() -> None:
    assert _run(_news(), keep="longest").keys() == {"original"}
    assert _run(_news(), keep="first", date_field="date").keys() == {"original"}


def test_the_page_date_from_strip_html_is_used_without_a_date_field() -> None:
    docs = _news(dated=False)
    docs[0].meta["date"] = "2024-05-02T10:00:00Z"
    docs[1].meta["date"] = "2024-05-01T10:00:00Z"
    assert _run(docs).keys() == {"rewrite"}


def test_undated_documents_fall_back_to_input_order() -> None:
    assert _run(_news(dated=False)).keys() == {"original"}
    docs = _news(dated=False)
    docs[1].fields["date"] = "2024-05-01"  # dated documents come before undated ones
    assert _run(docs, date_field="date").keys() == {"rewrite"}


def test_a_document_published_before_always_stays(tmp_path: Path) -> None:
    state = str(tmp_path / "state.sqlite")
    context = Context()
    first = list(Pipeline(steps=["dedup"], context=context, state=state).run(_news()[:1]))
    for publish in context.on_publish:
        publish()
    for close in context.on_close:
        close()
    assert dropped_of(first) == {}
    later = _run(_news()[1:], state=state, date_field="date")  # earlier date, published later
    assert later.keys() == {"original"} and later["original"][0] == "rewrite"


def test_keep_on_the_command_line(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": d.id, "text": d.paragraphs[0], "date": d.fields["date"]}) + "\n"
            for d in _news()
        )
    )
    out = tmp_path / "out.jsonl"
    result = invoke_run(src, "-o", out, "--date-field", "date")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["original"]
    result = invoke_run(src, "-o", tmp_path / "o2.jsonl", "--keep", "longest")
    assert result.exit_code == 0, result.output
    kept = [json.loads(line)["id"] for line in (tmp_path / "o2.jsonl").read_text().splitlines()]
    assert kept == ["rewrite"]
    bad = invoke_run(src, "-o", tmp_path / "o3.jsonl", "--keep", "x")
    assert bad.exit_code == 2 and "'--keep'" in bad.output and "Traceback" not in bad.output
