"""The dedup step: duplicate paragraphs, site boilerplate and near-duplicate documents.

Inside each document: exact, near and composite copies of paragraphs (cleanup.dedup.
paragraphs). Across the corpus (scope=corpus, the default): site boilerplate, near-duplicate
documents by MinHash/LSH, optionally paragraphs repeated across documents; with `state`,
against everything earlier runs published. The algorithm lives in cleanup/dedup/; this
module binds options to it and wires the state into the run's publish/close callbacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cleanup.dedup.corpus import CorpusDedup, DedupSettings, dedup_documents_stream
from cleanup.dedup.paragraphs import ParagraphSettings
from cleanup.dedup.store import StateCommit, open_store, state_errors
from cleanup.document import Document
from cleanup.errors import StateError, UsageProblem
from cleanup.pipeline import Context, Option, StepSpec
from cleanup.ranges import Range


def dedup(
    docs: Iterable[Document],
    *,
    context: Context,
    scope: str = "corpus",
    paragraph_dedup: bool = True,
    paragraph_threshold: float = 0.75,
    paragraph_shingle_size: int = 3,
    min_paragraph_words: int = 8,
    doc_threshold: float = 0.4,
    doc_shingle_size: int = 2,
    num_perm: int = 128,
    minhash_seed: int = 1,
    boilerplate_min_docs: int = 10,
    site_field: str = "",
    cross_doc_paragraphs: str = "off",
    mark: bool = False,
    state: str = "",
    wait: float = 0.0,
) -> Iterator[Document]:
    """Remove duplicate paragraphs and near-duplicate documents (see the module docstring)."""
    _check(locals())
    paragraphs = ParagraphSettings(
        threshold=paragraph_threshold,
        shingle_size=paragraph_shingle_size,
        min_words=min_paragraph_words,
    )
    if scope == "document":
        if state:
            raise UsageProblem("dedup: --state needs --scope corpus (a state is a corpus)")
        if paragraph_dedup:
            yield from dedup_documents_stream(docs, paragraphs, context.map_batches)
        else:
            yield from docs
        return
    if scope != "corpus":
        raise UsageProblem(f"dedup: unknown scope {scope!r} (corpus or document)")
    settings = DedupSettings(
        paragraphs=paragraphs,
        paragraph_dedup=paragraph_dedup,
        doc_threshold=doc_threshold,
        doc_shingle_size=doc_shingle_size,
        num_perm=num_perm,
        seed=minhash_seed,
        boilerplate_min_docs=boilerplate_min_docs,
        site_field=site_field,
        cross_doc_paragraphs=cross_doc_paragraphs,
        mark=mark,
    )
    with state_errors(state):
        store = open_store(state, wait=wait) if state else None
        if store is not None:
            context.on_close.append(store.close)
        try:
            engine = CorpusDedup(
                settings,
                store,
                run_id=context.run_id,
                started=context.started,
                map_batches=context.map_batches,
                defer=context.accepts_deferred,
                find_edges=context.find_edges,
            )
        except StateError:
            if store is not None:
                store.close()
            raise
        yield from _with_phases(engine.run, docs, context)
    for name, value in engine.stats.items():
        context.count(f"dedup {name}", value)
    if store is not None:
        pending = engine.pending(wait)
        assert pending is not None
        context.on_publish.append(StateCommit(store, pending))


def _with_phases(
    run: Callable[[Iterable[Document]], Iterator[Document]],
    docs: Iterable[Document],
    context: Context,
) -> Iterator[Document]:
    """Tell the context when all input is in ("deciding") and when output starts ("writing")."""
    seen = 0

    def counted() -> Iterator[Document]:
        nonlocal seen
        for doc in docs:
            seen += 1
            yield doc
        context.phase("deciding", seen)

    started = False
    for doc in run(counted()):
        if not started:
            context.phase("writing", seen)
            started = True
        yield doc


def _check(values: dict[str, Any]) -> None:
    """Refuse option values outside their declared ranges, naming the option.

    Pipeline/bind checks already; this covers a direct call of `dedup()` from Python.
    """
    for option in SPEC.options:
        if option.keyword in values:
            option.check(values[option.keyword], "dedup: ")


# Ranges shared by the paragraph and document options: a share of shingles, words per shingle.
THRESHOLD = Range(min=0, max=1, min_open=True)
SHINGLE = Range(min=1, max=8)


SPEC = StepSpec(
    name="dedup",
    func=dedup,
    help="Remove duplicate paragraphs, site boilerplate and near-duplicate documents.",
    options=(
        Option(
            "scope",
            "corpus",
            "corpus: spool the documents and dedup across them (and the state); document: "
            "only paragraphs inside each document, streaming.",
            type=("corpus", "document"),
        ),
        Option(
            "paragraph-dedup",
            True,
            "Remove exact, near and composite copies of paragraphs inside each document.",
            type=bool,
        ),
        Option(
            "paragraph-threshold",
            0.75,
            "Share of a paragraph's word shingles found in a more complete paragraph (or in 2-3 "
            "earlier ones) that makes it a copy; 0.75 = about one edited word in 20.",
            type=float,
            range=THRESHOLD,
        ),
        Option(
            "paragraph-shingle-size",
            3,
            "Words per shingle when comparing paragraphs inside a document.",
            type=int,
            range=SHINGLE,
        ),
        Option(
            "min-paragraph-words",
            8,
            "Paragraphs shorter than this many words are only removed as exact copies.",
            type=int,
            range=Range(min=0),
        ),
        Option(
            "doc-threshold",
            0.4,
            "Estimated Jaccard of word-pair shingles above which two documents are near "
            "duplicates; 0.4 catches copies with 5-15% of words edited (recall 0.997-1.0 in "
            "scripts/eval_dedup.py) while two articles on the same story score ~0.12.",
            type=float,
            range=THRESHOLD,
        ),
        Option(
            "doc-shingle-size",
            2,
            "Words per shingle for document signatures (2: edited copies keep more shingles "
            "than with 5, unrelated texts share fewer than with 1).",
            type=int,
            range=SHINGLE,
        ),
        Option(
            "num-perm",
            128,
            "MinHash permutations per signature.",
            type=int,
            range=Range(min=8, max=1024),
        ),
        Option(
            "minhash-seed",
            1,
            "Seed of the MinHash permutations.",
            type=int,
            range=Range(min=0, max=2**32 - 1),
        ),
        Option(
            "boilerplate-min-docs",
            10,
            "A paragraph found in at least this many documents of one site is site boilerplate "
            "and removed from all of them (0: off). 10: navigation and footer lines recur in "
            "nearly every page, a quote seldom in ten articles.",
            type=int,
            range=Range(min=2, off=0),
        ),
        Option(
            "site-field",
            "",
            "JSONL field naming a document's site (default: the URL's domain, else the first "
            "folder under the input).",
            type=str,
            metavar="FIELD",
        ),
        Option(
            "cross-doc-paragraphs",
            "off",
            "Remove long paragraphs that already stand in another document of the run, the "
            "first document in input order keeps them (exact: by fingerprint, any corpus size; "
            "near: MinHash at --paragraph-threshold, up to 2 million long paragraphs).",
            type=("off", "exact", "near"),
        ),
        Option(
            "mark",
            False,
            "Keep near-duplicate documents, marked with meta duplicate_of and cluster.",
            type=bool,
        ),
        Option(
            "state",
            "",
            "Persistent dedup state: a SQLite file PATH or redis://HOST:PORT/DB, updated only "
            "when the run's output is in place.",
            type=str,
            metavar="PATH|URL",
            path=True,
        ),
        Option(
            "wait",
            0.0,
            "Seconds to wait for another run's lock on the state (0: fail at once).",
            type=float,
            metavar="SECONDS",
            range=Range(min=0),
        ),
    ),
    needs_context=True,
    per_document=False,
)
