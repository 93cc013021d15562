"""Engines decide where the steps run; the steps and their output are the same for every engine.

An engine implements cleanup.executor.Executor and imports nothing of the steps' algorithms.
See docs/architecture.md, "Engines".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cleanup.document import Document
from cleanup.errors import UsageProblem
from cleanup.pipeline import Context, Step, StepCall

ENGINES = ("local", "ray")
__all__ = ["ENGINES", "build_engine"]


def build_engine(
    name: str,
    calls: list[StepCall],
    context: Context,
    workers: int,
    address: str | None = None,
    prelude: Step | None = None,
    postlude: Step | None = None,
    scratch: str | None = None,
) -> Callable[[Iterable[Any]], Iterator[Document]]:
    """Return the chain of `calls` run by engine `name`: local processes, or Ray tasks.

    `prelude` and `postlude` (picklable steps, such as the runner's JSONL parsing and the
    writer's encoding) run on the workers before the first steps and after the last. The
    engine is also the Executor of the steps that need the whole stream. `scratch` is the base
    folder of the run's scratch space (cleanup/scratch.py), which both engines' workers use.
    """
    if name == "local":
        from cleanup.engines.processes import ProcessEngine

        return ProcessEngine(calls, context, workers, prelude, postlude, scratch)
    if name == "ray":
        from cleanup.engines.ray import RayEngine

        return RayEngine(calls, context, workers, address, prelude, postlude, scratch)
    raise UsageProblem(f"--engine {name}: unknown engine (choose from {', '.join(ENGINES)})")
