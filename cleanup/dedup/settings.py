"""Dedup settings: the one home of every dedup option's default, range and help.

Each concern has a frozen dataclass; each field that is a step option carries its flag name,
help, type and range in the field's metadata. The dedup step's `Option`s are derived from
these fields (`options()`), and the step turns its keywords back into settings with
`DedupSettings.from_options`, so the flag default, the keyword default and the dataclass
default are one value. See docs/architecture.md, "Dedup" and "Options".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from cleanup.dedup.lsh import recall_bands
from cleanup.errors import UnknownOption, UsageProblem
from cleanup.pipeline import Option
from cleanup.ranges import Range

# Ranges shared by the paragraph and document options: a share of shingles, words per shingle.
THRESHOLD = Range(min=0, max=1, min_open=True)
SHINGLE = Range(min=1, max=8)
# Version of the tokenizer (cleanup.dedup.shingles): a state records it, signatures depend on it.
TOKENIZER_VERSION = 1


def setting(default: Any, name: str, help: str, **option: Any) -> Any:
    """Declare a settings field that is also the step option `--name` (see the module doc)."""
    return field(default=default, metadata={"option": {"name": name, "help": help, **option}})


@dataclass(frozen=True)
class ParagraphSettings:
    """Say when a paragraph is a copy of others inside one document."""

    threshold: float = setting(
        0.75,
        "paragraph-threshold",
        "Share of a paragraph's word shingles found in a more complete paragraph (or in 2-3 "
        "earlier ones) that makes it a copy; 0.75 = about one edited word in 20.",
        type=float,
        range=THRESHOLD,
    )
    shingle_size: int = setting(
        3,
        "paragraph-shingle-size",
        "Words per shingle when comparing paragraphs inside a document.",
        type=int,
        range=SHINGLE,
    )
    min_words: int = setting(
        8,
        "min-paragraph-words",
        "Paragraphs shorter than this many words are only removed as exact copies.",
        type=int,
        range=Range(min=0),
    )


@dataclass(frozen=True)
class DocumentSettings:
    """Say when two documents are near duplicates."""

    threshold: float = setting(
        0.4,
        "doc-threshold",
        "Jaccard of word-pair shingles (verified exactly) above which two documents are near "
        "duplicates; 0.4 catches copies with 5-15% of words edited (recall 0.997-1.0 in "
        "scripts/eval_dedup.py) while two articles on the same story score ~0.12.",
        type=float,
        range=THRESHOLD,
    )
    shingle_size: int = setting(
        2,
        "doc-shingle-size",
        "Words per shingle for document signatures (2: edited copies keep more shingles "
        "than with 5, unrelated texts share fewer than with 1).",
        type=int,
        range=SHINGLE,
    )
    containment: float = setting(
        0.7,
        "doc-containment",
        "Share of a document's word-pair shingles found in a longer document that stays "
        "above which it is a partial copy of it (0: off); candidates by sampled shingles, "
        "verified exactly. 0.7 found 95.2% of 30-70% excerpts with 3-5% of words edited "
        "(0.8: 91.5%) and dropped none of 1,500 articles quoting one paragraph of another "
        "(scripts/lsh_recall.py --containment).",
        type=float,
        range=Range(min=0, max=1, min_open=True, off=0),
    )
    keep: str = setting(
        "earliest",
        "keep",
        "Which near copy stays: earliest (by --date-field or the page's date metadata; "
        "undated documents after dated ones, in input order), first (input order) or "
        "longest. News: the original is the earliest copy, a rewrite is often longer. A "
        "document published before (--state) always stays.",
        type=("earliest", "first", "longest"),
    )
    date_field: str = setting(
        "",
        "date-field",
        "JSONL field (dots for nested) holding a document's date (ISO 8601 or POSIX seconds) "
        "for --keep earliest (default: the date strip-html read from the page).",
        type=str,
        metavar="FIELD",
    )
    bands: int = setting(
        0,
        "doc-bands",
        "LSH bands of document signatures (0: --num-perm // --doc-rows).",
        type=int,
        range=Range(min=1, max=1024, off=0),
    )
    rows: int = setting(
        0,
        "doc-rows",
        "Signature values per LSH band (0: the most rows whose bands still make 99.5% of the "
        "pairs at --doc-threshold candidates: 85 bands of 3 rows at 0.4 with 256 "
        "permutations). Candidates are verified exactly, so more bands cost comparisons, "
        "not false drops.",
        type=int,
        range=Range(min=1, max=1024, off=0),
    )


@dataclass(frozen=True)
class MinHashSettings:
    """Say how signatures are made (documents, and paragraphs across documents)."""

    num_perm: int = setting(
        256,
        "num-perm",
        "MinHash permutations per signature (256: 3-row bands then find 99.6% of the pairs "
        "at a threshold of 0.4, where 128 needs 2-row bands and 6x the candidates).",
        type=int,
        range=Range(min=8, max=1024),
    )
    seed: int = setting(
        1,
        "minhash-seed",
        "Seed of the MinHash permutations.",
        type=int,
        range=Range(min=0, max=2**32 - 1),
    )


@dataclass(frozen=True)
class BoilerplateSettings:
    """Say when a paragraph is boilerplate of a site, and what a document's site is."""

    min_docs: int = setting(
        10,
        "boilerplate-min-docs",
        "A paragraph found in at least this many documents of one site is site boilerplate "
        "and removed from all of them (0: off). 10: navigation and footer lines recur in "
        "nearly every page, a quote seldom in ten articles.",
        type=int,
        range=Range(min=2, off=0),
    )
    site_field: str = setting(
        "",
        "site-field",
        "JSONL field naming a document's site (default: the URL's domain, else the first "
        "folder under the input).",
        type=str,
        metavar="FIELD",
    )


