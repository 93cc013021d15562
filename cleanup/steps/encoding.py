"""Repair text encoding with ftfy: mojibake, HTML entities left in text, C1 and other controls.

ftfy runs at a few MB/s on news text because its mojibake detector (a long regex of
character pairs) visits every character. Most paragraphs cannot need a fix, so a fast path
first asks one compiled regex, derived from ftfy's own detector, whether the paragraph holds
anything ftfy could change; only paragraphs that do go to ftfy. The derivation is exact in
one direction: every text ftfy would change matches the fast-path regex (see
`_needs_ftfy_pattern`), so the output is identical with and without the fast path.

Cosmetic fixes are off (curly quotes, Latin ligatures, character width, Unicode
normalization): typography and Unicode form belong to the normalize step, where
`--keep-typography` and `--nfkc` decide them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import filterfalse
from typing import Any

import ftfy
from ftfy.badness import BADNESS_RE
from ftfy.chardata import HTML_ENTITY_RE

from cleanup.document import Document, Edit
from cleanup.pipeline import Option, StepSpec, each_live
from cleanup.steps.ftfy_round import SINGLE_TRIGGERS as _SINGLE_TRIGGERS
from cleanup.steps.ftfy_round import fix_and_explain

# Python's regex parser is private (re._parser, formerly sre_parse); the fast path is derived
# with it. When it is missing or its parse fails, there is no fast path: every paragraph goes
# to ftfy, with the same result (see _fast_path). tests/test_encoding.py checks the parse
# output shape relied on here.
try:
    from re import _constants as sre  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a Python that moved them: the slow path
    sre = sre_parse = None

STEP = "fix-encoding"

# --- the fast path -------------------------------------------------------------------------
#
# ftfy.fix_and_explain (with this module's config) changes a text only through these fixers:
#   unescape_html           needs a match of ftfy's HTML_ENTITY_RE ("&#?[0-9A-Za-z]{1,24};")
#   fix_encoding            returns the text unchanged unless ftfy.badness.is_bad(text), i.e.
#                           unless BADNESS_RE matches (or the text is ASCII: unchanged too)
#   fix_c1_controls         needs U+0080-U+009F
#   fix_line_breaks         needs "\r", U+2028, U+2029 or U+0085
#   fix_surrogates          needs U+D800-U+DFFF
#   remove_terminal_escapes needs "\x1b" (one of CONTROL_CHARS)
#   remove_control_chars    needs one of ftfy.chardata.CONTROL_CHARS
# and returns as soon as one round changes nothing. So a text with none of the single
# characters above and no BADNESS_RE match comes back unchanged.
#
# BADNESS_RE itself is what makes ftfy slow (about 5 MB/s: ~37 alternatives tried at every
# character). Every alternative is a short sequence of character classes; a match of the
# alternative contains a match of any two adjacent classes of it. For each alternative we keep
# one adjacent pair, anchored on the pair's rarer class (one made only of non-ASCII characters).
# The fast-path regex starts with one character class, the union of all anchors, so the regex
# engine skips everything else at C speed and tries the pair checks only at anchor characters.

# Characters frequent in correct text: anchoring on them would make the fast path try its
# pair checks at nearly every character of French, Russian or Greek text.
_FREQUENT_LETTER_BLOCKS = ((0x00C0, 0x024F), (0x0370, 0x03FF), (0x0410, 0x044F))
_VERY_FREQUENT = set("\u00a0\u2019")
_FREQUENT_PUNCTUATION = set("\u2018\u201c\u201d\u2013\u2014\u2026\u00ab\u00bb\u2022©®°")


def _class_text(items: list[tuple[Any, Any]]) -> str:
    """Rebuild the text of a regex character class from its parsed items."""
    parts: list[str] = []
    for op, av in items:
        if op is sre.NEGATE:
            parts.insert(0, "^")
        elif op is sre.LITERAL:
            parts.append(re.escape(chr(av)))
        elif op is sre.RANGE:
            parts.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is sre.CATEGORY and av is sre.CATEGORY_SPACE:
            parts.append(r"\s")
        elif op is sre.CATEGORY and av is sre.CATEGORY_WORD:
            parts.append(r"\w")
        else:
            raise ValueError(f"unsupported class item {op} {av}")
    return "[" + "".join(parts) + "]"


def _element(op: Any, av: Any) -> tuple[str | None, frozenset[int] | None]:
    """Return (regex text, code points if a plain positive class) of one parsed element.

    Elements that are not a single character (anchors, optional parts) give (None, None):
    they can take part in no pair.
    """
    if op is sre.LITERAL:
        return re.escape(chr(av)), frozenset([av])
    if op is not sre.IN:
        return None, None
    try:
        text = _class_text(av)
    except ValueError:
        return None, None
    points: set[int] = set()
    for item_op, item_av in av:
        if item_op is sre.LITERAL:
            points.add(item_av)
        elif item_op is sre.RANGE:
            points.update(range(item_av[0], item_av[1] + 1))
        else:  # negated or category: not a finite set we can anchor on
            return text, None
    return text, frozenset(points)


def _anchor_cost(points: frozenset[int]) -> int:
    """Estimate how often a class's characters occur in correct text, to pick rare anchors."""
    cost = 0
    for p in points:
        c = chr(p)
        if any(lo <= p <= hi for lo, hi in _FREQUENT_LETTER_BLOCKS) and c.isalpha():
            cost += 10 if c.islower() else 5
        elif c in _VERY_FREQUENT:
            cost += 10
        elif c in _FREQUENT_PUNCTUATION:
            cost += 3
        elif c.isalpha():
            cost += 2
        else:
            cost += 1
    return cost


