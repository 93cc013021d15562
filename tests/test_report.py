"""Before/after reports: paragraph and word diffs, audit reasons, text/JSON/HTML, explain."""

from __future__ import annotations

import io
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleanup.document import Document
from cleanup.errors import BadInput
from cleanup.io import read_inputs
from cleanup.report import HtmlReport, explain, write_diff
from cleanup.report.diff import (
    DiffSummary,
    align,
    diff_corpora,
    diff_document,
    html_paragraphs,
    paragraph_diff,
    path_key,
    rebuild_before,
    word_diff,
)
from cleanup.report.html import script_json
from cleanup.report.text import TextRenderer, describe
from cleanup.runner import audit_record

FIXTURES = Path(__file__).parent.parent / "fixtures"


# --- a small, general "cleanup" to produce real before/after corpora and audit trails -----


def simulate_cleanup(doc: Document) -> None:
    """Edit a document the way the steps do (through its audit API), with three simple rules."""
    short = [i for i, p in enumerate(doc.paragraphs) if len(p.split()) < 4]
    doc.remove(short, "strip-artifacts", "short-line", "a line of fewer than four words")
    seen: dict[str, int] = {}
    dups: dict[int, dict[str, Any]] = {}
    for i, p in enumerate(doc.paragraphs):
        if p in seen:
            dups[i] = {"duplicate_of": f"{doc.id}#{seen[p]}", "similarity": 1.0}
        seen.setdefault(p, i)
    doc.remove(list(dups), "dedup", "paragraph-duplicate", "repeats an earlier paragraph", dups)
    for i, p in enumerate(doc.paragraphs):
        doc.rewrite(i, p.replace("\u2019", "'"), "normalize", "quotes", "straighten apostrophes")


