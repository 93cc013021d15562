"""Tests of the report's view of a raw HTML page (`html_paragraphs`): the page as read.

The view parses and walks the page with strip-html's parser and walker, so its paragraphs
keep the page's text order and its block boundaries, whatever the page's comments,
scripts, nesting depth or XML declaration.
"""

from __future__ import annotations

from cleanup.extract import extract_page
from cleanup.report.corpora import html_paragraphs


def test_text_after_a_removed_script_stays_in_place() -> None:
    markup = "<p>When <script>var x;</script>the president<b> spoke</b>, markets fell.</p>"
    assert html_paragraphs(markup) == ["When the president spoke, markets fell."]


def test_text_after_a_comment_stays_in_place() -> None:
    markup = "<p>Wednesday<!-- -->, <span>November 20</span></p><p>By <!-- x --><a>Ana</a></p>"
    assert html_paragraphs(markup) == ["Wednesday, November 20", "By Ana"]


def test_blocks_end_where_strip_html_ends_them() -> None:
    markup = (
        "<html><body><center>Centered</center>loose"
        "<fieldset><legend>Legend</legend>field</fieldset></body></html>"
    )
    extracted = extract_page(markup, "all").paragraphs
    assert extracted == ["Centered", "loose", "Legend", "field"]
    assert html_paragraphs(markup) == extracted


def test_navigation_forms_and_cells_are_blocks_of_their_own() -> None:
    markup = (
        "<body>intro<nav><a>Home</a> <a>About</a></nav><form>Sign up</form>"
        "<table><tr><td>a</td><td>b</td></tr></table>outro</body>"
    )
    assert html_paragraphs(markup) == ["intro", "Home About", "Sign up", "a", "b", "outro"]


def test_a_page_with_an_xml_declaration_is_read_as_html() -> None:
    markup = "<?xml version='1.0' encoding='utf-8'?><html><body><p>Hello</p></body></html>"
    assert html_paragraphs(markup) == ["Hello"]


def test_text_nested_deeper_than_libxml2_allows_is_kept() -> None:
    markup = "<p>top</p>" + "<div>" * 600 + "deep" + "</div>" * 600 + "<p>after</p>"
    assert html_paragraphs(markup) == ["top", "deep", "after"]


def test_invisible_elements_and_line_breaks() -> None:
    markup = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<p>one<br>two</p><noscript>no</noscript><template>t</template><p>three</p></body></html>"
    )
    assert html_paragraphs(markup) == ["one", "two", "three"]


def test_text_that_is_not_html_shows_as_its_lines() -> None:
    assert html_paragraphs("\x00\x01\x02 bin\x03\x04\n\nmore\x05\x06\x07\n") == [
        "\x00\x01\x02 bin\x03\x04",
        "more\x05\x06\x07",
    ]
    assert html_paragraphs(" \n ") == []
