"""Read a TOML config: a [run] section for run-wide options and one section per step.

Keys are the option names (kebab-case, as on the command line; snake_case is accepted).
The command line wins over the file, and the file over the defaults. Relative paths in the
file (output, audit, rejects, report, stats, a step's file options such as the dedup state
or a rules file) are relative to the file's folder, so a config means the same files from
whatever directory it is used.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from cleanup.errors import UsageProblem
from cleanup.pipeline import STEP_MODULES, all_specs

SECTIONS = ("run", *STEP_MODULES)
# Run options that name a file or folder ("-" for standard output stays as it is).
RUN_PATHS = frozenset({"output", "audit", "rejects", "report", "stats"})


@dataclass(frozen=True)
class Config:
    """Hold a config file's path and its values, {section: {keyword: value}}."""

    path: str = ""
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """Return the values of one section ({} when the file has none)."""
        return self.sections.get(name, {})


def load_config(path: str | None) -> Config:
    """Return the config in `path` (an empty Config when no file is given).

    Raise UsageProblem naming the file (and the line, for TOML syntax) when it cannot be
    read, is not TOML, or has a section that is not a table of a known name.
    """
    if not path:
        return Config()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UsageProblem(f"--config {path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"--config {path}: not valid TOML: {exc}") from None
    folder = os.path.dirname(path)
    paths = _path_keys()
    sections: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in SECTIONS:
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise UsageProblem(f"--config {path}: unknown section [{section}] (known: {known})")
        if not isinstance(values, dict):
            raise UsageProblem(f"--config {path}: {section} must be a table ([{section}])")
        keys = {key.replace("-", "_"): value for key, value in values.items()}
        for key in paths[section] & keys.keys():
            keys[key] = _relative_to(folder, keys[key])
        sections[section] = keys
    return Config(path, sections)


def _path_keys() -> dict[str, frozenset[str]]:
    """Return, per section, the keywords whose values are paths."""
    keys = {spec.name: frozenset(o.keyword for o in spec.options if o.path) for spec in all_specs()}
    return {"run": RUN_PATHS, **keys}


def _relative_to(folder: str, value: Any) -> Any:
    """Return `value` read relative to `folder`: a path, a list of paths, or left as it is."""
    if isinstance(value, list):
        return [_relative_to(folder, v) for v in value]
    if not isinstance(value, str) or value in ("", "-") or "://" in value:
        return value  # not a path: stdout, unset, or a URL such as redis://
    return os.path.join(folder, os.path.expanduser(value))
