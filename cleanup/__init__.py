"""cleanup: turn scraped text and HTML into clean, deduplicated, normalized text.

The public API (README.md, "Python API"); everything else may change between versions:

- cleaning documents in memory: Pipeline, clean_text, Document, Edit, DEFAULT_STEPS,
  Context, step_spec, StepSpec, Option, compose (chain your own steps with the built-in ones)
- whole runs, as `cleanup run` does them: execute, RunOptions, Summary
- config files: load_config, Config
- errors: CleanupError and its family (cleanup/errors.py)

The run and config names are loaded on first use, so that `import cleanup` stays light for
a caller (or a worker process) that only cleans documents.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from cleanup.document import Document, Edit
from cleanup.errors import (
    BadInput,
    CleanupError,
    ConfigError,
    OptionError,
    OutputError,
    StateError,
    UnknownOption,
    UnknownStep,
    UsageProblem,
)
from cleanup.pipeline import (
    DEFAULT_STEPS,
    Context,
    Option,
    Pipeline,
    StepSpec,
    clean_text,
    step_spec,
)
from cleanup.pipeline import pipeline as compose

if TYPE_CHECKING:
    from cleanup.config import Config, load_config
    from cleanup.runner import RunOptions, Summary, execute

_LAZY = {
    "Config": "cleanup.config",
    "load_config": "cleanup.config",
    "RunOptions": "cleanup.runner",
    "Summary": "cleanup.runner",
    "execute": "cleanup.runner",
}


def __getattr__(name: str) -> Any:
    """Import the run and config names when first asked for (see the module docstring)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'cleanup' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_STEPS",
    "BadInput",
    "CleanupError",
    "Config",
    "ConfigError",
    "Context",
    "Document",
    "Edit",
    "Option",
    "OptionError",
    "OutputError",
    "Pipeline",
    "RunOptions",
    "StateError",
    "StepSpec",
    "Summary",
    "UnknownOption",
    "UnknownStep",
    "UsageProblem",
    "__version__",
    "clean_text",
    "compose",
    "execute",
    "load_config",
    "step_spec",
]
