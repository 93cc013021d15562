"""Write the HTML review page: one self-contained file, usable with tens of thousands of documents.

The page has a summary table, a bar chart of edits per rule, a paginated list of documents
(searchable by id, filterable by rule and status) and a viewer showing one document at a
time with removed parts struck through and labelled with their rule. Documents are embedded
as JSON lines and turned into DOM nodes only when shown, so the page load does not grow a
node per paragraph of the corpus. Documents are spooled to a temporary file while a run
streams, so memory holds only the small per-document index.

All data reaches the page as JSON inside non-executed script elements, with `<`, `>` and `&`
escaped, and is inserted with `textContent`: document text cannot inject markup or script.
"""

from __future__ import annotations

import contextlib
import html
import json
import tempfile
import time
from collections import Counter
from importlib import resources
from typing import Any, TextIO

from cleanup import __version__
from cleanup.io.writers import AtomicFile
from cleanup.report.diff import DiffSummary, DocDiff, diff_document

_OPS_WITH_TEXT = {"=": "before", "-": "before", "+": "after"}
_JSON_ESCAPES = (
    ("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)  # fmt: skip


def script_json(value: Any) -> str:
    """Return JSON safe to embed inside a <script> element (no `</script>`, no `<!--`)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _JSON_ESCAPES:  # str.replace is C speed; translate with a dict is not
        if char in text:
            text = text.replace(char, escape)
    return text


class HtmlReport:
    """Build the HTML report document by document, then write it atomically on close.

    >>> rep = HtmlReport("report.html")  # doctest: +SKIP
    >>> rep.add("a.txt", ["Hello", "Share this"], ["Hello"], edits)  # doctest: +SKIP
    >>> rep.close({"documents_in": 1})  # doctest: +SKIP

    `path` "-" (or `out`) writes to a stream instead of a file. `max_docs` caps what the
    page holds: at most that many documents with changes in full (the first ones, in input
    order) and that many unchanged ones listed; the others are only counted, so the page
    and the memory held stay bounded however long the run.
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        out: TextIO | None = None,
        title: str = "cleanup report",
        max_docs: int | None = None,
    ) -> None:
        if path is None and out is None:
            raise ValueError("HtmlReport needs a path or an output stream")
        self.path = path
        self.out = out
        self.title = title
        self.stats = DiffSummary()
        self.rule_counts: dict[str, Counter[str]] = {}
        self.index: list[list[Any]] = []
        self.rule_ids: dict[str, int] = {}
        self._shared: dict[str, int] = {}
        self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._lines = 0
        self._closed = False
        self.max_docs = max_docs
        self.seen = Counter[str]()  # documents by kind: "full" (changes or edits), "plain"
        self.listed = Counter[str]()
        self.removed_in_dropped = 0  # removal edits of documents dropped later

    def add(
        self,
        doc_id: str,
        before: list[str],
        after: list[str] | None,
        edits: list[dict[str, Any]],
        dropped: dict[str, Any] | None = None,
    ) -> None:
        """Add one document: its paragraphs before and after (None: dropped) and its edits.

        An empty `before` (the runner has no paragraphs for an HTML page before strip-html)
        is rebuilt from `after` and the removal edits.
        """
        self.add_diff(diff_document(doc_id, before, after, edits, dropped, rebuild=True))

    def add_diff(self, d: DocDiff) -> None:
        """Add one already computed document diff: count it, and list it if the cap allows."""
        self.stats.add(d)
        for record in d.reasons:
            kind = _kind(record)
            self.rule_counts.setdefault(str(record.get("rule", "")), Counter())[kind] += 1
            if kind == "removed" and d.status == "dropped":
                self.removed_in_dropped += 1
        rules = sorted({self._rule_id(str(r.get("rule", ""))) for r in d.reasons})  # all rules
        full = d.different or bool(d.reasons)
        group = "full" if full else "plain"
        self.seen[group] += 1
        if self.max_docs is not None and self.listed[group] >= self.max_docs:
            return
        self.listed[group] += 1
        line = -1
        if full:
            self._spool.write(script_json(compact(d, self._shared)) + "\n")
            line = self._lines
            self._lines += 1
        self.index.append([d.id, d.status, d.count("-"), d.count("~"), d.count("+"), rules, line])

    def _rule_id(self, rule: str) -> int:
        return self.rule_ids.setdefault(rule, len(self.rule_ids))

    def close(self, summary: dict[str, Any] | None = None) -> None:
        """Write the page (atomically when writing a file) and release the spool."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.out is not None or self.path == "-":
                import sys

                self._write(self.out or sys.stdout, summary or {})
            else:
                assert self.path is not None
                target = AtomicFile(self.path)
                try:
                    self._write(target, summary or {})
                except BaseException:
                    target.abort()
                    raise
                target.commit()
        finally:
            self._spool.close()

    def abort(self) -> None:
        """Drop the report without writing anything (the run failed)."""
        self._closed = True
        with contextlib.suppress(OSError):
            self._spool.close()

    def _write(self, out: Any, summary: dict[str, Any]) -> None:
        w = out.write
        w(_HEAD.replace("{title}", html.escape(self.title)).replace("{css}", asset("report.css")))
        w(f"<header><h1>{html.escape(self.title)}</h1><p class=meta>cleanup {__version__}, "
          f"{html.escape(time.strftime('%Y-%m-%d %H:%M:%S'))}</p></header>\n")  # fmt: skip
        w(summary_html(self.stats, summary, self.removed_in_dropped))
        w(chart_html(self.rule_counts))
        w(_BROWSER.replace("{cap}", cap_note(self.seen, self.listed)))
        rules = sorted(self.rule_ids, key=self.rule_ids.__getitem__)
        w('<script type="application/json" id="cleanup-index">')
        shared = [json.loads(k) for k in sorted(self._shared, key=self._shared.__getitem__)]
        w(script_json({"rules": rules, "reasons": shared, "docs": self.index}))
        w('</script>\n<script type="application/x-ndjson" id="cleanup-docs">')
        self._spool.seek(0)
        for line in self._spool:
            w(line)
        w("</script>\n<script>" + asset("report.js") + "</script>\n</body>\n</html>\n")


def compact(d: DocDiff, shared: dict[str, int] | None = None) -> dict[str, Any]:
    """Return the compact JSON form of a document for the page (ops as short arrays).

    A reason with nothing document-specific (no detail, no text) is the same for every
    paragraph a rule touches: with `shared`, it is stored once for the page and referred
    to by number, which keeps large reports about a fifth smaller.
    """
    ops: list[list[Any]] = []
    for op in d.ops:
        body: Any = [list(s) for s in op.words or []] if op.kind == "~" else (
            getattr(op, _OPS_WITH_TEXT[op.kind]))  # fmt: skip
        ops.append([op.kind, body, op.reasons] if op.reasons else [op.kind, body])
    keep_text = set(d.other)
    reasons: list[int | dict[str, Any]] = []
    for i, r in enumerate(d.reasons):
        item = {k: r[k] for k in ("step", "rule", "why", "kind", "detail") if r.get(k)}
        if i in keep_text:
            item.update({k: r[k] for k in ("before", "after") if r.get(k)})
        if shared is not None and not item.keys() & {"detail", "before", "after"}:
            reasons.append(shared.setdefault(json.dumps(item, sort_keys=True), len(shared)))
        else:
            reasons.append(item)
    out: dict[str, Any] = {"id": d.id, "st": d.status, "ops": ops, "rs": reasons}
    if d.other:
        out["other"] = d.other
    if d.drop is not None:
        out["drop"] = {k: d.drop[k] for k in ("step", "rule", "why", "detail") if d.drop.get(k)}
    return out


def _kind(record: dict[str, Any]) -> str:
    """Return the chart's kind of an edit record: removed (moves too), dropped or rewritten."""
    kind = str(record.get("kind", "rewrite"))
    return "dropped" if kind == "drop" else "removed" if kind in ("remove", "move") else "rewritten"


# The run summary's figures under the words of its one-line summary; "paragraphs removed"
# counts every removal edit, in documents kept or dropped later (moves to metadata too).
_RUN_LABELS = {
    "documents_in": "Documents in",
    "documents_out": "Documents out",
    "documents_dropped": "Documents dropped",
    "paragraphs_removed": "Paragraphs removed, all documents",
    "bad_input_skipped": "Bad inputs skipped",
}


def summary_html(s: DiffSummary, run: dict[str, Any], removed_in_dropped: int = 0) -> str:
    """Return the summary section: what differs, then the run's own figures when given.

    The diff's paragraph figures are those of documents kept (on both sides); the run's
    "paragraphs removed" also counts removals in documents dropped later, so the page
    names the two differently and shows the part that tells them apart.
    """
    rows = [
        ("Documents", f"{s.changed:,} changed · {s.unchanged:,} unchanged · "
                      f"{s.dropped:,} dropped · {s.added:,} added"),
        ("Paragraphs, kept documents", f"{s.paragraphs_removed:,} removed · "
                       f"{s.paragraphs_changed:,} changed · {s.paragraphs_added:,} added"),
        ("Characters, dropped documents included",
         f"{s.chars_removed:,} removed · {s.chars_added:,} added"),
    ]  # fmt: skip
    run_rows = []
    for key, value in run.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        shown = f"{value:,.2f}" if isinstance(value, float) else (
            f"{value:,}" if isinstance(value, int) else value)  # fmt: skip
        run_rows.append((_RUN_LABELS.get(key, key.replace("_", " ").capitalize()), shown))
        if key == "paragraphs_removed":
            run_rows.append(("Paragraphs removed, documents dropped later",
                             f"{removed_in_dropped:,}"))  # fmt: skip
    out = f"<section id=summary><div class=tables><div><h2>Changes</h2>{_table(rows)}</div>"
    if run_rows:
        out += f"<div><h2>Run</h2>{_table(run_rows)}</div>"
    out += "</div><p class=meta>Removed paragraphs include those moved to the metadata.</p>"
    return out + "</section>\n"


def cap_note(seen: Counter[str], listed: Counter[str]) -> str:
    """Return the sentences saying which documents the page leaves out (empty: none)."""
    parts = []
    if listed["full"] < seen["full"]:
        parts.append(f"Showing {listed['full']:,} of {seen['full']:,} documents with changes "
                     f"or edits; the other {seen['full'] - listed['full']:,} are counted in "
                     "the totals above but not listed.")  # fmt: skip
    if listed["plain"] < seen["plain"]:
        parts.append(f"Listing {listed['plain']:,} of {seen['plain']:,} unchanged documents.")
    if not parts:
        return ""
    text = " ".join([*parts, "Raise --report-max-docs to list more."])
    return f"<p class=cap id=cap>{html.escape(text)}</p>\n"


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class=summary>{body}</table>"


def chart_html(rule_counts: dict[str, Counter[str]]) -> str:
    """Return the bar chart of edits per rule (CSS bars; a click filters the documents)."""
    if not rule_counts:
        return "<section id=chart><h2>Edits per rule</h2><p>No edits recorded.</p></section>\n"
    kinds = ("removed", "dropped", "rewritten")
    order = sorted(rule_counts.items(),
                   key=lambda kv: (-(kv[1]["removed"] + kv[1]["dropped"]), -kv[1]["rewritten"],
                                   kv[0]))  # fmt: skip
    top = max(sum(c.values()) for _, c in order) or 1
    rows = []
    for rule, counts in order:
        bars = "".join(
            f'<span class="bar {k}" style="width:{100 * counts[k] / top:.2f}%" '
            f'title="{counts[k]:,} {k}"></span>'
            for k in kinds
            if counts[k]
        )
        label = ", ".join(_counted(counts[k], k) for k in kinds if counts[k])
        rows.append(
            f'<tr><th><button type=button class=rule-filter data-rule="{html.escape(rule)}">'
            f"{html.escape(rule or '(no rule)')}</button></th>"
            f"<td class=bars>{bars}</td><td class=num>{html.escape(label)}</td></tr>"
        )
    legend = "".join(f'<span class="key {k}"></span>{_KIND_WORDS[k]} ' for k in kinds)
    return (f"<section id=chart><h2>Edits per rule, all documents</h2><p class=legend>{legend}</p>"
            f"<table class=chart>{''.join(rows)}</table></section>\n")  # fmt: skip


_KIND_WORDS = {
    "removed": "paragraphs removed",
    "dropped": "documents dropped",
    "rewritten": "rewrites",
}
_KIND_WORD = {"removed": "paragraph removed", "dropped": "document dropped", "rewritten": "rewrite"}


def _counted(n: int, kind: str) -> str:
    return f"{n:,} {(_KIND_WORD if n == 1 else _KIND_WORDS)[kind]}"


_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
"""  # noqa: E501

_BROWSER = """<section id=documents>
<h2>Documents</h2>
{cap}<div class=controls>
<input id=search type=search placeholder="Search by id" aria-label="Search documents by id">
<select id=rule aria-label="Filter by rule"><option value="">all rules</option></select>
<select id=status aria-label="Filter by status">
<option value=differing>changed, dropped or added</option><option value=all>all documents</option>
<option value=changed>changed</option><option value=dropped>dropped</option>
<option value=added>added</option><option value=unchanged>unchanged</option></select>
<button type=button id=prev>&larr;</button><span id=page></span>
<button type=button id=next>&rarr;</button>
</div>
<div class=list><table class=docs><thead><tr><th>Document</th><th>Status</th>
<th class=num>removed</th><th class=num>changed</th><th class=num>added</th></tr></thead>
<tbody id=list></tbody></table></div>
<div id=viewer><p class=empty>Select a document.</p></div>
</section>
<noscript><p>The document browser needs JavaScript; the summary above does not.</p></noscript>
"""


def asset(name: str) -> str:
    """Return one of the page's assets (report.css, report.js), read from the package's data.

    Why files: the style and the script are edited as CSS and JavaScript, and the module
    stays about the report's data; the page still inlines them, so it is one file.
    """
    text = (
        resources.files("cleanup.report")
        .joinpath("assets")
        .joinpath(name)
        .read_text(encoding="utf-8")
    )
    if "</" in text or "<!--" in text:  # inlined: either would end or confuse the element
        raise ValueError(f"report asset {name} contains '</' or '<!--'")
    return text
