"""ftfy.fix_and_explain for the fix-encoding step, without the scans that provably find nothing.

A helper of cleanup/steps/encoding.py (apart only to keep that module short). ftfy repeats
each round of its fixers until one changes nothing, and repeats its mojibake step the same
way, so a repaired paragraph costs three full scans of ftfy's slow mojibake detector
(BADNESS_RE, about 5 MB/s) and two of its control-character table. The fix-encoding step's
fast-path regex (the `gate`) matches every text a fixer could change, so a text it does not
match ends either loop at once, with no scan by ftfy.
"""

from __future__ import annotations

import re

import ftfy
from ftfy.chardata import CONTROL_CHARS

# Characters one of which the fixers after fix_encoding need before they change a text:
# fix_c1_controls U+0080-U+009F; fix_line_breaks "\r", U+2028, U+2029, U+0085; fix_surrogates
# U+D800-U+DFFF; remove_terminal_escapes "\x1b" and remove_control_chars: CONTROL_CHARS.
SINGLE_TRIGGERS = (
    {ord("\r"), 0x2028, 0x2029}
    | set(range(0x80, 0xA0))
    | set(range(0xD800, 0xE000))
    | set(CONTROL_CHARS)
)
TRIGGER = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(SINGLE_TRIGGERS)) + "]")
# Those fixers in ftfy's order (the cosmetic ones between them are off in the step's config).
TRAILING = (
    "fix_c1_controls",
    "fix_line_breaks",
    "fix_surrogates",
    "remove_terminal_escapes",
    "remove_control_chars",
)
_COSMETIC = ("fix_latin_ligatures", "fix_character_width", "uncurl_quotes")
# The ftfy releases whose fix_and_explain and fix_encoding_and_explain are mirrored below
# (their control flow is the same from 6.2.0 to 6.3.1); any other release runs ftfy's own.
MIRRORED = ftfy.__version__.split(".")[:2] in (["6", "2"], ["6", "3"])

Explained = tuple[str, list[ftfy.ExplanationStep]]


def fix_and_explain(
    text: str, config: ftfy.TextFixerConfig, gate: re.Pattern[str] | None
) -> Explained:
    """Return ftfy.fix_and_explain(text, config): the fixed text and ftfy's explanation.

    Mirrors ftfy's two loops for the step's configs (cosmetic fixes and normalization off),
    asking `gate` before each pass instead of letting ftfy scan: a text the gate does not
    match comes out of every fixer unchanged. Without a gate, with another config or another
    ftfy release, ftfy itself runs.
    """
    cosmetic = config.normalization is not None or any(getattr(config, n) for n in _COSMETIC)
    if gate is None or not MIRRORED or cosmetic or not config.explain:
        fixed, explanation = ftfy.fix_and_explain(text, config)
        return fixed, explanation or []
    if config.unescape_html == "auto" and "<" in text:
        config = config._replace(unescape_html=False)
    steps: list[ftfy.ExplanationStep] = []
    while gate.search(text):  # otherwise this round changes nothing and ftfy's loop ends
        before = text
        if config.unescape_html and "&" in text:  # every HTML_ENTITY_RE match starts with &
            text = _apply("unescape_html", text, steps)
        if config.fix_encoding:
            text = _fix_encoding(text, config, gate, steps)
        if TRIGGER.search(text):
            for name in TRAILING:
                if getattr(config, name):
                    text = _apply(name, text, steps)
        if text == before:
            break
    return text, steps


def _fix_encoding(
    text: str,
    config: ftfy.TextFixerConfig,
    gate: re.Pattern[str],
    steps: list[ftfy.ExplanationStep],
) -> str:
    """Mirror ftfy.fix_encoding_and_explain: one mojibake step until one changes nothing.

    A step returns its text unchanged unless BADNESS_RE matches it, and the gate matches
    wherever BADNESS_RE does.
    """
    while gate.search(text):
        prev = text
        text, plan = ftfy._fix_encoding_one_step_and_explain(text, config)
        steps.extend(plan or ())
        if text == prev:
            break
    return text


def _apply(name: str, text: str, steps: list[ftfy.ExplanationStep]) -> str:
    """Run ftfy's fixer `name` on `text`, noting it in `steps` if it changed the text."""
    fixed: str = ftfy.FIXERS[name](text)
    if fixed != text:
        steps.append(ftfy.ExplanationStep("apply", name))
    return fixed
