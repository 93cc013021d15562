"""What a run did: the counts behind the one-line summary and the --stats file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cleanup.document import Document
from cleanup.io.readers import Skipped, type_of
from cleanup.seen import SeenKeys

if TYPE_CHECKING:
    from cleanup.tally import Tally


@dataclass
class Summary:
    """Count what a run did; the CLI prints it as one line and --stats writes it as JSON."""

    documents_in: int = 0
    documents_out: int = 0
    documents_dropped: int = 0
    paragraphs_removed: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    bad_input_skipped: int = 0
    unsupported_skipped: int = 0
    unsupported_types: list[str] = field(default_factory=list)
    links_skipped: int = 0
    records_skipped: dict[str, int] = field(default_factory=dict)  # archive records, by why
    duplicate_ids: int = 0
    duplicate_id_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    trial_run: bool = False  # --limit or --sample: a part of the input
    state_not_updated: bool = False  # a trial run with a state: its commit was skipped
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    edits_by_rule: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Not fields (so not in --stats): the hash of every explicit id seen, 8 bytes of hash
        # rather than the id itself, since this set grows with the corpus (cleanup/seen.py),
        # and the ids not yet looked up, which are looked up a batch at a time.
        self._ids = SeenKeys()
        self._pending: list[str] = []

    def note_id(self, doc: Document) -> None:
        """Count `doc` as a duplicate if an earlier record had the same explicit id."""
        if doc.explicit_id:
            self.note_explicit_id(doc.id)

    def note_explicit_id(self, ident: str) -> None:
        """Count an explicit id as a duplicate if an earlier record had it (see `flush_ids`)."""
        self._pending.append(ident)
        if len(self._pending) >= PENDING_IDS:
            self.flush_ids()

    def flush_ids(self) -> None:
        """Look the noted ids up, in order: duplicate_ids and its examples are then current."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        keys = np.fromiter((hash(ident) for ident in pending), np.int64, len(pending))
        for i in np.flatnonzero(self._ids.add(keys)).tolist():
            self.duplicate_ids += 1
            examples = self.duplicate_id_examples
            if len(examples) < DUPLICATE_EXAMPLES and pending[i] not in examples:
                examples.append(pending[i])

    def merge(self, tally: Tally) -> None:
        """Add the counts and ids of a batch finished on a worker (the runner skips its bad inputs).

        A rule new to the run is added in the order the batch met it, so the dicts keep the
        order in which rules first came, as when each document is counted here.
        """
        self.documents_in += tally.documents_in
        self.documents_out += tally.documents_out
        self.documents_dropped += tally.documents_dropped
        self.paragraphs_removed += tally.paragraphs_removed
        self.bytes_in += tally.bytes_in
        self.bytes_out += tally.bytes_out
        for counts, more in (
            (self.dropped_by_rule, tally.dropped_by_rule),
            (self.edits_by_rule, tally.edits_by_rule),
        ):
            for rule, n in more.items():
                counts[rule] = counts.get(rule, 0) + n
        self._pending.extend(tally.ids)
        if len(self._pending) >= PENDING_IDS:
            self.flush_ids()

    def note_skip(self, skipped: Skipped) -> None:
        """Count an entry of an input folder (or a record of an archive) that was not read."""
        if skipped.kind == "record":
            self.records_skipped[skipped.why] = self.records_skipped.get(skipped.why, 0) + 1
            return
        if skipped.kind == "link":
            self.links_skipped += 1
            return
        self.unsupported_skipped += 1
        special = skipped.kind == "special"
        kind = "not a regular file" if special else type_of(os.path.basename(skipped.path))
        if kind not in self.unsupported_types:
            self.unsupported_types.append(kind)
            self.unsupported_types.sort()

    def line(self) -> str:
        """Return the one-line summary printed at the end of a run."""
        self.flush_ids()
        if self.documents_in == 0:
            main = "no documents in the input, nothing to do"
        else:
            main = (
                f"{plural(self.documents_in, 'document')} in, {self.documents_out:,} out, "
                f"{self.documents_dropped:,} dropped; "
                f"{plural(self.paragraphs_removed, 'paragraph')} removed; "
                f"{self.bytes_in:,} -> {plural(self.bytes_out, 'byte')}; {self.seconds:.2f} s"
            )
        return "; ".join(["cleanup: " + main, *self._notes()])

    def _notes(self) -> list[str]:
        """Return the parts of the line that only appear when something was skipped or odd."""
        notes = []
        if self.state_not_updated:
            notes.append("trial run: state not updated")
        elif self.trial_run:
            notes.append("trial run")
        if self.bad_input_skipped:
            notes.append(f"{plural(self.bad_input_skipped, 'bad input')} skipped")
        if self.duplicate_ids:
            notes.append(plural(self.duplicate_ids, "duplicate id"))
        if self.unsupported_skipped:
            files = plural(self.unsupported_skipped, "file")
            kinds = "an unsupported type" if self.unsupported_skipped == 1 else "unsupported types"
            notes.append(f"{files} of {kinds} skipped: {', '.join(self.unsupported_types)}")
        if self.links_skipped:
            notes.append(f"{plural(self.links_skipped, 'symbolic link')} skipped")
        if self.records_skipped:
            kinds = ", ".join(f"{n:,} {why}" for why, n in sorted(self.records_skipped.items()))
            total = sum(self.records_skipped.values())
            notes.append(f"{plural(total, 'archive record')} skipped ({kinds})")
        return notes


DUPLICATE_EXAMPLES = 5
PENDING_IDS = 4096  # explicit ids noted before they are looked up (as one batch)


def plural(count: int, word: str) -> str:
    """Return '1 word' or 'N words' (with thousands separators), for the summary line."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")
