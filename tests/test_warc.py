"""Tests for WARC and ARC input (cleanup/io/warc.py, cleanup/io/http.py; `cleanup[warc]`)."""

from __future__ import annotations

import gzip as gzip_module
import io
import json
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from fastwarc import Lz4Writer
from helpers import invoke_run as invoke
from helpers import one_line_error
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleanup.cli import cli
from cleanup.io.archive import Stream
from cleanup.io.readers import read_inputs

HTML = Path(__file__).parent / "data" / "html"
PAGES = ["de_rheinpost", "en_dailyherald", "fr_culturemag"]
SAMPLE = Path(__file__).parent / "data" / "warc" / "sample.warc.gz"


@dataclass
class Rec:
    """One record to write: its WARC type, target URI, date, HTTP status and type, body."""

    kind: str
    uri: str
    body: bytes = b""
    date: str = "2024-05-01T12:00:00Z"
    status: int = 200
    ctype: str = "text/html; charset=utf-8"
    http_lines: bytes | None = None  # a raw HTTP header, to write a broken one


def warc_bytes(
    records: list[Rec], gzip: bool, frame: Callable[[bytes], bytes] | None = None
) -> bytes:
    """Return a WARC of `records`, written by warcio's writer (gzip: one member per record).

    `frame` compresses each record on its own (one zstd frame per record, as .warc.zst has).
    """
    whole = io.BytesIO()
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)

    def framed() -> None:
        data = out.getvalue()
        whole.write(frame(data) if frame and data else data)
        out.seek(0)
        out.truncate()

    writer.write_record(writer.create_warcinfo_record("test.warc", {"software": "test"}))
    for rec in records:
        framed()
        headers = {"WARC-Date": rec.date}
        if rec.kind == "response" and rec.http_lines is None:
            http = StatusAndHeaders(
                f"{rec.status} X", [("Content-Type", rec.ctype)], protocol="HTTP/1.1"
            )
            made = writer.create_warc_record(
                rec.uri,
                "response",
                payload=io.BytesIO(rec.body),
                http_headers=http,
                warc_headers_dict=headers,
            )
        elif rec.kind == "response":  # by hand: warcio's writer would mend the header
            out.write(raw_record(rec.uri, rec.date, rec.http_lines + rec.body, gzip))
            continue
        elif rec.kind == "conversion":
            made = writer.create_warc_record(
                rec.uri,
                "conversion",
                payload=io.BytesIO(rec.body),
                warc_content_type="text/plain",
                warc_headers_dict=headers,
            )
        elif rec.kind == "revisit":
            made = writer.create_revisit_record(
                rec.uri, "sha1:AAAA", "http://x/", "2024-01-01T00:00:00Z", warc_headers_dict=headers
            )
        else:  # request, metadata
            made = writer.create_warc_record(
                rec.uri, rec.kind, payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")
            )
        writer.write_record(made)
    framed()
    return whole.getvalue()


def raw_record(uri: str, date: str, block: bytes, gzip: bool) -> bytes:
    """Return one response record with `block` as is, gzip-compressed as its own member."""
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\nWARC-Target-URI: {uri}\r\n"
        f"WARC-Date: {date}\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(block)}\r\n\r\n"
    ).encode()
    record = head + block + b"\r\n\r\n"
    return gzip_module.compress(record) if gzip else record


def page(name: str) -> bytes:
    return (HTML / f"{name}.html").read_bytes()


def mixed() -> list[Rec]:
    """Return the three fixture pages with a record of every skipped kind in between."""
    return [
        Rec("response", "http://a.example/rheinpost", page("de_rheinpost")),
        Rec("request", "http://a.example/rheinpost"),
        Rec("response", "http://a.example/logo.png", b"\x89PNG\r\n\x1a\n", ctype="image/png"),
        Rec("response", "http://a.example/gone", b"<html><p>Not here</p></html>", status=404),
        Rec("response", "http://b.example/herald", page("en_dailyherald")),
        Rec("revisit", "http://b.example/herald-again"),
        Rec("metadata", "http://b.example/herald"),
        Rec("response", "http://c.example/culture", page("fr_culturemag")),
    ]


