"""Load artifact rules: data files (TOML), each rule with examples that must and must not match.

A rule file holds `[[rule]]` tables with these keys:

- `id` (required): kebab-case, unique; `--disable-rule ID` turns a built-in off. Built-in ids
  start with their file's name: `en-`, `de-`, `fr-`, `es-`, or `any-` for every language.
- `description` (required): why the paragraph goes; it becomes the edit's `why` in the audit.
- `match` (required): a regular expression that must match the WHOLE folded paragraph
  (`re.fullmatch`). Folded means what `cleanup.steps.normalize.fold` makes of it: case
  folded (so patterns are written in lowercase, with `ss` for `ß`), Unicode spaces collapsed
  and trimmed, curly quotes and primes as `'` and `"`, every dash as `-`, `…` as `...`.
- `action`: `drop` (default) removes the paragraph; `drop-block` removes it and the short
  lines that follow it; `meta` moves it into `doc.meta[key]` (a list); `meta-block` moves the
  lines that follow it into `doc.meta[key]` (a list) and removes the header too.
- `where` (`first` or `last`) with `within` (default 1): only the first/last N paragraphs.
- `key`: the meta key of `meta` and `meta-block` rules (default: the rule id).
- `max_chars`: skip paragraphs longer than this; by default the longest text the regex can
  match, capped at 600 characters (artifacts are short, and long paragraphs are the body).
- `max_words`: the most words a free-text part of a match may hold. A prompt or label rule
  marks each free-text part of its regex (the caption after "Video:", the headline after
  "Read more:", the name after "Photo:") with a named group, one name per group
  (`(?P<caption>...)`, `(?P<credit>...)`); a regex without named groups counts the whole
  paragraph. A paragraph whose part holds more words is not a match: it is a sentence that
  starts with the label ("Watch: the mayor said nothing had been decided"), and it stays.
  Fixed prompts ("Scroll down for video") have no free part and are never limited. Words
  are runs of non-space characters holding a letter or digit.
- `requires`: words one of which every match contains, for a regex with branches that do
  not open with fixed words (such as "X contributed to this report"). The step tries a rule
  only on paragraphs that start with one of the rule's fixed openings (worked out from the
  regex), or contain one of its `requires` words where some branch has no fixed opening, so
  most body paragraphs are never folded or matched. Words are lowercase letters and digits
  or ©@/|()&+#%$€£:;,!?*, without spaces, quotes or dashes (scraped text spells those many
  ways). A rule with such branches and no `requires` is tried on every paragraph.
- `examples_match`, `examples_keep`: paragraphs the rule must match and must leave alone; the
  tests run every example of every rule file, through the gates as well, and `cleanup rules
  test FILE` runs a user's (cleanup.steps.artifacts.examples, one implementation for both).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleanup.errors import UsageProblem
from cleanup.rules import analysis
from cleanup.tomlfile import TomlProblem, load_toml

# Python's regex parser is private (re._parser, formerly sre_parse). It only ever makes rule
# matching faster (a width bound, the openings the step gates on): when it is missing or its
# parse fails, every rule is tried on every paragraph it may match, with the same result.
# tests/test_rules.py checks the parse output shape this module relies on.
try:
    from re import _constants as _sre  # type: ignore[attr-defined]
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - a Python that moved them: the slow path
    _sre = _sre_parse = None

ACTIONS = ("drop", "drop-block", "meta", "meta-block")
WHERE = ("first", "last")
MAX_CHARS_CAP = 600
RULES_DIR = Path(__file__).parent
_KEYS = {
    "id",
    "description",
    "match",
    "action",
    "where",
    "within",
    "key",
    "max_chars",
    "max_words",
    "requires",
    "examples_match",
    "examples_keep",
}
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ESCAPE = re.compile(r"\\N\{[^}]*\}|\\.|\(\?P[<=>]", re.DOTALL)  # escapes, (?P<name>
_REQUIRE_CHAR = r"(?:[^\W_]|[©@/|()&+#%$€£:;,!?*])"
_REQUIRE_OK = re.compile(f"{_REQUIRE_CHAR}+")
_WORD = re.compile(r"\S*[^\W_]\S*")


class RuleError(UsageProblem, ValueError):
    """Report a rule file or rule id that cannot be used, naming the file and the rule.

    A usage problem (exit status 2, one line on the command line) and a ValueError for
    library callers.
    """


@dataclass(frozen=True)
class Rule:
    """Hold one artifact rule: what it matches, where, and what happens to a match."""

    id: str
    description: str
    match: str
    action: str = "drop"
    where: str | None = None
    within: int = 1
    key: str = ""
    max_chars: int = MAX_CHARS_CAP
    max_words: int | None = None
    requires: tuple[str, ...] = ()
    examples_match: tuple[str, ...] = ()
    examples_keep: tuple[str, ...] = ()
    source: str = ""

    @property
    def block(self) -> bool:
        """Tell whether a match also takes the short lines that follow it."""
        return self.action.endswith("-block")

    @property
    def to_meta(self) -> bool:
        """Tell whether matched text moves into metadata instead of being dropped."""
        return self.action.startswith("meta")

    def compiled(self) -> re.Pattern[str]:
        """Return the rule's regex, compiled as it is matched (against folded, lowercase text)."""
        return re.compile(self.match)

    def matches(self, folded: str) -> bool:
        """Tell whether the rule takes folded text: its regex, max_chars and max_words all agree."""
        if len(folded) > self.max_chars:
            return False
        found = self.compiled().fullmatch(folded)
        return found is not None and self.short_enough(found)

    def short_enough(self, found: re.Match[str]) -> bool:
        """Tell whether every free-text part of a match is within max_words (see the schema).

        Why: a prompt is short; the same label opening a long paragraph opens a sentence.
        """
        if self.max_words is None:
            return True
        parts = found.groupdict().values() if found.re.groupindex else (found.group(),)
        return all(count_words(part) <= self.max_words for part in parts if part)


