"""Read and check a TOML config once: a [run] section for run-wide options, one per step.

Keys are the option names (kebab-case, as on the command line; snake_case is accepted).
Every key and value is checked here against the options' declarations (cleanup/options.py
for [run], each step's SPEC for its section), so a config means the same from the Python
API as from `cleanup run --config`, and a wrong one is refused before anything runs.
Relative paths in the file (output, audit, rejects, report, stats, a step's file options
such as the dedup state or a rules file) are relative to the file's folder, so a config
means the same files from whatever directory it is used.

    config = load_config("clean.toml")
    execute(config.run_options(["in.jsonl"]), config.calls())
    Pipeline(**config.step_options())  # or config.pipeline()

On the command line, a flag wins over the file, and the file over the defaults.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cleanup.errors import ConfigError, UnknownStep
from cleanup.options import RUN_OPTIONS
from cleanup.pipeline import DEFAULT_STEPS, STEP_MODULES, Option, StepCall, all_specs
from cleanup.ranges import value_problem
from cleanup.tomlfile import TomlProblem, load_toml

if TYPE_CHECKING:
    from cleanup.options import RunOptions
    from cleanup.pipeline import Context, Pipeline

SECTIONS = ("run", *STEP_MODULES)
__all__ = ["SECTIONS", "Config", "load_config"]


@dataclass(frozen=True)
class Config:
    """Hold a checked config: its path and {section: {keyword: value}}, paths resolved.

    Only the keys the file sets are held; an option it does not set keeps its default.
    """

    path: str = ""
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """Return the values of one section ({} when the file has none)."""
        return dict(self.sections.get(name, {}))

    def run_options(self, inputs: list[str] | None = None, **overrides: Any) -> RunOptions:
        """Return the RunOptions of the [run] section for `inputs` (default: stdin)."""
        from cleanup.options import RunOptions

        return RunOptions.from_config(self, inputs, **overrides)

    def calls(self, steps: Iterable[str] = DEFAULT_STEPS) -> list[StepCall]:
        """Return the (step, options) pairs for `execute()`: each step with its section."""
        names = list(steps)
        for name in names:
            if name not in STEP_MODULES:
                raise UnknownStep(f"no step named {name!r}")
        return [(name, self.section(name)) for name in names]

    def step_options(self) -> dict[str, Any]:
        """Return every step section's values as one flat dict (option names are unique)."""
        return {k: v for name in STEP_MODULES for k, v in self.section(name).items()}

    def pipeline(
        self, steps: Iterable[str] = DEFAULT_STEPS, context: Context | None = None
    ) -> Pipeline:
        """Return a Pipeline of `steps` with this config's options for them."""
        from cleanup.pipeline import Pipeline

        names = list(steps)
        options = {k: v for name, opts in self.calls(names) for k, v in opts.items()}
        return Pipeline(names, context, **options)


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Return the checked config in `path` (an empty Config when no path is given).

    Raise ConfigError naming the file (and the line for TOML syntax, the section and key
    for a value) when it cannot be read, is not TOML, has an unknown section or key, or a
    value of the wrong type or out of its option's range.
    """
    if not path:
        return Config()
    path = os.fspath(path)
    try:
        data = load_toml(path)
    except OSError as exc:
        raise ConfigError(f"--config {path}: cannot read: {exc.strerror or exc}") from None
    except TomlProblem as exc:
        raise ConfigError(f"--config {path}: {exc}") from None
    declared = _declared()
    sections: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in SECTIONS:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise ConfigError(f"--config {path}: unknown section [{section}] (known: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"--config {path}: {section} must be a table ([{section}])")
        sections[section] = {
            key.replace("-", "_"): _checked(path, section, key, value, declared[section])
            for key, value in values.items()
        }
    return Config(path, sections)


def _declared() -> dict[str, dict[str, Option]]:
    """Return, per section, its options by keyword."""
    steps = {s.name: {o.keyword: o for o in s.options} for s in all_specs()}
    return {"run": {o.keyword: o for o in RUN_OPTIONS}, **steps}


def _checked(path: str, section: str, key: str, value: Any, options: dict[str, Option]) -> Any:
    """Return a config value ready to use, or raise ConfigError naming file, section and key."""
    where = f"--config {path}: [{section}] {key.replace('_', '-')}"
    option = options.get(key.replace("-", "_"))
    if option is None:
        raise ConfigError(f"{where}: unknown key")
    if option.multiple and isinstance(value, str):
        value = [value]
    why = value_problem(option, value)
    if why is not None:
        raise ConfigError(f"{where}: {why}")
    if option.path:
        value = _relative_to(os.path.dirname(path), value)
    if option.multiple:
        return tuple(value)
    return float(value) if option.type is float else value


def _relative_to(folder: str, value: Any) -> Any:
    """Return `value` read relative to `folder`: a path, a list of paths, or left as it is."""
    if isinstance(value, list | tuple):
        return [_relative_to(folder, v) for v in value]
    if not isinstance(value, str) or value in ("", "-") or "://" in value:
        return value  # not a path: stdout, unset, or a URL such as redis://
    return os.path.join(folder, os.path.expanduser(value))
