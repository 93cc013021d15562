"""Tests for strip-html: main content, --extract all, metadata, broken HTML, sniffing."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleanup.document import Document
from cleanup.extract import extract_page, looks_like_html
from cleanup.steps.html import META_KEYS, SPEC, strip_html

DATA = Path(__file__).parent / "data" / "html"
PAGES = sorted(p.stem for p in DATA.glob("*.html"))


def html_doc(markup: str, id: str = "page") -> Document:
    """Build a document the way the reader hands over an HTML file."""
    return Document(id=id, paragraphs=[markup], raw=markup, format="html", source=f"{id}.html")


def run(doc: Document, **options: object) -> Document:
    """Run strip-html on one document and return it."""
    (out,) = strip_html([doc], **options)  # type: ignore[arg-type]
    return out


def expected(name: str) -> list[str]:
    """Return a test page's expected paragraphs (blank-line separated in the file)."""
    text = (DATA / f"{name}.expected.txt").read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if p.strip()]


@pytest.mark.parametrize("name", PAGES)
def test_main_content_of_real_looking_pages(name: str) -> None:
    doc = run(html_doc((DATA / f"{name}.html").read_text(encoding="utf-8"), name))
    assert doc.dropped is None
    assert doc.paragraphs == expected(name)


@pytest.mark.parametrize("name", PAGES)
def test_main_content_does_not_rely_on_class_names(name: str) -> None:
    """Obfuscated class/id names (as CSS-in-JS sites have) must not change the choice."""
    markup = (DATA / f"{name}.html").read_text(encoding="utf-8")
    obfuscated = re.sub(
        r'(class|id)="([^"]*)"',
        lambda m: f'{m.group(1)}="c{hashlib.sha1(m.group(2).encode()).hexdigest()[:6]}"',
        markup,
    )
    assert obfuscated != markup
    assert run(html_doc(obfuscated, name)).paragraphs == expected(name)


def test_short_page_keeps_its_text_in_main_mode() -> None:
    doc = run(html_doc("<html><body><p>Short note.</p><p>Second line.</p></body></html>"))
    assert doc.dropped is None
    assert doc.paragraphs == ["Short note.", "Second line."]


def test_pages_cover_four_languages() -> None:
    langs = {name.split("_")[0] for name in PAGES}
    assert {"en", "de", "fr", "es"} <= langs


@pytest.mark.parametrize("name", PAGES)
def test_metadata_read_from_markup(name: str) -> None:
    doc = run(html_doc((DATA / f"{name}.html").read_text(encoding="utf-8"), name))
    want = json.loads((DATA / f"{name}.meta.json").read_text(encoding="utf-8"))
    assert {k: doc.meta.get(k) for k in META_KEYS if k in doc.meta or k in want} == want


def test_metadata_values_of_english_page() -> None:
    doc = run(html_doc((DATA / "en_dailyherald.html").read_text(encoding="utf-8")))
    assert doc.meta["title"] == "Council approves new river crossing after decade of delays"
    assert doc.meta["author"] == "Hannah Whitfield"
    assert doc.meta["date"] == "2024-03-14T09:30:00Z"
    assert doc.meta["canonical_url"] == (
        "https://www.dailyherald.example/news/2024/03/river-crossing-approved"
    )
    assert doc.meta["lang"] == "en-GB"
    assert doc.site == ""  # the dedup step derives the site; strip-html leaves it alone


def test_author_profile_url_resolved_to_linked_name() -> None:
    doc = run(html_doc((DATA / "fr_lecourrier.html").read_text(encoding="utf-8")))
    assert doc.meta["author"] == "Claire Dumas"


def test_one_short_audit_edit() -> None:
    markup = (DATA / "es_diariosur.html").read_text(encoding="utf-8")
    doc = run(html_doc(markup))
    (edit,) = doc.edits
    assert (edit.step, edit.rule, edit.kind) == ("strip-html", "html:extract", "rewrite")
    assert edit.before == f"<html> {len(markup.encode())} bytes"
    assert edit.after == f"{len(doc.paragraphs)} paragraphs"
    assert len(edit.before) < 40 and edit.why