def write_archive(path: Path, records: list[Rec]) -> Path:
    """Write `records` as a WARC compressed as the file name says (.gz, .zst, .lz4, plain)."""
    name = path.name
    zstd = zstandard.ZstdCompressor().compress if name.endswith(".zst") else None
    data = warc_bytes(records, gzip=name.endswith(".gz"), frame=zstd)
    if name.endswith(".lz4"):
        writer = Lz4Writer(str(path))
        writer.write(data)
        writer.close()
        return path
    path.write_bytes(data)
    return path


def texts_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def stats_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def html_texts(tmp_path: Path) -> list[str]:
    """Return the texts `cleanup run` makes of the three pages as .html files."""
    folder = tmp_path / "pages"
    folder.mkdir()
    for name in PAGES:
        shutil.copy(HTML / f"{name}.html", folder)
    out = tmp_path / "pages.jsonl"
    assert invoke(folder, "-o", out).exit_code == 0
    return [r["text"] for r in texts_of(out)]


@pytest.mark.parametrize("suffix", [".warc", ".warc.gz", ".warc.zst", ".warc.lz4"])
def test_html_responses_in_a_folder_become_the_documents_html_files_give(
    tmp_path: Path, html_texts: list[str], suffix: str
) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    write_archive(folder / f"day1{suffix}", mixed())
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = invoke(folder, "-o", out, "--stats", stats)
    assert result.exit_code == 0, result.output
    records = texts_of(out)
    assert [r["text"] for r in records] == html_texts
    assert [r["id"] for r in records] == [
        "http://a.example/rheinpost",
        "http://b.example/herald",
        "http://c.example/culture",
    ]
    first = records[0]
    assert first["url"] == first["id"]
    assert first["warc_date"] == "2024-05-01T12:00:00Z"
    assert first["http_status"] == 200
    assert first["content_type"] == "text/html; charset=utf-8"
    assert first["warc_record_id"].startswith("<urn:uuid:")
    summary = stats_of(stats)
    assert summary["unsupported_skipped"] == 0
    assert summary["records_skipped"] == {"not HTML": 1, "revisit": 1, "status not 200": 1}


