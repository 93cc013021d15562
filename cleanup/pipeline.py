"""The Step protocol, how steps compose, and the registry of steps with their options.

A step is a plain generator function `(docs, **options) -> Iterator[Document]`. Steps never
print and never see click: the CLI builds its flags from each step's `Option` list, so the
flag, the TOML key and the keyword are one word.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import InitVar, dataclass, field
from typing import Any

from cleanup.document import Document
from cleanup.errors import UnknownOption, UnknownStep
from cleanup.executor import Deferred as Deferred  # re-exported: its home was here
from cleanup.executor import Executor, Item, LocalExecutor
from cleanup.ranges import OptionError, Range, check

Step = Callable[[Iterable[Document]], Iterator[Document]]

# Module of each step, in the default pipeline's order (docs/architecture.md, "Steps"):
# strip-html first so ftfy never runs over markup; dedup before normalize so it sees what
# readers will read.
STEP_MODULES: dict[str, str] = {
    "strip-html": "cleanup.steps.html",
    "fix-encoding": "cleanup.steps.encoding",
    "strip-artifacts": "cleanup.steps.artifacts",
    "dedup": "cleanup.steps.dedup",
    "normalize": "cleanup.steps.normalize",
}
DEFAULT_STEPS: tuple[str, ...] = tuple(STEP_MODULES)


@dataclass(frozen=True)
class Option:
    """Describe one step option: its kebab-case name is the CLI flag and the TOML key.

    `type` is a Python type (str, int, float, bool) or a tuple of allowed choices. Every int
    and float option declares its `range`, checked for flags, config values and keywords
    alike; `path` marks a file option that a config file gives relative to its own folder;
    `validate`, when set, checks a value instead of `type`.
    """

    name: str
    default: Any
    help: str
    type: Any = None
    multiple: bool = False
    metavar: str | None = None
    range: Range | None = None
    path: bool = False
    # For a value no type or range describes (`--shard-size 256MB`): why a value is refused.
    validate: Callable[[Any], str | None] | None = None

    @property
    def keyword(self) -> str:
        """Return the library keyword for this option (kebab-case turned snake_case)."""
        return self.name.replace("-", "_")

    def check(self, value: Any, where: str = "") -> Any:
        """Return `value`, or raise OptionError naming the option if it is out of its range."""
        if isinstance(self.type, tuple) and value not in self.type:
            choices = ", ".join(self.type)
            raise OptionError(f"{where}--{self.name} must be one of {choices}, got {value!r}")
        if self.range is None:
            return value
        return check(self.name, value, self.type, self.range, where)


def new_run_id() -> str:
    """Return a run id that sorts by time and stays unique within one second and process."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass
class Context:
    """Carry what a run knows beyond the documents: its id, counters and what to do on success.

    Steps that keep persistent state register `on_publish` callbacks, which the runner calls
    only after the output is in place, and `on_close` callbacks that always run. A callback
    with `prepare`, `commit` and `pending` (a dedup StateCommit) is committed in two phases
    around the renames, and its `pending` goes into the publish journal (io/publish.py).
    Where work runs is not here: a step that needs it is bound with an Executor.
    """

    started: float = field(default_factory=time.time)
    run_id: str = field(default_factory=lambda: new_run_id())
    on_publish: list[Callable[[], None]] = field(default_factory=list)
    on_close: list[Callable[[], None]] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    # Told the run's phase ("reading", "deciding", "writing") and its size when known, so a
    # caller can show progress; steps never print.
    on_phase: Callable[[str, int | None], None] | None = None
    # Deprecated and ignored (nothing read them); accepted so that old callers keep working.
    input_roots: InitVar[list[str] | None] = None
    workers: InitVar[int | None] = None

    def __post_init__(self, input_roots: list[str] | None, workers: int | None) -> None:
        if input_roots is not None or workers is not None:
            warnings.warn(
                "Context(input_roots=..., workers=...) is deprecated and ignored",
                DeprecationWarning,
                stacklevel=3,
            )

    def phase(self, name: str, total: int | None = None) -> None:
        """Tell the caller (if it listens) that the run entered phase `name` of `total` items."""
        if self.on_phase is not None:
            self.on_phase(name, total)

    def count(self, name: str, n: int = 1) -> None:
        """Add `n` to a named counter shown in the run's summary and stats."""
        self.counters[name] = self.counters.get(name, 0) + n


# A step's variant that may leave Deferred items in its output for the workers to resolve.
Stage = Callable[[Iterable[Document]], Iterator[Item]]