def count_words(text: str) -> int:
    """Count the runs of non-space characters holding a letter or digit ("Vucci/AP" is one)."""
    return len(_WORD.findall(text))


def max_match_chars(pattern: str) -> int:
    """Return the longest text `pattern` can match, capped at MAX_CHARS_CAP.

    Used to skip long paragraphs without running any regex over them.
    """
    try:
        _, hi = _parse(pattern).getwidth()
        return int(min(hi, MAX_CHARS_CAP))
    except Exception:  # private API: on any change, fall back to the cap
        return MAX_CHARS_CAP


def _parse(pattern: str) -> Any:
    """Parse `pattern` with Python's private regex parser (raises if it is unavailable)."""
    if _sre_parse is None:
        raise RuntimeError("re._parser is not available")
    return _sre_parse.parse(pattern)


_PREFIX_CAP = 4096  # distinct openings kept per rule before giving up on longer ones
OPENING_MAX = 16  # longest rule opening kept (characters); longer ones are cut
_ANY = "\x01"  # stands for "anything may follow": an opening that ends here has no fixed part
_DIGIT = "\x00"  # stands for any digit: skipped at the start, ends the fixed part elsewhere
_LEADING_JUNK = re.compile(r"^(?:(?!\x01)[\W\d_])+")
_FIXED_PART = re.compile(r"[^\W\d_]+(?:[ '-][^\W\d_]+)*")

Prefixes = list[tuple[str, bool]]  # (literal opening, may the next item extend it?)


