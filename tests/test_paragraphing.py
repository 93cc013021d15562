"""Where paragraphs end: every kind of line end splits as "\n" does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.paragraphing import split_paragraphs

LINE_ENDS = ["\r", "\r\n", "\r\r\n", "\x85", "\u2028"]


@settings(max_examples=300)
@given(
    st.lists(st.text(alphabet="ab \t\u00a0\u2019", min_size=1, max_size=8), max_size=8),
    st.data(),
)
def test_any_line_end_splits_as_newline_does(lines: list[str], data: st.DataObject) -> None:
    """Lines of one character or more: "\r" then an empty line's "\n" is one "\r\n"."""
    ends = [data.draw(st.sampled_from(["\n", *LINE_ENDS])) for _ in lines]
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    assert split_paragraphs(text) == split_paragraphs("".join(line + "\n" for line in lines))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("first\rsecond\r\rthird", (["first\nsecond", "third"], "\n\n")),  # classic Mac OS
        ("one\u2029two", (["one", "two"], "\n\n")),  # PARAGRAPH SEPARATOR
        ("a\nb\u2029c", (["a\nb", "c"], "\n\n")),
        ("x\u2028y\x85z", (["x", "y", "z"], "\n")),
        ("l1\r\r\nl2\r\nl3", (["l1", "l2", "l3"], "\n")),  # CR CR LF: one line end
    ],
)
def test_other_line_ends(text: str, expected: tuple[list[str], str]) -> None:
    assert split_paragraphs(text) == expected


def test_a_classic_mac_text_loses_its_repeated_paragraph(tmp_path: Path) -> None:
    """Read as one paragraph before, its repeat could not be found."""
    para = "The council met on Tuesday night to discuss the new budget for the town."
    src = tmp_path / "mac.txt"
    src.write_bytes(f"{para}\r\rSomething else was said at the meeting.\r\r{para}\r".encode())
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["run", "-q", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["text"] == f"{para}\n\nSomething else was said at the meeting."
