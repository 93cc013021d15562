"""Run a pipeline from inputs to outputs: read, steps, write, then publish atomically.

This is what `cleanup run` and `cleanup pipe` call. Every path the run writes is checked
before reading starts; every file is written under a temporary name and flushed to disk;
then the side files are renamed into place, the output last, and only then the steps'
`on_publish` callbacks commit (a dedup state), with a journal that lets the next run complete
a publish that was killed half-way. A failed run publishes nothing and commits nothing.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cleanup.document import Document
from cleanup.errors import BadInput
from cleanup.executor import LocalExecutor
from cleanup.io.paths import PathPlan, plan_paths
from cleanup.io.publish import publish, recover
from cleanup.io.readers import (
    RawLine,
    RecordFormat,
    Skipped,
    parse_line,
    read_inputs,
)
from cleanup.io.remote import RemotePublisher, Staging, is_remote, remote_publisher
from cleanup.io.sample import trial_items
from cleanup.io.tasksource import PartReader, plan_source
from cleanup.io.writers import (
    AtomicFile,
    JsonlWriter,
    Writer,
    check_output_name,
    is_folder_output,
    open_output,
)
from cleanup.options import RunOptions
from cleanup.pipeline import DEFAULT_STEPS, Context, Step, StepCall, build_chain
from cleanup.scratch import PREFIX as SCRATCH_PREFIX
from cleanup.scratch import check_base
from cleanup.sinks import Sinks, audit_record, reject_record, run_settings, write_stats
from cleanup.summary import Summary
from cleanup.tally import BAD_RULE, Finish, Tally, count, is_bad, utf8_size

__all__ = [
    "Admit",
    "RunOptions",
    "Summary",
    "audit_record",
    "execute",
    "reject_record",
    "utf8_size",
]


def execute(
    options: RunOptions,
    calls: list[StepCall] | None = None,
    *,
    on_bad: Callable[[str], None] | None = None,
    on_document: Callable[[Document], None] | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
    on_phase: Callable[[str, int | None], None] | None = None,
    on_read: Callable[[], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    on_documents: Callable[[int], None] | None = None,
) -> Summary:
    """Run the step calls over the inputs and put every output in place; return what happened.

    `calls` are (step name, options) pairs; the default is the default pipeline with defaults.
    Every path the run writes is checked before any input is read (cleanup/io/paths.py); a
    run killed while publishing is completed first (cleanup/io/publish.py), with `on_note`.
    The other callbacks let a caller show progress without the library printing:
    `on_phase(name, total)` at "reading" and, when a step holds the whole stream (corpus
    dedup), "deciding" and "writing"; `on_read` per record read; `on_document` per document
    finished; `on_skip` per entry of an input folder not read; `on_bad` per bad input skipped.
    `on_documents(n)`, for a caller that needs no document, says that n more were finished:
    without `on_document` (and side files), workers may finish documents (cleanup/tally.py)
    and it is then called once a batch.
    """
    if calls is None:
        calls = [(name, {}) for name in DEFAULT_STEPS]
    if options.output and is_remote(options.output):
        check_output_name(options.output, options.output.endswith("/"))
    plan = plan_run_paths(options, calls)
    try:
        plan.check()
        recover(plan.journal, on_note)
        hooks = Hooks(on_bad, on_document, on_skip, on_phase, on_read, on_documents)
        return _execute(options, calls, plan, hooks)
    except BaseException:
        plan.undo()
        raise


def plan_run_paths(options: RunOptions, calls: list[StepCall]) -> PathPlan:
    """Return the plan of every path the run writes: output, side files, states, journal."""
    output = options.output
    is_dir = output is not None and output not in ("", "-") and is_folder_output(output)
    sides = {
        "--audit": options.audit,
        "--rejects": options.rejects,
        "--report": options.report,
        "--stats": options.stats,
    }
    states = [str(opts.get("state") or "") for name, opts in calls if name == "dedup"]
    return plan_paths(
        list(options.inputs),
        output=output,
        output_is_dir=is_dir,
        sides=sides,
        states=[s for s in states if s],
        force=options.force,
        sharded=options.format is not None,
        scratch=_scratch_folder(options),
    )


def _scratch_folder(options: RunOptions) -> str | None:
    """Return where an engine's scratch folder goes, for the path check (None: no engine).

    A base folder that does not exist is left to the engine, which refuses it in one line.
    """
    if not uses_engine(options):
        return None
    base = options.scratch or tempfile.gettempdir()
    return os.path.join(base, SCRATCH_PREFIX + "*") if os.path.isdir(base) else None


@dataclass(frozen=True)
class Hooks:
    """The caller's callbacks (see execute)."""

    on_bad: Callable[[str], None] | None = None
    on_document: Callable[[Document], None] | None = None
    on_skip: Callable[[Skipped], None] | None = None
    on_phase: Callable[[str, int | None], None] | None = None
    on_read: Callable[[], None] | None = None
    on_documents: Callable[[int], None] | None = None