def _partner_factor(points: frozenset[int] | None) -> int:
    """Weigh how often a partner class matches: ASCII, negated and category classes often do."""
    if points is None or min(points) < 0x80:
        return 100
    return 1


def _branch_check(branch: list[tuple[Any, Any]]) -> tuple[frozenset[int], str] | None:
    """Pick the cheapest (anchor set, zero-width check) implied by one alternative of BADNESS_RE.

    The check runs right after the anchor character was consumed: a lookahead for a partner
    after it, or a lookbehind over partner and anchor. None means no usable anchor.
    """
    elements = [_element(op, av) for op, av in branch]
    best: tuple[int, frozenset[int], str] | None = None

    def consider(cost: int, anchor: frozenset[int], check: str) -> None:
        nonlocal best
        if best is None or cost < best[0]:
            best = (cost, anchor, check)

    def anchorable(points: frozenset[int] | None) -> bool:
        return points is not None and min(points) >= 0x80

    for i, (text, points) in enumerate(elements):
        if text is None or not anchorable(points):
            continue
        assert points is not None
        own = f"(?<={text})"
        cost = _anchor_cost(points)
        if i + 1 < len(elements) and elements[i + 1][0] is not None:
            after = elements[i + 1]
            consider(cost * _partner_factor(after[1]), points, f"{own}(?={after[0]})")
        if i > 0 and elements[i - 1][0] is not None:
            before = elements[i - 1]
            consider(cost * _partner_factor(before[1]), points, f"(?<={before[0]}{text})")
        # The anchor alone is a (coarser) superset too: only used when no pair exists.
        consider(cost * 10_000, points, own)
    if best is None:
        return None
    return best[1], best[2]


def _needs_ftfy_pattern() -> str:
    """Build the fast-path regex: it matches every text ftfy's fixers could change.

    Derived from ftfy's own BADNESS_RE and CONTROL_CHARS at import, so it follows the
    installed ftfy. If an alternative cannot be reduced to an anchored pair, the fast path
    falls back to sending every non-ASCII text to ftfy (still exact, only slower).
    """
    fallback = _set_text(_SINGLE_TRIGGERS) + r"|&|[^\x00-\x7f]"
    if BADNESS_RE.flags & (re.IGNORECASE | re.DOTALL | re.MULTILINE) or not (
        HTML_ENTITY_RE.pattern.startswith("&") and not HTML_ENTITY_RE.flags & re.IGNORECASE
    ):
        return fallback  # a future ftfy we cannot reason about: stay exact, only slower
    if sre_parse is None:
        raise RuntimeError("re._parser is not available")
    parsed = sre_parse.parse(BADNESS_RE.pattern, BADNESS_RE.flags)
    op, av = parsed.data[0]
    branches = av[1] if op is sre.BRANCH and len(parsed.data) == 1 else [parsed.data]
    anchors: set[int] = {*_SINGLE_TRIGGERS, ord("&")}
    checks: list[str] = [
        "(?<=" + _set_text(_SINGLE_TRIGGERS) + ")",
        "(?<=&)(?=" + HTML_ENTITY_RE.pattern.removeprefix("&") + ")",
    ]
    for branch in branches:
        found = _branch_check(list(branch))
        if found is None:
            return fallback
        anchors |= found[0]
        checks.append(found[1])
    return _set_text(anchors) + "(?:" + "|".join(dict.fromkeys(checks)) + ")"


