"""Write documents: a folder of .txt files, a JSONL file (optionally .gz/.zst), or stdout
(a Parquet file: cleanup/io/parquet.py, the same writer protocol).

Output is built beside its final name and renamed into place only when the run succeeds,
so a killed run never leaves partial output under the final name. Stale temporaries of an
earlier killed run are removed by the next run.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Protocol

import zstandard

from cleanup.document import Document
from cleanup.errors import OutputError, UsageProblem
from cleanup.io import jsonline
from cleanup.io.compression import strip_compression
from cleanup.io.fieldpath import set_path, split_path
from cleanup.io.parts import GZIP_LEVEL, ZSTD_LEVEL, FileLines
from cleanup.io.publish import fsync_path, sync_tree
from cleanup.io.temporaries import (
    remove_path,
    remove_stale_temporaries,
    replace_into_place,
    temporary_name,
)

_JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst")
_UNSAFE = re.compile(r"[^\w.\-]+")
_NAME_BYTES = 255 - len(".txt")  # a file name holds at most 255 bytes (NAME_MAX)


class Writer(Protocol):
    """Receive documents, finish (all on disk under a temporary name), then publish or abort.

    `finish` closes and fsyncs the output; `publish` renames it into place (the runner does
    that after every other file of the run is finished too); `commit` is both; `abort`
    removes the temporaries. `encoder` returns a picklable step that encodes each document's
    output ahead of `write` (on the workers, when there are several), or None when the
    writer encodes as it writes. `tmp` and `final` are None for standard output.
    """

    @property
    def tmp(self) -> str | None: ...
    @property
    def final(self) -> str | None: ...

    def write(self, doc: Document) -> None: ...
    def finish(self) -> None: ...
    def publish(self) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...
    def encoder(self) -> Callable[[Iterable[Document]], Iterator[Document]] | None: ...


def open_output(
    output: str | None,
    *,
    force: bool = False,
    inputs: Iterable[str] = (),
    text_field: str = "text",
    id_field: str = "id",
    fmt: str | None = None,
    shard_size: str | int | None = None,
    settings: Mapping[str, Any] | None = None,
    keep_empty: bool = False,
) -> Writer:
    """Return the writer for `-o OUTPUT`, refusing outputs that would lose or clobber data.

    With `fmt` (`--format`), a folder output is sharded (cleanup/io/shards.py, parts of
    `shard_size`, `settings` in its manifest); a file's or standard output's format is fixed
    by its name, so `fmt` must agree with it. `keep_empty` is the run's rule for empty
    documents, which tasks apply when they write a JSONL file's lines in parts.
    """
    if fmt is not None:
        from cleanup.io.shards import check_format

        check_format(output, fmt)
    if output in (None, "-"):
        return JsonlWriter(None, text_field, id_field, keep_empty)
    assert output is not None
    is_dir = is_folder_output(output)
    check_output_name(output, is_dir)
    final = os.path.abspath(output.rstrip("/" + os.sep) or output)
    check_not_input(final, inputs)
    remove_stale_temporaries(final)  # first: it may put back an output a killed run moved aside
    check_overwrite(final, output, force, is_dir)
    if is_dir and fmt is not None:
        from cleanup.io.shards import DEFAULT_SHARD_SIZE, ShardWriter, parse_shard_size

        size = parse_shard_size(DEFAULT_SHARD_SIZE if shard_size is None else shard_size)
        return ShardWriter(final, fmt, size, text_field, id_field, settings)
    if is_dir:
        return FolderWriter(final)
    if final.endswith(".parquet"):
        from cleanup.io.parquet import ParquetWriter  # pyarrow: an optional extra

        return ParquetWriter(final, text_field, id_field)
    return JsonlWriter(final, text_field, id_field, keep_empty)


def check_output_name(output: str, is_dir: bool) -> None:
    """Refuse an output whose name says no format we write (before anything is read)."""
    if not is_dir and not output.endswith((*_JSONL_SUFFIXES, ".parquet")):
        raise UsageProblem(
            f"-o {output}: give a folder (ending in /), a .jsonl, .jsonl.gz, .jsonl.zst or"
            " .parquet file, or -"
        )


def is_folder_output(output: str) -> bool:
    """Tell whether `-o OUTPUT` names a folder (ends in / or is an existing folder)."""
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def check_not_input(final: str, inputs: Iterable[str]) -> None:
    """Refuse an output inside an input tree, over an input file (under any name), or holding
    an input: the run's path check (io/paths.py), for `-o` alone."""
    from cleanup.io.paths import Target, refuse_inputs  # paths imports remote, which imports us

    refuse_inputs(Target("-o", final), os.path.realpath(final), inputs)