def _execute(options: RunOptions, calls: list[StepCall], plan: PathPlan, hooks: Hooks) -> Summary:
    on_bad, on_document = hooks.on_bad, hooks.on_document
    started = time.perf_counter()
    summary = Summary()
    context = Context(on_phase=hooks.on_phase)
    staging = Staging()  # outputs on object storage are built locally first
    local = _staged(options, staging)
    publisher: RemotePublisher | None = None
    try:
        writer = open_output(
            local.output,
            force=options.force,
            inputs=options.inputs,
            text_field=options.text_field,
            id_field=options.id_field,
            fmt=options.format,
            shard_size=options.shard_size,
            settings=run_settings(options, calls) if options.format else None,
            keep_empty=options.keep_empty,
        )
    except BaseException:
        staging.remove()
        raise
    sinks: Sinks | None = None
    stats: AtomicFile | None = None
    real_stdout = sys.stdout
    if local.output in (None, "", "-"):
        # The output owns standard output (the writer holds it): whatever a library prints
        # meanwhile (Ray prints a dead worker's notice there) goes to standard error instead.
        sys.stdout = sys.stderr
    try:
        sinks = Sinks(local)
        admit = Admit(
            RecordFormat(options.text_field, options.id_field, options.id_prefix),
            skip_bad=skips_bad(options),
            audit_full=options.audit_detail == "full",
            keep_before=sinks.report is not None,
        )
        context.phase("reading")
        items = _read(options, summary, on_bad, hooks.on_skip, hooks.on_read)
        encode = writer.encoder()
        if _finished_on_workers(options, writer, sinks, hooks) and encode is not None:
            encode = Finish(encode, options.keep_empty)
        chain = _build_chain(options, calls, context, admit, encode)
        for doc in chain(items):
            if isinstance(doc, Tally):
                _finish_tally(doc, options, summary, writer, hooks)
                continue
            _finish(doc, options, summary, writer, sinks, on_bad)
            if not is_bad(doc):
                if on_document:
                    on_document(doc)
                if hooks.on_documents:
                    hooks.on_documents(1)
        summary.flush_ids()
        summary.counters = dict(context.counters)
        summary.seconds = time.perf_counter() - started
        summary.trial_run = options.trial
        summary.state_not_updated = options.trial and bool(context.on_publish)
        # Everything is written and flushed to disk before the first rename.
        sinks.finish(summary)
        if options.stats:
            stats = write_stats(options, summary, calls, path=local.stats)
        writer.finish()
        files: list[Any] = [*sinks.files, *([stats] if stats else [])]
        if writer.final is not None:
            files.append(writer)  # the output last but one; the state commit last
        publisher = remote_publisher(files, staging, context.run_id)
        publish(
            plan.journal,
            context.run_id,
            [f for f in files if not staging.url_of(f.final)],
            [] if options.trial else context.on_publish,  # a trial run teaches no state
            remote=publisher.publish if publisher else None,
        )
    except BaseException:
        if not (plan.journal and os.path.exists(plan.journal)):  # else the next run completes it
            writer.abort()
            if sinks:
                sinks.abort()
            if stats:
                stats.abort()
            if publisher:
                publisher.abort()
        raise
    finally:
        for close in context.on_close:
            close()
        staging.remove()
        sys.stdout = real_stdout
    return summary


