"""Tests of the one HTML walker (cleanup.extract.walk) and the one home of the tag sets."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.etree as etree
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.extract.parse import parse_html
from cleanup.extract.walk import walk

CLEANUP = Path(__file__).resolve().parent.parent / "cleanup"


def _text(root: etree._Element, skip: Callable[[Any], bool] | None = None) -> str:
    """Return the text the walk reads: each element's text on start, tails after nodes."""
    pieces = []
    for event, node in walk(root, skip):
        if event == "start" and node.text:
            pieces.append(node.text)
        elif event == "tail":
            pieces.append(node.tail)
    return "".join(pieces)


def test_events_come_in_document_order_and_skipped_elements_keep_their_tails() -> None:
    root = parse_html("<div>a<p>b<i>c</i>d</p>e<script>x</script>f<!-- c -->g</div>")
    div = root.find(".//div")
    events = [
        (event, node.tag if isinstance(node.tag, str) else "#other")
        for event, node in walk(div, lambda el: el.tag == "script")
    ]
    assert events == [
        ("start", "div"),
        ("start", "p"),
        ("start", "i"),
        ("end", "i"),
        ("tail", "i"),
        ("end", "p"),
        ("tail", "p"),
        ("tail", "script"),
        ("end", "div"),
    ]
    assert _text(div, lambda el: el.tag == "script") == "abcdefg"


def test_the_root_is_never_skipped_and_its_tail_is_not_read() -> None:
    tree = etree.fromstring("<r><a>in</a>tail-of-a</r>")
    a = tree[0]
    assert [e for e, _ in walk(a, lambda el: True)] == ["start", "end"]
    assert _text(a) == "in"


def test_the_walk_leaves_the_tree_as_it_found_it() -> None:
    markup = "<html><body><nav>n</nav><p class='x'>a<b>b</b></p></body></html>"
    root = parse_html(markup)
    before = etree.tostring(root)
    list(walk(root, lambda el: el.tag == "nav"))
    assert etree.tostring(root) == before


def test_nesting_deeper_than_pythons_stack_is_walked() -> None:
    root = etree.Element("div")
    node = root
    for _ in range(20_000):
        node = etree.SubElement(node, "div")
    node.text = "deep"
    assert _text(root) == "deep"


_TAGS = ["div", "p", "b", "a", "span", "script", "li"]
_fragments = st.recursive(
    st.text(alphabet="xy <>&", max_size=4).map(
        lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    ),
    lambda inner: st.builds(
        lambda tag, parts: f"<{tag}>{''.join(parts)}</{tag}>",
        st.sampled_from(_TAGS),
        st.lists(inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_fragments, min_size=1, max_size=4))
def test_walked_text_is_the_text_of_the_tree_minus_skipped_subtrees(parts: list[str]) -> None:
    root = parse_html(f"<html><body>{''.join(parts)}</body></html>")
    assert _text(root) == etree.tostring(root, method="text", encoding="unicode", with_tail=False)
    skipped = _text(root, lambda el: el.tag == "script")
    for script in list(root.iter("script")):
        script.drop_tree()  # keeps the tail
    assert skipped == etree.tostring(root, method="text", encoding="unicode", with_tail=False)


def _module_level_tag_sets(path: Path) -> list[str]:
    """Return the names of module-level assignments that look like tag sets (`*_TAGS`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id.lstrip("_").endswith("TAGS"):
                names.append(target.id)
    return names


def test_tag_sets_live_in_one_module() -> None:
    home = CLEANUP / "extract" / "tags.py"
    elsewhere = {
        str(path.relative_to(CLEANUP)): names
        for path in CLEANUP.rglob("*.py")
        if path != home and (names := _module_level_tag_sets(path))
    }
    assert elsewhere == {}
    assert "BLOCK_TAGS" in _module_level_tag_sets(home)


def test_only_the_walker_walks_html_trees() -> None:
    walkers = sorted(
        str(path.relative_to(CLEANUP))
        for path in CLEANUP.rglob("*.py")
        if "iterwalk(" in path.read_text(encoding="utf-8")
    )
    assert walkers == ["extract/walk.py"]
