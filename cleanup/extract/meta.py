"""Read a page's metadata (title, author, date, canonical URL, language) from its markup.

Only markup conventions are used (Open Graph, schema.org itemprops, <link rel>, <time>,
<html lang>), never words of one language, and each lookup is one XPath: cheap next to
the parse.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import lxml.html

_SPACE = re.compile(r"\s+")
_NOT_SPACE = re.compile(r"\S")
# re.sub keeps every piece of its result in a list before joining them: on a text of
# millions of words (one huge text node) that list cost ~9x the text. Longer texts are
# collapsed a chunk at a time, each cut before a character no run holds.
COLLAPSE_CHUNK = 1 << 20

_TITLE = (
    "//meta[@property='og:title']/@content",
    "//meta[@name='twitter:title']/@content",
    "//title//text()",
    "//h1",
)
_AUTHOR = (
    "//meta[@name='author']/@content",
    "//meta[@property='article:author']/@content",
    "//meta[@name='dc.creator' or @name='DC.creator' or @name='sailthru.author']/@content",
    "//*[@itemprop='author']//*[@itemprop='name']",
    "//*[@itemprop='author']",
    "//*[@rel='author']",
    # hCard microformat (WordPress themes): <span class="author vcard"><a class="fn">
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' author ')]"
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' fn ')]",
)
_DATE = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "//meta[@name='date' or @name='pubdate' or @name='publishdate' or @name='DC.date'"
    " or @name='dc.date' or @name='DC.date.issued' or @name='sailthru.date']/@content",
    "//time[@datetime]/@datetime",
)
_CANONICAL = (
    "//link[@rel='canonical']/@href",
    "//meta[@property='og:url']/@content",
)
_LANG = (
    "/html/@lang",
    "/html/@xml:lang",
    "//meta[@http-equiv='content-language' or @http-equiv='Content-Language']/@content",
    "//meta[@property='og:locale']/@content",
)


def clean(text: str) -> str:
    """Collapse whitespace and trim, as metadata values come with markup indentation."""
    return _SPACE.sub(" ", text).strip()


# What a query needs on the page to answer anything: an element of a tag ("meta") or an
# attribute ("@itemprop") somewhere. Why: each "//" query with a test walks every element
# (0.16-0.75 s each on a page of 1,000,000 <p>s, 5 s for all); whether the tag is there at
# all is one lookup in the parsed document's names, an attribute one walk of attributes.
_NEEDS = re.compile(r"^//(meta|link|time|title|h1)\b|^//\*\[.*?@(itemprop|rel|class)\b")


class _Present:
    """Tell, once per tag or attribute name, whether a page holds any."""

    def __init__(self, tree: lxml.html.HtmlElement) -> None:
        self.tree = tree
        self.known: dict[str, bool] = {}

    def allows(self, query: str) -> bool:
        """Tell whether `query` may have an answer (False only when it surely has none)."""
        found = _NEEDS.match(query)
        if found is None:
            return True
        name = found.group(1) or "@" + found.group(2)
        seen = self.known.get(name)
        if seen is None:
            if name.startswith("@"):
                seen = bool(self.tree.xpath(f"boolean(/descendant::*/{name})"))
            else:
                seen = next(self.tree.iter(name), None) is not None
            self.known[name] = seen
        return seen


def _first(
    tree: lxml.html.HtmlElement,
    queries: tuple[str, ...],
    limit: int = 300,
    present: _Present | None = None,
) -> str:
    """Return the first non-empty answer among `queries`, in order of trust."""
    present = present or _Present(tree)
    for query in queries:
        if not present.allows(query):
            continue
        for hit in tree.xpath(query):
            value = hit.text_content() if isinstance(hit, lxml.html.HtmlElement) else str(hit)
            value = clean(value)
            if value and len(value) <= limit:
                return value
    return ""


def read_meta(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """Return the page's metadata; keys are present only when the page has a value."""
    meta: dict[str, Any] = {}
    present = _Present(tree)
    for key, queries in (
        ("title", _TITLE),
        ("author", _AUTHOR),
        ("date", _DATE),
        ("canonical_url", _CANONICAL),
        ("lang", _LANG),
    ):
        value = _first(tree, queries, 2000 if key == "canonical_url" else 300, present)
        if key == "author" and value.startswith(("http://", "https://", "/")):
            value = _linked_name(tree, value)  # article:author is often a profile URL
        if key == "lang":
            value = value.replace("_", "-").split(",")[0].strip()
        if value:
            meta[key] = value
    return meta


def _linked_name(tree: lxml.html.HtmlElement, url: str) -> str:
    """Return the text of the page's link to an author's profile URL (the author's name)."""
    path = urlsplit(url).path.rstrip("/")
    if not path:
        return ""
    for link in tree.iter("a"):
        href = link.get("href") or ""
        if href and urlsplit(href).path.rstrip("/") == path:
            name = clean(link.text_content())
            if 0 < len(name) <= 100:
                return name
    return ""


def title_variants(tree: lxml.html.HtmlElement) -> set[str]:
    """Return every form the headline takes on the page, folded for comparison.

    The body of an article does not repeat its headline; extractors often keep it as a
    first heading. Any of og:title, <title> (and its parts around a " | " or " - "
    separator) and the <h1> texts identifies it, in any language.
    """
    found: set[str] = set()
    present = _Present(tree)
    for query in ("//meta[@property='og:title']/@content", "//title//text()", "//h1"):
        if not present.allows(query):
            continue
        for hit in tree.xpath(query):
            value = hit.text_content() if isinstance(hit, lxml.html.HtmlElement) else str(hit)
            value = fold(value)
            if value:
                found.add(value)
                for part in re.split(r"\s[|\-–—:·»]\s", value):
                    if len(part) >= 20:
                        found.add(part.strip())
    return found


def fold(text: str) -> str:
    """Fold text for equality tests: case, whitespace and quote forms do not matter."""
    text = text.casefold().translate(_QUOTES)
    return collapse(_SPACE, _NOT_SPACE, text).strip()


def collapse(runs: re.Pattern[str], cut: re.Pattern[str], text: str) -> str:
    """Return `runs.sub(" ", text)`, a chunk at a time when the text is long.

    `cut` matches a character that no match of `runs` holds: chunks end before one.
    """
    if len(text) <= COLLAPSE_CHUNK:
        return runs.sub(" ", text)
    out: list[str] = []
    start = 0
    while start < len(text):
        found = cut.search(text, start + COLLAPSE_CHUNK)
        end = found.start() if found is not None else len(text)
        out.append(runs.sub(" ", text[start:end]))
        start = end
    return "".join(out)


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"'})