@dataclass(frozen=True)
class CrossDocSettings:
    """Say whether and how paragraphs repeated across documents are removed."""

    mode: str = setting(
        "off",
        "cross-doc-paragraphs",
        "Remove long paragraphs that already stand in another document of the run, the "
        "first document in input order keeps them (exact: by fingerprint, any corpus size; "
        "near: MinHash at --cross-doc-threshold, up to 2 million long paragraphs).",
        type=("off", "exact", "near"),
    )
    threshold: float = setting(
        0.75,
        "cross-doc-threshold",
        "With --cross-doc-paragraphs near: Jaccard of two long paragraphs' shingles "
        "(verified exactly) above which the later one is a copy (its own LSH, apart from "
        "--paragraph-threshold).",
        type=float,
        range=THRESHOLD,
    )


@dataclass(frozen=True)
class StateSettings:
    """Say where the persistent state is and how long to wait for its lock."""

    location: str = setting(
        "",
        "state",
        "Persistent dedup state: a SQLite file PATH or redis://HOST:PORT/DB, updated only "
        "when the run's output is in place.",
        type=str,
        metavar="PATH|URL",
        path=True,
    )
    wait: float = setting(
        0.0,
        "wait",
        "Seconds to wait for another run's lock on the state (0: fail at once).",
        type=float,
        metavar="SECONDS",
        range=Range(min=0),
    )


@dataclass(frozen=True)
class DedupSettings:
    """Hold every option of the dedup step, grouped by what each one changes."""

    scope: str = setting(
        "corpus",
        "scope",
        "corpus: spool the documents and dedup across them (and the state); document: "
        "only paragraphs inside each document, streaming.",
        type=("corpus", "document"),
    )
    paragraph_dedup: bool = setting(
        True,
        "paragraph-dedup",
        "Remove exact, near and composite copies of paragraphs inside each document.",
        type=bool,
    )
    paragraphs: ParagraphSettings = field(default_factory=ParagraphSettings)
    documents: DocumentSettings = field(default_factory=DocumentSettings)
    minhash: MinHashSettings = field(default_factory=MinHashSettings)
    boilerplate: BoilerplateSettings = field(default_factory=BoilerplateSettings)
    cross: CrossDocSettings = field(default_factory=CrossDocSettings)
    mark: bool = setting(
        False,
        "mark",
        "Keep near-duplicate documents, marked with meta duplicate_of and cluster.",
        type=bool,
    )
    state: StateSettings = field(default_factory=StateSettings)

    @classmethod
    def from_options(cls, **options: Any) -> DedupSettings:
        """Return the settings for step keywords (missing ones default); check every value."""
        by_keyword = {o.keyword: o for o in options_of(cls)}
        unknown = set(options) - set(by_keyword)
        if unknown:
            raise UnknownOption(f"dedup: unknown option(s) {', '.join(sorted(unknown))}")
        for key, value in options.items():
            by_keyword[key].check(value, "dedup: ")
        built = _build(cls, options)
        bands, rows = built.bands
        if bands * rows > built.minhash.num_perm:
            raise UsageProblem(
                f"dedup: --doc-bands {bands} x --doc-rows {rows} needs {bands * rows} "
                f"signature values; --num-perm is {built.minhash.num_perm}"
            )
        return built

    @property
    def bands(self) -> tuple[int, int]:
        """Return the LSH (bands, rows) of document signatures (see lsh.recall_bands)."""
        d = self.documents
        return recall_bands(d.threshold, self.minhash.num_perm, d.rows, d.bands)

    def state_settings(self) -> dict[str, Any]:
        """Return the settings a state records: those that make its signatures comparable."""
        bands, rows = self.bands
        return {
            "doc-shingle-size": self.documents.shingle_size,
            "num-perm": self.minhash.num_perm,
            "minhash-seed": self.minhash.seed,
            "doc-threshold": self.documents.threshold,
            "bands": bands,
            "rows": rows,
            "tokenizer": TOKENIZER_VERSION,
        }


def _build(cls: type[Any], options: dict[str, Any]) -> Any:
    """Return an instance of settings class `cls` from flat step keywords."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("option")
        if meta is None:
            values[f.name] = _build(_settings_class(cls, f.name), options)
            continue
        keyword = meta["name"].replace("-", "_")
        if keyword in options:
            values[f.name] = options[keyword]
    return cls(**values)


def _settings_class(cls: type[Any], name: str) -> type[Any]:
    """Return the settings class of nested field `name` (its default factory)."""
    factory = next(f.default_factory for f in dataclasses.fields(cls) if f.name == name)
    assert isinstance(factory, type)
    return factory


def options_of(cls: type[Any] = DedupSettings) -> tuple[Option, ...]:
    """Return the step options declared by a settings class, nested classes in place."""
    out: list[Option] = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("option")
        if meta is None:
            out.extend(options_of(_settings_class(cls, f.name)))
        else:
            out.append(Option(default=f.default, **meta))
    return tuple(out)
