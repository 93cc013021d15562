"""Render diffs for a terminal: unified-diff style in paragraphs, colored when asked.

Lines start with "  " (unchanged), "- " (removed), "+ " (added) or "~ " (changed; inside,
git's word-diff markers `[-old-]{+new+}` when plain, red and green when colored). Each
removed or changed paragraph is followed by its reasons from the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from cleanup.report.model import DiffSummary, DocDiff, Op

_RESET = "\x1b[0m"
_STYLES = {
    "header": "\x1b[1m",
    "hunk": "\x1b[36m",
    "-": "\x1b[31m",
    "+": "\x1b[32m",
    "~": "\x1b[33m",
    "reason": "\x1b[2m",
    "del": "\x1b[31;9m",
    "ins": "\x1b[32;4m",
}


class TextRenderer:
    """Write document diffs and a summary as text, with ANSI colors when `color` is true."""

    def __init__(self, out: TextIO, *, color: bool = False, context: int = 3) -> None:
        self.out = out
        self.color = color
        self.context = max(0, context)

    def paint(self, style: str, text: str) -> str:
        """Return `text` in `style` when coloring, unchanged otherwise."""
        if not self.color or not text:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"

    def document(self, d: DocDiff) -> None:
        """Write one document's diff (nothing for an unchanged document)."""
        if not d.different:
            return
        w = self.out.write
        old = "/dev/null" if d.status == "added" else d.before_name or d.id
        new = "/dev/null" if d.status == "dropped" else d.after_name or d.id
        w(self.paint("header", f"--- {old}") + "\n")
        w(self.paint("header", f"+++ {new}") + "\n")
        if d.status in ("dropped", "added"):
            self._whole(d)
            return
        for hunk in hunks(d.ops, self.context):
            self._hunk(d, hunk)
        for line in grouped(describe(d.reasons[i]) for i in d.other):
            w(self.paint("reason", f"# also: {line}") + "\n")

    def _whole(self, d: DocDiff) -> None:
        side = "before" if d.status == "dropped" else "after"
        texts = [getattr(op, side) or "" for op in d.ops]
        what = "document dropped" if d.status == "dropped" else "new document"
        size = f"{len(texts):,} paragraphs, {sum(map(len, texts)):,} characters"
        sign = "-" if d.status == "dropped" else "+"
        self.out.write(self.paint(sign, f"{sign} ({what}: {size})") + "\n")
        if d.drop:
            self.out.write(self.paint("reason", f"    # {describe(d.drop)}") + "\n")

    def _hunk(self, d: DocDiff, hunk: tuple[int, int, int, int, list[Op]]) -> None:
        i, n, j, m, ops = hunk
        w = self.out.write
        w(self.paint("hunk", f"@@ -{i + 1},{n} +{j + 1},{m} @@") + "\n")
        for op in ops:
            if op.kind == "=":
                w(f"  {op.before}\n")
            elif op.kind == "-":
                w(self.paint("-", f"- {op.before}") + "\n")
            elif op.kind == "+":
                w(self.paint("+", f"+ {op.after}") + "\n")
            else:
                w(self.paint("~", "~ ") + self._words(op) + "\n")
            for line in grouped(describe(d.reasons[r]) for r in op.reasons):
                w(self.paint("reason", f"    # {line}") + "\n")

    def _words(self, op: Op) -> str:
        parts = []
        for tag, text in op.words or []:
            if tag == "=":
                parts.append(text)
            elif self.color:
                parts.append(self.paint("del" if tag == "-" else "ins", text))
            else:
                parts.append(f"[-{text}-]" if tag == "-" else f"{{+{text}+}}")
        return "".join(parts)

    def stat_line(self, d: DocDiff) -> None:
        """Write one document's line of the --stat table (git's diffstat, in paragraphs)."""
        if not d.different:
            return
        if d.status in ("dropped", "added"):
            counts = d.status
        else:
            counts = " ".join(self.paint(k, f"{k}{d.count(k)}") for k in "-~+" if d.count(k))
        self.out.write(f" {d.id} | {counts}\n")

    def summary(self, s: DiffSummary) -> None:
        """Write the corpus summary: documents, paragraphs, characters, counts per rule."""
        w = self.out.write
        w(self.paint("header", "summary") + "\n")
        w(f"  documents:  {s.changed:,} changed, {s.unchanged:,} unchanged, "
          f"{s.dropped:,} dropped, {s.added:,} added\n")  # fmt: skip
        if s.duplicate_ids_before or s.duplicate_ids_after:
            w(f"  duplicate ids: {s.duplicate_ids_before:,} in before, "
              f"{s.duplicate_ids_after:,} in after (matched in order of appearance)\n")  # fmt: skip
        w(f"  paragraphs: {s.paragraphs_removed:,} removed, {s.paragraphs_changed:,} changed, "
          f"{s.paragraphs_added:,} added\n")  # fmt: skip
        w(f"  characters: {s.chars_removed:,} removed, {s.chars_added:,} added\n")
        for title, counts in (
            ("paragraphs removed per rule", s.removed_by_rule),
            ("paragraphs changed per rule", s.changed_by_rule),
            ("documents dropped per rule", s.dropped_by_rule),
        ):
            if counts:
                w(f"  {title}:\n")
                for rule, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                    w(f"    {count:8,}  {rule}\n")


