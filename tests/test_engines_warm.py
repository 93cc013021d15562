"""The process engine sets its steps up once, before forking, without changing what runs."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from helpers import on_two_workers

from cleanup.document import Document
from cleanup.engines.processes import _chain_for
from cleanup.pipeline import Context, StepCall, build_chain
from cleanup.rules import RuleError

CALLS: list[StepCall] = [("fix-encoding", {}), ("strip-artifacts", {}), ("normalize", {})]
forked = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="workers inherit memory only under fork"
)


def _docs(n: int) -> list[Document]:
    return [
        Document.from_text(f"d{i}", f"Story {i} said “hi”\u00a0 there.\n\nScroll down for video")
        for i in range(n)
    ]


def _engine_run(calls: list[StepCall], docs: list[Document]) -> list[Document]:
    return on_two_workers(calls, docs)


@forked
def test_the_segment_is_set_up_here_before_the_workers_fork() -> None:
    _chain_for.cache_clear()
    got = _engine_run(CALLS, _docs(700))
    assert _chain_for.cache_info().currsize == 1  # built here, so inherited by the workers
    expected = list(build_chain(CALLS, Context())(_docs(700)))
    assert [(d.id, d.paragraphs, d.edits) for d in got] == [
        (d.id, d.paragraphs, d.edits) for d in expected
    ]


def test_a_step_whose_set_up_fails_fails_as_in_one_process(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text("[[rule]]\nid = 3\n", encoding="utf-8")
    calls: list[StepCall] = [("strip-artifacts", {"rules_file": (str(bad),)})]
    with pytest.raises(RuleError) as one:
        list(build_chain(calls, Context())(_docs(500)))
    with pytest.raises(RuleError) as workers:
        _engine_run(calls, _docs(500))
    assert (type(workers.value), str(workers.value)) == (type(one.value), str(one.value))
