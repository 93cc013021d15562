"""Which site a document belongs to, for site-boilerplate counts."""

from __future__ import annotations

from urllib.parse import urlsplit

from cleanup.document import Document


def domain(url: str) -> str:
    """Return the host of a URL without a leading "www.", or "" if it is not a URL."""
    if "://" not in url:
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
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
    for candidate in (doc.fields.get("url"), doc.meta.get("canonical_url"), doc.source):
        if isinstance(candidate, str) and candidate:
            host = domain(candidate)
            if host:
                return host
    return doc.site or ""
