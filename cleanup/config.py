"""Read a TOML config: a [run] section for run-wide options and one section per step.

Keys are the option names (kebab-case, as on the command line; snake_case is accepted).
The command line wins over the file, and the file over the defaults.
"""

from __future__ import annotations

import tomllib
from typing import Any

from cleanup.errors import UsageProblem
from cleanup.pipeline import STEP_MODULES

SECTIONS = ("run", *STEP_MODULES)


def load_config(path: str | None) -> dict[str, dict[str, Any]]:
    """Return {section: {keyword: value}} from a TOML file, or {} when no file is given."""
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise UsageProblem(f"--config {path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageProblem(f"--config {path}: not valid TOML: {exc}") from None
    config: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in SECTIONS or not isinstance(values, dict):
            known = ", ".join(f"[{s}]" for s in SECTIONS)
            raise UsageProblem(f"--config {path}: unknown section [{section}] (known: {known})")
        config[section] = {key.replace("-", "_"): value for key, value in values.items()}
    return config
