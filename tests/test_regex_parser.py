"""Python's private regex parser (re._parser): the shape relied on, and the slow-path fallback.

fix-encoding derives its fast path, and strip-artifacts its rule gates and width bounds, by
walking parsed regexes. The parser is private, so these tests fail loudly on a Python whose
parse output changed, and check that without the parser (missing, or its parse failing) the
steps take the slow path and write byte-identical output.
"""

from __future__ import annotations

import importlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ftfy.badness import BADNESS_RE
from golden_cases import cases
from script_loader import load_script

import cleanup.rules as rules
import cleanup.rules.analysis as analysis
import cleanup.steps.encoding as encoding
from cleanup.cli import cli
from cleanup.rules import MAX_CHARS_CAP, builtin_rules, literal_openings, max_match_chars
from cleanup.steps.artifacts import compile_rules

sre = importlib.import_module("re._constants")  # private modules without type stubs
sre_parse = importlib.import_module("re._parser")
ROOT = Path(__file__).resolve().parent.parent
FTFY_CASES = sorted((ROOT / "tests" / "data" / "ftfy").glob("*.json"))


# --- the shape relied on ------------------------------------------------------------------


def test_parse_output_has_the_shape_the_walks_rely_on() -> None:
    """Fail loudly when a Python changes what re._parser.parse returns."""
    parsed = sre_parse.parse(r"(ab|c)[d-f\s]\d+x?y*?")
    assert isinstance(parsed, sre_parse.SubPattern) and isinstance(parsed.data, list)
    items = list(parsed)
    assert [op for op, _ in items] == [
        sre.SUBPATTERN,
        sre.IN,
        sre.MAX_REPEAT,
        sre.MAX_REPEAT,
        sre.MIN_REPEAT,
    ]
    group, cls = items[0][1], items[1][1]
    assert len(group) == 4 and isinstance(group[-1], sre_parse.SubPattern)  # av[-1]: the body
    ((branch_op, (unused, branches)),) = list(group[-1])
    assert branch_op is sre.BRANCH and unused is None
    assert [list(b) for b in branches] == [
        [(sre.LITERAL, ord("a")), (sre.LITERAL, ord("b"))],
        [(sre.LITERAL, ord("c"))],
    ]
    assert cls == [(sre.RANGE, (ord("d"), ord("f"))), (sre.CATEGORY, sre.CATEGORY_SPACE)]
    low, high, sub = items[2][1]
    assert (low, high) == (1, sre.MAXREPEAT)
    assert list(sub) == [(sre.IN, [(sre.CATEGORY, sre.CATEGORY_DIGIT)])]
    assert items[3][1][:2] == (0, 1) and items[4][1][:2] == (0, sre.MAXREPEAT)
    assert sre_parse.parse("ab|cd").data[0][0] is sre.BRANCH  # a top-level alternation
    assert list(sre_parse.parse("[^ab]")) == [
        (sre.IN, [(sre.NEGATE, None), (sre.LITERAL, 97), (sre.LITERAL, 98)])
    ]
    assert [op for op, _ in sre_parse.parse("(?=a)(?!b)^c")] == [
        sre.ASSERT,
        sre.ASSERT_NOT,
        sre.AT,
        sre.LITERAL,
    ]
    assert sre_parse.parse("ab(?:c|de)?").getwidth() == (2, 4)


def test_fix_encoding_has_its_fast_path_here() -> None:
    """On this Python the fast path is derived from ftfy's detector, not a coarse stand-in."""
    assert encoding.NEEDS_FTFY is not None
    top = sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags).data
    assert len(top) == 1 and top[0][0] is sre.BRANCH and len(top[0][1][1]) > 10
    assert "(?<=&)(?=" in encoding.NEEDS_FTFY.pattern  # the derived form, not the fallback
    assert not encoding.may_need_fix("caf\u00e9 \u2014 na\u00efve")