ALL_PAGE = (DATA / "en_dailyherald.html").read_text(encoding="utf-8")


def test_extract_all_keeps_page_text_minus_boilerplate() -> None:
    doc = run(html_doc(ALL_PAGE), extract="all")
    text = "\n\n".join(doc.paragraphs)
    assert doc.edits[-1].rule == "html:all"
    for para in expected("en_dailyherald"):
        assert para in doc.paragraphs
    # the article's own header stays in `all` mode
    assert "Council approves new river crossing after decade of delays" in doc.paragraphs
    for gone in (
        "We use cookies",  # cookie banner (class/id)
        "Share on X",  # share bar
        "Sport",  # nav
        "Bridge costs rise",  # related list
        "About time too",  # comments
        "Sign up for our free",  # newsletter box
        "All rights reserved",  # page footer
        "artist's impression",  # caption and alt text, dropped by default
        "dataLayer",  # script
    ):
        assert gone not in text, gone


def test_extract_all_keep_captions_keeps_each_caption_once() -> None:
    markup = (
        "<html><body><figure><img src='a.jpg' alt='Flooded fields near the river'>"
        "<figcaption>Flooded fields near the river</figcaption></figure>"
        "<figure><img src='b.jpg' alt='The old mill'><figcaption>The old mill in 1910."
        "</figcaption></figure><p>Body text of the article.</p></body></html>"
    )
    plain = run(html_doc(markup), extract="all")
    assert plain.paragraphs == ["Body text of the article."]
    kept = run(html_doc(markup), extract="all", keep_captions=True)
    assert kept.paragraphs == [
        "Flooded fields near the river",
        "The old mill in 1910.",  # a figure's caption stands for it, not its alt text too
        "Body text of the article.",
    ]
    lone = "<html><body><p>Text.</p><img src='x.jpg' alt='A lone image'></body></html>"
    assert run(html_doc(lone), extract="all", keep_captions=True).paragraphs == [
        "Text.",
        "A lone image",
    ]


STORY = (
    "<html><body><article><figure><img alt='Lead photo'><figcaption>Lead caption.</figcaption>"
    "</figure><p>First paragraph of the story, long enough to count as prose here.</p>"
    "<figure><img alt='A quiet harbour'><figcaption>The harbour at dawn.</figcaption></figure>"
    "<p>Second paragraph of the story, also long enough to count as prose.</p>"
    "<figure><img alt='Boats at anchor'></figure>"
    "<p>Third paragraph of the story, the last one in this short test page.</p>"
    "</article></body></html>"
)
STORY_TEXT = [
    "First paragraph of the story, long enough to count as prose here.",
    "Second paragraph of the story, also long enough to count as prose.",
    "Third paragraph of the story, the last one in this short test page.",
]


def test_extract_main_drops_captions_by_default() -> None:
    assert run(html_doc(STORY)).paragraphs == STORY_TEXT


def test_extract_main_keep_captions_puts_inner_captions_in_place() -> None:
    doc = run(html_doc(STORY), keep_captions=True)
    first, second, third = STORY_TEXT
    # The lead image's caption sits before the text starts: main content does not know
    # whether it belongs to the article, so it stays out.
    assert doc.paragraphs == [first, "The harbour at dawn.", second, "Boats at anchor", third]


def test_extract_all_blocks_lines_lists_tables() -> None:
    markup = (
        "<html><body><div>First block<p>Second <b>bold</b>\n  block</p>tail text</div>"
        "<p>line one<br>line two</p><ul><li>item a</li><li>item <i>b</i></li></ul>"
        "<table><tr><th>k</th><th>v</th></tr><tr><td>x</td><td>1</td></tr></table>"
        "<h2>Sub head</h2></body></html>"
    )
    doc = run(html_doc(markup), extract="all")
    assert doc.paragraphs == [
        "First block",
        "Second bold block",
        "tail text",
        "line one\nline two",
        "item a",
        "item b",
        "k | v",
        "x | 1",
        "Sub head",
    ]


ARTICLE_PS = "".join(
    f"<p>Sentence number {i} of the article, long enough to read as a paragraph of prose.</p>"
    for i in range(6)
)