@dataclass(frozen=True)
class StepSpec:
    """Describe a step: its name, function, help text and options.

    `needs_context`: the step gets the run's Context (`context=`); `needs_executor`: it needs
    the whole stream and gets the Executor that runs its per-batch work (`executor=`);
    `stream`: optionally, the same step yielding Deferred items that the engine's workers
    resolve (the runner uses it when workers follow the step).
    """

    name: str
    func: Callable[..., Iterator[Document]]
    help: str
    options: tuple[Option, ...] = ()
    needs_context: bool = False
    per_document: bool = True
    needs_executor: bool = False
    stream: Callable[..., Iterator[Item]] | None = None

    def defaults(self) -> dict[str, Any]:
        """Return the default keyword arguments of this step."""
        return {o.keyword: o.default for o in self.options}

    def bind(
        self, context: Context | None = None, executor: Executor | None = None, **options: Any
    ) -> Step:
        """Return the step with its options bound, ready to compose."""
        return functools.partial(self.func, **self._kwargs(context, executor, options))

    def bind_stream(self, context: Context, executor: Executor, **options: Any) -> Stage:
        """Return the step's `stream` variant bound (its output may hold Deferred items)."""
        if self.stream is None:
            return self.bind(context, executor, **options)
        return functools.partial(self.stream, **self._kwargs(context, executor, options))

    def _kwargs(
        self, context: Context | None, executor: Executor | None, options: dict[str, Any]
    ) -> dict[str, Any]:
        kwargs = self.defaults()
        unknown = set(options) - set(kwargs)
        if unknown:
            raise UnknownOption(f"{self.name}: unknown option(s) {', '.join(sorted(unknown))}")
        kwargs.update(options)
        by_keyword = {o.keyword: o for o in self.options}
        for key, value in options.items():
            by_keyword[key].check(value, f"{self.name}: ")
        if self.needs_context:
            kwargs["context"] = context or Context()
        if self.needs_executor:
            kwargs["executor"] = executor or LocalExecutor()
        return kwargs


def step_spec(name: str) -> StepSpec:
    """Return the spec of the step called `name` (importing its module on first use)."""
    try:
        module = STEP_MODULES[name]
    except KeyError:
        raise UnknownStep(f"no step named {name!r}") from None
    spec: StepSpec = importlib.import_module(module).SPEC
    return spec


def all_specs() -> list[StepSpec]:
    """Return every step's spec in the default pipeline's order."""
    return [step_spec(name) for name in STEP_MODULES]


def pipeline(*steps: Step) -> Step:
    """Compose steps left to right into one step."""

    def run(docs: Iterable[Document]) -> Iterator[Document]:
        for step in steps:
            docs = step(docs)
        yield from docs

    return run


def each_live(docs: Iterable[Document], fn: Callable[[Document], None]) -> Iterator[Document]:
    """Apply `fn` to every document not yet dropped; pass dropped ones through untouched."""
    for doc in docs:
        if doc.dropped is None:
            fn(doc)
        yield doc


def split_options(
    options: dict[str, Any], steps: Iterable[str] = DEFAULT_STEPS
) -> dict[str, dict[str, Any]]:
    """Split one flat dict of step options into one dict per step (names are unique)."""
    per_step: dict[str, dict[str, Any]] = {}
    remaining = dict(options)
    for name in steps:
        spec = step_spec(name)
        keys = {o.keyword for o in spec.options}
        per_step[name] = {k: remaining.pop(k) for k in list(remaining) if k in keys}
    if remaining:
        raise UnknownOption(f"unknown option(s): {', '.join(sorted(remaining))}")
    return per_step


StepCall = tuple[str, dict[str, Any]]


def build_chain(
    calls: Iterable[StepCall], context: Context | None = None, executor: Executor | None = None
) -> Step:
    """Bind each (step name, options) pair and compose them; a step may appear twice.

    Steps that need a context or an executor get `context` and `executor` (a fresh one each
    when not given); per-document steps get neither.
    """
    return pipeline(*(step_spec(name).bind(context, executor, **opts) for name, opts in calls))


class Pipeline:
    """Run a chain of steps over documents: the library face of `cleanup run` and `pipe`.

    `executor` runs the per-batch work of steps that need the whole stream (default: this
    process, cleanup.executor.LocalExecutor).

    >>> Pipeline().run([Document.from_text("a", "Hello\\u00a0world")])  # doctest: +SKIP
    """

    def __init__(
        self,
        steps: Iterable[str] = DEFAULT_STEPS,
        context: Context | None = None,
        executor: Executor | None = None,
        **options: Any,
    ) -> None:
        self.steps = tuple(steps)
        self.context = context or Context()
        per_step = split_options(options, self.steps)
        self.calls: list[StepCall] = [(n, per_step[n]) for n in self.steps]
        self._chain = build_chain(self.calls, self.context, executor)

    def run(self, docs: Iterable[Document]) -> Iterator[Document]:
        """Stream documents through the steps; dropped documents come out with `dropped` set."""
        return self._chain(docs)

    __call__ = run


def clean_text(text: str, **options: Any) -> str:
    """Clean one text with the default pipeline and return it (document-scope dedup)."""
    options.setdefault("scope", "document")
    doc = Document.from_text("text", text)
    out = list(Pipeline(**options).run([doc]))
    if not out or out[0].dropped is not None:
        return ""
    return out[0].text
