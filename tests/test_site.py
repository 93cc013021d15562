"""site.domain caches hosts by the URL's scheme and authority: the same hosts as urlsplit;
site_of finds the sites it found before."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.site import domain, site_of
from cleanup.document import Document


def reference(url: str) -> str:
    """The earlier domain(): urlsplit of every whole URL."""
    if "://" not in url:
        return ""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


PIECES = st.sampled_from(
    ["http", "HTTPS", "a", "1", "+", ":", "//", "://", "/", "?", "#", "@", "[", "]", "::1",
     "www.", "Example.COM", "host", ":8080", " ", "\t", "\n", "\r", "\x00", "\x1f", "é", "ｅ",
     "\u2100", "user:pw@", ".", "-", "%2F"]
)  # fmt: skip
URLS = st.one_of(st.lists(PIECES, max_size=12).map("".join), st.text(max_size=30))


@settings(max_examples=2000, deadline=None)
@given(URLS, URLS)
def test_domain_is_urlsplits_host(url: str, other: str) -> None:
    assert domain(url) == reference(url)
    # The cache is keyed by the URL up to its authority: a second URL sharing it, or not,
    # gets its own host too.
    assert domain(url + other) == reference(url + other)
    assert domain(url) == reference(url)


def site_of_reference(doc: Document, site_field: str = "") -> str:
    """site_of as at b144f35 (its candidates in one tuple)."""
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


SOME_URLS = st.one_of(
    st.sampled_from(["https://a.example/x", "http://www.b.org?q", "c.net/x", "http://"]), URLS
)
VALUES = st.one_of(st.none(), st.just(""), st.just(3), st.just(["http://x.org"]), SOME_URLS)


@settings(max_examples=300, deadline=None)
@given(
    VALUES, VALUES, SOME_URLS, st.sampled_from(["", "folder"]), st.sampled_from(["", "url", "s"])
)
def test_site_of_is_the_earlier_one(
    url: object, canonical: object, source: str, folder: str, site_field: str
) -> None:
    doc = Document(id="d", paragraphs=[], source=source, site=folder)
    for key, value in (("url", url), ("s", canonical)):
        if value is not None:
            doc.fields[key] = value
    if canonical is not None:
        doc.meta["canonical_url"] = canonical
    assert site_of(doc, site_field) == site_of_reference(doc, site_field)


def test_examples() -> None:
    for url in (
        "https://www.example.com/a?b#c",
        "http://host /path",  # a space inside the netloc stays (urlsplit keeps it)
        "  http://Host:80/x  ",
        "http:\n//host/x",
        "a:b://host/x",
        "http://[::1]/x",
        "http://[::1/x",
        "http://ex\tample.com?q",
        "http://ex\u2100ample.com/",
    ):
        assert domain(url) == reference(url), url
