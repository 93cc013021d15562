"""Parse HTML with lxml robustly: any text in, a tree out, or a clear error.

lxml (libxml2) parses at well over 100 MB/s against BeautifulSoup's ~5 MB/s, and recovers
from unclosed and stray tags the same way browsers roughly do. Its one weakness is depth:
libxml2 stops at 256 levels (2,048 with huge_tree) and silently drops everything after, so
a page nested deeper is flattened first and parsed again.
"""

from __future__ import annotations

import re

import lxml.etree as etree
import lxml.html

from cleanup.extract.sniff import SNIFF_BYTES, looks_like_html
from cleanup.extract.tags import NESTING_TAGS

# Flattening the tags that carry no text of their own but nest keeps all the text.
_NESTING_TAG_RE = re.compile(rf"</?(?:{'|'.join(NESTING_TAGS)})\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]*>")
_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# libxml2 adds each attribute of an element in time growing with those before it: 200,000
# attributes on one tag took 200 s, where a page parses in milliseconds. A tag with at least
# _MANY units (characters, or quoted values after "=", which may hide a ">") loses its
# attributes before parsing. Found in one linear pass (possessive: no backtracking) that
# skips text and shorter tags, run only when cheap searches see a long stretch without ">"
# or a quoted value holding one.
_MANY = 4000
_UNIT = r"""(?:[^>=]|=\s*+"[^"]*+"|=\s*+'[^']*+'|=)"""
_SHORT_TAG = rf"<[A-Za-z]{_UNIT}{{0,{_MANY - 1}}}+>"
_TO_LONG_TAG = re.compile(
    rf"(?:[^<]++|<(?![A-Za-z])|{_SHORT_TAG})*+(?=<[A-Za-z]{_UNIT}{{{_MANY}}})"
)
_TAG = re.compile(rf"<([A-Za-z][^\s/>=]*+){_UNIT}*+>?")
_LONG_RUN = re.compile(rf">[^>]{{{_MANY}}}")
_GT_QUOTED = re.compile(r"""=\s*+(?:"[^">]*+>|'[^'>]*+>)""")

__all__ = ["UnparseableHTML", "check_not_binary", "looks_like_html", "parse_html"]


class UnparseableHTML(ValueError):
    """Signal that a page cannot be read as HTML (binary data, no document at all)."""


def check_not_binary(text: str) -> None:
    """Raise UnparseableHTML when the text is mostly control bytes (non-HTML data named .html)."""
    head = text[:SNIFF_BYTES]
    if head and len(_BINARY.findall(head)) > 0.1 * len(head):
        raise UnparseableHTML("binary data, not HTML")


def parse_html(text: str) -> lxml.html.HtmlElement:
    """Parse a page into an lxml tree, flattening it first if it nests too deep for libxml2."""
    check_not_binary(text)
    text = _drop_attribute_floods(text)
    tree, too_deep = _parse(text)
    if too_deep:
        tree, too_deep = _parse(_NESTING_TAG_RE.sub("\n", text))
    if too_deep:
        # Still too deep (nested <p> or unknown tags): keep the text, drop every tag.
        flat = "\n".join(_ANY_TAG.split(text))
        tree, _ = _parse(f"<html><body><p>{flat}</p></body></html>")
    return tree


def _drop_attribute_floods(text: str) -> str:
    """Return the page with the attributes of every tag of _MANY units or more removed."""
    if not _may_flood(text):
        return text
    pieces, pos = [], 0
    while (found := _TO_LONG_TAG.match(text, pos)) is not None:
        tag = _TAG.match(text, found.end())  # the lookahead saw "<" and a letter there
        if tag is None:
            break
        pieces += [text[pos : found.end()], f"<{tag.group(1)}>"]
        pos = tag.end()
    return "".join(pieces) + text[pos:] if pieces else text


def _may_flood(text: str) -> bool:
    """Tell whether a tag may hold _MANY units: some stretch of them has no ">", or a quoted
    value holds one (cheap searches; most pages pass both)."""
    if len(text) > _MANY and ">" not in text[:_MANY]:
        return True
    return _LONG_RUN.search(text) is not None or _GT_QUOTED.search(text) is not None


def _parse(text: str) -> tuple[lxml.html.HtmlElement, bool]:
    """Parse once; return the tree and whether libxml2 hit its depth limit."""
    parser = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True, remove_comments=True)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (from a lenient decoder): one U+FFFD each
        data = _SURROGATE.sub("\ufffd", text).encode("utf-8")
    try:
        tree = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise UnparseableHTML(f"no HTML document ({exc})") from None
    too_deep = any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)
    return tree, too_deep
