"""Tests that pyproject.toml's dependencies are exactly what the code imports.

- every runtime dependency is imported by cleanup/ (or, named in INDIRECT, is needed by one
  that is, and the test proves it);
- every third-party import in cleanup/ is a runtime dependency, or belongs to a user-facing
  optional extra (redis, ray, parquet) and is imported lazily, inside a function;
- every third-party import in tests/ and scripts/ is installed by the dev or bench extra.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_EXTRAS = ("dev", "bench")
# Runtime dependencies no module of cleanup/ imports itself: distribution -> the imported
# module that needs it. lxml_html_clean: trafilatura imports justext, which imports
# lxml.html.clean, which lxml >= 5.2 only provides through lxml_html_clean; justext asks for
# it as lxml's `html_clean` extra, which pip does not always resolve.
INDIRECT = {"lxml-html-clean": ("trafilatura", "lxml_html_clean")}


def _name(requirement: str) -> str:
    """Return a requirement's distribution name, normalized (PEP 503)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert name, requirement
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]


def _runtime() -> set[str]:
    return {_name(r) for r in _project()["dependencies"]}


def _extras() -> dict[str, set[str]]:
    return {k: {_name(r) for r in v} for k, v in _project()["optional-dependencies"].items()}


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """Yield (top-level module, lazy) for each absolute import; lazy = inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def visit(node: ast.AST, lazy: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name.split(".")[0], lazy
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], lazy
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from visit(child, inner)

    yield from visit(tree, False)


def _third_party(folder: str, strict: bool = True) -> dict[str, dict[str, bool]]:
    """Map each distribution imported under `folder` to {file: imported only lazily}.

    A module that is not installed fails when `strict`; otherwise (the bench extra is not
    installed with dev) it stands for the distribution of the same name.
    """
    dists = packages_distributions()
    base = ROOT / folder
    local = {p.stem for d in ("cleanup", "tests", "scripts") for p in (ROOT / d).rglob("*.py")}
    local.add("cleanup")
    found: dict[str, dict[str, bool]] = {}
    for path in sorted(base.rglob("*.py")):
        for module, lazy in _imports(path):
            if module in sys.stdlib_module_names or module in local:
                continue
            if strict:
                assert module in dists, f"{path.relative_to(ROOT)} imports {module}: not installed"
            for dist in dists.get(module, [module]):
                files = found.setdefault(_name(dist), {})
                where = str(path.relative_to(ROOT))
                files[where] = files.get(where, True) and lazy
    return found


def test_every_runtime_dependency_is_imported() -> None:
    imported = set(_third_party("cleanup"))
    unused = _runtime() - imported - set(INDIRECT)
    assert not unused, f"runtime dependencies nothing in cleanup/ imports: {sorted(unused)}"


def test_indirect_runtime_dependencies_are_really_needed() -> None:
    imported = set(_third_party("cleanup"))
    for dist, (user, module) in INDIRECT.items():
        assert dist in _runtime(), f"{dist} is no runtime dependency: drop it from INDIRECT"
        assert _name(user) in imported, f"{dist} is for {user}, which cleanup/ does not import"
        code = f"import sys, {user}; print({module!r} in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "True", f"importing {user} does not load {module}"


def test_every_import_of_cleanup_is_a_runtime_dependency_or_a_lazy_extra() -> None:
    runtime = _runtime()
    extras = _extras()
    user_extras = set().union(*(v for k, v in extras.items() if k not in DEV_EXTRAS))
    problems = []
    for dist, files in _third_party("cleanup").items():
        if dist in runtime:
            continue
        if dist not in user_extras:
            problems.append(f"{dist} (in {sorted(files)}) is in no runtime or user extra")
        eager = sorted(f for f, lazy in files.items() if not lazy)
        if eager:
            problems.append(f"{dist} is an optional extra imported at module level in {eager}")
    assert not problems


def test_tests_and_scripts_import_only_what_the_dev_and_bench_extras_install() -> None:
    extras = _extras()
    allowed = _runtime().union(*(extras[k] for k in DEV_EXTRAS))
    missing = {
        dist: sorted(files)
        for folder in ("tests", "scripts")
        for dist, files in _third_party(folder, strict=False).items()
        if dist not in allowed
    }
    assert not missing, f"imported by tests/scripts, in no dev/bench extra: {missing}"


def test_the_html_parser_is_lxml_not_beautifulsoup() -> None:
    assert "beautifulsoup4" not in _runtime()
    assert "lxml" in _runtime()


def test_every_user_extra_is_installed_by_the_dev_extra() -> None:
    """Check that CI, which installs the dev extra, runs the tests of every optional extra."""
    extras = _extras()
    assert {"redis", "ray", "parquet", "remote"} <= set(extras)
    for name, dists in extras.items():
        if name not in DEV_EXTRAS:
            assert dists <= extras["dev"], f"extra {name!r}: {dists - extras['dev']} not in dev"
