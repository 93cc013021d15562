"""Which site a document belongs to, for site-boilerplate counts."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from cleanup.document import Document

# Where the authority after "://" ends: what urlsplit ends the netloc at.
_NETLOC_END = re.compile("[/?#]")


def domain(url: str) -> str:
    """Return the host of a URL without a leading "www.", or "" if it is not a URL.

    Why the cache: urlsplit costs a few microseconds a document, and the host depends only
    on the URL up to the end of its authority (scheme, "://", netloc), which the documents
    of one site share. urlsplit finds that end at the first "/", "?" or "#" after the "//"
    (it removes tabs and line breaks first, which creates none of them), so the prefix up
    to the first of those after "://" has the URL's own scheme and netloc.
    """
    start = url.find("://")
    if start < 0:
        return ""
    stripped = url.strip()  # before the cut: a space that ends the netloc stays in it
    if stripped is not url:  # (strip returns the very string when there is nothing to strip)
        url = stripped
        start = url.find("://")
    # Most URLs: the first "/" after "://" ends the authority (no "?" or "#" before it).
    cut = url.find("/", start + 3)
    head = url if cut < 0 else url[:cut]
    if "?" in head or "#" in head:
        end = _NETLOC_END.search(url, start + 3)
        head = url if end is None else url[: end.start()]
    return _domain(head)


@lru_cache(maxsize=4096)
def _domain(url: str) -> str:
    """Return the host of `url` without a leading "www." ("" if urlsplit refuses it)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def site_of(doc: Document, site_field: str = "") -> str:
    """Return the site of a document.

    In order: the JSONL field named by `site_field`; the domain of the document's URL (a
    `url` field, an HTML page's canonical URL, or a source that is a URL); the first folder
    under the input root (the reader's `doc.site`); else "" (all such documents share one
    site, which is right for a single scrape piped through stdin).
    """
    if site_field:
        value = doc.fields.get(site_field)
        if value not in (None, ""):
            return str(value)
    url = doc.fields.get("url")  # most documents: one look-up, no tuple of candidates
    if isinstance(url, str) and url:
        host = domain(url)
        if host:
            return host
    for candidate in (doc.meta.get("canonical_url"), doc.source):
        if isinstance(candidate, str) and candidate:
            host = domain(candidate)
            if host:
                return host
    return doc.site or ""
