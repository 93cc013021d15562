"""Text to paragraphs: the project's one rule for where a paragraph ends (used by every
reader through `Document.from_text`, and by tests that compare texts paragraph by paragraph)."""

from __future__ import annotations

import re

_BLANK_LINE = re.compile(r"\n(?:[ \t\r\f\v\u00a0]*\n)+")
# Line ends other than "\n" and "\r\n": a lone "\r" (classic Mac OS text), NEL and U+2028
# end a line, U+2029 (PARAGRAPH SEPARATOR) a paragraph. Without this, a text written with any
# of them was one paragraph, which no paragraph rule or in-document dedup could take apart.
_OTHER_BREAKS = str.maketrans({"\r": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n\n"})
_CRS_LF = re.compile(r"\r+\n")  # "\r\r\n" (text converted twice) ends one line, as "\r\n" does


def split_paragraphs(text: str) -> tuple[list[str], str]:
    """Split text into paragraphs by the project's one rule.

    Lines end at "\n", "\r\n" (any "\r"s before "\n"), a lone "\r", NEL or U+2028, and
    U+2029 makes a blank line.
    Text with at least one blank line: the blank-line-separated blocks. Text without
    any blank line: one paragraph per line. Returns the paragraphs (empty ones
    dropped) and the separator convention to write them back with.
    """
    if "\r" in text:  # a one-character search is several times faster than the pair's
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            text = _CRS_LF.sub("\n", text).translate(_OTHER_BREAKS)
    if not text.isascii() and ("\u2028" in text or "\u2029" in text or "\x85" in text):
        text = text.translate(_OTHER_BREAKS)
    if _BLANK_LINE.search(text):
        blocks = _BLANK_LINE.split(text)
        return [b.strip("\n") for b in blocks if b.strip()], "\n\n"
    return [line for line in text.split("\n") if line.strip()], "\n"