def test_summary_line_counts_skipped_records_by_kind(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "a.warc.gz", mixed())
    result = CliRunner().invoke(cli, ["run", str(archive), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0, result.output
    assert "6 archive records skipped" not in result.output  # request/metadata/warcinfo: silent
    assert "3 archive records skipped (1 not HTML, 1 revisit, 1 status not 200)" in result.output


def test_input_format_warc_reads_an_archive_of_any_name(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "a.warc.gz", mixed()).rename(tmp_path / "capture.bin")
    out = tmp_path / "out.jsonl"
    line = one_line_error(invoke(archive, "-o", out), 1)  # read as text without the flag
    assert line == f"Error: {archive}: binary data, not text"
    result = invoke(archive, "-o", out, "--input-format", "warc")
    assert result.exit_code == 0, result.output
    assert len(texts_of(out)) == 3


def test_pipe_and_two_workers_give_what_run_gives(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "a.warc.gz", mixed())
    one, two, piped = tmp_path / "one.jsonl", tmp_path / "two.jsonl", tmp_path / "pipe.jsonl"
    assert invoke(archive, "-o", one, "--workers", "1").exit_code == 0
    assert invoke(archive, "-o", two, "--workers", "2").exit_code == 0
    assert one.read_bytes() == two.read_bytes()
    uris = ["http://a.example/rheinpost", "http://b.example/herald", "http://c.example/culture"]
    assert [r["id"] for r in texts_of(one)] == uris
    args = ["pipe", "-q", "-i", str(archive), "-o", str(piped), "strip-html"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in texts_of(piped)] == [r["id"] for r in texts_of(one)]
    assert all(r["text"] and "<" not in r["text"] for r in texts_of(piped))


def test_wet_conversion_records_are_read_as_text(tmp_path: Path) -> None:
    text = "Erster Absatz der Seite.\n\nZweiter Absatz, mit Umlauten: äöü."
    records = [
        Rec("conversion", "http://a.example/1", text.encode("utf-8")),
        Rec("conversion", "http://a.example/2", b"Another page, plain text only."),
    ]
    archive = write_archive(tmp_path / "a.warc.wet.gz", records)
    out = tmp_path / "out.jsonl"
    result = invoke(archive, "-o", out, "--input-format", "warc")
    assert result.exit_code == 0, result.output
    got = texts_of(out)
    assert [r["text"] for r in got] == [text, "Another page, plain text only."]
    assert got[0]["content_type"] == "text/plain" and got[0]["http_status"] is None


def _capture(uri: str, date: str, words: str) -> Rec:
    body = f"<html><body><article><p>{words}</p></article></body></html>".encode()
    return Rec("response", uri, body, date=date)


def test_the_latest_capture_of_a_uri_wins_across_files(tmp_path: Path) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    write_archive(
        folder / "a.warc.gz",
        [
            _capture("http://x.example/p", "2024-03-01T00:00:00Z", "March version of the page."),
            _capture("http://x.example/q", "2024-01-01T00:00:00Z", "Only capture of q here."),
            _capture("http://x.example/p", "2024-01-01T00:00:00Z", "January version of it."),
        ],
    )
    write_archive(
        folder / "b.warc",
        [_capture("http://x.example/p", "2024-02-01T00:00:00.5Z", "February version, too.")],
    )
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = invoke(folder, "-o", out, "--stats", stats)
    assert result.exit_code == 0, result.output
    got = {r["id"]: r["text"] for r in texts_of(out)}
    assert got == {
        "http://x.example/p": "March version of the page.",
        "http://x.example/q": "Only capture of q here.",
    }
    assert stats_of(stats)["records_skipped"] == {"superseded": 2}


def test_a_tie_on_date_goes_to_the_later_capture(tmp_path: Path) -> None:
    date = "2024-03-01T00:00:00Z"
    archive = write_archive(
        tmp_path / "a.warc",
        [
            _capture("http://x.example/p", date, "The earlier one in the file."),
            _capture("http://x.example/p", date, "The later one in the file."),
        ],
    )
    out = tmp_path / "out.jsonl"
    assert invoke(archive, "-o", out).exit_code == 0
    assert [r["text"] for r in texts_of(out)] == ["The later one in the file."]


def _pages(count: int) -> list[Rec]:
    return [
        _capture(f"http://x.example/{i}", "2024-03-01T00:00:00Z", f"Page number {i} says w{i}.")
        for i in range(count)
    ]


@pytest.mark.parametrize("name", ["a.warc", "a.warc.gz", "a.warc.zst"])
@pytest.mark.parametrize("keep", [0.97, 0.6])
def test_a_truncated_archive_stops_the_run_naming_file_and_record(
    tmp_path: Path, name: str, keep: float
) -> None:
    whole = write_archive(tmp_path / name, _pages(40)).read_bytes()
    cut = tmp_path / "cut" / name
    cut.parent.mkdir()
    cut.write_bytes(whole[: int(len(whole) * keep)])
    out = tmp_path / "out.jsonl"
    line = one_line_error(invoke(cut, "-o", out), 1)
    assert line.startswith(f"Error: {cut}: ")
    assert "truncated" in line and "record" in line, line
    assert not out.exists()


@pytest.mark.parametrize("name", ["a.warc", "a.warc.gz", "a.warc.zst"])
def test_skip_bad_keeps_the_records_before_the_cut_and_counts_it(tmp_path: Path, name: str) -> None:
    whole = write_archive(tmp_path / name, _pages(40)).read_bytes()
    cut = tmp_path / "cut" / name
    cut.parent.mkdir()
    cut.write_bytes(whole[: int(len(whole) * 0.6)])
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = invoke(cut, "-o", out, "--skip-bad", "--stats", stats)
    assert result.exit_code == 0, result.output
    ids = [r["id"] for r in texts_of(out)]
    assert 15 <= len(ids) < 40
    assert ids == [f"http://x.example/{i}" for i in range(len(ids))]
    assert stats_of(stats)["bad_input_skipped"] == 1
    assert "Traceback" not in result.output


def test_a_cut_in_the_gzip_trailer_is_a_truncation(tmp_path: Path) -> None:
    whole = write_archive(tmp_path / "a.warc.gz", _pages(5)).read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole[:-3])
    line = one_line_error(invoke(cut, "-o", tmp_path / "out.jsonl"), 1)
    assert line == f"Error: {cut}: truncated gzip file: the cut is after record 6"


BROKEN = b"HTTP/1.1 200 OK\r\nContent-Type text/html\r\n\r\n"


def _with_broken_header() -> list[Rec]:
    good = _pages(3)
    bad = Rec("response", "http://x.example/bad", b"<p>x</p>", http_lines=BROKEN)
    return [good[0], bad, good[1], good[2]]


def test_a_broken_http_header_stops_the_run_naming_file_and_record(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "a.warc.gz", _with_broken_header())
    line = one_line_error(invoke(archive, "-o", tmp_path / "out.jsonl"), 1)
    assert line.startswith(f"Error: {archive}: record 3 (offset ")
    assert "broken HTTP header: bad HTTP header line b'Content-Type text/html'" in line


def test_skip_bad_skips_and_counts_a_broken_http_header(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "a.warc", _with_broken_header())
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = invoke(archive, "-o", out, "--skip-bad", "--stats", stats)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in texts_of(out)] == [f"http://x.example/{i}" for i in range(3)]
    assert stats_of(stats)["bad_input_skipped"] == 1