def make_corpora(tmp: Path) -> tuple[Path, Path, Path]:
    """Write before/ and after/ trees of the fixtures and the audit of the simulated cleanup.

    A copy of the CNN story is dropped as a near-duplicate document, so every kind of
    change (removed, changed, dropped) is present.
    """
    before, after, audit = tmp / "before", tmp / "after", tmp / "audit.jsonl"
    before.mkdir()
    after.mkdir()
    for f in FIXTURES.glob("*.txt"):
        (before / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (before / "copies").mkdir()
    copy = (FIXTURES / "cnn_sessions.txt").read_text(encoding="utf-8")
    (before / "copies" / "cnn_copy.txt").write_text(copy, encoding="utf-8")
    records = []
    for doc in read_inputs([str(before)]):
        if doc.id == "copies/cnn_copy.txt":
            detail = {"duplicate_of": "cnn_sessions.txt", "similarity": 0.97}
            doc.drop("dedup", "document-duplicate", "near-duplicate of a kept document", detail)
        else:
            simulate_cleanup(doc)
            out = after / Path(doc.relpath).with_suffix(".txt")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("\n\n".join(doc.paragraphs) + "\n", encoding="utf-8")
        records += [audit_record(doc, e.to_dict()) for e in doc.edits]
        if doc.dropped:
            records.append(audit_record(doc, doc.dropped.to_dict()))
    audit.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return before, after, audit


@pytest.fixture
def corpora(tmp_path: Path) -> tuple[Path, Path, Path]:
    return make_corpora(tmp_path)


# --- paragraph and word diffs ------------------------------------------------------------


def test_word_diff_marks_only_the_changed_words() -> None:
    segments = word_diff("It’s a fine day in May.", "It's a fine day in June.")
    assert ("-", "’") in segments and ("+", "'") in segments
    assert ("-", "May") in segments and ("+", "June") in segments
    assert "".join(t for tag, t in segments if tag != "+") == "It’s a fine day in May."
    assert "".join(t for tag, t in segments if tag != "-") == "It's a fine day in June."


def test_paragraph_diff_pairs_a_lightly_changed_paragraph_as_a_change() -> None:
    before = ["Title", "Share this article", "It’s raining in Paris today.", "The end."]
    after = ["Title", "It's raining in Paris today!", "The end.", "Brand new line here"]
    kinds = [op.kind for op in paragraph_diff(before, after)]
    assert kinds == ["=", "-", "~", "=", "+"]


def test_paragraph_diff_keeps_unrelated_paragraphs_apart() -> None:
    ops = paragraph_diff(["alpha beta gamma delta"], ["one two three four"])
    assert [op.kind for op in ops] == ["-", "+"]


paragraph = st.text(alphabet="abc ’'\n", min_size=1, max_size=12).filter(str.strip)


@given(st.lists(paragraph, max_size=12), st.lists(paragraph, max_size=12))
def test_paragraph_diff_reproduces_both_sides(before: list[str], after: list[str]) -> None:
    ops = paragraph_diff(before, after)
    assert [op.before for op in ops if op.kind != "+"] == before
    assert [op.after for op in ops if op.kind != "-"] == after
    for op in ops:
        if op.kind == "~":
            assert op.words is not None
            assert "".join(t for tag, t in op.words if tag != "+") == op.before
            assert "".join(t for tag, t in op.words if tag != "-") == op.after


@given(
    st.lists(st.sampled_from("abcdefgh"), max_size=200),
    st.lists(st.sampled_from("abcdefgh"), max_size=200),
)
def test_align_pairs_equal_items_in_order(a: list[str], b: list[str]) -> None:
    pairs = align(a, b)
    assert all(a[x] == b[y] for x, y in pairs)
    assert all(x1 < x2 and y1 < y2 for (x1, y1), (x2, y2) in itertools.pairwise(pairs))
    if a == b:
        assert len(pairs) == len(a)


def test_align_of_a_long_document_finds_every_kept_paragraph() -> None:
    before = [f"paragraph number {i}" for i in range(20_000)]
    after = [p for i, p in enumerate(before) if i % 7] + ["new"]
    pairs = align(before, after)
    assert len(pairs) == len(after) - 1


@given(st.lists(paragraph, max_size=12))
def test_a_document_diffed_with_itself_is_unchanged(paragraphs: list[str]) -> None:
    d = diff_document("x", paragraphs, list(paragraphs))
    assert d.status == "unchanged" and not d.different


def test_path_key_drops_extension_and_compression() -> None:
    assert path_key("site/a.html") == path_key("site/a.txt") == "site/a"
    assert path_key("b.jsonl.gz") == "b"
    assert path_key("no_extension") == "no_extension"


# --- reasons -----------------------------------------------------------------------------


def test_reasons_attach_to_removed_and_changed_paragraphs() -> None:
    doc = Document.from_text(
        "d1", "Share\n\nIt’s a long enough paragraph.\n\nIt’s a long enough paragraph."
    )
    before = list(doc.paragraphs)
    simulate_cleanup(doc)
    edits = [e.to_dict() for e in doc.edits]
    d = diff_document("d1", before, doc.paragraphs, edits)
    removed = [op for op in d.ops if op.kind == "-"]
    assert [d.reasons[op.reasons[0]]["rule"] for op in removed] == [
        "short-line",
        "paragraph-duplicate",
    ]
    changed = [op for op in d.ops if op.kind == "~"]
    assert [d.reasons[i]["rule"] for i in changed[0].reasons] == ["quotes"]
    assert d.other == []


def test_a_rewritten_then_removed_paragraph_still_finds_its_reason() -> None:
    edits = [{"kind": "remove", "rule": "boilerplate", "step": "strip-artifacts",
              "before": "Follow us on Twitter", "index": 1}]  # fmt: skip
    d = diff_document(
        "x", ["Body text here.", "Follow us on\u00a0Twitter!"], ["Body text here."], edits
    )
    assert d.ops[1].kind == "-" and d.reasons[d.ops[1].reasons[0]]["rule"] == "boilerplate"


def test_rebuild_undoes_batch_and_separate_removals() -> None:
    doc = Document.from_text("d", "a\nb\nc\nd\ne\nf")
    doc.remove([1, 2], "s", "batch")  # b, c
    doc.remove([3], "s", "one")  # f (now at 3)
    doc.remove([0], "s", "one")  # a
    edits = [e.to_dict() for e in doc.edits]
    assert rebuild_before(doc.paragraphs, edits) == list("abcdef")


def test_html_before_is_rebuilt_from_removal_edits() -> None:
    edits = [
        {"kind": "remove", "rule": "nav", "before": "Home | About", "index": 0},
        {"kind": "remove", "rule": "footer", "before": "© 2024", "index": 2},
    ]
    assert rebuild_before(["Story", "More story"], edits) == [
        "Home | About",
        "Story",
        "More story",
        "© 2024",
    ]
    d = diff_document("page.html", [], ["Story", "More story"], edits, rebuild=True)
    assert [op.kind for op in d.ops] == ["-", "=", "=", "-"]
    assert [d.reasons[op.reasons[0]]["rule"] for op in d.ops if op.kind == "-"] == ["nav", "footer"]


def test_an_html_page_without_removals_is_not_shown_as_all_new() -> None:
    extract = {"kind": "rewrite", "rule": "html:extract", "before": "<html>", "after": "2"}
    rep = HtmlReport(out=io.StringIO())
    rep.add("page.html", [], ["Story", "More story"], [extract])
    assert rep.index[0][1:5] == ["unchanged", 0, 0, 0]
    assert diff_document("t.txt", [], ["new"]).status == "changed"  # without rebuild: added


def test_describe_numbers_a_duplicated_paragraph_from_one() -> None:
    record = {"rule": "exact-paragraph", "detail": {"duplicate_of": 0, "duplicate_text": "Hi"}}
    assert describe(record) == 'exact-paragraph (duplicate of paragraph 1 ("Hi…"))'


def test_describe_names_rule_reason_and_duplicate() -> None:
    record = {"step": "dedup", "rule": "near-duplicate", "why": "a near copy",
              "detail": {"duplicate_of": "a.txt", "similarity": 0.8333}}  # fmt: skip
    assert (
        describe(record)
        == "dedup/near-duplicate: a near copy (duplicate of a.txt, similarity 0.83)"
    )


# --- two corpora -------------------------------------------------------------------------


def test_documents_match_by_path_without_extension(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "page.html").write_text(
        "<html><head><script>var x = '<p>no</p>';</script></head><body><nav>Home</nav>"
        "<p>First <b>para</b>graph.</p><p>Second one.</p></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "a" / "page.txt").write_text("First paragraph.\n\nSecond one.\n", encoding="utf-8")
    diffs = list(
        diff_corpora(read_inputs([str(tmp_path / "b")]), read_inputs([str(tmp_path / "a")]))
    )
    assert len(diffs) == 1
    d = diffs[0]
    assert d.status == "changed"
    assert [(op.kind, op.before) for op in d.ops] == [
        ("-", "Home"), ("=", "First paragraph."), ("=", "Second one.")
    ]  # fmt: skip


def test_documents_match_by_id_in_jsonl(tmp_path: Path) -> None:
    before, after = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    before.write_text(
        '{"id": "x", "text": "keep\\nShare this"}\n{"id": "y", "text": "gone"}\n', encoding="utf-8"
    )
    after.write_text('{"id": "z", "text": "new"}\n{"id": "x", "text": "keep"}\n', encoding="utf-8")
    diffs = {d.id: d for d in diff_corpora(read_inputs([str(before)]), read_inputs([str(after)]))}
    assert {k: d.status for k, d in diffs.items()} == {"x": "changed", "y": "dropped", "z": "added"}
    assert [(op.kind, op.before) for op in diffs["x"].ops] == [("=", "keep"), ("-", "Share this")]


def test_a_corpus_diffed_with_itself_has_no_differences() -> None:
    out = io.StringIO()
    summary = write_diff(str(FIXTURES), str(FIXTURES), out)
    assert not summary.different
    assert summary.unchanged == 2 and summary.paragraphs_removed == 0
    assert "--- " not in out.getvalue()
    assert "2 unchanged" in out.getvalue()


def test_summary_counts_documents_paragraphs_and_rules(corpora: tuple[Path, Path, Path]) -> None:
    before, after, audit = corpora
    summary = write_diff(str(before), str(after), io.StringIO(), audit=str(audit))
    assert (summary.changed, summary.unchanged, summary.dropped, summary.added) == (2, 0, 1, 0)
    expected = [json.loads(line) for line in audit.read_text().splitlines()]
    removed = [r for r in expected if r["kind"] == "remove"]
    assert summary.paragraphs_removed == len(removed)
    assert sum(summary.removed_by_rule.values()) == len(removed)
    assert summary.removed_by_rule["short-line"] == sum(r["rule"] == "short-line" for r in removed)
    assert summary.dropped_by_rule == {"document-duplicate": 1}
    assert summary.chars_removed >= sum(len(r["before"]) for r in removed)


# --- renderers ---------------------------------------------------------------------------


def test_text_diff_shows_reasons_and_word_changes(corpora: tuple[Path, Path, Path]) -> None:
    before, after, audit = corpora
    out = io.StringIO()
    write_diff(str(before), str(after), out, audit=str(audit), context=0)
    text = out.getvalue()
    assert (
        "- Story highlights\n    # strip-artifacts/short-line: a line of fewer than four words\n"
        in text
    )
    assert "~ Sessions[-’-]{+'+} office says AG didn[-’-]{+'+}t mislead\n" in text
    assert "+++ /dev/null\n- (document dropped: " in text
    assert "# dedup/document-duplicate: near-duplicate of a kept document " in text
    assert "(duplicate of cnn_sessions.txt, similarity 0.97)" in text
    assert "\x1b[" not in text


def test_text_diff_context_limits_unchanged_paragraphs(corpora: tuple[Path, Path, Path]) -> None:
    before, after, _ = corpora
    narrow, wide = io.StringIO(), io.StringIO()
    write_diff(str(before), str(after), narrow, context=0)
    write_diff(str(before), str(after), wide, context=2)

    def count(out: io.StringIO) -> int:
        diff = out.getvalue().split("\nsummary\n")[0]
        return sum(line.startswith("  ") for line in diff.splitlines())

    assert count(narrow) == 0 < count(wide)
    hunks = re.findall(r"^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$", narrow.getvalue(), re.M)
    assert hunks and hunks[0] == ("1", "1", "1", "0")  # "Story highlights" removed


def test_text_diff_colors_only_when_asked(corpora: tuple[Path, Path, Path]) -> None:
    before, after, _ = corpora
    out = io.StringIO()
    write_diff(str(before), str(after), out, color=True)
    assert "\x1b[31m- Story highlights\x1b[0m" in out.getvalue()
    assert "\x1b[31;9m’\x1b[0m\x1b[32;4m'\x1b[0m" in out.getvalue()


def test_stat_prints_a_line_per_document_and_the_summary(corpora: tuple[Path, Path, Path]) -> None:
    before, after, audit = corpora
    out = io.StringIO()
    write_diff(str(before), str(after), out, stat=True, audit=str(audit))
    lines = out.getvalue().splitlines()
    assert " copies/cnn_copy.txt | dropped" in lines
    assert any(re.fullmatch(r" cnn_sessions\.txt \| -\d+ ~\d+", line) for line in lines)
    assert not any(line.startswith(("- ", "~ ")) for line in lines)
    assert "  documents dropped per rule:" in lines


def test_json_diff_is_one_valid_document(corpora: tuple[Path, Path, Path]) -> None:
    before, after, audit = corpora
    out = io.StringIO()
    summary = write_diff(str(before), str(after), out, format="json", audit=str(audit))
    data = json.loads(out.getvalue())
    assert data["summary"] == summary.to_dict()
    docs = {d["id"]: d for d in data["documents"]}
    assert docs["copies/cnn_copy.txt"]["status"] == "dropped"
    assert docs["copies/cnn_copy.txt"]["dropped"]["detail"]["similarity"] == 0.97
    first = docs["cnn_sessions.txt"]["paragraphs"][0]
    assert first["op"] == "remove" and first["text"] == "Story highlights"
    assert first["reasons"][0]["rule"] == "short-line"


def test_json_stat_and_empty_diff_are_valid() -> None:
    out = io.StringIO()
    write_diff(str(FIXTURES), str(FIXTURES), out, format="json", stat=True)
    assert json.loads(out.getvalue())["documents"] == []


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown diff format"):
        write_diff(str(FIXTURES), str(FIXTURES), io.StringIO(), format="pdf")


# --- HTML --------------------------------------------------------------------------------

HOSTILE = '</script><script>document.title="pwned"</script><img src=x onerror=alert(1)><!--'


def embedded(page: str, name: str) -> str:
    match = re.search(
        rf'<script type="application/[\w-]+" id="cleanup-{name}">(.*?)</script>', page, re.S
    )
    assert match, name
    return match.group(1)


def test_script_json_cannot_close_its_script() -> None:
    text = script_json({"t": HOSTILE + "\u2028"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == {"t": HOSTILE + "\u2028"}


def test_html_report_is_self_contained_and_escapes_text(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    rep = HtmlReport(str(path))
    edit = {"kind": "remove", "rule": "evil<rule>", "step": "s", "before": HOSTILE, "index": 0,
            "why": "<b>bold</b>"}  # fmt: skip
    rep.add(HOSTILE, [HOSTILE, "kept"], ["kept"], [edit])
    rep.add("same", ["x"], ["x"], [])
    rep.close({"documents_in": 2, "seconds": 0.5})
    page = path.read_text(encoding="utf-8")
    assert page.count("<script") == 3 and page.count("</script>") == 3
    assert "pwned" in page and "<img" not in page
    assert "evil&lt;rule&gt;" in page  # the chart's static label
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    index = json.loads(embedded(page, "index"))
    assert [d[1] for d in index["docs"]] == ["changed", "unchanged"]
    lines = embedded(page, "docs").splitlines()
    doc = json.loads(lines[index["docs"][0][6]])
    assert doc["ops"][0] == ["-", HOSTILE, [0]]
    assert index["reasons"][doc["rs"][0]]["rule"] == "evil<rule>"  # shared: no detail
    assert index["docs"][1][6] == -1  # an unchanged document embeds no text


def test_html_report_close_is_atomic_and_abort_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    rep = HtmlReport(str(path))
    rep.add("a", ["x"], None, [], {"kind": "drop", "rule": "empty", "why": "empty"})
    rep.abort()
    assert not path.exists()
    rep = HtmlReport(str(path))
    rep.add("a", ["x"], None, [], {"kind": "drop", "rule": "empty", "why": "empty"})
    rep.close()
    assert path.exists() and list(tmp_path.iterdir()) == [path]
    assert "1 dropped" in path.read_text(encoding="utf-8")


def test_html_report_counts_rules_for_the_chart(tmp_path: Path) -> None:
    rep = HtmlReport(out=io.StringIO())
    edits = [
        {"kind": "remove", "rule": "r1", "before": "a", "index": 0},
        {"kind": "rewrite", "rule": "r2", "before": "b", "after": "c", "index": 0},
    ]
    rep.add("d", ["a", "b"], ["c"], edits)
    rep.add("e", ["a"], None, [], {"kind": "drop", "rule": "r3"})
    assert rep.rule_counts == {"r1": {"removed": 1}, "r2": {"rewritten": 1}, "r3": {"dropped": 1}}
    out = rep.out
    rep.close()
    assert isinstance(out, io.StringIO) and 'data-rule="r1"' in out.getvalue()


def test_html_diff_of_corpora(corpora: tuple[Path, Path, Path], tmp_path: Path) -> None:
    before, after, audit = corpora
    path = tmp_path / "diff.html"
    write_diff(str(before), str(after), str(path), format="html", audit=str(audit))
    page = path.read_text(encoding="utf-8")
    index = json.loads(embedded(page, "index"))
    assert {d[0]: d[1] for d in index["docs"]} == {
        "cnn_sessions.txt": "changed", "dailymail_sessions.txt": "changed",
        "copies/cnn_copy.txt": "dropped",
    }  # fmt: skip
    assert "short-line" in index["rules"]


def test_html_paragraphs_take_visible_text_blocks() -> None:
    markup = (
        "<body><div>One <i>two</i><br>three</div><!-- c --><style>p{}</style><p>four</p>tail</body>"
    )
    assert html_paragraphs(markup) == ["One two", "three", "four", "tail"]


# --- explain -----------------------------------------------------------------------------


def test_explain_lists_each_edit_with_its_reason(corpora: tuple[Path, Path, Path]) -> None:
    _, _, audit = corpora
    text = explain("dailymail_sessions.txt", str(audit))
    first = text.splitlines()[0]
    assert re.fullmatch(r"dailymail_sessions\.txt: \d+ edits \(\d+ rewritten, \d+ removed\)", first)
    assert "dedup/paragraph-duplicate: removed paragraph" in text
    assert "duplicate of dailymail_sessions.txt#" in text and "similarity 1.00" in text
    assert "   removed:\n   | Source\n" in text
    assert "normalize/quotes: rewrote paragraph" in text
    dropped = explain("copies/cnn_copy.txt", str(audit))
    assert "dedup/document-duplicate: document dropped" in dropped
    assert "duplicate of cnn_sessions.txt, similarity 0.97" in dropped


def test_explain_unknown_id_is_a_clear_error(corpora: tuple[Path, Path, Path]) -> None:
    _, _, audit = corpora
    with pytest.raises(KeyError, match=r"not in the audit trail.*did you mean 'cnn_sessions\.txt'"):
        explain("cnn_session.txt", str(audit))


def test_explain_reports_a_malformed_audit(tmp_path: Path) -> None:
    bad = tmp_path / "a.jsonl"
    bad.write_text('{"id": "x", "rule": "r"}\nnot json\n')
    with pytest.raises(BadInput, match=r"a\.jsonl:2: malformed audit line"):
        explain("x", str(bad))


def test_renderer_summary_is_plain_without_color() -> None:
    out = io.StringIO()
    TextRenderer(out).summary(DiffSummary(changed=1, removed_by_rule={"r": 2}))
    assert out.getvalue().startswith("summary\n  documents:  1 changed")
    assert "       2  r\n" in out.getvalue()


def test_a_run_report_labels_every_removal_of_its_audit(tmp_path: Path) -> None:
    from cleanup.runner import RunOptions, execute

    audit, page = tmp_path / "audit.jsonl", tmp_path / "report.html"
    options = RunOptions(
        inputs=[str(FIXTURES)], output=f"{tmp_path / 'out'}/", audit=str(audit), report=str(page)
    )
    summary = execute(options)
    text = page.read_text(encoding="utf-8")
    index = json.loads(embedded(text, "index"))
    assert len(index["docs"]) == summary.documents_in
    lines = embedded(text, "docs").splitlines()
    records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    for entry in index["docs"]:
        removals = [r for r in records if r["id"] == entry[0] and r["kind"] in ("remove", "move")]
        if entry[6] < 0:
            assert not removals
            continue
        doc = json.loads(lines[entry[6]])
        labelled = [op for op in doc["ops"] if op[0] == "-" and op[2:]]
        assert len(labelled) == len(removals) == entry[2]


def test_a_huge_changed_paragraph_is_shown_as_its_replaced_middle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past WORD_DIFF_CHARS the words are not aligned (a Python string each: 415 s and 917 MB
    for a 10 MB paragraph); the text both sides share at the start and end stays, the middle
    is replaced, and the segments still spell both sides."""
    from cleanup.report import paragraphs as rp

    monkeypatch.setattr(rp, "WORD_DIFF_CHARS", 40)
    before = "the council met on tuesday and voted on the new bridge plan"
    after = "the council met on monday and voted on the new bridge plan"
    segments = rp.word_diff(before, after)
    assert segments == [
        ("=", "the council met on "),
        ("-", "tues"),
        ("+", "mon"),
        ("=", "day and voted on the new bridge plan"),
    ]
    assert "".join(t for tag, t in segments if tag != "+") == before
    assert "".join(t for tag, t in segments if tag != "-") == after
    two = ("the red car and the old bus", "the blue car and the new bus")  # two changes
    assert rp.word_diff(*two) == [
        ("=", "the "),
        ("-", "red car and the old"),
        ("+", "blue car and the new"),
        ("=", " bus"),
    ]
    monkeypatch.setattr(rp, "WORD_DIFF_CHARS", 1000)  # below it: words aligned, as before
    assert rp.word_diff(*two) == [
        ("=", "the "),
        ("-", "red"),
        ("+", "blue"),
        ("=", " car and the "),
        ("-", "old"),
        ("+", "new"),
        ("=", " bus"),
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [("", ""), ("abc", "abd"), ("abc", "abc"), ("abc", "ab"), ("x", "y"), ("aaaa", "aaab")],
)
def test_the_shared_start_of_two_texts(a: str, b: str) -> None:
    from cleanup.report.paragraphs import _shared

    expected = next(
        (k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    assert _shared(a, b) == expected