def test_every_builtin_rule_is_gated_here() -> None:
    """Each built-in rule's regex walks to openings on this Python (none falls to the slow path)."""
    for rule in builtin_rules():
        assert literal_openings(rule.match) is not None, rule.id
    rs = compile_rules(tuple(builtin_rules()))
    assert len(rs.always) < len(rs.rules) // 4


# --- the fallback -------------------------------------------------------------------------


class _BrokenParser:
    """Stand in for a re._parser whose parse no longer works."""

    @staticmethod
    def parse(*args: Any, **kwargs: Any) -> Any:
        raise TypeError("parse() changed")


BREAKS = {"missing": None, "failing": _BrokenParser()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build input that exercises every step: fixtures, golden inputs, ftfy cases, rule
    examples and a generated corpus with mojibake, HTML and artifacts."""
    root = tmp_path_factory.mktemp("regex-parser")
    src = root / "in"
    shutil.copytree(ROOT / "fixtures", src)
    for case in cases():
        (src / f"golden-{case.path.stem}.txt").write_text(case.input, encoding="utf-8")
    originals = [c["original"] for p in FTFY_CASES for c in json.loads(p.read_text("utf-8"))]
    (src / "ftfy.txt").write_text("\n\n".join(originals), encoding="utf-8")
    examples = [e for r in builtin_rules() for e in (*r.examples_match, *r.examples_keep)]
    (src / "rule-examples.txt").write_text(
        "Opening paragraph of the story.\n\n" + "\n\n".join(examples), encoding="utf-8"
    )
    gen = load_script("gen_corpus")
    made = root / "gen"
    assert gen.main(["--docs", "300", "--seed", "5", "--out", str(made), "-q"]) == 0
    shutil.copy(made / "corpus.jsonl", src / "generated.jsonl")
    return src


def _run(src: Path, out: Path) -> dict[str, bytes]:
    """Run the default pipeline with an audit; return every output file's bytes."""
    audit = out.with_name(out.name + "-audit.jsonl")
    result = CliRunner().invoke(
        cli, ["run", str(src), "-o", f"{out}/", "--audit", str(audit), "-q"]
    )
    assert result.exit_code == 0, result.output
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    return {**files, "audit.jsonl": audit.read_bytes()}


@pytest.fixture
def fresh_rule_caches() -> Iterator[None]:
    """Clear the caches of loaded and compiled rules before and after a test that patches."""
    rules._builtin.cache_clear()
    compile_rules.cache_clear()
    yield
    rules._builtin.cache_clear()
    compile_rules.cache_clear()


@pytest.mark.parametrize("how", sorted(BREAKS))
def test_fix_encoding_without_the_parser_is_identical(
    how: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _run(corpus, tmp_path / "normal")
    monkeypatch.setattr(encoding, "sre_parse", BREAKS[how])
    monkeypatch.setattr(encoding, "NEEDS_FTFY", encoding._fast_path())
    assert encoding.NEEDS_FTFY is None  # the slow path: every paragraph goes to ftfy
    assert encoding.may_need_fix("plain text")
    assert _run(corpus, tmp_path / "slow") == expected
    assert b'"step": "fix-encoding"' in expected["audit.jsonl"]


@pytest.mark.parametrize("how", sorted(BREAKS))
def test_strip_artifacts_without_the_parser_is_identical(
    how: str,
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fresh_rule_caches: None,
) -> None:
    expected = _run(corpus, tmp_path / "normal")
    monkeypatch.setattr(rules, "_sre_parse", BREAKS[how])
    monkeypatch.setattr(analysis, "_table", dict)  # nor the shipped analysis of built-in rules
    rules._builtin.cache_clear()
    compile_rules.cache_clear()
    assert literal_openings("story highlights") is None
    assert max_match_chars("ab") == MAX_CHARS_CAP
    rs = compile_rules(tuple(builtin_rules()))
    assert rs.always == rs.everything and not rs.trie  # no gate: every rule tried everywhere
    assert _run(corpus, tmp_path / "slow") == expected
    assert b'"step": "strip-artifacts"' in expected["audit.jsonl"]