def literal_openings(pattern: str) -> tuple[tuple[str, ...], bool] | None:
    """Return the fixed openings of `pattern`, and whether some matches have none.

    Every text the pattern fully matches starts, once leading non-letters are skipped, with
    one of the openings, unless it comes from a branch without one (it may start with
    anything: a leading `.` or a class of many letters), which the flag reports. Openings are
    letters joined by single spaces, apostrophes or hyphens, and stop before anything else
    (digits, other punctuation). The step uses the openings to skip most paragraphs without
    folding them; branches without one fall back to `requires`. None means the regex could
    not be walked (the private parser failed or changed): then nothing is known, and the
    step tries the rule on every paragraph.
    """
    try:
        found = _walk([("", True)], list(_parse(pattern)), True)
    except Exception:  # private API or an unusual construct: no gate, never wrong
        return None
    openings: set[str] = set()
    unknown = False
    for text, _ in found:
        fixed = _FIXED_PART.match(_LEADING_JUNK.sub("", text))
        if fixed:
            openings.add(fixed.group())
        else:
            unknown = True
    kept: list[str] = []
    for opening in sorted(openings):  # a prefix sorts before every text it starts
        if not kept or not opening.startswith(kept[-1]):
            kept.append(opening)
    return tuple(kept), unknown


def _walk(current: Prefixes, items: list[Any], settle: bool) -> Prefixes:
    """Extend the openings in `current` by a sequence of parsed regex items.

    Closed openings are kept in a set aside and only the open ones go through each item (a
    text both open and closed counts as closed, the weaker claim); merging every closed
    opening again at every item made long rules cost quadratic time to gate.
    """
    closed = {text for text, open_ in current if not open_}
    still = list(dict.fromkeys(text for text, open_ in current if open_ and text not in closed))
    for op, av in items:
        if not still:
            break
        ended: set[str] = set()
        going: dict[str, None] = {}
        for text, open_ in _extend(still, op, av, settle):
            if open_:
                going[text] = None
            else:
                ended.add(text)
        ended -= closed
        kept = [text for text in going if text not in closed and text not in ended]
        if len(closed) + len(ended) + len(kept) > _PREFIX_CAP:
            return [*(_settled(t + _ANY, False) for t in still), *((t, False) for t in closed)]
        closed |= ended
        still = kept
    return [*((text, False) for text in closed), *((text, True) for text in still)]


def _extend(texts: list[str], op: Any, av: Any, settle: bool) -> Prefixes:
    """Extend open openings `texts` by one parsed item (ending in _ANY where anything goes)."""
    sre = _sre

    def add(more: str, open_: bool = True) -> Prefixes:
        if settle and open_ and more.isalpha():
            # An open settled text is empty or its fixed part, maybe with one separator after
            # it: a letter only lengthens the fixed part (what _settled would say, cheaper).
            return [(t + more, len(t) + 1 < OPENING_MAX) for t in texts]
        done = [(t + more, open_) for t in texts]
        return [_settled(t, o) for t, o in done] if settle else done

    start = [(t, True) for t in texts]
    if op is sre.LITERAL:
        return add(chr(av))
    if op is sre.IN:
        if all(o is sre.CATEGORY and v is sre.CATEGORY_DIGIT for o, v in av):
            return add(_DIGIT)
        chars = [chr(v) for o, v in av if o is sre.LITERAL]
        if len(chars) == len(av) <= 16:
            return [p for c in chars for p in add(c)]
        return add(_ANY, False)
    if op is sre.SUBPATTERN:
        return _walk(start, list(av[-1]), settle)
    if op is sre.BRANCH:
        return [p for seq in av[1] for p in _walk(start, list(seq), settle)]
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)):
        low, high, sub = av
        once = _walk(start, list(sub), settle)
        # A repeat of non-letters (digits, spaces, brackets) may stay open: such characters
        # are skipped at the start and end the fixed part anywhere else.
        if high != 1 and not _junk_only(list(sub)):
            once = [(text, False) for text, _ in once]
        return [*start, *once] if low == 0 else once
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return start  # zero-width: takes no characters
    return add(_ANY, False)


def _junk_only(items: list[Any]) -> bool:
    """Tell whether a sub-pattern only ever matches non-letters (digits, spaces, brackets)."""
    found = _walk([("", True)], items, False)
    return all(open_ and _ANY not in t and not _FIXED_PART.search(t) for t, open_ in found)