CP1252_PAGE = (
    "<html><head><meta charset='utf-8'><title>Caf\u00e9</title></head><body><article>"
    "<p>Le caf\u00e9 na\u00efve co\u00fbte 5\u20ac, d\u00e9j\u00e0 \u00ab cher \u00bb.</p>"
    "</article></body></html>"
)
SJIS_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
    "</head><body><article><p>\u65e5\u672c\u8a9e\u306e\u30da\u30fc\u30b8\u3067\u3059\u3002"
    "\u3053\u308c\u306f\u30c6\u30b9\u30c8\u3067\u3059\u3002</p></article></body></html>"
)


def test_the_charset_comes_from_the_http_header_then_the_page(tmp_path: Path) -> None:
    records = [
        # the header says windows-1252 and is right; the page's meta says utf-8 and is wrong
        Rec(
            "response",
            "http://x.example/fr",
            CP1252_PAGE.encode("cp1252"),
            ctype="text/html; charset=windows-1252",
        ),
        # no charset in the header: the page's meta names Shift_JIS
        Rec("response", "http://x.example/ja", SJIS_PAGE.encode("shift_jis"), ctype="text/html"),
    ]
    archive = write_archive(tmp_path / "a.warc.gz", records)
    out = tmp_path / "out.jsonl"
    result = invoke(archive, "-o", out, "--audit", tmp_path / "audit.jsonl")
    assert result.exit_code == 0, result.output
    texts = [r["text"] for r in texts_of(out)]
    assert texts == [
        "Le caf\u00e9 na\u00efve co\u00fbte 5\u20ac, d\u00e9j\u00e0 \u00ab cher \u00bb.",
        "\u65e5\u672c\u8a9e\u306e\u30da\u30fc\u30b8\u3067\u3059\u3002"
        "\u3053\u308c\u306f\u30c6\u30b9\u30c8\u3067\u3059\u3002",
    ]
    audit = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "read:decode-charset" not in audit  # declared, not guessed


