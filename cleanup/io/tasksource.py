"""The run's input as splits that tasks read themselves (an engine's workers), or this process.

The runner hands an engine a `SplitSource` instead of a stream of records when the inputs
can be read in parts (local files; not standard input, URLs, WARC archives, whose first pass
spans every archive, or a trial run, whose --limit counts across the whole input). The engine
sends each task a `Split` and the `PartReader`, both small and picklable; the task reads its
split with the same reader as `read_inputs` (cleanup/io/splits.py), runs the steps, and sends
back what it made with a `PartRead`'s counts: bad input it skipped, archive records it
passed over. The engine reports those here, in split order, through the run's callbacks.
Iterating a `SplitSource` reads every split in this process instead: the same stream as
`read_inputs`, for an engine that has too few splits to spread. See docs/architecture.md,
"Engines".
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from cleanup.document import Document
from cleanup.io.readers import (
    MAX_DOCUMENT_BYTES,
    OnBad,
    OnSkip,
    RawLine,
    RecordFormat,
    Skipped,
    _Reader,
)
from cleanup.io.remote import is_remote
from cleanup.io.splits import TARGET_BYTES, Split, SplitReader, plan_splits

# The smallest split worth a task of its own (a task and a file open cost about a millisecond).
MIN_SPLIT_BYTES = 1 << 20
# Splits per worker a plan aims for, so that no worker waits on one long split at the end.
SPLITS_PER_WORKER = 4

Item = Document | RawLine


@dataclass(frozen=True)
class PartReader:
    """Read one split on a task: the run's reading options, without its callbacks."""

    text_field: str
    id_field: str
    id_prefix: str
    skip_bad: bool
    max_bytes: int = MAX_DOCUMENT_BYTES  # the most one document may hold, as read

    def read(self, splits: Sequence[Split]) -> PartRead:
        """Return the splits' records in order (JSONL lines unparsed) and what was skipped."""
        read = PartRead()
        fmt = RecordFormat(self.text_field, self.id_field, self.id_prefix)
        reader = SplitReader(
            _Reader(
                fmt,
                self.skip_bad,
                read.bad.append,
                None,
                True,
                read.skipped.append,
                max_bytes=self.max_bytes,
            )
        )
        read.items = [item for split in splits for item in reader.read(split)]
        read.count = len(read.items)
        return read


@dataclass
class PartRead:
    """What a task read from one split: its records, bad input skipped, records passed over."""

    items: list[Item] = field(default_factory=list)
    count: int = 0  # records read (the items may be gone: sent back without them)
    bad: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class SplitSource:
    """The run's input as ordered splits, with the run's callbacks for what tasks report.

    `tasks` groups consecutive splits into the unit one task reads (small files together,
    about `target` bytes each), so a folder of small HTML pages is not a task per page.
    """

    splits: list[Split]
    reader: PartReader
    on_bad: OnBad | None = None
    on_skip: OnSkip | None = None
    on_read: Callable[[], None] | None = None
    target: int = TARGET_BYTES

    @property
    def tasks(self) -> list[tuple[Split, ...]]:
        """Return the splits grouped, in order, into about `target` bytes per task."""
        groups: list[tuple[Split, ...]] = []
        group: list[Split] = []
        held = 0
        for split in self.splits:
            group.append(split)
            held += split.size if split.size >= 0 else self.target
            if held >= self.target:
                groups.append(tuple(group))
                group, held = [], 0
        if group:
            groups.append(tuple(group))
        return groups

    def arrived(self, read: PartRead) -> None:
        """Report what a task read from one split, as reading it here would have."""
        for skipped in read.skipped:
            if self.on_skip:
                self.on_skip(skipped)
        for message in read.bad:
            if self.on_bad:
                self.on_bad(message)
        if self.on_read:
            for _ in range(read.count):
                self.on_read()

    def __iter__(self) -> Iterator[Item]:
        """Read every split here, in order: the stream `read_inputs` yields."""
        r = self.reader
        reader = SplitReader.for_plan(
            self.splits,
            text_field=r.text_field,
            id_field=r.id_field,
            id_prefix=r.id_prefix,
            skip_bad=r.skip_bad,
            on_bad=self.on_bad,
            lazy=True,
            on_skip=self.on_skip,
            max_bytes=r.max_bytes,
        )
        for split in self.splits:
            for item in reader.read(split):
                if self.on_read:
                    self.on_read()
                yield item


def readable_in_parts(inputs: Sequence[str], input_format: str | None) -> bool:
    """Tell whether the inputs can be read by tasks: local files, no archive, no stdin."""
    if input_format == "warc":
        return False
    return all(path != "-" and not is_remote(path) for path in inputs)


def split_target(inputs: Sequence[str], workers: int) -> int:
    """Return the split size for `workers`: a few splits each, within sensible bounds."""
    total = 0
    for path in inputs:
        total += _size(path)
    want = total // max(1, workers * SPLITS_PER_WORKER)
    return max(MIN_SPLIT_BYTES, min(TARGET_BYTES, want))


def _size(path: str) -> int:
    """Return the bytes under `path` (a file, or a folder's files), 0 if unreadable."""
    try:
        if not os.path.isdir(path):
            return os.path.getsize(path)
        return sum(
            os.path.getsize(os.path.join(root, name))
            for root, _, names in os.walk(path)
            for name in names
        )
    except OSError:
        return 0


def plan_source(
    inputs: Sequence[str],
    reader: PartReader,
    *,
    workers: int,
    input_format: str | None,
    follow_links: bool,
    on_bad: OnBad | None,
    on_skip: OnSkip | None,
    on_read: Callable[[], None] | None,
) -> SplitSource | None:
    """Plan the splits of the run's inputs; None when they are not for tasks to read."""
    if not readable_in_parts(inputs, input_format):
        return None
    skipped: list[Skipped] = []
    target = split_target(inputs, workers)
    splits = plan_splits(
        inputs,
        input_format=input_format,
        follow_links=follow_links,
        on_skip=skipped.append,
        target_bytes=target,
    )
    if any(s.kind == "warc" for s in splits):
        return None  # the caller reads as before, and reports the skipped entries itself
    for entry in skipped:
        if on_skip:
            on_skip(entry)
    return SplitSource(splits, reader, on_bad, on_skip, on_read, target)
