"""The shipped analysis of the built-in rules (cleanup/rules/analysis.json) is what the rule
files give now, and rules loaded with it are the rules loaded without it."""

from __future__ import annotations

from pathlib import Path

import pytest

import cleanup.rules as rules
import cleanup.rules.analysis as analysis
from cleanup.rules import RuleError, builtin_rules, literal_openings, load_rules, max_match_chars
from cleanup.steps.artifacts import compile_rules
from cleanup.steps.artifacts.gates import RuleSet


def test_the_shipped_table_is_up_to_date() -> None:
    """Fails after a built-in rule's regex changed: run scripts/update_rule_analysis.py."""
    assert analysis.TABLE.read_text(encoding="utf-8") == analysis.generate()


def test_every_builtin_regex_is_in_the_table_as_walked() -> None:
    patterns = {rule.match for rule in builtin_rules()}
    assert patterns == set(analysis.builtin_patterns())
    for pattern in patterns:
        shipped = analysis.known(pattern)
        assert shipped == analysis.Analysis(max_match_chars(pattern), literal_openings(pattern))
        assert analysis.openings(pattern) == literal_openings(pattern)
        assert analysis.max_chars(pattern) == max_match_chars(pattern)


def _without_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis, "_table", dict)
    rules._builtin.cache_clear()


def test_rules_and_gates_with_the_table_are_those_without(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table only saves work: the loaded rules and every gate built from them are equal."""
    rules._builtin.cache_clear()
    shipped = tuple(builtin_rules())
    fast = RuleSet.build(shipped)
    _without_table(monkeypatch)
    try:
        walked = tuple(builtin_rules())
        slow = RuleSet.build(walked)
    finally:
        rules._builtin.cache_clear()
    assert shipped == walked
    assert fast == slow  # trie, words, tiers, always ... (dataclass equality)
    assert fast.document is not None and slow.document is not None
    assert fast.document.heads.pattern == slow.document.heads.pattern
    assert fast.document.limits == slow.document.limits


def test_a_regex_not_in_the_table_is_analysed_and_checked_at_load(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    pattern = r"(?:watch|see) my (?:cat|dog) videos?"
    assert analysis.known(pattern) is None
    path.write_text(
        f"[[rule]]\nid = 'x-cats'\ndescription = 'cats'\nmatch = '''{pattern}'''\n"
        "requires = ['cat']\n",
        encoding="utf-8",
    )
    (rule,) = (r for r in load_rules([path]) if r.id == "x-cats")
    assert rule.max_chars == max_match_chars(pattern) == 19
    rs = compile_rules((rule,))
    assert rs.trie and rs.folded_candidates("see my dog video") == (0,)
    assert rs.matching("See my dog video") == (rule,)
    path.write_text(
        "[[rule]]\nid = 'x-bad'\ndescription = 'bad'\nmatch = '(?:open'\n", encoding="utf-8"
    )
    with pytest.raises(RuleError, match="bad regex"):
        load_rules([path])


def test_rule_regexes_compile_when_first_tried() -> None:
    rs = RuleSet.build(tuple(builtin_rules()))
    assert all(p is None for p in rs.patterns)
    n = next(i for i, r in enumerate(rs.rules) if r.examples_match)
    text = rs.rules[n].examples_match[0]
    assert rs.rules[n] in rs.matching(text)
    assert rs.patterns[n] is not None and rs.patterns[n] is rs.rules[n].compiled()