def hunks(ops: list[Op], context: int) -> Iterable[tuple[int, int, int, int, list[Op]]]:
    """Group ops into hunks: changes with up to `context` unchanged paragraphs around them.

    Yields (before start, before count, after start, after count, ops), 0-based starts.
    """
    changed = [k for k, op in enumerate(ops) if op.kind != "="]
    if not changed:
        return
    groups: list[list[int]] = [[changed[0], changed[0]]]
    for k in changed[1:]:
        if k - groups[-1][1] - 1 <= 2 * context:
            groups[-1][1] = k
        else:
            groups.append([k, k])
    # positions of each op in before/after
    pos_before, pos_after = [], []
    i = j = 0
    for op in ops:
        pos_before.append(i)
        pos_after.append(j)
        i += op.kind != "+"
        j += op.kind != "-"
    for first, last in groups:
        lo, hi = max(0, first - context), min(len(ops), last + context + 1)
        part = ops[lo:hi]
        n = sum(op.kind != "+" for op in part)
        m = sum(op.kind != "-" for op in part)
        yield pos_before[lo], n, pos_after[lo], m, part


def grouped(lines: Iterable[str]) -> list[str]:
    """Return lines once each, in first-seen order, with "(×N)" when one repeats."""
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    return [line if n == 1 else f"{line} (×{n})" for line, n in counts.items()]


def describe(record: dict[str, Any]) -> str:
    """Return one line saying which rule made an edit, why, and against what it matched."""
    rule = str(record.get("rule", "?"))
    step = str(record.get("step", ""))
    label = rule if not step or rule.startswith(step) else f"{step}/{rule}"
    why = str(record.get("why", "")).strip()
    text = f"{label}: {why}" if why else label
    detail = record.get("detail")
    if isinstance(detail, dict) and detail:
        text += f" ({describe_detail(detail)})"
    return text


def describe_detail(detail: dict[str, Any]) -> str:
    """Return an edit's detail as words: what it duplicates and how closely, then the rest.

    An integer `duplicate_of` is a paragraph index in the same document (shown 1-based, as
    `cleanup explain` numbers paragraphs); a string is another document's id.
    """
    parts = []
    if "duplicate_of" in detail:
        dup = detail["duplicate_of"]
        target = f"paragraph {dup + 1}" if isinstance(dup, int) else str(dup)
        if detail.get("duplicate_text"):
            target += f' ("{detail["duplicate_text"]}…")'
        parts.append(f"duplicate of {target}")
    if "similarity" in detail:
        sim = detail["similarity"]
        parts.append(f"similarity {sim:.2f}" if isinstance(sim, float) else f"similarity {sim}")
    for key, value in detail.items():
        if key not in _SHOWN:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


_SHOWN = ("duplicate_of", "duplicate_text", "similarity")
