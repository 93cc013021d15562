"""Compare documents before and after cleanup, paragraph by paragraph, with the audit's reasons.

The unit of comparison is the project's paragraph. Paragraphs are aligned on a folded key
(lower-cased words only), so a paragraph that normalize or fix-encoding only touched lines up
with its old self and shows as *changed* with a word-level highlight instead of as one
removal plus one addition. Reasons come from the audit trail: a removed paragraph is matched
to the audit record whose `before` holds its text.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from cleanup.document import Document
from cleanup.errors import BadInput

_NON_WORD = re.compile(r"\W+")
# A token is a word or a punctuation mark with the spaces after it: no token is as common as
# a lone space would be, which keeps SequenceMatcher fast on long paragraphs.
_TOKEN = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")
# How many later paragraphs a changed paragraph may be paired with: pairing stays linear in
# the size of a replaced block instead of comparing every old paragraph with every new one.
_PAIR_WINDOW = 8
# Two paragraphs sharing at least this share of their words are one paragraph changed.
_PAIR_RATIO = 0.5
_REMOVING = ("remove", "move")

Segment = tuple[str, str]  # ("=" | "-" | "+", text)


@dataclass
class Op:
    """One step of a document's paragraph diff.

    kind is "=" (unchanged), "-" (removed), "+" (added) or "~" (changed; `words` holds
    the word-level segments). `reasons` are indices into the owning DocDiff's reasons.
    """

    kind: str
    before: str | None = None
    after: str | None = None
    words: list[Segment] | None = None
    reasons: list[int] = field(default_factory=list)


@dataclass
class DocDiff:
    """Hold the diff of one document: its status, its paragraph ops and the reasons for them.

    status is "changed", "unchanged", "dropped" (only before) or "added" (only after).
    `reasons` are the audit records of the document; `other` lists those no paragraph
    claimed (document-level edits, rewrites of paragraphs later removed).
    """

    id: str
    status: str
    ops: list[Op] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    other: list[int] = field(default_factory=list)
    drop: dict[str, Any] | None = None
    before_name: str = ""
    after_name: str = ""

    def count(self, kind: str) -> int:
        """Return how many paragraphs have the op `kind`."""
        return sum(1 for op in self.ops if op.kind == kind)

    @property
    def different(self) -> bool:
        """Tell whether this document differs between before and after."""
        return self.status != "unchanged"

    def rules(self) -> list[str]:
        """Return the rules of this document's reasons, most frequent first."""
        return [r for r, _ in Counter(x.get("rule", "") for x in self.reasons).most_common()]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of this document's diff (readable, one object per paragraph)."""
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.before_name:
            out["before"] = self.before_name
        if self.after_name:
            out["after"] = self.after_name
        if self.drop:
            out["dropped"] = self.drop
        names = {"=": "equal", "-": "remove", "+": "add", "~": "change"}
        paragraphs = []
        for op in self.ops:
            item: dict[str, Any] = {"op": names[op.kind]}
            if op.kind == "~":
                item["before"], item["after"] = op.before, op.after
                item["words"] = [list(s) for s in op.words or []]
            else:
                item["text"] = op.before if op.kind in "=-" else op.after
            if op.reasons:
                item["reasons"] = [self.reasons[i] for i in op.reasons]
            paragraphs.append(item)
        out["paragraphs"] = paragraphs
        if self.other:
            out["other_edits"] = [self.reasons[i] for i in self.other]
        return out


@dataclass
class DiffSummary:
    """Count what differs between two corpora (or what one run changed).

    Paragraph counts are those of documents present on both sides; a dropped or added
    document counts as a document and in the character counts.
    """

    documents_before: int = 0
    documents_after: int = 0
    changed: int = 0
    unchanged: int = 0
    dropped: int = 0
    added: int = 0
    paragraphs_removed: int = 0
    paragraphs_added: int = 0
    paragraphs_changed: int = 0
    chars_removed: int = 0
    chars_added: int = 0
    removed_by_rule: dict[str, int] = field(default_factory=dict)
    changed_by_rule: dict[str, int] = field(default_factory=dict)
    dropped_by_rule: dict[str, int] = field(default_factory=dict)
    edits_by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def different(self) -> bool:
        """Tell whether any document differs."""
        return bool(self.changed or self.dropped or self.added)

    def add(self, d: DocDiff) -> None:
        """Count one document's diff."""
        self.documents_before += d.status != "added"
        self.documents_after += d.status != "dropped"
        setattr(self, d.status, getattr(self, d.status) + 1)
        _bump(self.edits_by_rule, [r.get("rule", "") for r in d.reasons if r is not d.drop])
        if d.status == "dropped":
            self.chars_removed += sum(len(op.before or "") for op in d.ops)
            if d.drop:
                _bump(self.dropped_by_rule, {d.drop.get("rule", "")})
            return
        if d.status == "added":
            self.chars_added += sum(len(op.after or "") for op in d.ops)
            return
        for op in d.ops:
            if op.kind == "-":
                self.paragraphs_removed += 1
                self.chars_removed += len(op.before or "")
                _bump(self.removed_by_rule, {d.reasons[i].get("rule", "") for i in op.reasons})
            elif op.kind == "+":
                self.paragraphs_added += 1
                self.chars_added += len(op.after or "")
            elif op.kind == "~":
                self.paragraphs_changed += 1
                for tag, text in op.words or []:
                    if tag == "-":
                        self.chars_removed += len(text)
                    elif tag == "+":
                        self.chars_added += len(text)
                _bump(self.changed_by_rule, {d.reasons[i].get("rule", "") for i in op.reasons})

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the summary."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _bump(counts: dict[str, int], rules: Iterable[str]) -> None:
    for rule in rules:
        if rule:
            counts[rule] = counts.get(rule, 0) + 1


