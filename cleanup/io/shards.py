"""Write sharded output: a folder of parts and `_manifest.json`, the mark of a complete output.

`-o DIR/ --format jsonl|jsonl.gz|jsonl.zst|parquet --shard-size SIZE` writes `part-00000.FORMAT`,
`part-00001.FORMAT`... in input order, each part closed after SIZE documents or once its file
reaches SIZE bytes on disk. The JSONL lines are the ones `-o FILE.jsonl` writes (EncodeLines,
jsonl_line), the files are AtomicFiles (gzip/zstd by suffix), the Parquet parts are
ParquetWriters sharing one schema, so the parts concatenated are the single-file output.

Why a staging folder swapped in: the whole output is built in `.DIR.cleanup-tmp-PID` beside DIR,
each part under a temporary name in it until it is complete, the manifest last; publishing then
swaps the staging folder into place as a folder output is (writers.replace_into_place). A reader
sees the old complete set of parts or the new one, never a mix; a `--force` re-run never leaves
stale parts of a bigger earlier run; a killed run leaves only the hidden staging folder, which
the next run removes. A publisher elsewhere (object storage) takes `ShardWriter.output` after
`finish()`: the finished local parts, then the manifest's bytes, to upload in that order.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cleanup import __version__
from cleanup.document import Document
from cleanup.errors import OptionError, OutputError, UsageProblem
from cleanup.io.parts import EncodeLines
from cleanup.io.publish import fsync_path
from cleanup.io.temporaries import replace_into_place, temporary_name
from cleanup.io.writers import AtomicFile, is_folder_output, jsonl_line
from cleanup.ranges import size_parts

FORMATS = ("jsonl", "jsonl.gz", "jsonl.zst", "parquet")
DEFAULT_SHARD_SIZE = "100000"  # documents a part: the one home of `--shard-size`'s default
MANIFEST = "_manifest.json"
MANIFEST_VERSION = 1
_HASH_CHUNK = 1 << 20
_PART_FORMATS = "|".join(re.escape(f) for f in FORMATS)
_PART = re.compile(rf"part-\d{{5,}}\.(?:{_PART_FORMATS})")
PART_DIGITS = 5  # part-00000: an output of more parts has every name widened alike


@dataclass(frozen=True)
class ShardSize:
    """Where a part ends: after `documents` documents, or once its file has `bytes` bytes."""

    documents: int | None = None
    bytes: int | None = None

    def to_dict(self) -> dict[str, int]:
        """Return the size as the manifest records it: {"documents": N} or {"bytes": N}."""
        return {"documents": self.documents} if self.documents else {"bytes": self.bytes or 0}


def parse_shard_size(value: str | int) -> ShardSize:
    """Return the ShardSize of `--shard-size` (`100000`, `256MB`, `1GiB`); OptionError if bad.

    A bare number counts documents; a number with a unit counts bytes of output on disk,
    decimal (kB, MB, GB, TB: powers of 1000) or binary (KiB, MiB, GiB, TiB: powers of 1024).
    """
    why = shard_size_problem(value)
    parts = None if why else size_parts(value)
    if parts is None:
        raise OptionError(f"--shard-size {why}")
    number, unit = parts
    return ShardSize(documents=number) if unit is None else ShardSize(bytes=number * unit)


def shard_size_problem(value: Any) -> str | None:
    """Return why `value` is no `--shard-size`, or None (the option's `validate`)."""
    parts = size_parts(value)
    if parts is None:
        return f"must be a number of documents or a size such as 256MB, got {value!r}"
    if parts[0] < 1:
        return f"must be at least 1, got {value!r}"
    return None


def foreign_entry(folder: str) -> str | None:
    """Return a file in an existing output folder that no cleanup output holds, or None.

    Why: `--force` replaces the whole folder (the old one is removed once the new one is in
    place), so anything else in it (`-o ~/ --force`, a checkout, a folder of notes) would be
    lost with it. A sharded output holds its parts and `_manifest.json`; a folder of texts,
    `.txt` files in folders that mirror the inputs. Either may replace the other.
    """
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        top = root == folder
        for name in sorted(files):
            ours = name.endswith(".txt") or (top and (name == MANIFEST or is_part_name(name)))
            if not ours or name.startswith("."):
                return os.path.relpath(os.path.join(root, name), folder)
    return None


def is_part_name(name: str) -> bool:
    """Tell whether `name` is a part's name (`part-00000.jsonl.zst`), in any of our formats.

    Why: a `--force` re-run to object storage deletes the parts of an earlier run that its
    own manifest does not list, and must recognise them without touching other objects.
    """
    return _PART.fullmatch(name) is not None


def check_format(output: str | None, fmt: str) -> None:
    """Refuse a `--format` that disagrees with a file output's extension or standard output.

    Why: `-o day.jsonl --format parquet` would otherwise write JSONL under a name that
    promises something else, or leave the user unsure which of the two won.
    """
    if output in (None, "-"):
        if fmt != "jsonl":
            raise UsageProblem(
                f"--format {fmt}: standard output is plain JSONL; give a folder (-o DIR/)"
                " for sharded output"
            )
        return
    assert output is not None
    if is_folder_output(output):
        return
    suffix = next(
        (f for f in sorted(FORMATS, key=len, reverse=True) if output.endswith(f".{f}")), None
    )
    if suffix is None:
        raise UsageProblem(
            f"-o {output}: --format {fmt} writes a folder of parts; end the folder name with /"
        )
    if suffix != fmt:
        raise UsageProblem(
            f"--format {fmt} does not agree with -o {output} (a file's format is its extension;"
            " give a folder, -o DIR/, for sharded output)"
        )


@dataclass(frozen=True)
class Part:
    """One finished part: its file name in the output folder, documents, bytes and sha256."""

    name: str
    documents: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ShardOutput:
    """What a finished sharded output is, for whoever publishes it (rename, or upload).

    `folder` holds the finished `parts` under their final names (the staging folder until
    `publish()`, the output folder after); `manifest` is `_manifest.json`'s bytes, also in
    `folder`. A publisher copies the parts first and the manifest last: its presence marks
    a complete output.
    """

    folder: str
    parts: tuple[Part, ...]
    manifest: bytes
    manifest_name: str = MANIFEST

    def part_paths(self) -> list[str]:
        """Return the local paths of the parts, in order."""
        return [os.path.join(self.folder, part.name) for part in self.parts]


class ShardWriter:
    """Write documents into parts in a staging folder; swap the folder into place on publish.

    `settings` (the run's options, as --stats records them) go into the manifest. `output`
    is set by `finish()` (see ShardOutput).
    """

    def __init__(
        self,
        final: str,
        fmt: str,
        size: ShardSize,
        text_field: str,
        id_field: str,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        if fmt == "parquet":
            from cleanup.io.parquet import require_pyarrow

            require_pyarrow()  # before reading starts: one line naming the extra
        self.final, self.fmt, self.size = final, fmt, size
        self.text_field, self.id_field = text_field, id_field
        self.settings = dict(settings or {})
        self.tmp = temporary_name(final)
        try:
            os.makedirs(self.tmp)
        except OSError as exc:
            raise OutputError(final, exc) from None
        self.part: Any = None  # the open part: an AtomicFile, or a ParquetWriter
        self.part_documents = 0
        self.parts: list[Part] = []
        self.schema: Any = None  # Parquet: the first part's schema, kept by every part
        self.hints: dict[str, Any] = {}
        self.output: ShardOutput | None = None

    def encoder(self) -> EncodeLines | None:
        """Return the JSONL encoding step (run on the workers), or None for Parquet."""
        return None if self.fmt == "parquet" else EncodeLines(self.text_field, self.id_field)

    def write(self, doc: Document) -> None:
        """Write one document into the open part; close the part when it is full."""
        if self.part is None:
            self._open_part()
        if self.fmt == "parquet":
            self.part.write(doc)
        else:
            line = doc.notes.encoded or jsonl_line(doc, self.text_field, self.id_field)
            self.part.write_bytes(line)
        self.part_documents += 1
        if self._full():
            self._close_part()

    def _open_part(self) -> None:
        path = os.path.join(self.tmp, _part_name(len(self.parts), PART_DIGITS, self.fmt))
        if self.fmt != "parquet":
            self.part = AtomicFile(path)
        else:
            from cleanup.io.parquet import GROUP_BYTES, ParquetWriter

            self.part = ParquetWriter(path, self.text_field, self.id_field)
            self.part.schema, self.part.hints = self.schema, self.hints
            if self.size.bytes:  # row groups no bigger than a part, so that parts can end
                self.part.group_bytes = min(GROUP_BYTES, self.size.bytes)
        self.part_documents = 0

    def _full(self) -> bool:
        if self.size.documents is not None:
            return self.part_documents >= self.size.documents
        return _bytes_on_disk(self.part.fh) >= (self.size.bytes or 0)

    def _close_part(self) -> None:
        """Finish the open part and rename it to its part name inside the staging folder."""
        part, self.part = self.part, None
        part.commit()
        if self.fmt == "parquet":
            self.schema, self.hints = part.schema, part.hints
        self.parts.append(_describe(part.final, self.part_documents))

    def finish(self) -> None:
        """Close the last part, write the manifest last, and flush the folder to disk."""
        if self.part is not None:
            self._close_part()
        self._widen_names()
        manifest = manifest_bytes(self.fmt, self.size, self.parts, self.settings)
        out = AtomicFile(os.path.join(self.tmp, MANIFEST))
        out.write_bytes(manifest)
        out.commit()
        try:
            fsync_path(self.tmp)
        except OSError as exc:
            raise OutputError(self.final, exc) from None
        self.output = ShardOutput(self.tmp, tuple(self.parts), manifest)

    def _widen_names(self) -> None:
        """Give every part a name of as many digits as the last one's (part-000000 ...
        part-100000) when there are more parts than PART_DIGITS digits can number, so that
        the names sort in input order. Renames inside the staging folder, before the
        manifest is written."""
        digits = len(str(len(self.parts) - 1))
        if digits <= PART_DIGITS:
            return
        for k, part in enumerate(self.parts):
            name = _part_name(k, digits, self.fmt)
            if name != part.name:
                try:
                    os.rename(os.path.join(self.tmp, part.name), os.path.join(self.tmp, name))
                except OSError as exc:
                    raise OutputError(self.final, exc) from None
                self.parts[k] = replace(part, name=name)

    def publish(self) -> None:
        """Swap the finished staging folder into place (an old output folder is removed)."""
        try:
            replace_into_place(self.tmp, self.final)
        except OSError as exc:
            raise OutputError(self.final, exc) from None
        if self.output is not None:
            self.output = replace(self.output, folder=self.final)

    def commit(self) -> None:
        """Finish and publish."""
        self.finish()
        self.publish()

    def abort(self) -> None:
        """Remove everything this run wrote: the open part and the staging folder."""
        if self.part is not None:
            self.part.abort()
            self.part = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def _part_name(number: int, digits: int, fmt: str) -> str:
    """Return part `number`'s file name, its number written with at least `digits` digits."""
    return f"part-{number:0{digits}d}.{fmt}"


def _bytes_on_disk(fh: Any) -> int:
    """Return how many bytes a part's file holds so far (after compression, as flushed)."""
    raw = getattr(fh, "fileobj", None)  # gzip: the file under the compressor
    return int((raw if raw is not None else fh).tell())


def _describe(path: str, documents: int) -> Part:
    """Return the Part of a finished file: its size and sha256 as it lies on disk."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_HASH_CHUNK):
                digest.update(chunk)
        size = os.path.getsize(path)
    except OSError as exc:
        raise OutputError(path, exc) from None
    return Part(os.path.basename(path), documents, size, digest.hexdigest())


def manifest_bytes(
    fmt: str, size: ShardSize, parts: list[Part], settings: Mapping[str, Any]
) -> bytes:
    """Return `_manifest.json`: format version, parts with counts and sha256, totals, options."""
    payload = {
        "manifest_version": MANIFEST_VERSION,
        "cleanup_version": __version__,
        "format": fmt,
        "shard_size": size.to_dict(),
        "files": [
            {"name": p.name, "documents": p.documents, "bytes": p.bytes, "sha256": p.sha256}
            for p in parts
        ],
        "total_documents": sum(p.documents for p in parts),
        "total_bytes": sum(p.bytes for p in parts),
        "options": dict(settings),
    }
    return (json.dumps(payload, indent=2, ensure_ascii=False, default=list) + "\n").encode()
