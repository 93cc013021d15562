"""Output lines written in parts by tasks (io/parts.py) and appended in order (AtomicFile)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard
from helpers import generated_corpus, skip_without_ray

from cleanup.document import Document
from cleanup.io.parts import EncodeLines, EncodeParts, FileLines, compress, writes
from cleanup.io.writers import AtomicFile, JsonlWriter, jsonl_line
from cleanup.scratch import ScratchRef


def _decompressed(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
        return reader.read()
    return data


def _batch() -> list[Document]:
    kept = Document.from_text("a", "First kept.\n\nSecond paragraph.")
    dropped = Document.from_text("b", "Dropped one.")
    dropped.drop("dedup", "near-duplicate-document", "a copy")
    empty = Document(id="c", paragraphs=[])
    last = Document.from_text("d", "Last kept, ünïcode.")
    return [kept, dropped, empty, last]


@pytest.mark.parametrize("keep_empty", [False, True])
@pytest.mark.parametrize("compression", [None, "gz", "zst"])
def test_a_batch_becomes_one_part_on_its_first_written_document(
    tmp_path: Path, compression: str | None, keep_empty: bool
) -> None:
    step = FileLines("text", "id", compression, keep_empty).in_parts(str(tmp_path))
    assert isinstance(step, EncodeParts)
    docs = list(step(_batch()))
    assert [d.id for d in docs] == ["a", "b", "c", "d"]  # every document goes on
    written = [d for d in docs if writes(d, keep_empty)]
    assert [d.id for d in written] == (["a", "c", "d"] if keep_empty else ["a", "d"])
    part = written[0].notes.part
    assert isinstance(part, ScratchRef)
    assert all(d.notes.part is None for d in docs if d is not written[0])
    assert all(d.notes.encoded == b"" for d in written)
    path = Path(part.path)
    renamed = path.with_name("part" + {None: "", "gz": ".gz", "zst": ".zst"}[compression])
    path.rename(renamed)
    expected = b"".join(jsonl_line(d, "text", "id") for d in written)
    assert _decompressed(renamed) == expected


def test_a_batch_with_nothing_to_write_makes_no_part(tmp_path: Path) -> None:
    batch = _batch()[1:3]
    docs = list(EncodeParts(EncodeLines("text", "id"), str(tmp_path), None, False)(batch))
    assert all(d.notes.part is None for d in docs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.jsonl.zst"])
def test_appended_parts_and_written_lines_keep_their_order(tmp_path: Path, name: str) -> None:
    compression = {"out.jsonl": None, "out.jsonl.gz": "gz", "out.jsonl.zst": "zst"}[name]
    pieces = [b"one\n", b"two\nthree\n", b"four\n", b"five\n", b"six\n"]
    out = AtomicFile(str(tmp_path / name))
    for k, piece in enumerate(pieces):
        if k % 2:  # a part a task wrote
            part = tmp_path / f"part{k}"
            part.write_bytes(compress(piece, compression))
            out.append(str(part))
        else:
            out.write_bytes(piece)
    out.commit()
    assert _decompressed(tmp_path / name) == b"".join(pieces)


@pytest.mark.parametrize("name", ["empty.jsonl.gz", "empty.jsonl.zst"])
def test_a_compressed_output_with_nothing_written_is_still_valid(tmp_path: Path, name: str) -> None:
    AtomicFile(str(tmp_path / name)).commit()
    assert _decompressed(tmp_path / name) == b""


def test_standard_output_takes_parts_as_they_are(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    writer = JsonlWriter(None, "text", "id")
    assert writer.encoder().compression is None
    docs = list(writer.encoder().in_parts(str(tmp_path))(_batch()))
    for doc in docs:
        if writes(doc, False):
            writer.write(doc)
    writer.finish()
    expected = b"".join(jsonl_line(d, "text", "id") for d in (_batch()[0], _batch()[3]))
    assert capfdbinary.readouterr().out == expected


def _run(*args: str) -> None:
    cmd = [sys.executable, "-m", "cleanup", "run", "-q", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_corpus(tmp_path_factory.mktemp("parts"), 1500, 12)


@pytest.mark.parametrize("name", ["out.jsonl.gz", "out.jsonl.zst"])
def test_ray_compressed_output_decompresses_to_the_local_bytes(
    corpus: Path, tmp_path: Path, name: str
) -> None:
    skip_without_ray()
    local, ray = tmp_path / "local", tmp_path / "ray"
    local.mkdir()
    ray.mkdir()
    _run(str(corpus), "-o", str(local / name), "--workers", "1", "--keep-empty")
    _run(str(corpus), "-o", str(ray / name), "--engine", "ray", "--workers", "2", "--keep-empty")
    assert _decompressed(ray / name) == _decompressed(local / name)
    assert len(_decompressed(local / name).splitlines()) > 100
