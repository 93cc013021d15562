"""Collapsing whitespace a chunk at a time (meta.collapse) gives what one re.sub gives.

Long texts (one huge text node) are collapsed in chunks so re.sub's list of pieces stays
small; the chunk size is shrunk here so short texts cross many chunk boundaries.
"""

from __future__ import annotations

import random
import re

import pytest

from cleanup.extract import blocks, meta
from cleanup.extract.page import extract_page

_PIECES = ["a", "bc", " ", "  ", "\t", "\n\n", "\xa0", "\u2003", "\r\n ", "ß", "“x”", "\x0b", "."]


def _texts(count: int) -> list[str]:
    rng = random.Random(7)
    return ["".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 80))) for _ in range(count)]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_collapse_in_chunks_equals_one_sub(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(meta, "COLLAPSE_CHUNK", chunk)
    for text in _texts(400):
        assert blocks._clean(text) == re.sub(r"[ \t\n\r\f\v]+", " ", text).strip()
        folded = text.casefold().translate(meta._QUOTES)
        assert meta.fold(text) == re.sub(r"\s+", " ", folded).strip()


def test_page_of_one_long_text_node_extracts_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    words = " ".join(f"word{i % 97},  and\tmore\n text" for i in range(3000))
    page = f"<html><head><title>T</title></head><body><main><p>{words}</p></main></body></html>"
    whole = extract_page(page)
    monkeypatch.setattr(meta, "COLLAPSE_CHUNK", 1000)
    chunked = extract_page(page)
    assert chunked.paragraphs == whole.paragraphs
    assert chunked.paragraphs == [" ".join(words.split())]