def check_overwrite(final: str, shown: str, force: bool, is_dir: bool) -> None:
    """Refuse an existing output file or non-empty folder unless --force."""
    if not os.path.exists(final):
        return
    if is_dir and not os.path.isdir(final):
        raise UsageProblem(f"-o {shown}: exists and is not a folder")
    if is_dir and not os.listdir(final):
        return
    if not force:
        raise UsageProblem(f"-o {shown}: already exists (use --force to replace it)")
    if is_dir:
        from cleanup.io.shards import foreign_entry

        if (entry := foreign_entry(final)) is not None:
            raise UsageProblem(
                f"-o {shown}: holds {entry}, which is no cleanup output; --force replaces only"
                " a folder of cleanup output (move it away, or choose another folder)"
            )


def record_of(doc: Document, text_field: str, id_field: str) -> dict[str, Any]:
    """Return the JSONL record of a document: carried fields, id and cleaned text."""
    id_keys = split_path(id_field)
    if doc.fields:
        record = dict(doc.fields)
        if doc.explicit_id:
            pass  # the id is in the fields as read
        elif len(id_keys) == 1:
            key = id_keys[0]
            record = {key: doc.id, **{k: v for k, v in record.items() if k != key}}
        else:
            record = set_path(record, id_keys, doc.id)
    else:
        record = {id_keys[0]: doc.id} if len(id_keys) == 1 else set_path({}, id_keys, doc.id)
        if doc.relpath:
            record["source"] = doc.relpath
    text_keys = split_path(text_field)
    if len(text_keys) == 1:
        record[text_keys[0]] = doc.text
    else:
        record = set_path(record, text_keys, doc.text)
    if doc.meta and "meta" not in record:
        record["meta"] = doc.meta
    return record


def dumps(record: dict[str, Any]) -> str:
    """Serialize one JSONL record (UTF-8, no ASCII escaping, values we cannot encode as text).

    The bytes of json.dumps(record, ensure_ascii=False, default=str), faster: see io/jsonline.py.
    """
    return jsonline.dumps(record)


class TemporaryFile:
    """A file built under `tmp` and renamed to `final` on publish (subclasses write and finish)."""

    tmp: str
    final: str

    def finish(self) -> None:
        """Close the temporary file and flush it to disk (it is not in place yet)."""
        raise NotImplementedError

    def publish(self) -> None:
        """Rename the finished file to its final name."""
        try:
            os.replace(self.tmp, self.final)
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def commit(self) -> None:
        """Finish and publish."""
        self.finish()
        self.publish()


class AtomicFile(TemporaryFile):
    """Write a text file under a temporary sibling name; rename on commit (gz/zst by suffix).

    `write` takes text; `write_bytes` takes text already encoded as UTF-8; `append` copies a
    part file a task compressed the same way (io/parts.py). A failure to write (no space
    left, permission) is an OutputError naming the file.
    """

    def __init__(self, final: str) -> None:
        self.final = os.path.abspath(final)
        remove_stale_temporaries(self.final)
        self.tmp = temporary_name(self.final)
        self.compression = compression_of(self.final)
        try:
            self.raw: IO[bytes] = _open_binary(self.tmp, self.final)
            self.fh: IO[bytes] | None = self._member()
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def _member(self) -> IO[bytes]:
        """Return a writer of the next gzip member or zstd frame over the raw file (or it)."""
        if self.compression == "gz":
            return gzip.GzipFile(self.tmp, "wb", GZIP_LEVEL, self.raw)  # type: ignore[return-value]
        if self.compression == "zst":
            compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
            return compressor.stream_writer(self.raw, closefd=False)
        return self.raw

    def write(self, text: str) -> None:
        """Write text to the temporary file."""
        self.write_bytes(text.encode("utf-8"))

    def write_bytes(self, data: bytes) -> None:
        """Write UTF-8 bytes to the temporary file."""
        try:
            if self.fh is None:
                self.fh = self._member()
            self.fh.write(data)
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def append(self, path: str) -> None:
        """Append a part file compressed as this file is, after what was written so far.

        A compressed file first ends its gzip member or zstd frame (the next write starts
        another): members and frames in a row decompress as one stream.
        """
        try:
            self._end_member()
            with open(path, "rb") as part:
                shutil.copyfileobj(part, self.raw, 1 << 20)
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def _end_member(self) -> None:
        if self.fh is not None and self.fh is not self.raw:
            self.fh.close()  # writes the member's end; the raw file stays open
            self.fh = None

    def finish(self) -> None:
        """Close the temporary file and flush it to disk (it is not in place yet)."""
        try:
            self._end_member()
            self.raw.close()
            fsync_path(self.tmp)
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def abort(self) -> None:
        """Close and remove the temporary file."""
        with contextlib.suppress(OSError, ValueError):
            self._end_member()
        with contextlib.suppress(OSError):
            self.raw.close()
        remove_path(self.tmp)


def _open_binary(path: str, final: str) -> IO[bytes]:
    """Open the temporary file of `final` for writing (the one place that opens outputs)."""
    return open(path, "wb", buffering=1 << 20)