def arc_bytes(pages: list[tuple[str, str, bytes, int]]) -> bytes:
    """Return an ARC (version 1) file of (url, content type, body, status) responses."""
    desc = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    out = b"filedesc://test.arc 0.0.0.0 20200101120000 text/plain %d\n" % len(desc) + desc + b"\n"
    for url, ctype, body, status in pages:
        http = f"HTTP/1.0 {status} OK\r\nContent-Type: {ctype}\r\n\r\n".encode() + body
        head = f"{url} 10.0.0.1 20200101120000 {ctype} {len(http)}\n".encode()
        out += head + http + b"\n"
    return out


def test_arc_files_are_read_with_warcio(tmp_path: Path, html_texts: list[str]) -> None:
    pages = [(f"http://x.example/{n}", "text/html", page(n), 200) for n in PAGES]
    pages.insert(1, ("http://x.example/i.gif", "image/gif", b"GIF89a", 200))
    archive = tmp_path / "old.arc.gz"
    archive.write_bytes(gzip_module.compress(arc_bytes(pages)))
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = invoke(archive, "-o", out, "--stats", stats)
    assert result.exit_code == 0, result.output
    got = texts_of(out)
    assert [r["text"] for r in got] == html_texts
    assert got[0]["id"] == "http://x.example/de_rheinpost"
    assert got[0]["warc_date"] == "2020-01-01T12:00:00Z"
    assert stats_of(stats)["records_skipped"] == {"not HTML": 1}


def test_a_truncated_arc_stops_the_run(tmp_path: Path) -> None:
    pages = [(f"http://x.example/{n}", "text/html", page(n), 200) for n in PAGES]
    archive = tmp_path / "old.arc"
    archive.write_bytes(arc_bytes(pages)[:-500])
    line = one_line_error(invoke(archive, "-o", tmp_path / "out.jsonl"), 1)
    assert line.startswith(f"Error: {archive}: truncated archive: record 4 (offset ")


def test_id_field_warc_record_id_takes_the_record_id(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "a.warc", mixed())
    out = tmp_path / "out.jsonl"
    assert invoke(archive, "-o", out, "--id-field", "WARC-Record-ID").exit_code == 0
    got = texts_of(out)
    assert all(r["WARC-Record-ID"] == r["warc_record_id"] for r in got)
    assert got[0]["url"] == "http://a.example/rheinpost"


def test_warc_from_standard_input_is_refused_in_one_line(tmp_path: Path) -> None:
    data = warc_bytes(_pages(2), gzip=True)
    result = CliRunner().invoke(cli, ["run", "-q", "--input-format", "warc"], input=data)
    line = one_line_error(result, 2)
    assert line == "Error: WARC cannot be read from standard input: give the file"


def test_without_the_extra_one_line_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = write_archive(tmp_path / "a.warc.gz", _pages(2))
    monkeypatch.setitem(sys.modules, "fastwarc", None)
    line = one_line_error(invoke(archive, "-o", tmp_path / "out.jsonl"), 2)
    assert line == "Error: WARC input needs fastwarc: pip install 'cleanup[warc]'"


def test_the_bundled_sample_warc_gives_the_fixture_texts(tmp_path: Path) -> None:
    out, stats = tmp_path / "out.jsonl", tmp_path / "stats.json"
    result = invoke(SAMPLE, "-o", out, "--stats", stats)
    assert result.exit_code == 0, result.output
    got = texts_of(out)
    assert [r["id"] for r in got] == ["https://news.example/cnn", "https://news.example/dailymail"]
    assert all(len(r["text"]) > 1000 for r in got)
    assert stats_of(stats)["records_skipped"] == {
        "not HTML": 1,
        "revisit": 1,
        "status not 200": 1,
        "superseded": 1,
    }


GZIP_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n"


