"""Guess the encoding of bytes that are neither UTF-8 nor marked by a byte-order mark.

Kept apart from the readers because detection needs charset_normalizer, which `decode`
(cleanup/io/readers.py) imports only on the first such input: a run over UTF-8 input,
every JSONL corpus written by a modern tool, never loads it.
"""

from __future__ import annotations

import charset_normalizer

# The web's most common legacy encodings, most common first: among detections that explain
# the bytes about equally well, the likelier one wins (browsers default to windows-1252 too).
_PREFERRED = ("cp1252", "cp1251", "gb18030", "gbk", "shift_jis", "euc_jp", "euc_kr", "big5",
              "cp1250", "cp1256", "iso8859_2", "cp1253", "cp1254", "cp1255", "koi8_r")  # fmt: skip


def detect(data: bytes) -> charset_normalizer.CharsetMatch | None:
    """Return the likeliest decoding of `data`: detection, with a prior for common encodings."""
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    close = {m.encoding: m for m in matches if m.chaos <= best.chaos + 0.05}
    for encoding in _PREFERRED:
        if encoding in close:
            return close[encoding]
    return best
