"""Hostile input a run reads: each is read and written as valid output, or is one line naming
the file and line (or record, or offset), never a traceback or invalid output."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers import invoke_run, one_line_error

from cleanup.cli import cli
from cleanup.errors import OptionError
from cleanup.io import tasksource
from cleanup.io.jsonline import BigNumber, dumps, line
from cleanup.io.readers import MAX_DOCUMENT_BYTES
from cleanup.options import RunOptions


def _strict(text: str) -> Any:
    """Parse JSON as RFC 8259 has it: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse, parse_int=str)


BIG = '{"text": "Hello world paragraph.", "x": 1e400, "y": -1e999, "m": {"z": [1E+400, 2.5]}}'


@pytest.mark.parametrize("workers", ["1", "2"])
def test_numbers_beyond_a_float_are_written_as_they_came(tmp_path: Path, workers: str) -> None:
    # json read 1e400 as inf and wrote it back as Infinity, which is not JSON.
    digits = "7" * 5000  # past int's limit on digits: was an error naming no line
    src = tmp_path / "in.jsonl"
    src.write_text(
        BIG + "\n" + f'{{"text": "A second paragraph here.", "id": 1e400, "n": -{digits}}}\n'
        '{"text": "", "x": 1e400}\n'
    )
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    result = invoke_run(src, "-o", out, "--rejects", rejects, "--workers", workers)
    assert result.exit_code == 0, result.output
    first, second = out.read_text().splitlines()
    assert first == '{"id": "in.jsonl:1", ' + BIG[1:]
    assert second.endswith(f'"id": 1e400, "n": -{digits}}}')
    _strict(first)
    assert _strict(second)["id"] == float("inf")
    assert '"fields": {"x": 1e400}' in rejects.read_text()


