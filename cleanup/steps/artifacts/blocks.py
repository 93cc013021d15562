"""Recognise blocks: a header line ("Story highlights") and the short lines that follow it.

Used by strip-artifacts for `drop-block` and `meta-block` rules: what belongs to a block is a
matter of shape (short, single-sentence, uniformly punctuated lines), not of the words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BULLET_MARK = re.compile(r"^[\s•·▪◦‣∙*+>-]+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s*$")
_INNER_SENTENCE = re.compile(r"[a-zß-ÿ]{3}[.!?][\"'”’»)]*\s+[\"'“‘«(]*[A-ZÀ-Þ]")
_QUOTE_START = re.compile(r"^[\"'“”‘’«„‚‹›»]")


@dataclass(frozen=True)
class BlockShape:
    """Define the short lines that follow a block header (a "Story highlights" list).

    A line belongs to the block while it has at most `max_words` words, does not open with a
    quotation mark (a quote is body text), is a single sentence, and ends the way the block's
    first line ends: with sentence punctuation or without it (bullet lists are uniform, so an
    unpunctuated list followed by a punctuated paragraph has ended). At most `max_lines` lines.
    """

    max_words: int = 30
    max_lines: int = 5

    def takes(self, line: str, first: str | None) -> bool:
        """Tell whether `line` continues a block whose first line was `first` (None: none yet)."""
        text = _BULLET_MARK.sub("", line).strip()
        if not text or len(text.split()) > self.max_words or _QUOTE_START.match(text):
            return False
        if _INNER_SENTENCE.search(text.rstrip()):
            return False
        if first is None:
            return True
        return bool(_SENTENCE_END.search(text)) == bool(_SENTENCE_END.search(first))


def bullet_text(line: str) -> str:
    """Return a block line without its bullet mark, as it goes into metadata."""
    return _BULLET_MARK.sub("", line).strip()
