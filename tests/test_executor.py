"""The Executor boundary: steps get it explicitly, engines know nothing of dedup, workers need no
Context, and dedup's partitioned search on an executor equals the one-piece search."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

import pytest

from cleanup.document import Document
from cleanup.engines.processes import freeze, run_batch
from cleanup.executor import Deferred, LocalExecutor
from cleanup.pipeline import Context, Pipeline, step_spec
from cleanup.steps.dedup import dedup_stream

R = TypeVar("R")
ROOT = Path(__file__).resolve().parent.parent / "cleanup"


class Partitioned(LocalExecutor):
    """Run a keyed shuffle in `parts` partitions, here (what the Ray engine does on tasks)."""

    def __init__(self, parts: int) -> None:
        self.parts = parts
        self.calls = 0

    def partitions(self) -> int:
        return self.parts

    def map_partitions(self, fn: Callable[..., R], shared: Sequence[Any], parts: int) -> list[R]:
        self.calls += 1
        return super().map_partitions(fn, shared, parts)


def _corpus() -> list[Document]:
    docs = []
    for i in range(120):
        base = i % 40  # three near copies of 40 stories
        words = " ".join(f"s{base}w{k}" for k in range(40))
        tail = f" edit{i}" if i >= 40 else ""
        shared = "A long shared paragraph that several stories quote word for word today."
        docs.append(Document.from_text(f"d{i}", f"{words}{tail}\n\n{shared}\n\nEnd {i}."))
    return docs


def _run(executor: LocalExecutor) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    context = Context()
    options = {"cross_doc_paragraphs": "near", "boilerplate_min_docs": 0}
    out = Pipeline(steps=["dedup"], context=context, executor=executor, **options).run(_corpus())
    plain = [(d.id, d.paragraphs, d.dropped and d.dropped.detail, d.meta) for d in out]
    return plain, context.counters


@pytest.mark.parametrize("parts", range(2, 9))
def test_partitioned_search_on_an_executor_equals_the_local_one(parts: int) -> None:
    local, local_counts = _run(LocalExecutor())
    executor = Partitioned(parts)
    split, split_counts = _run(executor)
    assert split == local
    assert sum(1 for _, _, dropped, _ in local if dropped) >= 40
    assert executor.calls == 2  # documents, then paragraphs
    assert split_counts.pop("dedup lsh tasks") == 2 * parts
    assert split_counts == local_counts
    assert "dedup lsh tasks" not in local_counts


def test_dedup_stream_leaves_deferred_items_and_dedup_resolves_them() -> None:
    items = list(dedup_stream(_corpus(), context=Context()))
    assert items and all(isinstance(i, Deferred) for i in items)
    assert sum(len(i) for i in items) == 120
    docs = list(step_spec("dedup").bind(Context())(_corpus()))
    assert all(isinstance(d, Document) for d in docs) and len(docs) == 120


def test_workers_build_their_chain_without_a_context() -> None:
    calls = [("strip-artifacts", {}), ("normalize", {})]
    with mock.patch("cleanup.pipeline.new_run_id", side_effect=AssertionError("a blank Context")):
        (docs,) = [run_batch((None, None), freeze(calls), [Document.from_text("x", "Hi.")])]
    assert docs[0].paragraphs == ["Hi."]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_engines_import_nothing_from_dedup_and_store_does_not_import_its_backends() -> None:
    for path in sorted((ROOT / "engines").glob("*.py")):
        assert not {m for m in _imports(path) if m.startswith("cleanup.dedup")}, path.name
    assert not {m for m in _imports(ROOT / "dedup/store.py") if m.startswith("cleanup.dedup")}


def test_the_typed_modules_hold_no_type_ignore() -> None:
    paths = [ROOT / "runner.py", ROOT / "pipeline.py", ROOT / "executor.py"]
    paths += sorted((ROOT / "engines").rglob("*.py")) + sorted((ROOT / "dedup").rglob("*.py"))
    assert [p.name for p in paths if "type: ignore" in p.read_text()] == []


def test_context_still_accepts_its_retired_fields_with_a_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = Context(input_roots=["x"], workers=2)
    assert context.on_publish == [] and caught
    assert issubclass(caught[0].category, DeprecationWarning)
