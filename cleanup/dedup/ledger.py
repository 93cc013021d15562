"""What dedup's read pass learns about the live documents: numbers only, no texts.

The orchestrator records each batch's summary here as it comes back (from a worker, when
there are several); the decisions read the joined arrays once the stream has ended.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from cleanup.dedup.bandfile import BandKeys
from cleanup.dedup.boilerkeys import BoilerKeys
from cleanup.dedup.columns import extend, take
from cleanup.dedup.jobs import BatchSummary, TokenBatch, TokenRef, Tokens
from cleanup.dedup.minhash import MAX_HASH
from cleanup.dedup.names import Names
from cleanup.dedup.rowfile import RowFile
from cleanup.dedup.spool import Spool
from cleanup.errors import UsageProblem
from cleanup.scratch import discard

# --cross-doc-paragraphs near keeps num_perm * 4 bytes per long paragraph in memory, and its
# shingles (4 bytes each, to verify candidates): 2,000,000 paragraphs (about 150,000 news
# articles) take 2 GiB of signatures with 256 permutations.
NEAR_PARAGRAPH_LIMIT = 2_000_000


@dataclass
class Ledger:
    """Hold the read pass's numbers about the live documents, in input order."""

    ids: Names = field(default_factory=Names)
    explicit: bytearray = field(default_factory=bytearray)  # 1 when the id was the input's
    # Each live document's site, as an index into `site_names` (4 bytes, not a pointer).
    site_codes: array[int] = field(default_factory=lambda: array("I"))
    site_names: list[str] = field(default_factory=list)
    _site_code: dict[str, int] = field(default_factory=dict)
    sigs: RowFile | None = None  # signatures (when the read pass signs), on disk
    bands: BandKeys | None = None  # the decisions' band keys, on disk (closed with the rest)
    # One growing buffer per number, not an array per batch: a million documents come in
    # thousands of batches, and small arrays kept that long pin the heap pages around them.
    fps: array[int] = field(default_factory=lambda: array("Q"))
    lengths: array[int] = field(default_factory=lambda: array("q"))
    # Per paragraph of every live document, in order: (site, paragraph) keys, 0 for empty
    # paragraphs; in a temporary file, with each document's end offset in memory.
    boiler: BoilerKeys = field(default_factory=BoilerKeys)
    # Per document, per paragraph, only with cross-document paragraph dedup.
    para_fps: list[np.ndarray] = field(default_factory=list)
    para_words: list[np.ndarray] = field(default_factory=list)
    # Only with --cross-doc-paragraphs near: signatures of long paragraphs, their document
    # and their position in it.
    para_sigs: list[np.ndarray] = field(default_factory=list)
    para_doc: list[np.ndarray] = field(default_factory=list)
    para_pos: list[np.ndarray] = field(default_factory=list)
    para_shingles: list[TokenBatch] = field(default_factory=list)  # (hashes, offsets) per batch
    dates: RowFile | None = None  # --keep earliest only: on disk, rows read for some documents
    # --doc-containment only: every live document's sampled shingles (on disk), and how many.
    samples: RowFile | None = None
    sample_counts: array[int] = field(default_factory=lambda: array("q"))
    batch_counts: list[int] = field(default_factory=list)  # documents per spooled batch
    # Which documents of each spooled batch are live: packed bits, None when all are.
    live_masks: list[bytes | None] = field(default_factory=list)
    # Token hashes of the paragraphs behind `boiler_parts`, for re-signing; usable only
    # when every live document's separator keeps its paragraphs' tokens apart.
    tokens: Spool[Tokens] | None = None
    tokens_usable: bool = True
    token_files: list[str] = field(default_factory=list)  # the tokens workers left in scratch

    def record(self, summary: BatchSummary) -> None:
        """Keep the numbers of one batch's live documents."""
        first_live = len(self.ids)
        self.batch_counts.append(summary.count)
        live = np.asarray(summary.live, dtype=bool)
        self.live_masks.append(None if live.all() else np.packbits(live).tobytes())
        self.ids.extend(summary.ids)
        self.explicit.extend(summary.explicit)
        codes = self._site_code
        for site in summary.sites:
            code = codes.get(site)
            if code is None:
                code = codes[site] = len(self.site_names)
                self.site_names.append(site)
            self.site_codes.append(code)
        self.tokens_usable = self.tokens_usable and summary.joins
        if not summary.ids:
            return
        if summary.sigs is not None:
            if self.sigs is None:
                self.sigs = RowFile(summary.sigs.shape[1], np.uint32, int(MAX_HASH))
            self.sigs.append(summary.sigs)
        extend(self.fps, summary.fps)
        extend(self.lengths, summary.lengths)
        if summary.dates is not None:
            if self.dates is None:
                self.dates = RowFile(1, np.float64)
            self.dates.append(summary.dates)
        if summary.samples is not None:
            values, counts = summary.samples
            if self.samples is None:
                self.samples = RowFile(1, np.uint32)
            self.samples.append(values)
            extend(self.sample_counts, counts)
        self.boiler.append(summary.boiler_keys, summary.boiler_sizes)
        if self.tokens is not None:
            self.tokens.write(summary.tokens)
            if isinstance(summary.tokens, TokenRef):
                self.token_files.append(summary.tokens.ref.path)
        self.para_fps.extend(summary.para_fps)
        self.para_words.extend(summary.para_words)
        if summary.para_sigs is not None:
            assert summary.para_doc is not None and summary.para_pos is not None
            self.para_sigs.append(summary.para_sigs)
            self.para_doc.append(summary.para_doc + first_live)
            self.para_pos.append(summary.para_pos)
            if summary.para_shingles is not None:
                self.para_shingles.append(summary.para_shingles)
            total = sum(len(s) for s in self.para_sigs)
            if total > NEAR_PARAGRAPH_LIMIT:
                raise UsageProblem(
                    "dedup: --cross-doc-paragraphs near holds one signature per long paragraph "
                    f"and this corpus has more than {NEAR_PARAGRAPH_LIMIT:,}; use exact"
                )

    def take_arrays(self, num_perm: int) -> tuple[RowFile, np.ndarray, np.ndarray]:
        """Return the signatures (on disk), the joined fingerprints and lengths (parts let go).

        Signatures are empty (0 rows) when the read pass did not sign.
        """
        if self.sigs is None:
            self.sigs = RowFile(num_perm, np.uint32, int(MAX_HASH))
        fps, lengths = take(self.fps), take(self.lengths)
        self.fps, self.lengths = array("Q"), array("q")  # one copy of each, not two
        return self.sigs, fps, lengths

    def replace_sigs(self, sigs: RowFile) -> None:
        """Hold these signatures instead (the documents signed again without boilerplate)."""
        if self.sigs is not None and self.sigs is not sigs:
            self.sigs.close()
        self.sigs = sigs

    def site(self, i: int) -> str:
        """Return live document i's site."""
        return self.site_names[self.site_codes[i]]

    def live_in_batches(self) -> Iterator[tuple[int, np.ndarray]]:
        """Yield, per spooled batch in order, its document count and where its live documents
        stand in it."""
        for count, mask in zip(self.batch_counts, self.live_masks, strict=True):
            if mask is None:
                yield count, np.arange(count)
            else:
                bits = np.unpackbits(np.frombuffer(mask, dtype=np.uint8), count=count)
                yield count, np.flatnonzero(bits)

    def drop_tokens(self) -> None:
        """Let the tokens go once the documents are signed and verified (the files in
        scratch are deleted while the run goes on)."""
        if self.tokens is not None:
            self.tokens.close(later=True)
            self.tokens = None
        discard(self.token_files)
        self.token_files = []

    def close(self) -> None:
        """Delete the ledger's files (signatures, ids, spooled tokens)."""
        self.ids.close()
        if self.sigs is not None:
            self.sigs.close()
        if self.bands is not None:
            self.bands.close()
        if self.samples is not None:
            self.samples.close()
        if self.dates is not None:
            self.dates.close()
        self.boiler.close()
        if self.tokens is not None:
            self.tokens.close()

    def take_samples(self) -> tuple[RowFile | np.ndarray, np.ndarray]:
        """Return the live documents' sampled shingles (on disk) and their count per document."""
        if self.samples is None:
            return np.zeros(0, np.uint32), np.zeros(len(self.ids), np.int64)
        counts, self.sample_counts = take(self.sample_counts), array("q")  # one copy, not two
        return self.samples, counts

    def boiler_table(self) -> tuple[BoilerKeys, np.ndarray]:
        """Return all (site, paragraph) keys (on disk) and where each document's keys end
        (a view, not a copy: 8 bytes per document)."""
        return self.boiler, self.boiler.ends

    def boiler_of(self, i: int) -> np.ndarray:
        """Return the (site, paragraph) keys of live document i, paragraph by paragraph."""
        return self.boiler.of(i)
