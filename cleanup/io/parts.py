"""Output lines written by the tasks: each batch's JSONL lines as one part file in scratch.

With `--engine ray` and a JSONL output file (or standard output), the encoding step that runs
on the tasks (`EncodeParts`) writes the lines of a batch's written documents into one file of
the run's scratch space (cleanup/scratch.py), compressed as the output is (one gzip member or
zstd frame per part), and leaves the file's name on the batch's first written document; the
driver's writer appends that file to the output when it comes to that document, so parts land
in input order and the lines never travel back to the driver. A plain output is byte-identical
to the local engine's; a `.gz` or `.zst` output is a series of members or frames that
decompresses to the same bytes. See docs/architecture.md, "Engines".
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import zstandard

from cleanup.document import Document
from cleanup.scratch import put

GZIP_LEVEL = 6  # the output's compression levels (cleanup/io/writers.py uses them too)
ZSTD_LEVEL = 3


@dataclass(frozen=True)
class EncodeLines:
    """Encode each kept document's JSONL line (a picklable step; runs on the workers)."""

    text_field: str
    id_field: str

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        from cleanup.io.writers import jsonl_line

        for doc in docs:
            if doc.dropped is None:
                doc.notes.encoded = jsonl_line(doc, self.text_field, self.id_field)
            yield doc


@dataclass(frozen=True)
class FileLines(EncodeLines):
    """The encoding of a JSONL file output: an engine with scratch space may write it in parts.

    `compression` ("gz", "zst" or None) is the output's; `keep_empty` is the run's rule for
    empty documents, which the runner applies when writing (a part holds what it writes).
    """

    compression: str | None = None
    keep_empty: bool = False

    def in_parts(self, scratch: str) -> EncodeParts:
        """Return the step that writes each batch's lines as one part file under `scratch`."""
        lines = EncodeLines(self.text_field, self.id_field)
        return EncodeParts(lines, scratch, self.compression, self.keep_empty)


@dataclass(frozen=True)
class EncodeParts:
    """Encode a batch and write its written documents' lines as one part (on a task)."""

    lines: EncodeLines
    scratch: str
    compression: str | None
    keep_empty: bool

    def __call__(self, docs: Iterable[Document]) -> Iterator[Document]:
        batch = list(self.lines(docs))
        written = [d for d in batch if writes(d, self.keep_empty)]
        if written:
            data = b"".join(d.notes.encoded or b"" for d in written)
            for doc in written:
                doc.notes.encoded = b""  # its line is in the part
            written[0].notes.part = put(self.scratch, compress(data, self.compression))
        return iter(batch)


def writes(doc: Document, keep_empty: bool) -> bool:
    """Tell whether the runner writes `doc` to the output: kept, and not empty unless asked."""
    return doc.dropped is None and (bool(doc.paragraphs) or keep_empty)


def compress(data: bytes, compression: str | None) -> bytes:
    """Return `data` as one gzip member or zstd frame (as the output file's writer makes them)."""
    if compression == "gz":
        return gzip.compress(data, compresslevel=GZIP_LEVEL)
    if compression == "zst":
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)
    return data