# --- paragraph and word diffs ------------------------------------------------------------


def paragraph_key(text: str) -> str:
    """Return the comparison key of a paragraph: its lower-cased words only (not
    normalize.fold, which keeps punctuation for rules).

    Why: a paragraph whose quotes, spaces or mojibake were fixed is still the same
    paragraph, and should pair with its old self as a change.
    """
    return _NON_WORD.sub(" ", text.casefold()).strip()


def word_diff(before: str, after: str) -> list[Segment]:
    """Return the word-level segments turning `before` into `after` (merged runs)."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    out: list[Segment] = []

    def emit(tag: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == tag:
            out[-1] = (tag, out[-1][1] + text)
        else:
            out.append((tag, text))

    if len(a) == len(b):  # same shape (typical of normalization): compare token by token
        for x, y in zip(a, b, strict=True):
            if x == y:
                emit("=", x)
            else:
                emit("-", x)
                emit("+", y)
        if sum(tag != "=" for tag, _ in out) <= len(a) // 2:
            return _merge(out)
        out.clear()
    matcher = SequenceMatcher(None, a, b, autojunk=len(a) + len(b) > 400)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("=", "".join(a[i1:i2]))
        else:
            emit("-", "".join(a[i1:i2]))
            emit("+", "".join(b[j1:j2]))
    return _merge(out)


def _merge(segments: list[Segment]) -> list[Segment]:
    """Return segments where each replaced pair loses the characters both sides share.

    Tokens carry their trailing spaces, so "’ " -> "' " would highlight the space too;
    trimming the common prefix and suffix of a "-"/"+" pair highlights only the change.
    """
    out: list[Segment] = []

    def add(tag: str, text: str) -> None:
        if text:
            if out and out[-1][0] == tag:
                out[-1] = (tag, out[-1][1] + text)
            else:
                out.append((tag, text))

    k = 0
    while k < len(segments):
        tag, text = segments[k]
        if tag == "-" and k + 1 < len(segments) and segments[k + 1][0] == "+":
            old, new = text, segments[k + 1][1]
            p = _shared(old, new)
            q = _shared(old[p:][::-1], new[p:][::-1])
            add("=", old[:p])
            add("-", old[p : len(old) - q])
            add("+", new[p : len(new) - q])
            add("=", old[len(old) - q :])
            k += 2
            continue
        add(tag, text)
        k += 1
    return out


def _shared(a: str, b: str) -> int:
    """Return the length of the common prefix of two strings."""
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def paragraph_diff(before: list[str], after: list[str]) -> list[Op]:
    """Align two paragraph lists into ops: unchanged, removed, added and changed paragraphs."""
    fa, fb = [paragraph_key(p) for p in before], [paragraph_key(p) for p in after]
    ops: list[Op] = []
    i = j = 0
    for mi, mj in [*align(fa, fb), (len(fa), len(fb))]:
        if mi > i or mj > j:
            ops.extend(_replace_block(before[i:mi], after[j:mj], fa[i:mi], fb[j:mj]))
        if mi < len(fa):
            ops.append(_pair(before[mi], after[mj]))
        i, j = mi + 1, mj + 1
    return ops


# Below this many comparisons a gap is aligned by SequenceMatcher directly.
_SMALL_GAP = 4096


def align(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Return the index pairs of equal items kept in order (a patience diff).

    Why not SequenceMatcher alone: it rescans long ranges once per changed block, which
    is quadratic on long documents with many scattered removals. Patience diff anchors on
    items that occur once on each side (most paragraphs), keeps the longest increasing
    run of anchors (O(n log n)), and only aligns the small gaps between anchors fully.
    """
    pairs: list[tuple[int, int]] = []
    stack = [(0, len(a), 0, len(b))]
    while stack:
        a0, a1, b0, b1 = stack.pop()
        while a0 < a1 and b0 < b1 and a[a0] == b[b0]:  # common head
            pairs.append((a0, b0))
            a0, b0 = a0 + 1, b0 + 1
        while a0 < a1 and b0 < b1 and a[a1 - 1] == b[b1 - 1]:  # common tail
            a1, b1 = a1 - 1, b1 - 1
            pairs.append((a1, b1))
        if a0 == a1 or b0 == b1:
            continue
        if (a1 - a0) * (b1 - b0) <= _SMALL_GAP:
            matcher = SequenceMatcher(None, a[a0:a1], b[b0:b1], autojunk=False)
            for x, y, n in matcher.get_matching_blocks():
                pairs.extend((a0 + x + k, b0 + y + k) for k in range(n))
            continue
        anchors = _unique_anchors(a, a0, a1, b, b0, b1)
        if not anchors:  # nothing unique to anchor on: let SequenceMatcher (with autojunk) try
            matcher = SequenceMatcher(None, a[a0:a1], b[b0:b1])
            for x, y, n in matcher.get_matching_blocks():
                pairs.extend((a0 + x + k, b0 + y + k) for k in range(n))
            continue
        prev_a, prev_b = a0, b0
        for x, y in anchors:
            pairs.append((x, y))
            stack.append((prev_a, x, prev_b, y))
            prev_a, prev_b = x + 1, y + 1
        stack.append((prev_a, a1, prev_b, b1))
    pairs.sort()
    return pairs


