"""Write tests/data/warc/sample.warc.gz: the two fixture articles as archived HTML responses.

Why: the README's WARC example and tests/test_warc.py need a small archive that shows every
kind of record `cleanup` reads, skips and counts. It is built, not downloaded, and the same
bytes come out on every run (fixed record ids and dates): rerun this script after changing
the fixtures, and review the diff. It is not under fixtures/, which the quickstart and the
golden tests read as a folder.

    python scripts/make_sample_warc.py [OUT.warc.gz]
"""

from __future__ import annotations

import html
import io
import sys
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

ROOT = Path(__file__).resolve().parent.parent


def article(text: str) -> bytes:
    """Return an HTML page of a fixture text: its first line the title, each line a paragraph."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    paragraphs = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(lines[0][:80])}</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article>\n{paragraphs}\n</article>"
        "<footer>Copyright News Example</footer></body></html>"
    ).encode()


def main(out: Path) -> None:
    """Write the archive: two pages, an older capture, and one record of each skipped kind."""
    cnn = (ROOT / "fixtures" / "cnn_sessions.txt").read_text(encoding="utf-8")
    dailymail = (ROOT / "fixtures" / "dailymail_sessions.txt").read_text(encoding="utf-8")
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    number = 0

    def put(kind: str, uri: str, date: str, body: bytes, status: str, ctype: str) -> None:
        nonlocal number
        number += 1
        headers = {
            "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{number:012d}>",
            "WARC-Date": date,
        }
        if kind == "revisit":
            record = writer.create_revisit_record(
                uri, "sha1:AAAA", uri, "2017-03-02T09:00:00Z", warc_headers_dict=headers
            )
        else:
            http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                uri, kind, payload=io.BytesIO(body), http_headers=http, warc_headers_dict=headers
            )
        writer.write_record(record)

    html_type = "text/html; charset=utf-8"
    earlier = article(cnn.split("\n", 1)[0] + "\nAn earlier version of the story.")
    put("response", "https://news.example/cnn", "2017-03-01T09:00:00Z",
        earlier, "200 OK", html_type)  # fmt: skip
    put("response", "https://news.example/cnn", "2017-03-02T09:00:00Z",
        article(cnn), "200 OK", html_type)  # fmt: skip
    put("response", "https://news.example/logo.png", "2017-03-02T09:00:01Z",
        b"\x89PNG\r\n\x1a\n", "200 OK", "image/png")  # fmt: skip
    put("response", "https://news.example/old-page", "2017-03-02T09:00:02Z",
        b"<html><body><p>Not found</p></body></html>", "404 Not Found", html_type)  # fmt: skip
    put("revisit", "https://news.example/cnn?utm=x", "2017-03-02T09:00:03Z",
        b"", "200 OK", html_type)  # fmt: skip
    put("response", "https://news.example/dailymail", "2017-03-02T09:00:04Z",
        article(dailymail), "200 OK", html_type)  # fmt: skip
    out.write_bytes(buf.getvalue())


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else ROOT / "tests" / "data" / "warc" / "sample.warc.gz"
    )
