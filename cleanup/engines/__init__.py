"""Engines decide where the steps run; the steps and their output are the same for every engine."""

from __future__ import annotations

from cleanup.errors import UsageProblem
from cleanup.pipeline import Context, Step, StepCall

__all__ = ["build_engine"]


def build_engine(name: str, calls: list[StepCall], context: Context, workers: int) -> Step:
    """Return the chain of `calls` run by engine `name` (local with workers > 1: processes)."""
    if name == "local":
        from cleanup.engines.processes import ProcessEngine

        return ProcessEngine(calls, context, workers)
    raise UsageProblem(f"--engine {name}: unknown engine")