def _unique_anchors(
    a: list[str], a0: int, a1: int, b: list[str], b0: int, b1: int
) -> list[tuple[int, int]]:
    """Return the longest increasing run of items that occur once in each range."""
    count_a = Counter(a[a0:a1])
    where_b: dict[str, int] = {}
    count_b: Counter[str] = Counter()
    for y in range(b0, b1):
        count_b[b[y]] += 1
        where_b[b[y]] = y
    candidates = [
        (x, where_b[a[x]]) for x in range(a0, a1) if count_a[a[x]] == 1 and count_b.get(a[x]) == 1
    ]
    # longest increasing subsequence by b index (patience sorting)
    tails: list[int] = []  # b index at the end of the best run of each length
    tail_at: list[int] = []  # candidate index of that end
    back: list[int] = []
    for k, (_, y) in enumerate(candidates):
        n = bisect.bisect_left(tails, y)
        if n == len(tails):
            tails.append(y)
            tail_at.append(k)
        else:
            tails[n], tail_at[n] = y, k
        back.append(tail_at[n - 1] if n else -1)
    run: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        run.append(candidates[k])
        k = back[k]
    return run[::-1]


def _pair(old: str, new: str) -> Op:
    if old == new:
        return Op("=", old, new)
    return Op("~", old, new, word_diff(old, new))


def _replace_block(olds: list[str], news: list[str], fo: list[str], fn: list[str]) -> list[Op]:
    """Pair paragraphs of a replaced block that share most words; the rest are removed/added."""
    ops: list[Op] = []
    words_new = [w.split() for w in fn]
    j = 0
    for i, old in enumerate(olds):
        words_old = fo[i].split()
        best, best_ratio = -1, _PAIR_RATIO
        for k in range(j, min(j + _PAIR_WINDOW, len(news))):
            ratio = SequenceMatcher(None, words_old, words_new[k], autojunk=False).quick_ratio()
            if ratio >= best_ratio and (ratio > best_ratio or best < 0):
                best, best_ratio = k, ratio
        if best < 0:
            ops.append(Op("-", old))
            continue
        ops.extend(Op("+", after=p) for p in news[j:best])
        ops.append(_pair(old, news[best]))
        j = best + 1
    ops.extend(Op("+", after=p) for p in news[j:])
    return ops


# --- one document ------------------------------------------------------------------------