def _staged(options: RunOptions, staging: Staging) -> RunOptions:
    """Return the options with every output URL replaced by the local file it is built in."""
    return dataclasses.replace(
        options,
        output=staging.local(options.output),
        audit=staging.local(options.audit),
        rejects=staging.local(options.rejects),
        report=staging.local(options.report),
        stats=staging.local(options.stats),
    )


# The run's chain: what the readers yield (documents, or JSONL lines to parse) to documents.
RunChain = Callable[[Iterable[Document | RawLine]], Iterator[Document]]


def _build_chain(
    options: RunOptions,
    calls: list[StepCall],
    context: Context,
    admit: Admit,
    encode: Step | None,
) -> RunChain:
    """Return the run's chain: here, or on an engine's workers with parsing and encoding.

    In one process the steps that need the whole stream run with a LocalExecutor; an engine
    is itself the executor of those steps (cleanup/executor.py).
    """
    if not uses_engine(options):
        if options.scratch is not None:
            check_base(options.scratch)  # one process has no scratch space, but a typo is said
        steps = build_chain(calls, context, LocalExecutor())
        return lambda items: steps(admit(items))
    from cleanup.engines import build_engine

    return build_engine(
        options.engine,
        calls,
        context,
        options.workers,
        options.address,
        admit,
        encode,
        options.scratch,
    )


# A document this step edited was markup as read (cleanup.steps.html.STEP, not imported: lxml).
_MARKUP_STEP = "strip-html"


@dataclass(frozen=True)
class Admit:
    """Turn what the readers yield into documents ready for the steps (a picklable step).

    JSONL lines are parsed here rather than in the reader, so that with several workers the
    parsing runs on them. A bad line becomes a document dropped with rule `read:bad-input`
    when bad input is skipped (the runner counts and reports it in order), else BadInput.
    Each document's run bookkeeping goes into its `notes` (see cleanup.document.RunNotes).
    """

    fmt: RecordFormat
    skip_bad: bool = False
    audit_full: bool = False
    keep_before: bool = False

    def __call__(self, items: Iterable[Document | RawLine]) -> Iterator[Document]:
        for item in items:
            if isinstance(item, RawLine):
                try:
                    doc = parse_line(item, self.fmt)
                except BadInput as exc:
                    if not self.skip_bad:
                        raise
                    yield _bad_document(item, str(exc))
                    continue
            else:
                doc = item
            notes = doc.notes
            notes.bytes_in = utf8_size(doc.raw or doc.text)
            notes.audit_full = self.audit_full
            if self.keep_before:
                notes.before = list(doc.paragraphs) if doc.format != "html" else None
            yield doc


def _bad_document(raw: RawLine, message: str) -> Document:
    where = f"{raw.source.name}:{raw.lineno}"
    doc = Document(id=where, paragraphs=[], source=where)
    doc.drop("read", BAD_RULE, message)
    return doc


def skips_bad(options: RunOptions) -> bool:
    """Tell whether bad input is skipped: --skip-bad, or --max-bad (which implies it)."""
    return options.skip_bad or options.max_bad is not None


def _skip_bad(
    message: str, options: RunOptions, summary: Summary, on_bad: Callable[[str], None] | None
) -> None:
    """Count a skipped bad input; past --max-bad, stop the run (nothing is published)."""
    summary.bad_input_skipped += 1
    limit = options.max_bad
    if limit is not None and summary.bad_input_skipped > limit:
        raise BadInput(
            f"{message} (stopped: more than --max-bad {limit:,} bad inputs; nothing written)"
        )
    if on_bad:
        on_bad(message)


