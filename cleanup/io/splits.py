"""Cut a run's inputs into splits that tasks can read on their own (input shards for Ray).

`plan_splits` discovers the inputs exactly as `read_inputs` does (`discover`) and returns an
ordered list of small, picklable `Split`s: a compressed, text, HTML, Parquet or WARC file is one
split; a large plain JSONL file is cut into byte ranges at line breaks, each range carrying the
number of its first line (from one newline-count pass in big blocks), so `PATH:LINE` ids do not
change. `read_split` yields what the local reader yields for that part of the input, with the
same parsing code (`_Reader` in readers.py), so reading every split in plan order is the same
stream as `read_inputs`.

How the run's counts combine across splits:
- Skipped folder entries (unsupported types, links) are reported to `on_skip` once, while
  planning: they never become splits, so nothing is counted twice.
- Bad input and skipped archive records are reported by the one split that holds them, so
  per-split counts add up. A folder discovery could not read becomes a split of kind "bad"
  that reports it at its place in the order, as the local reader does.
- Duplicate ids do NOT add up per split: two records with one id can sit in two splits.
  `Summary.note_id` over the concatenated stream counts them; a distributed count needs the
  ids' hashes (with a hash that is stable across processes) partitioned by hash, where
  duplicates = explicit ids - distinct explicit ids, summed over the partitions.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cleanup.document import Document
from cleanup.errors import OptionError
from cleanup.io.compression import strip_compression
from cleanup.io.decoding import WIDE_HEAD, wide_codec
from cleanup.io.readers import (
    MAX_DOCUMENT_BYTES,
    OnBad,
    OnSkip,
    RawLine,
    RecordFormat,
    Source,
    _Reader,
    discover,
)
from cleanup.io.remote import is_remote

# Big enough that a split's fixed cost (a task, a file open: about a millisecond) is noise, small
# enough that a task's whole result (dedup's summaries, loaded at once on the driver) is a small
# transient: 64 MiB tasks made the driver's peak 80 MiB higher at 100,000 documents, no faster.
TARGET_BYTES = 16 << 20
_BLOCK = 4 << 20  # the newline-count pass reads this much at a time
_READ = 1 << 20  # a range is read in chunks of this size, as readers read files (compression.py)


@dataclass(frozen=True, slots=True)
class Split:
    """Name one part of the input a task reads alone: a whole file or a byte range of one.

    `end` is None for "to the end of the file"; a whole file is `start == 0 and end is None`.
    `first_line` is the line number of the range's first line (1 for a whole file), `size`
    the bytes the split covers as stored (-1 when unknown: standard input, URLs).
    """

    source: Source
    start: int = 0
    end: int | None = None
    first_line: int = 1
    size: int = -1
    problem: str | None = None  # kind "bad": discovery's message, reported in its place

    @property
    def path(self) -> str:
        """Return the file's path (or URL, or "-" for standard input)."""
        return self.source.path

    @property
    def kind(self) -> str:
        """Return the input format read ("jsonl", "html", ...), or "bad" for a discovery problem."""
        return "bad" if self.problem is not None else self.source.format

    @property
    def whole(self) -> bool:
        """Tell whether the split is a whole file rather than a byte range of one."""
        return self.start == 0 and self.end is None

    def chunks(self, fh: BinaryIO) -> Iterator[bytes]:
        """Yield the bytes of the range from an open plain file (the reader's `span` protocol)."""
        fh.seek(self.start)
        left = -1 if self.end is None else self.end - self.start
        while left:
            chunk = fh.read(_READ if left < 0 else min(_READ, left))
            if not chunk:
                return
            if left > 0:
                left -= len(chunk)
            yield chunk


def plan_splits(
    inputs: Iterable[str],
    *,
    input_format: str | None = None,
    follow_links: bool = False,
    on_skip: OnSkip | None = None,
    target_bytes: int = TARGET_BYTES,
) -> list[Split]:
    """Return the splits of the run's inputs in input order, ranges of about `target_bytes`.

    Planning reads only folder listings and, for large plain JSONL files, their bytes once to
    find the cuts and count the lines before each. Entries passed over go to `on_skip` here.
    """
    if target_bytes < 1:
        raise OptionError(f"target_bytes must be at least 1, not {target_bytes}")
    splits: list[Split] = []

    def bad(message: str) -> None:
        splits.append(Split(Source("", "", "", "bad"), problem=message))

    sources = discover(
        list(inputs), input_format, follow_links=follow_links, on_skip=on_skip, on_bad=bad
    )
    for source in sources:
        splits.extend(_file_splits(source, target_bytes))
    return splits


