"""The walk that finds rules' fixed openings (the strip-artifacts gates' input) gives exactly
what the earlier walk gave (tests/openings_reference.py), on every built-in rule and on
generated regexes of the constructs rules use."""

from __future__ import annotations

import re

import openings_reference as reference
from hypothesis import given, settings
from hypothesis import strategies as st

from cleanup.rules import builtin_rules, literal_openings

ATOMS = st.sampled_from(
    [
        "share",
        "a",
        "e-mail",
        "don't",
        " ",
        "-",
        "'",
        "(?:the )?",
        r"\d+ ",
        r"\d",
        "[ab]",
        "[a-z]",
        "[(\\[]",
        ".",
        "[^.]{1,9}",
        r"\s*",
        "|",
        "©",
        "für",
        "x" * 17,
        "(?=a)",
        "^",
    ]
)


@st.composite
def regexes(draw: st.DrawFn, depth: int = 0) -> str:
    """Draw a regex made of literals, classes, groups, branches and repeats."""
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        if depth < 3 and draw(st.booleans()):
            inner = draw(regexes(depth + 1))
            suffix = draw(st.sampled_from(["", "?", "*", "+", "{0,10}", "{2}", "+?"]))
            parts.append(f"(?:{inner}){suffix}")
        else:
            parts.append(draw(ATOMS))
    return "".join(parts)


def test_every_builtin_rule_has_the_openings_it_had() -> None:
    for rule in builtin_rules():
        assert literal_openings(rule.match) == reference.literal_openings(rule.match), rule.id


@settings(max_examples=400, deadline=None)
@given(regexes())
def test_generated_regexes_have_the_openings_they_had(pattern: str) -> None:
    re.compile(pattern)
    assert literal_openings(pattern) == reference.literal_openings(pattern), pattern


def test_a_walk_over_the_cap_gives_up_as_before() -> None:
    many = "(?:" + "|".join(f"{a}{b}" for a in "abcdefghij" for b in "abcdefghij") + ")"
    pattern = many + " " + many + " " + many
    assert literal_openings(pattern) == reference.literal_openings(pattern)
