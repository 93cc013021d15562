"""Run rules' examples: each `examples_match` entry must be taken, each `examples_keep` kept.

One implementation for the built-in rules (tests/test_rules.py) and a user's rules file
(`cleanup rules test`). It lives with the step, not in cleanup.rules, because an example is
checked the way the step sees a paragraph: folded (`fold`, from normalize) and through the
gates (`compile_rules`), both of which sit above cleanup.rules (docs/architecture.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cleanup.rules import Rule
from cleanup.steps.artifacts.gates import RuleSet, compile_rules
from cleanup.steps.normalize import fold

MATCH = "match"
KEEP = "keep"


@dataclass(frozen=True)
class ExampleFailure:
    """Name one example that does not do what its rule file says, and why."""

    rule: str
    kind: str  # MATCH (an examples_match entry) or KEEP (an examples_keep entry)
    example: str
    problem: str

    def line(self) -> str:
        """Return the one line `cleanup rules test` prints for this failure."""
        return f"{self.rule}: {self.kind} example {self.example!r} {self.problem}"


def match_problem(rule: Rule, text: str, in_effect: RuleSet) -> str | None:
    """Return why `rule` does not take its match example `text`, or None when it does.

    The regex, max_chars and max_words are checked one by one so the message says which
    one refuses; then the gates, since a rule the gates never try never removes anything.
    """
    folded = fold(text)
    found = rule.compiled().fullmatch(folded)
    if found is None:
        return f"is not matched: the regex does not match its folded form {folded!r}"
    if len(folded) > rule.max_chars:
        return f"is not matched: {len(folded)} characters, over max_chars {rule.max_chars}"
    if not rule.short_enough(found):
        return f"is not matched: a free-text part holds more than max_words {rule.max_words}"
    if rule not in in_effect.matching(text):
        return "is not matched: the step's gates skip it (add a 'requires' word it contains)"
    return None


def keep_problem(rule: Rule, text: str, in_effect: RuleSet) -> str | None:
    """Return which rules take keep example `text` of `rule`, or None when every rule keeps it.

    Every rule in effect is asked, not only the example's own: a body sentence that another
    rule removes is lost all the same.
    """
    folded = fold(text)
    takers = {r.id: None for r in in_effect.rules if r.matches(folded)}
    takers.update((r.id, None) for r in in_effect.matching(text))
    if not takers:
        return None
    own = " (its own rule)" if rule.id in takers else ""
    return f"is removed by {', '.join(takers)}{own}"


def check_examples(
    rules: Iterable[Rule], in_effect: Sequence[Rule] | None = None
) -> list[ExampleFailure]:
    """Return the failing examples of `rules`, checked against the rules `in_effect`.

    `in_effect` is every rule a run would use (the built-ins plus the rules files, as
    --rules-file loads them); by default `rules` alone.
    """
    rules = tuple(rules)
    rs = compile_rules(tuple(in_effect) if in_effect is not None else rules)
    failures = []
    for rule in rules:
        for text in rule.examples_match:
            problem = match_problem(rule, text, rs)
            if problem:
                failures.append(ExampleFailure(rule.id, MATCH, text, problem))
        for text in rule.examples_keep:
            problem = keep_problem(rule, text, rs)
            if problem:
                failures.append(ExampleFailure(rule.id, KEEP, text, problem))
    return failures


def count_examples(rules: Iterable[Rule]) -> int:
    """Return how many examples (match and keep) `rules` hold."""
    return sum(len(r.examples_match) + len(r.examples_keep) for r in rules)
