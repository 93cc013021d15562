"""One error family: every user-facing error is a CleanupError with its exit status, also the
builtin a Python caller expects, and the CLI maps them to exit statuses in one place."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import cleanup
import cleanup.cli.progress
from cleanup import errors
from cleanup.cli import cli
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

ROOT = Path(__file__).parent.parent
RECORD = json.dumps({"id": "a", "text": "Hello world."}) + "\n"
FAMILY: list[tuple[type[CleanupError], int, type[Exception] | None]] = [
    (BadInput, 1, None),
    (StateError, 1, None),
    (UsageProblem, 2, None),
    (ConfigError, 2, ValueError),
    (OptionError, 2, ValueError),
    (UnknownOption, 2, TypeError),
    (UnknownStep, 2, KeyError),
]


@pytest.mark.parametrize(("cls", "status", "builtin"), FAMILY)
def test_each_error_has_its_exit_status_and_builtin(
    cls: type[CleanupError], status: int, builtin: type[Exception] | None
) -> None:
    exc = cls("something is wrong")
    assert isinstance(exc, CleanupError) and exc.exit_code == status
    assert isinstance(exc, UsageProblem) == (status == 2)
    if builtin is not None:
        assert isinstance(exc, builtin)
    assert str(exc) == "something is wrong"  # a KeyError's quotes are not added


def test_output_error_names_the_file() -> None:
    exc = OutputError("out.jsonl", OSError(28, "No space left on device"))
    assert str(exc) == "cannot write out.jsonl: No space left on device" and exc.exit_code == 1


def test_the_family_is_documented_and_exported() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in doc, f"{name} is not in the hierarchy of cleanup/errors.py"
        assert getattr(cleanup, name) is getattr(errors, name)


def test_the_library_raises_the_family_with_the_builtin_python_expects(tmp_path: Path) -> None:
    from cleanup import RunOptions, load_config

    with pytest.raises(OptionError, match="--workers must be x>=0, got -1"):
        RunOptions(workers=-1)
    with pytest.raises(ValueError, match="--engine must be one of local, ray, got 'warp'"):
        RunOptions(engine="warp")
    with pytest.raises(TypeError, match="unknown run option"):
        RunOptions.from_config(None, colour=True)
    with pytest.raises(KeyError, match="no step named 'tidy'"):
        load_config(None).calls(["normalize", "tidy"])
    bad = tmp_path / "c.toml"
    bad.write_text("[run]\nworkers = -3\n")
    with pytest.raises(ValueError, match=r"c.toml: \[run\] workers: must be x>=0, got -3"):
        load_config(bad)


@pytest.mark.parametrize(("cls", "status", "builtin"), FAMILY)
@pytest.mark.parametrize("command", [["run"], ["pipe", "normalize"]])
def test_the_cli_maps_each_error_to_one_line_and_its_status(
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    cls: type[CleanupError],
    status: int,
    builtin: type[Exception] | None,
) -> None:
    def failing(*_: object, **__: object) -> None:
        raise cls("the thing is wrong")

    monkeypatch.setattr(cleanup.cli.progress, "execute", failing)
    result = CliRunner().invoke(cli, command, input=RECORD)
    assert result.exit_code == status
    assert result.stderr == "Error: the thing is wrong\n"


def test_diff_trouble_is_status_2_whatever_the_error(tmp_path: Path) -> None:
    """diff(1)'s convention: 1 means "different", so a bad line (BadInput, 1) exits 2."""
    good, bad = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    good.write_text(RECORD)
    bad.write_text("{oops\n")
    result = CliRunner().invoke(cli, ["diff", str(good), str(bad)])
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    assert str(bad) in result.stderr and "Traceback" not in result.output


def test_an_unexpected_error_is_not_dressed_as_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug escapes the CLI's mapping to main()'s last resort (tests/test_signals.py)."""

    def broken(*_: object, **__: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(cleanup.cli.progress, "execute", broken)
    result = CliRunner().invoke(cli, ["run"], input=RECORD)
    assert isinstance(result.exception, ValueError) and result.exit_code == 1


def _handlers(path: Path) -> list[str]:
    """Return the exception names each `except` clause in `path` catches."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names.append(ast.unparse(node.type))
    return names


def test_errors_are_mapped_in_one_place_in_the_cli() -> None:
    cli_dir = ROOT / "cleanup" / "cli"
    catching = {p.name: _handlers(p) for p in sorted(cli_dir.glob("*.py")) if _handlers(p)}
    # app.py maps the family; __init__.py's main() is the last resort (signals, pipe, bugs).
    assert set(catching) == {"app.py", "__init__.py"}, catching
    assert catching["app.py"] == ["Exception"]
    assert "CleanupError" not in " ".join(catching["__init__.py"])


# Bare builtins still raised with a message; every other `raise ValueError/KeyError/TypeError`
# in cleanup/ must be one of the family. Internal checks (a caller's bug, not a user's) stay
# builtins; the entries marked "convert" belong to other modules' owners.
ALLOWED = {
    ("cleanup/report/html.py", "HtmlReport needs a path"): "internal",
    ("cleanup/report/html.py", "report asset"): "internal",
    ("cleanup/dedup/minhash.py", "num_perm must be positive"): "internal",
    ("cleanup/dedup/shingles.py", "shingle size must be"): "internal",
    ("cleanup/steps/encoding.py", "unsupported class item"): "internal",
    ("cleanup/io/publish.py", "not a cleanup publish journal"): "internal",
    ("cleanup/io/jsonline.py", "keys must be str"): "internal",  # json.dumps's own TypeError
}


def _bare_raises() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "cleanup").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            if ast.unparse(node.exc.func) in ("ValueError", "KeyError", "TypeError"):
                found.append((str(path.relative_to(ROOT)), ast.unparse(node.exc)))
    return found


def test_the_library_raises_no_new_bare_builtins() -> None:
    for path, call in _bare_raises():
        known = [k for k in ALLOWED if k[0] == path and k[1] in call]
        assert known, f"{path}: raise a cleanup.errors class instead of {call[:80]}"
