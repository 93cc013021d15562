"""Normalize paragraphs: Unicode form, spaces, invisible characters, line breaks and typography.

Also home of `fold`, the matching form that rules and dedup compare paragraphs in, so that
"the same text" means the same thing everywhere in the toolkit.

Every stage first asks a precompiled regex (or `in`) whether it has work, replacement
tables are applied only where a character matched, and pure-ASCII paragraphs without
double spaces, untrimmed ends or control characters skip the work entirely. A document that
needs typography at most (most of them) is answered as a whole (`_typography_changes`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import compress, count, filterfalse
from operator import not_

from cleanup.document import Document, Edit
from cleanup.pipeline import Option, StepSpec, each_live

STEP = "normalize"

# Unicode spaces that become a plain space: no-break, ogham, en/em quads and spaces, thin,
# hair, narrow no-break, medium mathematical, ideographic; the tab too (a paragraph is prose).
_SPACES = "\t\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
# Line breaks other than "\n": vertical tab, form feed, file/group/record separators, NEL,
# line and paragraph separators (what str.splitlines breaks on).
_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Characters that go: zero-width space, word joiner, BOM / zero-width no-break space, soft
# hyphen, and every C0/C1 control except tab and the line breaks above. ZWJ (U+200D) and
# ZWNJ (U+200C) stay: Persian and Indic scripts need them.
_INVISIBLE = "\u200b\u2060\ufeff\u00ad"
_CONTROLS = "".join(
    chr(c)
    for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]
    if chr(c) not in "\t\n\r" and chr(c) not in _LINE_BREAKS
)

# Typography folded to ASCII. Guillemets are not here: they are the correct quotes of
# French, Russian or German text, not curly ASCII quotes (fold() still folds them).
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035"  # ‘ ’ ‚ ‛ ′ ‵
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036"  # “ ” „ ‟ ″ ‶
# Hyphen, non-breaking hyphen, figure/en/em dash, horizontal bar, minus sign, two- and
# three-em dash, small em dash, small hyphen-minus, fullwidth hyphen-minus: all become "-".
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"

_CLEAN: dict[str, str] = {
    **dict.fromkeys(_SPACES, " "),
    **dict.fromkeys(_LINE_BREAKS + "\r", "\n"),
    **dict.fromkeys(_INVISIBLE + _CONTROLS, ""),
}
_TYPOGRAPHY: dict[str, str] = {
    **dict.fromkeys(_SINGLE_QUOTES, "'"),
    **dict.fromkeys(_DOUBLE_QUOTES, '"'),
    **dict.fromkeys(_DASHES, "-"),
    "\u2034": "'''",  # triple prime
    "\u2037": "'''",  # reversed triple prime
    "\u2057": "''''",  # quadruple prime
    "\u2026": "...",  # horizontal ellipsis: what NFKC gives too
}
# fold() also drops ZWJ/ZWNJ, folds guillemets, apostrophe-like accents and every dash of
# any script (Unicode category Pd): it is a matching form, not output.
_ALL_DASHES = (  # every Pd character but "-" (tests check this against unicodedata)
    "\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a\u2e3b"
    "\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
)
_FOLD: dict[str, str] = {
    **_CLEAN,
    **_TYPOGRAPHY,
    **dict.fromkeys(_ALL_DASHES, "-"),
    **dict.fromkeys("\u00b4\u02b9\u02bc", "'"),  # acute accent, modifier prime/apostrophe
    "\u02ba": '"',  # modifier letter double prime
    **dict.fromkeys("\u200c\u200d", ""),
    **dict.fromkeys("\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2039\u203a", "'"),
}


# Characters frequent in scraped news text, replaced with str.replace (a C loop per
# character) before the regex takes care of the rare rest with a Python call per match.
_FREQUENT = "\u2019\u201c\u201d\u2018\u2014\u2013\u00a0"


class _Replacer:
    """Replace the characters that are keys of a mapping, paying only where one occurs.

    A regex finds the (rare) characters at C speed; str.translate with a dict would look up
    every character of the text in Python's mapping protocol, several times slower.
    """

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.pattern = re.compile("[" + re.escape("".join(mapping)) + "]")
        self._frequent = [(c, mapping[c]) for c in _FREQUENT if c in mapping]
        self._lookup = mapping.__getitem__
        self._crlf = "\r" in mapping  # only a mapping of line breaks reads "\r\n" as one
        # Without ASCII keys, text left ASCII by the frequent characters (isascii costs no
        # scan) holds no key: the regex need not look.
        self._ascii_free = not any(key.isascii() for key in mapping)

    def search(self, s: str) -> bool:
        """Tell whether `s` holds a key."""
        return self.pattern.search(s) is not None

    def __call__(self, s: str) -> str:
        """Return `s` with every key replaced by its value ("\r\n" counts as one line break)."""
        if self._crlf and "\r\n" in s:
            s = s.replace("\r\n", "\n")
        for char, value in self._frequent:
            if char in s:
                s = s.replace(char, value)
        if (self._ascii_free and s.isascii()) or self.pattern.search(s) is None:
            return s
        return self.pattern.sub(lambda m: self._lookup(m.group()), s)


_clean = _Replacer(_CLEAN)
_typography = _Replacer(_TYPOGRAPHY)
_fold = _Replacer(_FOLD)
_invisible = re.compile("[" + re.escape(_INVISIBLE + _CONTROLS) + "]")

_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_SPACE_RUN = re.compile(r" {2,}")
_LINE_SPACES = re.compile(r" *\n[ \n]*")
# A space change: a Unicode space, a run, an untrimmed end, spaces around a line break.
_UNICODE_SPACE = re.compile("[" + _SPACES + "]")
_OTHER_LINE_BREAK = re.compile("[" + re.escape(_LINE_BREAKS) + "\r]")


def fold(s: str) -> str:
    """Return the matching form of `s`: what rules and dedup compare instead of the raw text.

    NFKC and casefold, Unicode spaces and line breaks collapsed to one space and trimmed,
    invisible and control characters (ZWJ/ZWNJ included) dropped, curly quotes, primes and
    guillemets folded to ' and ", every dash to -. Punctuation stays, so a rule can still
    anchor on it. Folding makes two copies of a caption that differ only in quote style,
    spacing or case compare equal.
    """
    if s.isascii():
        if not s.isprintable() and _ASCII_CONTROLS.search(s):  # isprintable: no regex scan
            s = _fold(s)
        return " ".join(s.lower().split())
    # NFC first: _fold maps precomposed characters (U+1FFD GREEK OXIA is canonically U+00B4,
    # which folds to '), so text must fold the same before and after the normalize step.
    s = unicodedata.normalize("NFKC", _fold(unicodedata.normalize("NFC", s))).casefold()
    # casefold can leave text that is not NFKC, and NFKC can make dashes from small forms.
    s = unicodedata.normalize("NFKC", s)
    if _fold.search(s):
        s = _fold(s)
    return " ".join(s.split())


def normalize_text(
    s: str, *, nfkc: bool = False, keep_lines: bool = False, keep_typography: bool = False
) -> str:
    """Return `s` normalized the way the normalize step does it, for reuse outside a pipeline."""
    return _normalize(s, nfkc, keep_lines, keep_typography)[0]


_KINDS = ("invisible", "unicode-form", "typography", "lines", "spaces")


def _normalize(
    s: str, nfkc: bool, keep_lines: bool, keep_typography: bool
) -> tuple[str, tuple[str, ...]]:
    """Normalize `s` and name the kinds of change made, for the edit's rule id.

    Order matters for idempotence: characters are deleted before the Unicode form is applied
    (deleting a control between a letter and a combining accent would otherwise leave text
    that is not NFC), and typography is folded after it (NFKC can make dashes). Each stage
    first asks a precompiled regex or `in` whether it has work, so most stages cost one scan.
    """
    # Pure ASCII needs work only for a control character (ASCII's only unprintable ones,
    # found by isprintable without the regex engine), a double space or an untrimmed end.
    if s.isascii() and s.isprintable() and "  " not in s and s[:1] != " " and s[-1:] != " ":
        return s, ()
    original = s
    kinds: set[str] = set()
    if _clean.search(s):
        if _invisible.search(s):
            kinds.add("invisible")
        if _UNICODE_SPACE.search(s):
            kinds.add("spaces")
        if _OTHER_LINE_BREAK.search(s):
            kinds.add("lines")
        s = _clean(s)
    if not s.isascii():
        normal = unicodedata.normalize("NFKC" if nfkc else "NFC", s)
        if normal != s:
            kinds.add("unicode-form")
            s = normal
            if nfkc and _clean.search(s):
                s = _clean(s)
        if not keep_typography and _typography.search(s):
            kinds.add("typography")
            s = _typography(s)
    if "\n" in s:
        lines = _LINE_SPACES.sub("\n", s) if keep_lines else s.replace("\n", " ")
        if not keep_lines and "\n" in s.strip():
            kinds.add("lines")
        s = lines
    if "  " in s:
        s = _SPACE_RUN.sub(" ", s)
        kinds.add("spaces")
    stripped = s.strip(" \n")
    if stripped != s or (not kinds and stripped != original):
        kinds.add("spaces")
    return stripped, tuple(k for k in _KINDS if k in kinds)


_WHY = {
    "invisible": "invisible and control characters removed",
    "unicode-form": "Unicode normal form applied",
    "typography": "curly quotes, primes, dashes and ellipses made ASCII",
    "lines": "line breaks inside the paragraph made spaces",
    "spaces": "Unicode spaces made plain, runs collapsed, ends trimmed",
}


# The rule id and why of each combination of kinds met so far (at most 2**5 of them).
_LABELS: dict[tuple[str, ...], tuple[str, str]] = {}


def _label(kinds: tuple[str, ...]) -> tuple[str, str]:
    """Return (and remember) the rule id and why of a rewrite that made `kinds` of change."""
    label = ("normalize:" + "+".join(kinds), "; ".join(_WHY[k] for k in kinds))
    _LABELS[kinds] = label
    return label


# ASCII's printable characters, as bytes: what bytes.translate deletes to find a control.
_PRINTABLE = bytes(range(0x20, 0x7F))


def _printable(s: str) -> bool:
    """Tell whether `s` is printable (str.isprintable), ASCII text by one bytes.translate."""
    if s.isascii():
        return not s.encode("ascii").translate(None, _PRINTABLE)
    return s.isprintable()


# Why the document path may check the paragraphs after typography instead of before: every
# key of _TYPOGRAPHY and every character of its values is printable, no space or line break,
# a starter (combining class 0) with no canonical decomposition, and no part of any canonical
# decomposition (so NFC neither composes it with a neighbour nor makes it from other
# characters); each value is non-empty. Replacing such characters by such text changes no
# space, line break, printability or NFC-ness of the text around it, so a text passes the
# checks exactly when its typography-fixed form does. tests/test_normalize_fast.py checks
# these facts against the running Python's Unicode data.


def _typography_changes(
    paragraphs: list[str], nfkc: bool, keep_typography: bool
) -> list[tuple[int, str]] | None:
    """Return (index, new text) of each paragraph `_normalize` changes, when typography is all
    the document needs; None when a paragraph may need more (then each is normalized alone).

    Why: most documents need at most curly quotes and dashes made ASCII, and asking that of
    the whole document costs a few C-level scans instead of a dozen Python calls per
    paragraph. Joined with a space, the paragraphs hold a double space exactly when one of
    them holds one, starts or ends with a space or is empty; printable text holds no control,
    line break or Unicode space (every key of _CLEAN is unprintable). The ASCII paragraphs
    then need nothing. A space or "\n" between paragraphs neither composes nor reorders with
    a neighbour, so the joined non-ASCII paragraphs are in normal form exactly when each one
    is; typography maps single characters to text without spaces or line breaks, so it acts
    on them joined as on each, and each paragraph it changes gets the kinds ("typography",).
    """
    plain = " ".join(filter(str.isascii, paragraphs))
    if (
        "  " in plain
        or plain[:1] == " "
        or plain[-1:] == " "
        or plain.encode("ascii").translate(None, _PRINTABLE)
        or not all(paragraphs)  # "" alone: " ".join([""]) is ""
    ):
        return None
    rest = list(filterfalse(str.isascii, paragraphs))
    if not rest:
        return []
    text = "\n".join(rest)
    fixed = text if keep_typography else _typography(text)
    # The checks hold of the text exactly when they hold of it with typography made ASCII
    # (then most often all ASCII, so cheaper to check: see the note above); NFKC folds some
    # typography (the ellipsis, primes), so under it the text itself is checked.
    probe = text if nfkc else fixed
    flat = probe.replace("\n", " ")
    if (
        probe.count("\n") != len(rest) - 1
        or "  " in flat
        or flat[0] == " "
        or flat[-1] == " "
        or not _printable(flat)
        or not unicodedata.is_normalized("NFKC" if nfkc else "NFC", flat)  # ASCII: no scan
    ):
        return None
    if fixed == text:
        return []
    where = compress(count(), map(not_, map(str.isascii, paragraphs)))
    return [
        (i, new) for i, old, new in zip(where, rest, fixed.split("\n"), strict=True) if new != old
    ]


_EMPTY = "normalize:empty"
_EMPTY_WHY = "paragraph empty after normalization"


def normalize(
    docs: Iterable[Document],
    *,
    nfkc: bool = False,
    keep_lines: bool = False,
    keep_typography: bool = False,
) -> Iterator[Document]:
    """Normalize every paragraph of every live document, recording one edit per changed paragraph.

    The edit's rule lists the kinds of change, e.g. "normalize:spaces+typography"; paragraphs
    left empty are removed with rule "normalize:empty".
    """

    typo_rule, typo_why = _LABELS.get(("typography",)) or _label(("typography",))

    def clean(doc: Document) -> None:
        paragraphs = doc.paragraphs
        changes = _typography_changes(paragraphs, nfkc, keep_typography)
        if changes is not None:
            if changes:
                doc.rewrite_many(changes, STEP, typo_rule, typo_why)
            return
        rewrites: list[Edit] = []
        empty: list[Edit] = []
        for i, p in enumerate(paragraphs):
            # _normalize's own ASCII fast path, inlined (most paragraphs): no call, no tuple.
            if p and p.isascii() and p.isprintable() and p[0] != " " != p[-1] and "  " not in p:
                continue
            new, kinds = _normalize(p, nfkc, keep_lines, keep_typography)
            if new == p and new:
                continue
            if not new:
                empty.append(Edit.removal(STEP, _EMPTY, i, p, _EMPTY_WHY))
                continue
            rule, why = _LABELS.get(kinds) or _label(kinds)
            rewrites.append(Edit.rewrite(STEP, rule, i, p, new, why))
        if rewrites or empty:
            doc.apply(rewrites + empty)  # the trail lists the rewrites, then the removals

    return each_live(docs, clean)


SPEC = StepSpec(
    name=STEP,
    func=normalize,
    help=(
        "Normalize text: NFC, plain single spaces, no invisible or control characters "
        "(ZWJ/ZWNJ kept), one line per paragraph, ASCII quotes and primes (' \"), dashes "
        "(hyphens, en/em dash, minus -> '-') and ellipsis ('...'; guillemets stay), "
        "no empty paragraphs."
    ),
    options=(
        Option("nfkc", False, "Use NFKC instead of NFC (folds ligatures, full-width forms).", bool),
        Option("keep-lines", False, "Keep line breaks inside a paragraph.", bool),
        Option(
            "keep-typography",
            False,
            "Keep curly quotes, primes, dashes and the ellipsis (default: make them ASCII).",
            bool,
        ),
    ),
)
