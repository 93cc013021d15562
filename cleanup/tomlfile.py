"""Read a small TOML file a user names (`--config`, `--rules-file`, `cleanup rules test`).

Why a reader of its own: `tomllib.load` reads the whole file before it parses anything, so a
path that never ends (`--config /dev/zero`, a pipe that keeps writing, a multi-gigabyte file
given by mistake) took memory until the machine ran out. A config or rule file is small:
at most MAX_TOML_BYTES are read, and a file holding more is refused in one line.
"""

from __future__ import annotations

import os
import tomllib
from typing import Any

# The most a config or rule file may hold: the built-in rule files hold 63 KB all together.
MAX_TOML_BYTES = 16 * 2**20


class TomlProblem(ValueError):
    """What is wrong with a TOML file, for the caller to prefix with the file's role."""


def load_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the tables of the TOML file at `path`, reading at most MAX_TOML_BYTES + 1 bytes.

    Raise OSError when the file cannot be opened or read, TomlProblem when it is too large or
    not TOML (the message as tomllib words it, with its line and column).
    """
    with open(path, "rb") as fh:
        data = fh.read(MAX_TOML_BYTES + 1)
    if len(data) > MAX_TOML_BYTES:
        raise TomlProblem(f"larger than {MAX_TOML_BYTES // 2**20} MiB, too large for a TOML file")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TomlProblem(f"not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise TomlProblem("not valid TOML: nested too deep") from None