def _read(
    options: RunOptions,
    summary: Summary,
    on_bad: Callable[[str], None] | None,
    on_skip: Callable[[Skipped], None] | None,
    on_read: Callable[[], None] | None,
) -> Iterable[Document | RawLine]:
    """Return the run's records: a stream read here, or splits for an engine's tasks to read."""

    def skip(skipped: Skipped) -> None:
        summary.note_skip(skipped)
        if on_skip:
            on_skip(skipped)

    def bad(message: str) -> None:
        _skip_bad(message, options, summary, on_bad)

    if _tasks_read(options):  # tasks read their own splits
        reader = PartReader(
            options.text_field,
            options.id_field,
            options.id_prefix,
            skips_bad(options),
            options.document_bytes,
        )
        source = plan_source(
            options.inputs,
            reader,
            workers=options.workers or os.cpu_count() or 1,
            input_format=options.input_format,
            follow_links=options.follow_links,
            on_bad=bad,
            on_skip=skip,
            on_read=on_read,
        )
        if source is not None:
            return source
    items = read_inputs(
        options.inputs,
        input_format=options.input_format,
        text_field=options.text_field,
        id_field=options.id_field,
        id_prefix=options.id_prefix,
        skip_bad=skips_bad(options),
        on_bad=bad,
        lazy=True,
        follow_links=options.follow_links,
        on_skip=skip,
        max_bytes=options.document_bytes,
    )
    if options.trial:
        fmt = RecordFormat(options.text_field, options.id_field, options.id_prefix)
        items = trial_items(
            items, fmt, sample=options.sample, seed=options.seed, limit=options.limit
        )
    return items if on_read is None else _ticking(items, on_read)


def uses_engine(options: RunOptions) -> bool:
    """Tell whether the run's steps run on an engine: Ray, or more than one local worker."""
    return options.engine != "local" or options.workers > 1


def _tasks_read(options: RunOptions) -> bool:
    """Tell whether an engine's tasks read the input splits themselves (not a trial run)."""
    return uses_engine(options) and not options.trial


def _ticking(items: Iterable[Document | RawLine], tick: Callable[[], None]) -> Iterator[Any]:
    """Yield `items`, calling `tick` for each: the reading phase's progress."""
    for item in items:
        tick()
        yield item


def _finish(
    doc: Document,
    options: RunOptions,
    summary: Summary,
    writer: Writer,
    sinks: Sinks,
    on_bad: Callable[[str], None] | None,
) -> None:
    if is_bad(doc):
        assert doc.dropped is not None
        _skip_bad(doc.dropped.why, options, summary, on_bad)
        return
    summary.note_id(doc)
    before, doc.notes.before = _before(doc), None
    if count(doc, summary, options.keep_empty):
        writer.write(doc)
    if sinks.wanted:
        sinks.add(doc, before)


def _finished_on_workers(options: RunOptions, writer: Writer, sinks: Sinks, hooks: Hooks) -> bool:
    """Tell whether the workers may finish documents into Tallies (cleanup/tally.py).

    Only the local engine's workers, for a JSONL file or standard output, and only when
    no side file and no `on_document` callback needs the documents themselves.
    """
    return (
        options.engine == "local"
        and options.workers > 1
        and isinstance(writer, JsonlWriter)
        and not sinks.wanted
        and hooks.on_document is None
    )


def _finish_tally(
    tally: Tally, options: RunOptions, summary: Summary, writer: Writer, hooks: Hooks
) -> None:
    """Finish a batch the workers finished: skip its bad inputs, count it, write its lines."""
    for why in tally.bad:
        _skip_bad(why, options, summary, hooks.on_bad)
    summary.merge(tally)
    assert isinstance(writer, JsonlWriter)
    writer.write_lines(tally.lines)
    if hooks.on_documents and tally.documents_in:
        hooks.on_documents(tally.documents_in)


def _before(doc: Document) -> list[str] | None:
    """Return the paragraphs as read for the report; None (rebuild them) if they were markup.

    Why: a JSONL record whose text strip-html sniffed as HTML was read as lines of markup;
    diffed against its text, every tag line would show as a removed paragraph, which no
    edit removed. The report rebuilds such a document as it does an HTML file.
    """
    before = doc.notes.before
    if before is not None and any(e.step == _MARKUP_STEP for e in doc.edits):
        return None
    return before