def _settled(text: str, open_: bool) -> tuple[str, bool]:
    """Drop an opening's leading non-letters, and close it once its fixed part has ended.

    Neither leading non-letters nor what follows the first non-letter after the fixed part
    ever count, so settling early keeps the number of openings small without changing the
    result.
    """
    if text.isalpha():  # letters only (most calls): no junk, and all of it is the fixed part
        return text, open_ and len(text) < OPENING_MAX
    rest = _LEADING_JUNK.sub("", text)
    fixed = _FIXED_PART.match(rest)
    if fixed is None:
        return rest, open_
    end = fixed.end()
    if end < len(rest) and not (rest[end] in " '-" and end + 1 == len(rest)):
        return fixed.group(), False
    return rest, open_ and len(fixed.group()) < OPENING_MAX


def builtin_rule_files() -> list[Path]:
    """Return the built-in rule files, in name order (any.toml, de.toml, en.toml ...)."""
    return sorted(RULES_DIR.glob("*.toml"))


def languages() -> tuple[str, ...]:
    """Return the languages the built-in rules are filed under ('any' and the language codes)."""
    return tuple(path.stem for path in builtin_rule_files())


def rule_language(rule: Rule) -> str:
    """Return the language a rule is filed under: its id's first part when that names a
    built-in rule file ('en-click-here' is 'en'), else 'any'.

    Why: rules apply to every document whatever its language; the language only groups them
    for `cleanup rules list --lang`, so a user's rule without a language prefix is 'any'.
    """
    prefix = rule.id.split("-", 1)[0]
    return prefix if prefix in languages() else "any"


def load_rule_file(path: str | Path) -> list[Rule]:
    """Read and check one rule file; raise RuleError naming the file and rule on any problem."""
    path = Path(path)
    try:
        data = load_toml(path)
    except OSError as exc:
        raise RuleError(f"rules file {path}: cannot read: {exc.strerror or exc}") from None
    except TomlProblem as exc:
        raise RuleError(f"rules file {path}: {exc}") from None
    unknown = set(data) - {"rule"}
    if unknown:
        raise RuleError(f"rules file {path}: unknown table(s) {sorted(unknown)}; use [[rule]]")
    tables = data.get("rule", [])
    if not isinstance(tables, list):
        raise RuleError(f"rules file {path}: 'rule' must be an array of tables ([[rule]])")
    return [_parse_rule(table, str(path), n) for n, table in enumerate(tables, 1)]


