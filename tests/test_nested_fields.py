"""Nested --text-field / --id-field: dot paths in, the same nested place out, the rest untouched."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from cleanup.cli import cli
from cleanup.io.fieldpath import get_path, set_path, split_path
from cleanup.io.writers import dumps

RECORDS = [
    {
        "content": {"lang": "en", "body": "Hello world.\n\nHello world.\n\nSecond part."},
        "meta": {"url": "http://a/1", "n": [1, 2]},
        "x": None,
    },
    {"content": {"body": "Other document."}, "meta": {"url": "http://a/2"}},
]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["run", *args])
    return result.exit_code, result.stdout, result.stderr


def test_split_path_escapes_a_literal_dot() -> None:
    assert split_path("text") == ("text",)
    assert split_path("content.body") == ("content", "body")
    assert split_path(r"a\.b.c") == ("a.b", "c")


def test_nested_text_and_id_are_read_and_written_back_in_place(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", RECORDS)
    out = tmp_path / "out.jsonl"
    code, _, err = _run(
        str(src), "-o", str(out), "--text-field", "content.body", "--id-field", "meta.url"
    )
    assert code == 0, err
    lines = out.read_text(encoding="utf-8").splitlines()
    first, second = (json.loads(line) for line in lines)
    # The repeated paragraph went; the text is back at content.body, in its place among its keys.
    assert first["content"] == {"lang": "en", "body": "Hello world.\n\nSecond part."}
    assert list(first) == ["content", "meta", "x"]
    assert first["meta"] == {"url": "http://a/1", "n": [1, 2]}
    assert second == RECORDS[1]
    assert "id" not in first and "text" not in first


def test_nested_id_is_the_document_id(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", RECORDS)
    audit = tmp_path / "audit.jsonl"
    code, _, err = _run(
        str(src), "-o", str(tmp_path / "o.jsonl"), "--audit", str(audit),
        "--text-field", "content.body", "--id-field", "meta.url",
    )  # fmt: skip
    assert code == 0, err
    ids = {json.loads(line)["id"] for line in audit.read_text().splitlines()}
    assert ids == {"http://a/1"}


def test_missing_nested_id_is_derived_and_written_at_its_path(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"content": {"body": "Some text."}}])
    code, out, err = _run(str(src), "--text-field", "content.body", "--id-field", "meta.url")
    assert code == 0, err
    assert json.loads(out) == {"content": {"body": "Some text."}, "meta": {"url": "in.jsonl:1"}}


def test_escaped_dot_names_a_top_level_key(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"content.body": "Flat key.", "id": "k"}])
    code, out, err = _run(str(src), "--text-field", r"content\.body")
    assert code == 0, err
    assert json.loads(out) == {"content.body": "Flat key.", "id": "k"}


def test_missing_or_non_string_nested_text_is_one_line_naming_file_line_field(
    tmp_path: Path,
) -> None:
    cases = [
        {"content": {"title": "no body"}},
        {"content": "not an object"},
        {"content": {"body": 3}},
    ]
    for record in cases:
        src = _write(tmp_path / "bad.jsonl", [{"content": {"body": "fine"}}, record])
        code, out, err = _run(str(src), "--text-field", "content.body")
        assert code == 1
        assert out == ""
        assert err.strip().count("\n") == 0
        assert err.startswith(f"Error: {src}:2: record has ")
        assert "text field 'content.body'" in err
        assert "Traceback" not in err


def test_nested_id_through_a_non_object_is_bad_input(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"text": "Hi there.", "meta": "a string"}])
    code, _, err = _run(str(src), "--id-field", "meta.url")
    assert code == 1
    assert err.startswith(f"Error: {src}:1: record field 'meta'")
    assert "'meta.url'" in err


def test_nested_text_rejects_carry_the_other_fields(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl", [{"content": {"body": "   ", "lang": "en"}, "id": "e"}])
    rejects = tmp_path / "rejects.jsonl"
    code, _, err = _run(str(src), "--text-field", "content.body", "--rejects", str(rejects))
    assert code == 0, err
    (reject,) = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert reject["fields"] == {"content": {"lang": "en"}, "id": "e"}


_keys = st.text(st.characters(codec="utf-8", exclude_characters="\\"), min_size=1, max_size=5)


@given(st.lists(_keys, min_size=1, max_size=4), st.text(max_size=10))
def test_set_then_get_returns_the_value_and_leaves_the_input_alone(
    keys: list[str], value: str
) -> None:
    record = {"other": {"kept": 1}}
    name = ".".join(k.replace(".", "\\.") for k in keys)
    path = split_path(name)
    assert path == tuple(keys)
    written = set_path(record, path, value)
    assert get_path(written, path) == value
    assert record == {"other": {"kept": 1}}