@pytest.mark.parametrize("mode", ["main", "all"])
def test_small_box_around_a_form_is_removed(mode: str) -> None:
    box = "<div class='k1'><h3>Bleiben Sie informiert</h3><p>Jeden Freitag per E-Mail.</p>"
    box += "<form><input type='email'><button>OK</button></form></div>"
    doc = run(html_doc(f"<html><body><div>{ARTICLE_PS}{box}</div></body></html>"), extract=mode)
    assert len(doc.paragraphs) == 6
    assert not any("Freitag" in p or "informiert" in p for p in doc.paragraphs)


@pytest.mark.parametrize("mode", ["main", "all"])
def test_page_wrapped_in_one_form_keeps_its_text(mode: str) -> None:
    markup = f"<html><body><form id='aspnetForm'><div>{ARTICLE_PS}</div></form></body></html>"
    doc = run(html_doc(markup), extract=mode)
    assert len(doc.paragraphs) == 6


@pytest.mark.parametrize("mode", ["main", "all"])
def test_double_line_break_ends_a_paragraph(mode: str) -> None:
    text = "<br><br>".join(
        f"Paragraph {i} of an old page that separates its paragraphs with two breaks."
        for i in range(4)
    )
    doc = run(html_doc(f"<html><body><div>{text}</div></body></html>"), extract=mode)
    assert doc.paragraphs == [
        f"Paragraph {i} of an old page that separates its paragraphs with two breaks."
        for i in range(4)
    ]


def test_wrapper_named_like_boilerplate_is_not_dropped() -> None:
    body = "".join(f"<p>Paragraph number {i} of the article text.</p>" for i in range(5))
    markup = f"<html><body><div class='post comments-open'>{body}</div></body></html>"
    doc = run(html_doc(markup), extract="all")
    assert len(doc.paragraphs) == 5


def test_extract_rejects_unknown_mode() -> None:
    with pytest.raises(ValueError, match="main"):
        run(html_doc("<p>x</p>"), extract="best")


# Broken HTML: never a crash; an empty page or non-HTML bytes is a counted drop.


def test_unclosed_and_stray_tags() -> None:
    markup = "<html><body><div><p>First paragraph <b>bold<p>Second paragraph</i></span><li>item"
    doc = run(html_doc(markup), extract="all")
    assert doc.paragraphs == ["First paragraph bold", "Second paragraph", "item"]


@pytest.mark.parametrize("tag", ["div", "p", "x-widget", "span"])
def test_5000_deep_nesting_keeps_text(tag: str) -> None:
    markup = (
        f"<html><body>{f'<{tag}>' * 5000}deep text here{f'</{tag}>' * 5000}"
        "<p>after the nest</p></body></html>"
    )
    for mode in ("main", "all"):
        doc = run(html_doc(markup), extract=mode)
        text = " ".join(doc.paragraphs)
        assert "deep text here" in text and "after the nest" in text


