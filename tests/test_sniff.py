"""The HTML sniff: which JSONL records and text files strip-html converts (issue #15)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.extract import looks_like_html

TWO_PARAGRAPHS = "<p>Hello world, this is a page.</p><p>Second paragraph here.</p>"


@pytest.mark.parametrize(
    "text",
    [
        TWO_PARAGRAPHS,
        "  \n<div class='body'>One block of text</div>",
        "<!-- from the API --><p>First.</p>\n<p>Second.</p>",
        "<section><h2>Título</h2><p>Un párrafo.</p></section>",
        "<ul><li>один</li><li>два</li></ul>",
        "<p>one<p>two",  # unclosed paragraphs are still markup
        "Intro text <p>A long first paragraph of the article body.</p><p>And a second one.</p>",
        "<P>UPPER CASE TAGS</P><P>STILL HTML</P>",
        "<!DOCTYPE html><title>x</title>",
    ],
)
def test_html_fragments_are_sniffed(text: str) -> None:
    assert looks_like_html(text)


@pytest.mark.parametrize(
    "text",
    [
        "A stray < in the text, and 3 < 4.",
        "a < b and c > d",
        "if a<b and b>c then a<c",
        "Use the <p> tag for paragraphs and <br> for breaks.",
        "Use the <p> tag for paragraphs, <div> for blocks and <li> for items.",
        "Write <p>one</p> <p>two</p> <div>three</div> to get three blocks.",
        "In a template, write <ul><li>first</li><li>second</li></ul> to make a list.",
        "Mail me at <me@x.org> or <you@y.org>, or write to <p@q.org>.",
        "<me@x.org> wrote: see <https://x.org/p> and <div@y.org>.",
        "<b>Note:</b> bold is inline, so one <b> pair is not a page.",
        "Generics: List<String> and Map<K, V> in Java; vector<int> in C++.",
        "<3 <3 <3 love this",
    ],
)
def test_plain_text_mentioning_markup_stays_plain(text: str) -> None:
    assert not looks_like_html(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="<"), max_size=500))
def test_text_without_a_less_than_sign_is_never_html(text: str) -> None:
    assert not looks_like_html(text)


_WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>&"),
    min_size=1,
    max_size=60,
).filter(str.strip)


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, min_size=2, max_size=6), st.sampled_from(["p", "div", "li", "h2"]))
def test_paragraphs_in_block_tags_are_html_in_any_script(texts: list[str], tag: str) -> None:
    assert looks_like_html("".join(f"<{tag}>{t}</{tag}>" for t in texts))


@settings(max_examples=150, deadline=None)
@given(_WORDS, st.sampled_from(["<p>", "<div>", "<br>", "</p>", "<li>", "<b>", "<a href='x'>"]))
def test_prose_quoting_one_tag_stays_plain(prose: str, tag: str) -> None:
    assert not looks_like_html(f"{prose} {tag} {prose}")


def _pipe_strip_html(records: list[dict[str, str]]) -> list[dict[str, object]]:
    """Run `cleanup pipe strip-html` on JSONL records; return the records written."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    result = CliRunner().invoke(cli, ["pipe", "-q", "strip-html", "--extract", "all"], input=data)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_cli_converts_a_two_paragraph_record_and_leaves_prose_alone() -> None:
    prose = "Use the <p> tag for paragraphs; a < b and c > d; mail <me@x.org>."
    out = _pipe_strip_html([{"id": "a", "text": TWO_PARAGRAPHS}, {"id": "b", "text": prose}])
    assert out[0]["text"] == "Hello world, this is a page.\nSecond paragraph here."
    assert out[1]["text"] == prose