def compression_of(final: str) -> str | None:
    """Return the compression an output file's name asks for: "gz", "zst" or None."""
    for suffix in ("gz", "zst"):
        if final.endswith("." + suffix):
            return suffix
    return None


def jsonl_line(doc: Document, text_field: str, id_field: str) -> bytes:
    """Return the JSONL line of a document, UTF-8 encoded, newline included."""
    return jsonline.line(record_of(doc, text_field, id_field))


class JsonlWriter:
    """Write JSONL records to a file (atomically) or to standard output (final flush)."""

    def __init__(
        self, final: str | None, text_field: str, id_field: str, keep_empty: bool = False
    ) -> None:
        self.text_field = text_field
        self.id_field = id_field
        self.keep_empty = keep_empty
        self.file = AtomicFile(final) if final else None
        self.tmp = self.file.tmp if self.file else None
        self.final = self.file.final if self.file else None
        if self.file is None:
            sys.stdout.flush()  # what was printed before goes first
        self.stdout = sys.stdout.buffer  # kept: the runner points sys.stdout elsewhere
        self.out: Callable[[bytes], Any] = self.file.write_bytes if self.file else self.stdout.write

    def encoder(self) -> FileLines:
        """Return the step that encodes lines ahead of `write` (or writes them in parts)."""
        compression = compression_of(self.final) if self.final else None
        return FileLines(self.text_field, self.id_field, compression, self.keep_empty)

    def write(self, doc: Document) -> None:
        """Write one document as one JSON line (encoded ahead, or here, or in a part)."""
        part = doc.notes.part
        if part is not None:
            if self.file:
                self.file.append(part.path)
            else:
                self.out(part.read())
        line = doc.notes.encoded
        if line is None:
            line = jsonl_line(doc, self.text_field, self.id_field)
        self.out(line)

    def write_lines(self, lines: bytes) -> None:
        """Write lines encoded and joined ahead (a batch finished on a worker: cleanup/tally.py)."""
        if lines:
            self.out(lines)

    def finish(self) -> None:
        """Flush the output to disk (or standard output); it is not in place yet."""
        if self.file:
            self.file.finish()
        else:
            self.stdout.flush()

    def publish(self) -> None:
        """Rename the file into place (standard output is written as it goes)."""
        if self.file:
            self.file.publish()

    def commit(self) -> None:
        """Finish and publish."""
        self.finish()
        self.publish()

    def abort(self) -> None:
        """Drop the partial output file (standard output cannot be taken back)."""
        if self.file:
            self.file.abort()


class FolderWriter:
    """Write one UTF-8 text file per document, mirroring the input tree."""

    def __init__(self, final: str) -> None:
        self.final = final
        self.tmp = temporary_name(final)
        try:
            os.makedirs(self.tmp)
        except OSError as exc:
            raise OutputError(final, exc) from None
        self.names: dict[str, str] = {}

    def encoder(self) -> None:
        """Return None: each document is encoded as its file is written."""

    def write(self, doc: Document) -> None:
        """Write the document to its mirrored path with a .txt extension."""
        rel = output_relpath(doc)
        key = rel.lower()
        if key in self.names:
            raise UsageProblem(
                f"{self.names[key]} and {doc.source or doc.id} would both be written to {rel}"
            )
        self.names[key] = doc.source or doc.id
        path = os.path.join(self.tmp, rel)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write("\n\n".join(doc.paragraphs) + "\n" if doc.paragraphs else "")
        except OSError as exc:
            raise OutputError(os.path.join(self.final, rel), exc) from None

    def finish(self) -> None:
        """Flush every file of the folder to disk (it is not in place yet)."""
        try:
            sync_tree(self.tmp)
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def publish(self) -> None:
        """Rename the finished folder into place."""
        try:
            replace_into_place(self.tmp, self.final)
        except OSError as exc:
            raise OutputError(self.final, exc) from None

    def commit(self) -> None:
        """Finish and publish."""
        self.finish()
        self.publish()

    def abort(self) -> None:
        """Remove the partial folder."""
        remove_path(self.tmp)


def output_relpath(doc: Document) -> str:
    """Return where a document lands inside an output folder.

    A text or HTML file keeps its relative path with the extension replaced by .txt; a JSONL
    record lands in a folder named after its file, as `<id>.txt`.
    """
    base = os.path.splitext(strip_compression(doc.relpath))[0] if doc.relpath else ""
    if doc.format in ("jsonl", "parquet") or not base:
        plain = doc.id if doc.explicit_id else doc.id.rsplit(":", 1)[-1]
        name = (_UNSAFE.sub("_", plain).strip("._") or "document")[:200]
        if len(name.encode("utf-8", "surrogatepass")) > _NAME_BYTES:  # 200 wide characters
            name = name.encode("utf-8", "surrogatepass")[:_NAME_BYTES].decode("utf-8", "ignore")
        return f"{base}/{name}.txt" if base else f"{name}.txt"
    return base + ".txt"