def test_20_mb_page() -> None:
    filler = "words of a very long page that goes on and on. " * 40
    paras = [f"<p>Paragraph {i} {filler}</p>\n" for i in range(20_000_000 // (len(filler) + 30))]
    markup = "<html><body>" + "".join(paras) + "</body></html>"
    assert len(markup) > 19_000_000
    for mode in ("main", "all"):
        doc = run(html_doc(markup), extract=mode)
        assert doc.dropped is None and len(doc.paragraphs) == len(paras), mode


@pytest.mark.parametrize("markup", ["", "   \n ", "<html><body><script>x()</script></body></html>"])
def test_page_without_text_is_dropped(markup: str) -> None:
    doc = run(html_doc(markup))
    assert doc.dropped is not None and doc.dropped.rule == "html:no-text"


def test_non_html_bytes_named_html_are_dropped() -> None:
    data = bytes(range(256)).decode("latin-1") * 50
    doc = run(html_doc(data))
    assert doc.dropped is not None and doc.dropped.rule == "html:unparseable"


def test_dropped_documents_pass_through_untouched() -> None:
    doc = html_doc("<p>a</p><p>b</p><p>c</p>")
    doc.drop("other", "x", "y")
    out = run(doc)
    assert out.paragraphs == ["<p>a</p><p>b</p><p>c</p>"] and not out.edits


# Sniffing: JSONL/text records holding HTML.

HTML_RECORD = (
    "<div><p>Der erste Absatz des Artikels mit genug Text.</p>"
    "<p>Der zweite Absatz des Artikels.</p><p>Und ein dritter.</p></div>"
)


def test_sniffed_jsonl_record_is_converted() -> None:
    doc = Document.from_text("r1", HTML_RECORD, format="jsonl")
    out = run(doc, extract="all")
    assert out.paragraphs == [
        "Der erste Absatz des Artikels mit genug Text.",
        "Der zweite Absatz des Artikels.",
        "Und ein dritter.",
    ]
    assert out.format == "jsonl"


def test_sniff_off_leaves_record_alone() -> None:
    doc = Document.from_text("r1", HTML_RECORD, format="jsonl")
    out = run(doc, sniff_html=False)
    assert out.paragraphs == [HTML_RECORD] and not out.edits


@pytest.mark.parametrize(
    ("text", "is_html"),
    [
        ("\ufeff  <!DOCTYPE html><html><body>x</body></html>", True),
        ("<HTML lang='fr'><p>x", True),
        ("<!-- saved page --><html>", True),
        ("<p>one</p><p>two</p><div>three</div>", True),
        ("Use the <p> tag for paragraphs and <br> for breaks.", False),
        ("5 < 6 and 7 > 3, plain prose.", False),
        ("", False),
    ],
)
def test_looks_like_html(text: str, is_html: bool) -> None:
    assert looks_like_html(text) is is_html


def test_converted_text_quoting_markup_is_not_converted_again() -> None:
    markup = (
        "<html><body><p>&lt;p&gt;one&lt;/p&gt; &lt;p&gt;two&lt;/p&gt; "
        "&lt;div&gt;three&lt;/div&gt; make three blocks.</p></body></html>"
    )
    doc = run(html_doc(markup), extract="all")
    assert doc.paragraphs == ["<p>one</p> <p>two</p> <div>three</div> make three blocks."]
    assert looks_like_html(doc.text)
    assert run(doc).paragraphs == doc.paragraphs and len(doc.edits) == 1


def test_plain_text_passes_through() -> None:
    doc = Document.from_text("t", "A plain paragraph.\n\nAnother one with a < sign.")
    out = run(doc)
    assert out.paragraphs == ["A plain paragraph.", "Another one with a < sign."]
    assert not out.edits and out.dropped is None


def test_line_breaks_force_blank_line_separator() -> None:
    doc = Document.from_text("r", "<div><p>a<br>b</p><p>c</p><p>d</p></div>", format="jsonl")
    assert doc.sep == "\n"
    out = run(doc, extract="all")
    assert out.paragraphs == ["a\nb", "c", "d"] and out.sep == "\n\n"


def test_spec_options_are_prefixed_and_defaulted() -> None:
    assert SPEC.name == "strip-html"
    assert SPEC.defaults() == {
        "extract": "main",
        "keep_captions": False,
        "extractor": "ours",
        "sniff_html": True,
    }


def test_extract_page_library_api() -> None:
    page = extract_page((DATA / "de_rheinpost.html").read_text(encoding="utf-8"))
    assert page.paragraphs == expected("de_rheinpost")
    assert page.meta["author"] == "Jörg Baumgärtner"


# Properties: never raises on HTML-ish text; idempotent on its own output.

_TAGS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div class='share'>",
        "</div>",
        "<br>",
        "<li>",
        "<table><tr><td>",
        "</td>",
        "<script>",
        "</script>",
        "<h2>",
        "</h2>",
        "<a href='/x'>",
        "</a>",
        "<!--",
        "-->",
        "&amp;",
        "<html>",
        "<!doctype html>",
        "<body>",
        "<",
        ">",
        "&#0;",
        "<figcaption>",
        "<img alt='q'>",
    ]
)
_HTMLISH = st.lists(st.one_of(_TAGS, st.text(max_size=30)), max_size=40).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HTMLISH, st.sampled_from(["main", "all"]))
def test_never_raises_and_idempotent(markup: str, mode: str) -> None:
    doc = run(html_doc(markup), extract=mode)
    if doc.dropped is not None:
        return
    assert all(p.strip() for p in doc.paragraphs)
    assert all("\n\n" not in p for p in doc.paragraphs)
    converted = list(doc.paragraphs)
    assert run(doc, extract=mode).paragraphs == converted  # the same document: no second pass
    again = Document.from_text("again", doc.text, format="jsonl")
    before = list(again.paragraphs)
    out = run(again, extract=mode)
    if looks_like_html(doc.text):
        return  # text that itself spells out markup (escaped &lt;p&gt;) is HTML-ish again
    assert out.paragraphs == before and not out.edits


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_plain_unicode_never_raises(text: str) -> None:
    doc = Document.from_text("u", text)
    before = list(doc.paragraphs)
    out = run(doc)
    if not looks_like_html(text):
        assert out.paragraphs == before