def diff_document(
    doc_id: str,
    before: list[str] | None,
    after: list[str] | None,
    edits: Iterable[dict[str, Any]] = (),
    dropped: dict[str, Any] | None = None,
    *,
    rebuild: bool = False,
) -> DocDiff:
    """Diff one document and attach the audit's reasons to its paragraphs.

    `before` None means the document is new; `after` None means it was dropped (`dropped`
    is then its drop record, if known). With `rebuild`, an empty `before` (a run's HTML
    document, whose text before cleaning is markup) is rebuilt from `after` and the
    removal edits, so the page's text does not show as all new.
    """
    reasons = [e for e in edits if e.get("kind") != "drop"]
    if dropped is None:
        dropped = next((e for e in edits if e.get("kind") == "drop"), None)
    if rebuild and not before and after is not None:
        before = rebuild_before(after, reasons)
    if after is None:
        ops = [Op("-", p) for p in before or []]
        d = DocDiff(doc_id, "dropped", ops, reasons, drop=dropped)
        if dropped is not None:
            d.reasons.append(dropped)
        d.other = list(range(len(reasons)))
        return d
    if before is None:
        return DocDiff(doc_id, "added", [Op("+", after=p) for p in after], reasons)
    ops = paragraph_diff(before, after)
    status = "unchanged" if all(op.kind == "=" for op in ops) else "changed"
    d = DocDiff(doc_id, status, ops, reasons)
    attach_reasons(d)
    return d


def rebuild_before(after: list[str], edits: list[dict[str, Any]]) -> list[str]:
    """Rebuild the paragraphs before cleaning by undoing the recorded removals, newest first.

    One `Document.remove` call records its paragraphs in ascending order with indices into
    the list before that call, so a run of removals by one rule with ascending indices is
    undone as one batch (lowest index first); separate removals are undone newest first.
    """
    batches: list[list[dict[str, Any]]] = []
    for e in edits:
        if e.get("kind") not in _REMOVING or not e.get("before"):
            continue
        last = batches[-1][-1] if batches else None
        if (
            last is not None
            and (last.get("step"), last.get("rule")) == (e.get("step"), e.get("rule"))
            and _index(e) > _index(last) >= 0
        ):
            batches[-1].append(e)
        else:
            batches.append([e])
    paragraphs = list(after)
    for batch in reversed(batches):
        for e in batch:
            index = _index(e)
            index = len(paragraphs) if index < 0 else min(index, len(paragraphs))
            paragraphs.insert(index, e["before"])
    return paragraphs


def _index(edit: dict[str, Any]) -> int:
    index = edit.get("index", -1)
    return index if isinstance(index, int) else -1


def attach_reasons(d: DocDiff) -> None:
    """Give each removed or changed paragraph the audit records that explain it.

    A removal record claims the removed paragraph with the same text (or, failing that, the
    same folded text: it may have been rewritten before it was removed); a rewrite record
    (short form) claims the changed paragraph containing its before and after parts.
    """
    by_text: dict[str, list[int]] = {}
    by_fold: dict[str, list[int]] = {}
    rewrites: list[int] = []
    for i, r in enumerate(d.reasons):
        if r.get("kind") in _REMOVING and r.get("before"):
            by_text.setdefault(r["before"], []).append(i)
            by_fold.setdefault(paragraph_key(r["before"]), []).append(i)
        else:
            rewrites.append(i)
    used: set[int] = set()

    def take(pool: list[int] | None) -> int | None:
        while pool:
            i = pool.pop(0)
            if i not in used:
                used.add(i)
                return i
        return None

    for op in d.ops:
        if op.kind == "-" and op.before is not None:
            i = take(by_text.get(op.before))
            if i is None:
                i = take(by_fold.get(paragraph_key(op.before)))
            if i is not None:
                op.reasons.append(i)
    changed = [(j, op) for j, op in _after_positions(d.ops) if op.kind == "~"]
    # First the records made at this paragraph's final position (steps after the last
    # removal), then any record whose short form fits: a short form such as "’" -> "'"
    # fits many paragraphs, so position decides where it can.
    for exact in (True, False):
        for j, op in changed:
            for i in rewrites:
                r = d.reasons[i]
                if i in used or (exact and r.get("index") != j) or not _claims(r, op):
                    continue
                used.add(i)
                op.reasons.append(i)
    for _, op in changed:
        op.reasons.sort()
    d.other = [i for i in range(len(d.reasons)) if i not in used]


def _after_positions(ops: list[Op]) -> Iterator[tuple[int, Op]]:
    """Yield each op with its paragraph's position in the document after cleanup."""
    j = 0
    for op in ops:
        yield j, op
        j += op.kind != "-"


def _claims(record: dict[str, Any], op: Op) -> bool:
    """Tell whether a short-form rewrite record describes the changed paragraph `op`."""
    old = str(record.get("before", "")).rstrip("…")
    new = str(record.get("after", "")).rstrip("…")
    if not old and not new:
        return False
    return old in (op.before or "") and new in (op.after or "")


# --- two corpora -------------------------------------------------------------------------

_EXTENSION = re.compile(r"(\.[A-Za-z0-9]{1,6})?(\.(gz|zst))?$")


