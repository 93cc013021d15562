"""site.domain caches hosts by the URL's scheme and authority: the same hosts as urlsplit."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.dedup.site import domain


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