def _file_splits(source: Source, target_bytes: int) -> list[Split]:
    """Return one file's splits: byte ranges for a large plain JSONL file, else the file."""
    if source.path == "-" or is_remote(source.path):
        return [Split(source)]
    try:
        size = os.path.getsize(source.path)
        if not _splittable(source, size, target_bytes):
            return [Split(source, size=size)]
        with open(source.path, "rb") as fh:
            if wide_codec(fh.read(WIDE_HEAD)) is not None:  # UTF-16/32: recoded as a whole
                return [Split(source, size=size)]
            fh.seek(0)
            cuts = line_starts(fh, target_bytes)
    except OSError:  # the reader reports it, in its place
        return [Split(source)]
    ends: list[int | None] = [start for start, _ in cuts[1:]]
    ends.append(None)
    return [
        Split(source, start, end, line, (size if end is None else end) - start)
        for (start, line), end in zip(cuts, ends, strict=True)
    ]


def _splittable(source: Source, size: int, target_bytes: int) -> bool:
    """Tell whether a file is cut into ranges: plain (not compressed) JSONL over the target."""
    name = source.path.lower()
    return source.format == "jsonl" and strip_compression(name) == name and size > target_bytes


def line_starts(fh: BinaryIO, target_bytes: int) -> list[tuple[int, int]]:
    """Return (offset, line number) of each range's start, cutting after a line break.

    A cut goes right after the first b"\\n" at or past `target_bytes` bytes from the last cut,
    so every range but the last ends with a line break and no range is empty. Line numbers
    count b"\\n" in big blocks (bytes.count, no per-line Python), the way the reader numbers
    lines (a CRLF line ends at its LF).
    """
    cuts = [(0, 1)]
    want = target_bytes  # the next cut is after the first newline at offset >= want - 1
    pos = newlines = 0  # pos: offset of the block; newlines: b"\n" counted before it
    pending: int | None = None  # a cut found at the end of the last block, kept if bytes follow
    while block := fh.read(_BLOCK):
        if pending is not None:
            cuts.append((pending, newlines + 1))
            pending = None
        counted = 0  # block[:counted] is in `newlines` already
        while (at := max(want - 1 - pos, counted)) < len(block):
            found = block.find(b"\n", at)
            if found < 0:
                break
            newlines += block.count(b"\n", counted, found + 1)
            counted = found + 1
            if counted < len(block):
                cuts.append((pos + counted, newlines + 1))
            else:
                pending = pos + counted
            want = pos + counted + target_bytes
        newlines += block.count(b"\n", counted)
        pos += len(block)
    return cuts


@dataclass
class SplitReader:
    """Read splits of one plan the way `read_inputs` reads whole inputs (same options).

    It holds the run's reader, so an archive's first pass (the latest capture of each URI,
    over every archive of the plan) is made once per reader, not once per split.
    """

    reader: _Reader

    @classmethod
    def for_plan(
        cls,
        splits: Sequence[Split],
        *,
        text_field: str = "text",
        id_field: str = "id",
        id_prefix: str = "",
        skip_bad: bool = False,
        on_bad: OnBad | None = None,
        stdin: BinaryIO | None = None,
        lazy: bool = False,
        on_skip: OnSkip | None = None,
        max_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> SplitReader:
        """Return a reader for a plan's splits (the plan names the files of WARC's first pass)."""
        fmt = RecordFormat(text_field, id_field, id_prefix)
        reader = _Reader(fmt, skip_bad, on_bad, stdin, lazy, on_skip, max_bytes=max_bytes)
        files = tuple(s.source for s in splits if s.problem is None and s.start == 0)
        reader.rediscover = functools.partial(iter, files)
        return cls(reader)

    def read(self, split: Split) -> Iterator[Document | RawLine]:
        """Yield the documents (JSONL lines as RawLine if lazy) of one split."""
        if split.problem is not None:
            self.reader._bad(split.problem)
            return
        yield from self.reader.read(split.source, None if split.whole else split)


def read_split(split: Split, reader: SplitReader) -> Iterator[Document | RawLine]:
    """Yield exactly what the local reader yields for this part of the input, ids unchanged."""
    return reader.read(split)