def _parse_rule(table: Any, source: str, n: int) -> Rule:
    """Check one [[rule]] table and turn it into a Rule."""
    where_ = f"rules file {source}, rule #{n}"
    if not isinstance(table, dict):
        raise RuleError(f"{where_}: not a table")
    rid = table.get("id")
    if not isinstance(rid, str) or not _ID.fullmatch(rid):
        raise RuleError(f"{where_}: 'id' must be a kebab-case string, got {rid!r}")
    where_ = f"rules file {source}, rule {rid!r}"
    unknown = set(table) - _KEYS
    if unknown:
        raise RuleError(f"{where_}: unknown key(s) {sorted(unknown)}")
    for key in ("description", "match"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise RuleError(f"{where_}: {key!r} must be a non-empty string")
    shipped = analysis.known(table["match"])  # a built-in regex: analysed (and compiled) once
    if shipped is None:
        try:
            re.compile(table["match"])
        except re.error as exc:
            raise RuleError(f"{where_}: bad regex in 'match': {exc}") from None
    upper = [c for c in _ESCAPE.sub("", table["match"]) if c.casefold() != c]
    if upper:
        raise RuleError(
            f"{where_}: 'match' has {''.join(upper)!r}: patterns match folded text, so write "
            "them in lowercase (and 'ss' for 'ß')"
        )
    requires = table.get("requires", [])
    if not isinstance(requires, list) or not all(
        isinstance(r, str) and _REQUIRE_OK.fullmatch(r) and r == r.casefold() for r in requires
    ):
        raise RuleError(
            f"{where_}: 'requires' must be a list of lowercase words of letters, digits and "
            "©@/|()&+#%$€£:;,!?* (text that folding leaves alone; no spaces)"
        )
    action = table.get("action", "drop")
    if action not in ACTIONS:
        raise RuleError(f"{where_}: 'action' must be one of {', '.join(ACTIONS)}")
    where = table.get("where")
    if where is not None and where not in WHERE:
        raise RuleError(f"{where_}: 'where' must be 'first' or 'last'")
    within = table.get("within", 1)
    if not isinstance(within, int) or isinstance(within, bool) or within < 1:
        raise RuleError(f"{where_}: 'within' must be a positive integer")
    if "within" in table and where is None:
        raise RuleError(f"{where_}: 'within' needs 'where' (first or last)")
    if "max_chars" in table:
        max_chars = table["max_chars"]
    else:
        max_chars = shipped.max_chars if shipped else max_match_chars(table["match"])
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
        raise RuleError(f"{where_}: 'max_chars' must be a positive integer")
    max_words = table.get("max_words")
    if max_words is not None and (
        not isinstance(max_words, int) or isinstance(max_words, bool) or max_words < 1
    ):
        raise RuleError(f"{where_}: 'max_words' must be a positive integer")
    key = table.get("key", rid if action.startswith("meta") else "")
    if not isinstance(key, str):
        raise RuleError(f"{where_}: 'key' must be a string")
    examples = {}
    for name in ("examples_match", "examples_keep"):
        value = table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{where_}: {name!r} must be a list of strings")
        examples[name] = tuple(value)
    return Rule(
        id=rid,
        description=table["description"].strip(),
        match=table["match"],
        action=action,
        where=where,
        within=within,
        key=key,
        max_chars=max_chars,
        max_words=max_words,
        requires=tuple(requires),
        source=source,
        **examples,
    )


@functools.lru_cache(maxsize=1)
def _builtin() -> tuple[Rule, ...]:
    """Load the built-in rule files once per process (they are package data)."""
    rules: dict[str, Rule] = {}
    for path in builtin_rule_files():
        for rule in load_rule_file(path):
            if rule.id in rules:
                raise RuleError(f"rule id {rule.id!r} is defined twice ({rules[rule.id].source})")
            rules[rule.id] = rule
    return tuple(rules.values())


def builtin_rules(disabled: Iterable[str] = (), known_ids: Iterable[str] = ()) -> list[Rule]:
    """Return the built-in rules minus the disabled ids (see load_rules for `known_ids`)."""
    return load_rules((), disabled, known_ids=known_ids)


def load_rules(
    rules_files: Iterable[str | Path] = (),
    disabled: Iterable[str] = (),
    builtin: bool = True,
    known_ids: Iterable[str] = (),
) -> list[Rule]:
    """Return the built-in rules plus the users' files, minus the disabled ids.

    A user rule with a built-in's id replaces it, so a rule can be adjusted without copying
    the whole file. An id in `disabled` that no rule has (and that is not in `known_ids`, the
    step's built-in behaviours) is an error: a typo would silently keep the rule on.
    """
    rules: dict[str, Rule] = {r.id: r for r in _builtin()} if builtin else {}
    user_ids: set[str] = set()
    for path in rules_files:
        for rule in load_rule_file(path):
            if rule.id in user_ids:
                raise RuleError(f"rule id {rule.id!r} is defined twice in the rules files")
            user_ids.add(rule.id)
            rules[rule.id] = rule
    off = set(disabled)
    unknown = off - set(rules) - set(known_ids)
    if unknown:
        raise RuleError(f"--disable-rule: no rule with id {', '.join(sorted(unknown))}")
    return [r for r in rules.values() if r.id not in off]