def _eval_module():  # type: ignore[no-untyped-def]
    """Import scripts/eval_html.py (scripts/ is not a package)."""
    import importlib.util

    path = Path(__file__).parent.parent / "scripts" / "eval_html.py"
    spec = importlib.util.spec_from_file_location("eval_html", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_eval_metric_matches_the_benchmark_definition() -> None:
    ev = _eval_module()
    truth = {"a": "one two three four five six", "b": "alpha beta gamma delta"}
    assert ev.score(truth, dict(truth))["f1"] == 1.0
    # Page a: 3 shingles, predicted 2 of them plus 1 extra; page b: nothing predicted.
    pred = {"a": "one two three four five zzz", "b": ""}
    result = ev.score(truth, pred)
    # a: tp=2 (one..four, two..five), fp=1, fn=1 -> p=r=2/3; b: recall 0, no precision term
    assert result["precision"] == pytest.approx(2 / 3)
    assert result["recall"] == pytest.approx((2 / 3 + 0) / 2)
    assert result["empty_pct"] == 50.0


def test_benchmark_is_stored_offline() -> None:
    bench = Path(__file__).parent.parent / "benchmarks" / "article-extraction-benchmark"
    pages = list((bench / "html").glob("*.html.gz"))
    truth = json.loads((bench / "ground-truth.json").read_text(encoding="utf-8"))
    assert len(pages) == len(truth) == 181
    assert "MIT License" in (bench / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Hello <b>world</b>, this is short.</p>",
        "<html><body><p>Hello <b>world</b>, this is short.</p><p>Second one.</p></body></html>",
        "<div>Menu</div><p>Hello <b>world</b>, this is short.</p>",
    ],
)
def test_inline_tags_never_split_a_paragraph_on_short_pages(markup: str) -> None:
    """trafilatura's baseline fallback breaks lines at inline tags; we must not."""
    doc = Document(id="a", paragraphs=[markup], raw=markup, format="html")
    (out,) = strip_html([doc])
    assert "Hello world, this is short." in out.paragraphs


@pytest.mark.parametrize(
    "attrs",
    [
        " ".join(f"a{i}" for i in range(30_000)),  # libxml2: 200,000 of them took 200 s
        " ".join(f'a{i}=">"' for i in range(30_000)),  # ">" inside quotes: no long run
        " ".join(f"<a{i}" for i in range(30_000)),  # "<" inside a tag: an attribute name
    ],
)
def test_a_tag_with_a_flood_of_attributes_loses_them_before_parsing(attrs: str) -> None:
    from cleanup.extract.parse import parse_html

    page = f'<html><body><p class="lead">Kept.</p><p {attrs}>Flooded but kept.</p></body></html>'
    tree = parse_html(page)
    first, flooded = tree.body
    assert dict(first.attrib) == {"class": "lead"} and first.text == "Kept."
    assert dict(flooded.attrib) == {} and flooded.text == "Flooded but kept."
    long_value = "x" * 50_000  # one long quoted value is one attribute: kept
    assert parse_html(f'<p title="{long_value}">Hi.</p>').body[0].get("title") == long_value