def test_nan_and_infinity_read_as_such_are_echoed(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Hello world.", "x": NaN, "y": [-Infinity], "z": 1e400}\n')
    result = invoke_run(src, "-o", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    expect = '{"id": "in.jsonl:1", "text": "Hello world.", "x": NaN, "y": [-Infinity], "z": 1e400}'
    assert (tmp_path / "out.jsonl").read_text() == expect + "\n"


def test_a_big_number_is_its_text_and_otherwise_the_infinity_it_is() -> None:
    number = BigNumber("-1e999")
    assert number == float("-inf") and str(number) == "-1e999"
    assert pickle.loads(pickle.dumps(number)).text == "-1e999"  # workers send records back
    record = {"a": number, "b": [float("nan"), {"c": BigNumber("1e400")}], 1: {}}
    assert dumps(record) == '{"a": -1e999, "b": [null, {"c": 1e400}], "1": {}}'  # a NaN: null
    assert line(record) == (dumps(record) + "\n").encode()
    for fn in (dumps, json.dumps):  # a key json cannot write: json's own TypeError
        with pytest.raises(TypeError, match="keys must be str"):
            fn({(1, 2): float("nan")})


def test_parquet_output_stores_a_big_number_as_the_infinity_it_is(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    src = tmp_path / "in.jsonl"
    src.write_text(BIG + "\n")
    result = invoke_run(src, "-o", tmp_path / "out.parquet")
    assert result.exit_code == 0, result.output
    row = pq.read_table(tmp_path / "out.parquet").to_pylist()[0]
    assert row["x"] == float("inf") and row["y"] == float("-inf")


def _state_line(*args: str | Path) -> str:
    return one_line_error(CliRunner().invoke(cli, ["state", *map(str, args)]), 1)


def test_a_damaged_state_is_named_as_such_and_left_alone(tmp_path: Path) -> None:
    # migrate said "holds no settings yet" of an empty file, and made it a state.
    corpus, state = tmp_path / "in.jsonl", tmp_path / "good.db"
    corpus.write_text('{"id": "a", "text": "Hello there world, a paragraph."}\n')
    assert invoke_run(corpus, "-o", tmp_path / "out.jsonl", "--state", state).exit_code == 0
    damaged = {
        "empty.db": (b"", "not a cleanup state (an empty file)"),
        "random.db": (bytes(range(256)) * 40, "file is not a database"),
        "cut.db": (state.read_bytes()[:5000], "malformed"),
    }
    db = sqlite3.connect(tmp_path / "other.db")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    for value, why in (("nonsense", "its settings are not a JSON object"), ("[1]", "not a JSON")):
        db = sqlite3.connect(state)
        db.execute("UPDATE meta SET value = ? WHERE key = 'settings'", (value,))
        db.commit()
        db.close()
        damaged[f"settings-{len(damaged)}.db"] = (state.read_bytes(), why)
    db = sqlite3.connect(state)
    db.execute("DELETE FROM meta WHERE key = 'settings'")
    db.commit()
    db.close()
    damaged["unset.db"] = (state.read_bytes(), "damaged: it holds 1 documents from 1 runs")
    for name, (data, _) in damaged.items():
        (tmp_path / name).write_bytes(data)
    damaged["other.db"] = ((tmp_path / "other.db").read_bytes(), "not a cleanup state")
    for name, (data, why) in damaged.items():
        path = tmp_path / name
        line = _state_line("migrate", "--state", path, "--doc-threshold", "0.7")
        assert str(path) in line and why in line, line
        if not name.startswith("unset"):
            assert why in _state_line("info", path), name
        assert path.read_bytes() == data, name
        if name in ("empty.db", "random.db", "cut.db", "other.db"):  # no state: nothing beside
            assert not Path(f"{path}.lock").exists(), name


PAGE = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Hello there, a paragraph.</p>"


def _warc_record(uri: str, length: str | None = None, http: bytes = PAGE) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: {uri}\r\n"
        "WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http) if length is None else length}\r\n\r\n"
    )
    return head.encode() + http + b"\r\n\r\n"


def _arc(length: str) -> bytes:
    desc = b"1 0 test\nURL IP-address Archive-date Content-type Archive-length\n"
    out = b"filedesc://x.arc 0.0.0.0 20240101000000 text/plain %d\n%s\n" % (len(desc), desc)
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>Hello there, a paragraph.</p>"
    for n, size in enumerate((str(len(http)), length, str(len(http)))):
        out += f"http://a.example/{n} 1.2.3.4 20240101000000 text/html {size}\n".encode()
        out += http + b"\n"
    return out


@pytest.mark.parametrize("length", ["abc", "-5", "", "+5"])
def test_a_bad_content_length_is_named(tmp_path: Path, length: str) -> None:
    # It was "truncated archive: ... has no complete WARC header" (ARC: warcio's three-line
    # warning on stderr, then a broken HTTP header of the record after).
    pytest.importorskip("fastwarc")
    pytest.importorskip("warcio")
    warc, arc = tmp_path / "a.warc", tmp_path / "a.arc"
    warc.write_bytes(b"".join(_warc_record(f"http://a.example/{n}") for n in range(2)))
    warc.write_bytes(warc.read_bytes() + _warc_record("http://a.example/2", length))
    arc.write_bytes(_arc(length))
    cases = [(warc, "record 3 (offset 566)"), (arc, "record 3 (offset 252)")]
    for path, record in cases[: 1 if length == "" else 2]:  # ARC: a field missing, warcio's
        line = one_line_error(invoke_run(path, "-o", tmp_path / "out.jsonl"), 1)
        assert line.startswith(f"Error: {path}: damaged archive: {record}"), line
        assert line.endswith(f"has a bad Content-Length {length!r} (not a number of bytes)")
    out = tmp_path / "out.jsonl"
    result = invoke_run(warc, "-o", out, "--skip-bad")
    assert result.exit_code == 0 and "a.example/0" in out.read_text(), result.output


def test_compressed_standard_input_is_read_as_a_compressed_file_is(tmp_path: Path) -> None:
    # It was "<stdin>:1: binary data, not text" (gzip) or a malformed line.
    zstandard = pytest.importorskip("zstandard")
    lines = "".join(
        json.dumps({"id": f"d{i}", "text": f"Paragraph number {i} about w{i}."}) + "\n"
        for i in range(300)
    ).encode()
    want = tmp_path / "want.jsonl"
    (tmp_path / "in.jsonl").write_bytes(lines)
    assert invoke_run(tmp_path / "in.jsonl", "-o", want).exit_code == 0
    packed = {
        "gzip": gzip.compress(lines),
        "zstd": zstandard.ZstdCompressor().compress(lines),
        "plain": lines,
        "two gzip members": gzip.compress(lines[:1000]) + gzip.compress(lines[1000:]),
    }
    for kind, data in packed.items():
        out = tmp_path / "out.jsonl"
        result = CliRunner().invoke(cli, ["run", "-q", "-", "-o", str(out), "--force"], input=data)
        assert result.exit_code == 0, (kind, result.output)
        assert out.read_bytes() == want.read_bytes(), kind
    for kind in ("gzip", "zstd"):
        cut = packed[kind][: len(packed[kind]) // 2]
        result = CliRunner().invoke(cli, ["run", "-q", "-", "-o", "-"], input=cut)
        assert one_line_error(result, 1) == f"Error: <stdin>: truncated {kind} file"


def test_the_document_size_limit_is_an_option_tasks_read_by(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 64 MiB was fixed. Splits of 64 KiB: two workers read eight or so of them themselves.
    monkeypatch.setattr(tasksource, "MIN_SPLIT_BYTES", 64 << 10)
    corpus = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": f"d{i}", "text": f"Paragraph {i} about w{i}.", "pad": "y" * 90})
        for i in range(5_000)
    ]
    lines[4_000] = json.dumps({"id": "long", "text": "x" * 9000})
    corpus.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    args = ["-o", out, "--workers", "2", "--skip-bad", "--max-document-size", "8KiB"]
    result = invoke_run(corpus, *args)
    assert result.exit_code == 0, result.output
    assert f"{corpus}:4001: line longer than 8 KiB, the most one document" in result.output
    assert len(out.read_text().splitlines()) == 4_999
    result = invoke_run(corpus, *args[:-1], "10kB", "--force")
    assert result.exit_code == 0 and "skipped" not in result.output, result.output
    assert len(out.read_text().splitlines()) == 5_000


def test_the_document_size_limit_is_a_config_key_and_a_keyword(tmp_path: Path) -> None:
    page, config = tmp_path / "a.txt", tmp_path / "c.toml"
    page.write_text("Hello there.\n" * 100)
    config.write_text('[run]\nmax-document-size = "1KiB"\n')
    line = one_line_error(invoke_run(page, "--config", config), 1)
    assert line == f"Error: {page}: larger than 1 KiB, the most one document may hold"
    assert invoke_run(page, "--config", config, "--max-document-size", 2000).exit_code == 0
    for bad in (0, "0MB", "-1", "1XB", True, 1.5):
        with pytest.raises(OptionError, match="--max-document-size must be"):
            RunOptions(max_document_size=bad)  # type: ignore[arg-type]
    assert RunOptions(max_document_size="1GiB").document_bytes == 1 << 30
    assert RunOptions().document_bytes == MAX_DOCUMENT_BYTES


def test_a_file_name_that_is_not_utf8_is_bad_input_named(tmp_path: Path) -> None:
    # Its id could not be written: "'utf-8' codec can't encode character '\udce9'", no file.
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "b.txt").write_text("A second page of text here.\n")
    name = os.fsdecode(os.fsencode(str(folder)) + b"/caf\xe9.txt")
    Path(name).write_text("Hello world, a page of text.\n")
    line = one_line_error(invoke_run(folder, "-o", tmp_path / "out.jsonl"), 1)
    assert line == f"Error: {folder}/caf\\xe9.txt: file name is not UTF-8, which ids and" + (
        " records hold: rename it"
    )
    out = tmp_path / "out.jsonl"
    for workers in ("1", "2"):
        result = invoke_run(folder, "-o", out, "--skip-bad", "--force", "--workers", workers)
        assert result.exit_code == 0, result.output
        assert [json.loads(r)["id"] for r in out.read_text().splitlines()] == ["b.txt"]


def test_parquet_columns_of_the_same_name_are_bad_input(tmp_path: Path) -> None:
    # A row as a record kept the last of them: the other column vanished unnoticed.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "a.parquet"
    columns = [pa.array(["Hello there, a page."]), pa.array(["x"]), pa.array(["y"])]
    pq.write_table(pa.Table.from_arrays(columns, names=["text", "a", "a"]), path)
    line = one_line_error(invoke_run(path, "-o", tmp_path / "out.jsonl"), 1)
    assert line == f"Error: {path}: Parquet file has more than one column named 'a'"


def test_a_warc_record_past_the_document_limit_is_bad_input_not_memory(tmp_path: Path) -> None:
    # 300 KB of gzip in a response took 15 GB of memory and 150 s (a 300 MB page).
    pytest.importorskip("fastwarc")
    packed = gzip.compress(b"<p>" + b"a " * (400 << 10) + b"</p>", 9)
    bomb = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n"
    big = PAGE + b"<p>" + b"b " * (60 << 10) + b"</p>"
    archive = tmp_path / "a.warc"
    archive.write_bytes(
        _warc_record("http://a.example/0")
        + _warc_record("http://a.example/1", http=bomb + packed)
        + _warc_record("http://a.example/2", http=big)
    )
    out, limit = tmp_path / "out.jsonl", ("--max-document-size", "100KiB")
    line = one_line_error(invoke_run(archive, "-o", out, *limit), 1)
    assert line.endswith(
        "record 2 (offset 283): body decodes to more than 100 KiB, the most one document may hold"
    )
    result = invoke_run(archive, "-o", out, *limit, "--skip-bad")
    assert "record 3 (offset 1,399): larger than 100 KiB, the most one" in result.output
    assert [json.loads(r)["id"] for r in out.read_text().splitlines()] == ["http://a.example/0"]
    result = invoke_run(archive, "-o", out, "--force", "--stats", tmp_path / "stats.json")
    assert result.exit_code == 0, result.output  # 64 MiB: all three read
    assert json.loads((tmp_path / "stats.json").read_text())["documents_in"] == 3


def _response(uri: str | None, text: str) -> bytes:
    http = PAGE.replace(b"Hello there, a paragraph.", text.encode())
    head = b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n"
    head += b"" if uri is None else f"WARC-Target-URI: {uri}\r\n".encode()
    head += b"Content-Type: application/http; msgtype=response\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(http) + http + b"\r\n\r\n"


def test_a_target_uri_that_is_no_url_is_a_document_not_a_damaged_archive(tmp_path: Path) -> None:
    # urlsplit's "Invalid IPv6 URL" ended the archive as "damaged archive after record 1".
    pytest.importorskip("fastwarc")
    archive = tmp_path / "a.warc"
    archive.write_bytes(
        _response("http://[::1", "An odd address, a page.") + _response("http://b.example/", "B!")
    )
    out = tmp_path / "out.jsonl"
    assert invoke_run(archive, "-o", out).exit_code == 0
    rows = [json.loads(r) for r in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["http://[::1", "http://b.example/"]


def test_records_without_a_target_uri_do_not_supersede_each_other(tmp_path: Path) -> None:
    # All of them had the URI "": each one but the last was counted "superseded" and lost.
    pytest.importorskip("fastwarc")
    archive = tmp_path / "a.warc"
    texts = ["The first page, on rivers.", "The second page, on hills.", "A third, on the sea."]
    archive.write_bytes(b"".join(_response(None if i < 2 else "", t) for i, t in enumerate(texts)))
    out = tmp_path / "out.jsonl"
    result = invoke_run(archive, "-o", out)
    assert result.exit_code == 0, result.output
    assert [json.loads(r)["text"] for r in out.read_text().splitlines()] == texts


def test_a_long_id_of_wide_characters_makes_a_file_name_that_fits(tmp_path: Path) -> None:
    # 200 characters of 'é' are 400 bytes: "cannot write ...: File name too long".
    src = tmp_path / "in.jsonl"
    ids = ["é" * 200, "中" * 300, "x" * 300, "é" * 120]
    src.write_text(
        "".join(json.dumps({"id": i, "text": f"Page {n} text."}) + "\n" for n, i in enumerate(ids))
    )
    result = invoke_run(src, "-o", f"{tmp_path}/out/")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out" / "in").iterdir())
    assert names == sorted(
        ["é" * 125 + ".txt", "中" * 83 + ".txt", "x" * 200 + ".txt", "é" * 120 + ".txt"]
    )


@pytest.mark.parametrize("charset", ["zlib", "base64", "undefined", "idna", "unicode_escape"])
def test_a_charset_label_that_is_no_text_encoding_is_passed_over(
    tmp_path: Path, charset: str
) -> None:
    # zlib: "Error: 'zlib' is not a text encoding; use codecs.decode() ..." naming no file;
    # undefined, idna: UnicodeError; unicode_escape rewrote the page's backslashes.
    pytest.importorskip("fastwarc")
    http = PAGE.replace(b"text/html", f"text/html; charset={charset}".encode())
    http = http.replace(b"Hello there, a paragraph.", b"A page, \\u0041 \\xff as written.")
    archive = tmp_path / "a.warc"
    archive.write_bytes(_warc_record("http://a.example/", http=http))
    out = tmp_path / "out.jsonl"
    result = invoke_run(archive, "-o", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["text"] == "A page, \\u0041 \\xff as written."


def test_a_parquet_text_past_the_document_limit_is_bad_input(tmp_path: Path) -> None:
    # 20 KB of zstd held a 200 MB text: 10.7 GB of memory and 125 s; now one line, as JSONL.
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "a.parquet"
    texts = ["A short page.", "b " * 60_000, "é" * 30_000, "Another short page."]
    pq.write_table(pa.table({"text": texts}), path, compression="zstd")
    out, limit = tmp_path / "out.jsonl", ("--max-document-size", "100KiB")
    line = one_line_error(invoke_run(path, "-o", out, *limit), 1)
    assert line == f"Error: {path}:2: text larger than 100 KiB, the most one document may hold"
    result = invoke_run(path, "-o", out, *limit, "--skip-bad")
    assert result.exit_code == 0, result.output
    assert f"{path}:3: text larger" not in result.output  # 60,000 bytes of UTF-8: it fits
    assert len(out.read_text().splitlines()) == 3