def path_key(path: str) -> str:
    """Return a path without its extension (and compression suffix): a.html and a.txt match."""
    return _EXTENSION.sub("", path, count=1) if path else path


def iter_audit(path: str) -> Iterator[dict[str, Any]]:
    """Yield the edit records of an audit JSONL file, naming file and line on a bad one."""
    try:
        fh = open_text(path)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read the audit: {exc.strerror or exc}") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(f"{path}:{lineno}: malformed audit line ({exc.msg})") from None
            if not isinstance(record, dict) or "id" not in record:
                raise BadInput(f"{path}:{lineno}: audit line is not an edit record with an id")
            yield record


def load_audit(path: str) -> dict[str, list[dict[str, Any]]]:
    """Read an audit JSONL file into records grouped by document id, in file order."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for record in iter_audit(path):
        grouped.setdefault(str(record["id"]), []).append(record)
    return grouped


def open_text(path: str) -> Any:
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding="utf-8")
    if path.endswith(".zst"):
        import io

        import zstandard

        raw = open(path, "rb")  # noqa: SIM115 - owned by the returned wrapper
        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
    return open(path, encoding="utf-8")


def document_paragraphs(doc: Document) -> list[str]:
    """Return a document's paragraphs for comparison (an HTML page: its visible text blocks)."""
    if doc.format == "html":
        return html_paragraphs(doc.raw or "")
    return list(doc.paragraphs)


_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe"}


def html_paragraphs(markup: str) -> list[str]:
    """Return the visible text of an HTML page, one paragraph per block of text.

    Why: a diff of cleaned text against raw markup would show every tag as a change;
    this shows what a reader of the page saw, so boilerplate that cleanup removed is
    visible as removed paragraphs. It is deliberately simple (no boilerplate detection).
    """
    if not markup.strip():
        return []
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return [p for p in (line.strip() for line in markup.splitlines()) if p]
    for el in list(root.iter(*_SKIP_TAGS, etree.Comment)):
        parent = el.getparent()
        if parent is not None:
            tail = el.tail
            parent.remove(el)
            if tail:  # keep the text that followed the removed element
                prev = parent[-1] if len(parent) else None
                if prev is not None:
                    prev.tail = (prev.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            out.append(text)
        current.clear()

    def walk(el: Any) -> None:
        block = isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS
        if block:
            flush()
        if el.tag == "br":
            flush()
        if el.text:
            current.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                current.append(child.tail)
        if block:
            flush()

    walk(root)
    flush()
    return out


_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "td", "th",
    "tr", "ul", "title", "caption",
}  # fmt: skip


def _keys(doc: Document) -> tuple[str, str]:
    """Return a document's exact key (its id) and its loose key (path without extension)."""
    if doc.format == "jsonl":
        return doc.id, path_key(doc.id)
    return doc.id, path_key(doc.relpath or doc.id)


def diff_corpora(
    before: Iterable[Document],
    after: Iterable[Document],
    audit: dict[str, list[dict[str, Any]]] | None = None,
) -> Iterator[DocDiff]:
    """Yield the diff of every document of two corpora, matched by id or by path.

    A document of AFTER matches the BEFORE document with the same id; failing that, the
    one with the same relative path without extension (a.html before, a.txt after), when
    that is unique. Matched documents come in AFTER's order; then BEFORE's documents that
    AFTER lacks (dropped). BEFORE is held in memory; AFTER streams.
    """
    audit = audit or {}
    olds: dict[str, Document] = {}
    loose: dict[str, list[str]] = {}
    for doc in before:
        exact, key = _keys(doc)
        if exact in olds:
            raise BadInput(f"{doc.location}: id {exact!r} appears twice in BEFORE")
        olds[exact] = doc
        loose.setdefault(key, []).append(exact)
    for doc in after:
        exact, key = _keys(doc)
        match = exact if exact in olds else None
        if match is None:
            candidates = [c for c in loose.get(key, []) if c in olds]
            match = candidates[0] if len(candidates) == 1 else None
        edits = audit.get(doc.id, []) + (audit.get(match, []) if match and match != doc.id else [])
        if match is None:
            d = diff_document(doc.id, None, document_paragraphs(doc), edits)
            d.after_name = doc.location
            yield d
            continue
        old = olds.pop(match)
        d = diff_document(doc.id, document_paragraphs(old), document_paragraphs(doc), edits)
        d.before_name, d.after_name = old.location, doc.location
        yield d
    for exact, old in olds.items():
        d = diff_document(exact, document_paragraphs(old), None, audit.get(exact, []))
        d.before_name = old.location
        yield d