def _set_text(points: Iterable[int]) -> str:
    """Write a set of code points as a compact regex character class."""
    ordered = sorted(points)
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        lo, hi = re.escape(chr(ordered[i])), re.escape(chr(ordered[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _fast_path() -> re.Pattern[str] | None:
    """Compile the fast-path regex, or return None (no fast path) if it cannot be derived.

    Why: the derivation walks ftfy's detector with Python's private regex parser; a Python
    whose parser is missing or behaves otherwise must cost speed, never correctness.
    """
    try:
        return re.compile(_needs_ftfy_pattern())
    except Exception:  # private API: on any change, send every paragraph to ftfy
        return None


NEEDS_FTFY = _fast_path()
# Every ASCII character the fast-path regex can start a match at (the derived one and the
# fallback alike: the detector's anchors are all non-ASCII, see `anchorable`).
_ASCII_ANCHORS = frozenset(chr(c) for c in (*_SINGLE_TRIGGERS, ord("&")) if c < 0x80)
# An ASCII text without "&" whose characters are all printable holds none of them when every
# other ASCII anchor is unprintable (a control character): true of today's ftfy, checked here.
_ASCII_CLEAR = all(c == "&" or not c.isprintable() for c in _ASCII_ANCHORS)
_DERIVED = NEEDS_FTFY  # the regex those anchors describe (tests may swap NEEDS_FTFY)
# The other ASCII characters, as bytes: what bytes.translate deletes to find an anchor.
_ASCII_INERT = bytes(c for c in range(0x80) if chr(c) not in _ASCII_ANCHORS)


def may_need_fix(text: str) -> bool:
    """Tell whether ftfy could change `text`; False is a guarantee that it would not."""
    return NEEDS_FTFY is None or NEEDS_FTFY.search(text) is not None


# --- fixing --------------------------------------------------------------------------------


def ftfy_config(
    *,
    unescape_html: bool = True,
    fix_mojibake: bool = True,
    restore_byte_a0: bool = True,
    fix_c1_controls: bool = True,
) -> ftfy.TextFixerConfig:
    """Return the ftfy config of this step: encoding repairs on, cosmetic fixes off.

    `explain=True` also makes ftfy honour restore_byte_a0 and the other sub-options, which
    its explain=False path ignores.
    """
    return ftfy.TextFixerConfig(
        unescape_html="auto" if unescape_html else False,
        fix_encoding=fix_mojibake,
        restore_byte_a0=restore_byte_a0,
        fix_c1_controls=fix_c1_controls,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        normalization=None,
        explain=True,
    )


def fix_text(
    text: str, config: ftfy.TextFixerConfig, *, fast_path: bool = True
) -> tuple[str, list[tuple[str, str]]]:
    """Fix `text` exactly as ftfy.fix_text(text, config) does, and return ftfy's explanation too.

    Mirrors ftfy.fix_text: one segment per line (line break included), "auto" HTML unescaping
    switched off from the first segment holding "<" on. With `fast_path`, a text that cannot
    need a fix is returned without calling ftfy, and ftfy's rounds skip what the fast path
    rules out (see ftfy_round).
    """
    gate = NEEDS_FTFY if fast_path else None
    if gate is not None and not gate.search(text):
        return text, []
    out: list[str] = []
    plan: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos) + 1 or len(text)
        end = min(end, pos + config.max_decode_length)
        segment = text[pos:end]
        if config.unescape_html == "auto" and "<" in segment:
            config = config._replace(unescape_html=False)
        if gate is None or gate.search(segment):
            fixed, steps = fix_and_explain(segment, config, gate)
            segment = fixed
            plan.extend((s.action, s.parameter) for s in steps or ())
        out.append(segment)
        pos = end
    return "".join(out), plan


_MAX_ROUNDS = 4


def repair(
    text: str, config: ftfy.TextFixerConfig, *, fast_path: bool = True
) -> tuple[str, list[tuple[str, str]]]:
    """Apply `fix_text` until the text stops changing, so the step is idempotent.

    One ftfy pass is not always a fixed point: a carriage return it turns into "\n" splits
    a line into two segments, and a segment alone can look like mojibake where the whole line
    did not. Fixed text passes the fast path at once, so the extra round costs little.
    """
    plan: list[tuple[str, str]] = []
    for _ in range(_MAX_ROUNDS):
        fixed, steps = fix_text(text, config, fast_path=fast_path)
        if fixed == text:
            break
        text = fixed
        plan.extend(steps)
    return text, plan


_WHY = {
    "fix_encoding": "mojibake repaired",
    "unescape_html": "HTML entities decoded",
    "restore_byte_a0": "no-break space restored inside mojibake",
    "replace_lossy_sequences": "lost mojibake bytes marked with U+FFFD",
    "decode_inconsistent_utf8": "mojibake repaired in part of the text",
    "fix_c1_controls": "C1 control characters read as Windows-1252",
    "fix_line_breaks": "line breaks made \\n",
    "fix_surrogates": "UTF-16 surrogates joined",
    "remove_terminal_escapes": "terminal escape codes removed",
    "remove_control_chars": "control characters removed",
}


def describe(plan: list[tuple[str, str]]) -> tuple[str, str]:
    """Turn ftfy's explanation into a rule id ("ftfy:fix_encoding+unescape_html") and a why."""
    names: list[str] = []
    codecs: list[str] = []
    for action, parameter in plan:
        if action in ("encode", "decode"):
            names.append("fix_encoding")
            codecs.append(f"{action} {parameter}")
        elif action in ("apply", "transcode"):
            names.append(parameter)
        else:
            names.append(f"{action}_{parameter}")
    unique = list(dict.fromkeys(names)) or ["fix_text"]
    why = "; ".join(_WHY.get(n, n.replace("_", " ")) for n in unique)
    if codecs:
        why += f" ({', '.join(dict.fromkeys(codecs))})"
    return "ftfy:" + "+".join(unique), why


def _hits(paragraphs: list[str], gate: re.Pattern[str]) -> list[int]:
    """Return the positions of the paragraphs the fast-path regex matches (the others ftfy
    would leave as they are), in order.

    Why a document first: most documents need nothing, and C-level joins and filters ask
    that of all its paragraphs at once. Every match starts at one of the regex's anchors, and
    a match in a paragraph is one in the concatenation of the paragraphs (the regex has no
    anchor, word boundary or negative lookaround), so the concatenated ASCII paragraphs
    without an ASCII anchor (one bytes.translate) or a match clear them all, and the same
    for the others with one search.
    """
    search = gate.search
    if gate is not _DERIVED:  # a regex of a test: no shortcut
        return [i for i, p in enumerate(paragraphs) if search(p)]
    plain = "".join(filter(str.isascii, paragraphs))
    if plain.encode("ascii").translate(None, _ASCII_INERT) and search(plain):
        if not _ASCII_CLEAR:
            return [i for i, p in enumerate(paragraphs) if search(p)]
        return [
            i
            for i, p in enumerate(paragraphs)
            if not (p.isascii() and "&" not in p and p.isprintable()) and search(p)
        ]
    rest = "".join(filterfalse(str.isascii, paragraphs))  # no ASCII paragraph matches
    if not rest or search(rest) is None:
        return []
    return [i for i, p in enumerate(paragraphs) if not p.isascii() and search(p)]


def fix_encoding(
    docs: Iterable[Document],
    *,
    unescape_html: bool = True,
    fix_mojibake: bool = True,
    restore_byte_a0: bool = True,
    fix_c1_controls: bool = True,
    ftfy_fast_path: bool = True,
) -> Iterator[Document]:
    """Repair the encoding of every paragraph with ftfy, recording one edit per fixed paragraph.

    The rule id names the ftfy fixes applied; a paragraph left empty (it held only control
    characters) is removed.
    """
    config = ftfy_config(
        unescape_html=unescape_html,
        fix_mojibake=fix_mojibake,
        restore_byte_a0=restore_byte_a0,
        fix_c1_controls=fix_c1_controls,
    )

    gate = NEEDS_FTFY if ftfy_fast_path else None

    def repair_document(doc: Document) -> None:
        if gate is None:
            hits: Iterable[int] = range(len(doc.paragraphs))
        else:
            hits = _hits(doc.paragraphs, gate)
            if not hits:
                return
        rewrites: list[Edit] = []
        empty: list[Edit] = []
        for i in hits:
            p = doc.paragraphs[i]
            new, plan = repair(p, config, fast_path=gate is not None)
            if new == p:
                continue
            rule, why = describe(plan)
            if new.strip():
                rewrites.append(Edit.rewrite(STEP, rule, i, p, new, why))
            else:
                empty.append(Edit.removal(STEP, rule, i, p, why))
        if rewrites or empty:
            doc.apply(rewrites + empty[::-1])  # the trail lists rewrites, then removals last first

    return each_live(docs, repair_document)


SPEC = StepSpec(
    name=STEP,
    func=fix_encoding,
    help=(
        "Repair encoding with ftfy: mojibake, HTML entities left in text, C1 and other control "
        "characters. Cosmetic fixes (quotes, ligatures, width, Unicode form) are left to normalize."
    ),
    options=(
        Option(
            "unescape-html", True, "Decode HTML entities left in text (not in text with '<').", bool
        ),
        Option(
            "fix-mojibake", True, "Repair UTF-8 decoded as Windows-1252, Latin-1 and others.", bool
        ),
        Option(
            "restore-byte-a0",
            True,
            "Let a space stand for a lost no-break byte in mojibake (fewer misses, rarely wrong).",
            bool,
        ),
        Option("fix-c1-controls", True, "Read C1 control characters as Windows-1252.", bool),
        Option(
            "ftfy-fast-path",
            True,
            "Skip paragraphs ftfy provably would not change (same output, several times faster).",
            bool,
        ),
    ),
)
