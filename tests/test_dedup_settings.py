"""Dedup settings: one home for every default and range; the options are derived from it."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cleanup.cli import cli
from cleanup.dedup.settings import DedupSettings, UnknownOption, options_of
from cleanup.document import Document
from cleanup.errors import UsageProblem
from cleanup.pipeline import Context, Pipeline
from cleanup.ranges import OptionError
from cleanup.steps.dedup import SPEC, dedup


def _leaves(settings: object) -> dict[str, object]:
    """Return every option's value in a settings object, by keyword."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, f.name)
        if "option" in f.metadata:
            out[f.metadata["option"]["name"].replace("-", "_")] = value
        else:
            out.update(_leaves(value))
    return out


def test_flag_keyword_and_dataclass_defaults_are_one_value() -> None:
    assert SPEC.options == options_of(DedupSettings)
    assert SPEC.defaults() == _leaves(DedupSettings())
    assert DedupSettings.from_options(**SPEC.defaults()) == DedupSettings()
    # The step function declares no default of its own: a keyword it is not given defaults
    # in the settings, not in its signature.
    params = inspect.signature(dedup).parameters
    assert not set(params) & set(SPEC.defaults())


def test_every_numeric_option_declares_its_range() -> None:
    for option in SPEC.options:
        if option.type in (int, float):
            assert option.range is not None, option.name


def test_keywords_are_checked_when_dedup_is_called_directly() -> None:
    docs = [Document.from_text("a", "One paragraph.")]
    with pytest.raises(OptionError, match="--doc-threshold"):
        list(dedup(docs, context=Context(), doc_threshold=1.5))
    with pytest.raises(UnknownOption, match="no_such") as info:
        list(dedup(docs, context=Context(), no_such=1))
    assert isinstance(info.value, TypeError) and isinstance(info.value, UsageProblem)


def _article(i: int) -> str:
    words = [f"w{i}x{k}" for k in range(60)]  # words no other article has
    own = [" ".join(words[k : k + 15]) + "." for k in range(0, 60, 15)]
    shared = (
        "The shared statement from the agency said that the river would rise by noon "
        f"tomorrow across the whole valley{' today' if i else ''}."
    )
    return "\n\n".join([own[0], shared, *own[1:]])


def test_cross_doc_threshold_is_its_own_setting_apart_from_paragraph_threshold() -> None:
    """The near copy of the shared paragraph goes at the default --cross-doc-threshold even
    when --paragraph-threshold is strict (it used to be reused for the cross-document LSH)."""

    def removed(**options: object) -> list[str]:
        docs = [Document.from_text(f"d{i}", _article(i)) for i in range(2)]
        out = Pipeline(steps=["dedup"], cross_doc_paragraphs="near", **options).run(docs)
        return [e.rule for d in out for e in d.edits]

    assert removed() == ["cross-document-paragraph"]
    assert removed(paragraph_threshold=0.99) == ["cross-document-paragraph"]
    assert removed(cross_doc_threshold=0.99) == []


def test_cross_doc_threshold_is_a_flag_with_its_range(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"d{i}", "text": _article(i)}) + "\n" for i in range(2))
    )
    runner = CliRunner()
    base = ["run", str(src), "-o", "-", "-q", "--cross-doc-paragraphs", "near"]
    ok = runner.invoke(cli, [*base, "--cross-doc-threshold", "0.6"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.count("agency") == 1  # the later near copy of the paragraph went
    strict = runner.invoke(cli, [*base, "--cross-doc-threshold", "0.99"])
    assert strict.output.count("agency") == 2
    bad = runner.invoke(cli, [*base, "--cross-doc-threshold", "0"])
    assert bad.exit_code == 2 and "--cross-doc-threshold" in bad.output
