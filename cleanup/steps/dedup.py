"""The dedup step: duplicate paragraphs, site boilerplate and near-duplicate documents.

Inside each document: exact, near and composite copies of paragraphs (cleanup.dedup.
paragraphs). Across the corpus (scope=corpus, the default): site boilerplate, near-duplicate
documents by MinHash/LSH, optionally paragraphs repeated across documents; with `state`,
against everything earlier runs published. The algorithm lives in cleanup/dedup/ and its
options in cleanup/dedup/settings.py; this module turns keywords into settings, hands the
work to the executor it is bound with, and wires the state into the run's publish/close
callbacks. See docs/architecture.md, "Dedup".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cleanup.dedup.corpus import CorpusDedup
from cleanup.dedup.jobs import document_scope
from cleanup.dedup.lookup import check_shared
from cleanup.dedup.settings import DedupSettings, options_of
from cleanup.dedup.state import StateCommit, open_store
from cleanup.dedup.store import state_errors
from cleanup.document import Document
from cleanup.errors import StateError, UsageProblem
from cleanup.executor import Executor, Item, LocalExecutor, resolved
from cleanup.pipeline import Context, StepSpec


def dedup_stream(
    docs: Iterable[Document],
    *,
    context: Context,
    executor: Executor | None = None,
    **options: Any,
) -> Iterator[Item]:
    """Dedup the stream, leaving the spooled batches as Deferred items for the workers.

    `options` are the step's keywords (cleanup/dedup/settings.py has each one's default).
    """
    return _dedup_items(docs, context, executor, True, options)


def _dedup_items(
    docs: Iterable[Document],
    context: Context,
    executor: Executor | None,
    on_workers: bool,
    options: dict[str, Any],
) -> Iterator[Item]:
    """Dedup the stream into items; `on_workers`: the caller resolves them on the workers."""
    settings = DedupSettings.from_options(**options)
    executor = executor or LocalExecutor()
    if settings.scope == "document":
        if settings.state.location:
            raise UsageProblem("dedup: --state needs --scope corpus (a state is a corpus)")
        if settings.paragraph_dedup:
            yield from document_scope(docs, settings.paragraphs, executor)
        else:
            yield from docs
        return
    location, wait = settings.state.location, settings.state.wait
    if location:
        check_shared(location, executor.machines)
    with state_errors(location):
        store = open_store(location, wait=wait) if location else None
        if store is not None:
            context.on_close.append(store.close)
        try:
            engine = CorpusDedup(
                settings,
                executor,
                store,
                run_id=context.run_id,
                started=context.started,
                on_workers=on_workers,
            )
        except StateError:
            if store is not None:
                store.close()
            raise
        yield from _with_phases(engine.run, docs, context)
    for name, value in engine.stats.items():
        context.count(f"dedup {name}", value)
    if store is not None and engine.staging is not None:
        context.on_publish.append(StateCommit(store, engine.staging.pending(wait)))


def dedup(
    docs: Iterable[Document],
    *,
    context: Context,
    executor: Executor | None = None,
    **options: Any,
) -> Iterator[Document]:
    """Remove duplicate paragraphs and near-duplicate documents (see the module docstring)."""
    yield from resolved(_dedup_items(docs, context, executor, False, options))


def _with_phases(
    run: Callable[[Iterable[Document], Callable[[int], None]], Iterator[Item]],
    docs: Iterable[Document],
    context: Context,
) -> Iterator[Item]:
    """Tell the context when all input is in ("deciding") and when output starts ("writing").

    The read pass counts its documents from what its jobs return, so the stream into it stays
    as the engine made it (a segment fused with its jobs, or splits its tasks read).
    """
    seen = 0

    def read(count: int) -> None:
        nonlocal seen
        seen = count
        context.phase("deciding", seen)

    started = False
    for item in run(docs, read):
        if not started:
            context.phase("writing", seen)
            started = True
        yield item


SPEC = StepSpec(
    name="dedup",
    func=dedup,
    help="Remove duplicate paragraphs, site boilerplate and near-duplicate documents.",
    options=options_of(DedupSettings),
    needs_context=True,
    per_document=False,
    needs_executor=True,
    stream=dedup_stream,
)
