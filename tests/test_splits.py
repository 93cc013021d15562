"""Input splits (cleanup/io/splits.py): reading every split in plan order is reading the inputs."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import random
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_warc import _capture, write_archive

from cleanup.document import Document
from cleanup.errors import BadInput, OptionError
from cleanup.io import splits as splits_module
from cleanup.io.readers import RawLine, Skipped, read_inputs
from cleanup.io.splits import Split, SplitReader, line_starts, plan_splits, read_split
from cleanup.summary import Summary


def _item(item: Document | RawLine) -> tuple[Any, ...]:
    """Return what must be the same either way: ids, texts, where each came from."""
    if isinstance(item, RawLine):
        return ("raw", item.line, item.lineno, item.source)
    return ("doc", item.id, item.text, item.source, item.relpath, item.explicit_id, item.fields)


def _whole(inputs: list[str], **kw: Any) -> tuple[list[tuple[Any, ...]], list[str], list[Skipped]]:
    bad: list[str] = []
    skips: list[Skipped] = []
    items = read_inputs(inputs, skip_bad=True, on_bad=bad.append, on_skip=skips.append, **kw)
    return [_item(i) for i in items], bad, skips


def _by_splits(
    inputs: list[str], target: int, **kw: Any
) -> tuple[list[tuple[Any, ...]], list[str], list[Skipped], list[Split]]:
    bad: list[str] = []
    skips: list[Skipped] = []
    plan = plan_splits(inputs, on_skip=skips.append, target_bytes=target)
    plan = [pickle.loads(pickle.dumps(s)) for s in plan]  # what a task would receive
    reader = SplitReader.for_plan(
        plan, skip_bad=True, on_bad=bad.append, on_skip=skips.append, **kw
    )
    items = [_item(i) for s in plan for i in read_split(s, reader)]
    return items, bad, skips, plan


_LINES = st.one_of(
    st.builds(lambda t: json.dumps({"text": t}), st.text(min_size=0, max_size=30)),
    st.builds(
        lambda i, t: json.dumps({"id": f"d{i}", "text": t}, ensure_ascii=False),
        st.integers(0, 5),
        st.text(min_size=1, max_size=60),
    ),
    st.sampled_from(["", "   ", "\t", "{bad json", "[1, 2]", '{"text": 5}', '{"id": "x"}']),
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(_LINES, max_size=25),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    bom=st.booleans(),
    target=st.integers(1, 400),
    block=st.integers(1, 64),
    lazy=st.booleans(),
)
def test_splits_of_random_jsonl_read_as_the_whole_file(
    lines: list[str],
    crlf: bool,
    final_newline: bool,
    bom: bool,
    target: int,
    block: int,
    lazy: bool,
) -> None:
    end = "\r\n" if crlf else "\n"
    data = end.join(lines).encode() + (end.encode() if final_newline and lines else b"")
    data = (b"\xef\xbb\xbf" if bom else b"") + data
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(splits_module, "_BLOCK", block),  # cuts across block edges
        mock.patch.object(splits_module, "_READ", block),  # lines across chunk edges
    ):
        path = Path(tmp, "in.jsonl")
        path.write_bytes(data)
        want = _whole([str(path)], lazy=lazy)
        got, bad, skips, plan = _by_splits([str(path)], target, lazy=lazy)
    assert (got, bad, skips) == want
    assert [s.start for s in plan] == sorted({s.start for s in plan})  # in order, none empty
    assert sum(s.size for s in plan) == len(data)
    ends = [s.start for s in plan[1:]] + [len(data)]
    for s, end in zip(plan, ends, strict=True):
        assert s.first_line == data[: s.start].count(b"\n") + 1
        assert s.start == 0 or data[s.start - 1 : s.start] == b"\n"
        # Each cut is after the first line break at or past the target (none before the end).
        assert b"\n" not in data[s.start + target - 1 : end - 1]
        assert end == len(data) or end - s.start >= target


def _big_jsonl(path: Path, count: int, seed: int) -> bytes:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        words = " ".join(f"w{rng.randrange(10_000)}" for _ in range(rng.randrange(1, 120)))
        rows.append(json.dumps({"text": words}) if i % 7 else "")
    data = ("\n".join(rows) + "\n").encode()
    path.write_bytes(data)
    return data


def test_newline_count_pass_on_a_multi_megabyte_file(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    data = _big_jsonl(path, 40_000, seed=1)
    assert len(data) > 8 << 20  # more than two of the pass's 4 MiB blocks
    target = 1_000_003
    with path.open("rb") as fh:
        cuts = line_starts(fh, target)
    starts = [offset for offset, _ in cuts]
    assert starts[0] == 0 and len(cuts) > 8
    for (offset, line), nxt in zip(cuts, [*starts[1:], len(data)], strict=True):
        assert line == data[:offset].count(b"\n") + 1
        assert offset == 0 or data[offset - 1] == ord("\n")
        if nxt != len(data):  # a range ends after the first line break at or past the target
            assert nxt - offset >= target
            assert b"\n" not in data[offset + target - 1 : nxt - 1]
    got, bad, _, plan = _by_splits([str(path)], target)
    assert len(plan) == len(cuts) and not bad
    assert got == _whole([str(path)])[0]


@pytest.mark.parametrize(
    ("data", "target", "starts", "lines"),
    [
        (b'{"text":"a"}\n{"text":"b"}\n', 13, [0, 13], [1, 2]),  # a cut right at a line break
        (b'{"text":"a"}\n{"text":"b"}\n', 14, [0], [1]),  # the cut would be at the end
        (b'{"text":"a"}\n{"text":"b"}', 5, [0, 13], [1, 2]),  # last line without a newline
        (b'{"text":"a"}\r\n\r\n{"text":"b"}\r\n', 1, [0, 14, 16], [1, 2, 3]),  # CRLF, blank
        (b'{"text":"a"}\n{"text":"b"}\n', 100, [0], [1]),  # smaller than the target
        (b'{"text":"a"}\n', 1, [0], [1]),  # one line: no empty range after its newline
        (b"", 1, [0], [1]),  # empty
    ],
)
def test_cuts_at_edges(
    tmp_path: Path, data: bytes, target: int, starts: list[int], lines: list[int]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    plan = plan_splits([str(path)], target_bytes=target)
    assert [s.start for s in plan] == starts
    assert [s.first_line for s in plan] == lines
    assert _by_splits([str(path)], target)[:3] == _whole([str(path)])


def test_a_utf8_bom_is_stripped_only_at_the_file_start(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text":"a"}\n{"text":"b"}\n{"text":"c"}\n')
    got, bad, _, plan = _by_splits([str(path)], 1)
    assert len(plan) == 3 and not bad
    assert [g[1:3] for g in got] == [("in.jsonl:1", "a"), ("in.jsonl:2", "b"), ("in.jsonl:3", "c")]


def test_utf16_and_compressed_jsonl_are_one_split_each(tmp_path: Path) -> None:
    text = '{"text":"first line"}\n{"text":"second line"}\n'
    (tmp_path / "a.jsonl").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress(text.encode()))
    plan = plan_splits([str(tmp_path)], target_bytes=1)
    assert [(s.source.relpath, s.whole) for s in plan] == [("a.jsonl", True), ("b.jsonl.gz", True)]
    got, bad, _, _ = _by_splits([str(tmp_path)], 1)
    assert not bad and [g[2] for g in got] == ["first line", "second line"] * 2


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "in"
    (root / "site").mkdir(parents=True)
    (root / "site" / "page.html").write_text("<html><body><p>Hello there.</p></body></html>")
    (root / "site" / "note.txt").write_text("A plain note.\n\nTwo paragraphs.")
    rows = [{"id": f"r{i % 4}", "text": f"row {i}"} for i in range(30)]  # duplicate ids
    lines = [json.dumps(r) for r in rows] + ["{broken", ""] + [json.dumps({"text": "no id"})]
    (root / "a.jsonl").write_text("\r\n".join(lines) + "\r\n")
    (root / "b.jsonl.gz").write_bytes(gzip.compress(b'{"text": "zipped"}\n{"oops"\n'))
    (root / "c.csv").write_text("a,b\n")
    (root / "empty.jsonl").write_bytes(b"")
    pq.write_table(
        pa.table({"id": ["p1", "r1"], "text": ["parquet one", "parquet two"]}), root / "d.parquet"
    )
    write_archive(
        root / "e.warc.gz",
        [
            _capture("http://x.example/p", "2024-01-01T00:00:00Z", "Old version of the page."),
            _capture("http://x.example/p", "2024-03-01T00:00:00Z", "New version of the page."),
        ],
    )
    write_archive(
        root / "f.warc",
        [_capture("http://x.example/p", "2024-02-01T00:00:00Z", "Middle version of the page.")],
    )
    return root


def _summary(items: list[Document | RawLine], skips: list[Skipped]) -> Summary:
    summary = Summary()
    for item in items:
        assert isinstance(item, Document)
        summary.note_id(item)
    for skipped in skips:
        summary.note_skip(skipped)
    summary.flush_ids()  # as the runner does at the end: the noted ids are looked up in batches
    return summary


def test_a_folder_of_mixed_kinds_reads_the_same_by_splits(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    want = _whole([str(root)])
    got, bad, skips, plan = _by_splits([str(root)], 200)
    assert (got, bad, skips) == want
    kinds = [s.kind for s in plan]
    assert kinds.count("jsonl") > 3  # a.jsonl is cut into ranges
    assert {"html", "txt", "parquet", "warc"} <= set(kinds)
    assert len(bad) == 2 and any("a.jsonl:31" in b for b in bad)  # line numbers of the range
    pages = [g[2] for g in got if g[1] == "http://x.example/p"]  # the latest capture wins
    assert len(pages) == 1 and "New version of the page." in pages[0]
    # Counts: skipped files once (at planning), duplicates over the concatenated stream.
    bad2: list[str] = []
    skips2: list[Skipped] = []
    plan = plan_splits([str(root)], on_skip=skips2.append, target_bytes=200)
    reader = SplitReader.for_plan(plan, skip_bad=True, on_bad=bad2.append, on_skip=skips2.append)
    by_splits = _summary([i for s in plan for i in read_split(s, reader)], skips2)
    whole_skips: list[Skipped] = []
    whole_items = list(read_inputs([str(root)], skip_bad=True, on_skip=whole_skips.append))
    whole = _summary(whole_items, whole_skips)
    assert by_splits.duplicate_ids == whole.duplicate_ids == 27
    assert by_splits.unsupported_skipped == whole.unsupported_skipped == 1
    assert by_splits.records_skipped == whole.records_skipped == {"superseded": 2}


def test_an_unreadable_folder_is_reported_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "in"
    for name in ("a", "b", "c"):
        (root / name).mkdir(parents=True)
        (root / name / "x.txt").write_text(f"text of {name}")
    scandir = os.scandir

    def refuse(path: Any) -> Any:
        if str(path).endswith("/b"):
            raise PermissionError(13, "Permission denied")
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    events: list[str] = []
    plan = plan_splits([str(root)], target_bytes=1)
    assert [s.kind for s in plan] == ["txt", "bad", "txt"]
    reader = SplitReader.for_plan(plan, skip_bad=True, on_bad=lambda m: events.append("bad " + m))
    for s in plan:
        events.extend(f"doc {d.id}" for d in read_split(s, reader))
    assert events == [
        "doc a/x.txt",
        f"bad {root}/b: cannot read folder: Permission denied",
        "doc c/x.txt",
    ]
    strict = SplitReader.for_plan(plan)
    assert [d.id for d in read_split(plan[0], strict)] == ["a/x.txt"]
    with pytest.raises(BadInput, match="cannot read folder"):
        list(read_split(plan[1], strict))


def test_a_file_gone_before_reading_is_bad_input_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text":"a"}\n{"text":"b"}\n')
    plan = plan_splits([str(path)], target_bytes=1)
    path.unlink()
    bad: list[str] = []
    reader = SplitReader.for_plan(plan, skip_bad=True, on_bad=bad.append)
    assert [list(read_split(s, reader)) for s in plan] == [[], []]
    assert bad == [f"{path}: cannot read: No such file or directory"] * 2


def test_a_target_below_one_byte_is_an_option_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("text")
    with pytest.raises(OptionError, match="at least 1, not 0"):
        plan_splits([str(tmp_path)], target_bytes=0)