def test_chunked_and_gzip_bodies_kept_by_the_crawler_are_decoded(tmp_path: Path) -> None:
    html = b"<html><body><article><p>A page sent chunked and gzipped.</p></article></body></html>"
    plain = html.replace(b"sent chunked and gzipped", b"whose header says gzip")
    packed = gzip_module.compress(html)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(packed), packed)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n"
    records = [
        Rec(
            "response",
            "http://x.example/c",
            chunked,
            http_lines=head + b"Content-Encoding: gzip\r\n\r\n",
        ),
        # the crawler decoded the body but kept the header: read as it is
        Rec(
            "response",
            "http://x.example/d",
            plain,
            http_lines=GZIP_HEAD,
        ),
    ]
    archive = write_archive(tmp_path / "a.warc.gz", records)
    out = tmp_path / "out.jsonl"
    result = invoke(archive, "-o", out)
    assert result.exit_code == 0, result.output
    texts = [r["text"] for r in texts_of(out)]
    assert texts == ["A page sent chunked and gzipped.", "A page whose header says gzip."]


def test_a_body_that_does_not_decode_is_bad_input_naming_the_record(tmp_path: Path) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n"
    records = [
        *_pages(1),
        Rec("response", "http://x.example/z", b"\x1f\x8bnot gzip", http_lines=head),
    ]
    archive = write_archive(tmp_path / "a.warc", records)
    line = one_line_error(invoke(archive, "-o", tmp_path / "out.jsonl"), 1)
    assert line.startswith(f"Error: {archive}: record 3 (offset ")
    assert "body does not decode as gzip" in line
    out, stats = tmp_path / "skip.jsonl", tmp_path / "stats.json"
    assert invoke(archive, "-o", out, "--skip-bad", "--stats", stats).exit_code == 0
    assert [r["id"] for r in texts_of(out)] == ["http://x.example/0"]
    assert stats_of(stats)["bad_input_skipped"] == 1


def test_a_broken_header_does_not_hide_later_captures_from_the_first_pass(tmp_path: Path) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    bad = Rec("response", "http://x.example/bad", b"<p>x</p>", http_lines=BROKEN)
    write_archive(
        folder / "a.warc",
        [bad, _capture("http://x.example/p", "2024-03-01T00:00:00Z", "The newer capture of p.")],
    )
    write_archive(
        folder / "b.warc",
        [_capture("http://x.example/p", "2024-01-01T00:00:00Z", "The older capture of p.")],
    )
    out = tmp_path / "out.jsonl"
    assert invoke(folder, "-o", out, "--skip-bad").exit_code == 0
    assert [r["text"] for r in texts_of(out)] == ["The newer capture of p."]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=20),
    reads=st.lists(st.integers(min_value=-1, max_value=500), min_size=1, max_size=30),
)
def test_the_stream_gives_the_same_bytes_however_it_is_chunked_and_read(
    sizes: list[int], reads: list[int]
) -> None:
    data = bytes(range(256)) * 8
    chunks, at = [], 0
    for size in sizes:
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    stream = Stream(iter(c for c in chunks if c))
    got = b"".join(stream.read(n) for n in reads) + stream.read(-1)
    assert got == data and stream.tell() == len(data)


SMALL = warc_bytes(_pages(6), gzip=True)


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(SMALL)))
def test_a_cut_anywhere_keeps_a_prefix_of_the_documents_or_reports_it(
    tmp_path_factory: pytest.TempPathFactory, cut: int
) -> None:
    path = tmp_path_factory.mktemp("cut") / "a.warc.gz"
    path.write_bytes(SMALL[:cut])
    bad: list[str] = []
    ids = [doc.id for doc in read_inputs([str(path)], skip_bad=True, on_bad=bad.append)]
    assert ids == [f"http://x.example/{i}" for i in range(len(ids))]
    assert len(bad) <= 1 and all(str(path) in message for message in bad)
    if cut < len(SMALL):
        assert len(ids) < 6 or bad  # a cut that loses nothing but the gzip trailer is still one
