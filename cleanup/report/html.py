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

    `path` "-" (or `out`) writes to a stream instead of a file.
    """

    def __init__(
        self, path: str | None = None, *, out: TextIO | None = None, title: str = "cleanup report"
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
        """Add one already computed document diff."""
        self.stats.add(d)
        for record in d.reasons:
            kind = str(record.get("kind", "rewrite"))
            counts = self.rule_counts.setdefault(str(record.get("rule", "")), Counter())
            counts["dropped" if kind == "drop" else "removed" if kind in ("remove", "move") else
                   "rewritten"] += 1  # fmt: skip
        rules = sorted({self._rule_id(str(r.get("rule", ""))) for r in d.reasons})
        line = -1
        if d.different or d.reasons:
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
        w(_HEAD.replace("{title}", html.escape(self.title)).replace("{css}", _CSS))
        w(f"<header><h1>{html.escape(self.title)}</h1><p class=meta>cleanup {__version__}, "
          f"{html.escape(time.strftime('%Y-%m-%d %H:%M:%S'))}</p></header>\n")  # fmt: skip
        w(summary_html(self.stats, summary))
        w(chart_html(self.rule_counts))
        w(_BROWSER)
        rules = sorted(self.rule_ids, key=self.rule_ids.__getitem__)
        w('<script type="application/json" id="cleanup-index">')
        shared = [json.loads(k) for k in sorted(self._shared, key=self._shared.__getitem__)]
        w(script_json({"rules": rules, "reasons": shared, "docs": self.index}))
        w('</script>\n<script type="application/x-ndjson" id="cleanup-docs">')
        self._spool.seek(0)
        for line in self._spool:
            w(line)
        w("</script>\n<script>" + _JS + "</script>\n</body>\n</html>\n")


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
    reasons = []
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


def summary_html(s: DiffSummary, run: dict[str, Any]) -> str:
    """Return the summary section: what differs, then the run's own figures when given."""
    rows = [
        ("Documents", f"{s.changed:,} changed · {s.unchanged:,} unchanged · "
                      f"{s.dropped:,} dropped · {s.added:,} added"),
        ("Paragraphs", f"{s.paragraphs_removed:,} removed or moved · "
                       f"{s.paragraphs_changed:,} changed · {s.paragraphs_added:,} added"),
        ("Characters", f"{s.chars_removed:,} removed · {s.chars_added:,} added"),
    ]  # fmt: skip
    run_rows = []
    for key, value in run.items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        shown = f"{value:,.2f}" if isinstance(value, float) else (
            f"{value:,}" if isinstance(value, int) else value)  # fmt: skip
        run_rows.append((key.replace("_", " ").capitalize(), shown))
    out = f"<section id=summary><div class=tables><div><h2>Summary</h2>{_table(rows)}</div>"
    if run_rows:
        out += f"<div><h2>Run</h2>{_table(run_rows)}</div>"
    return out + "</div></section>\n"


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
    return (f"<section id=chart><h2>Edits per rule</h2><p class=legend>{legend}</p>"
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

_CSS = """
:root{--rm:#b42318;--rmbg:#fde8e7;--add:#067647;--addbg:#e3f8ec;--ch:#b54708;--mute:#667085;
--line:#e4e7ec;--accent:#1849a9}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;
padding:0 1.5rem 4rem;color:#101828}
h1{font-size:1.5rem;margin:1.2rem 0 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .3rem}
.meta{color:var(--mute);margin:.2rem 0}
table{border-collapse:collapse}
#summary .tables{display:flex;flex-wrap:wrap;column-gap:4rem}
table.summary th{text-align:left;padding:.2rem 1.2rem .2rem 0;font-weight:600}
table.summary td{padding:.2rem 0}
table.chart{width:100%}
table.chart th{text-align:left;width:1%;white-space:nowrap;padding:.15rem .8rem .15rem 0}
table.chart td.bars{width:60%;padding:.15rem 0}
table.chart td.num{color:var(--mute);padding-left:.8rem;white-space:nowrap;font-size:.85rem}
.bar{display:inline-block;height:1rem;vertical-align:middle;min-width:2px}
.bar.removed,.key.removed{background:var(--rm)}.bar.dropped,.key.dropped{background:#344054}
.bar.rewritten,.key.rewritten{background:#f79009}
.key{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem;vertical-align:-1px}
.legend{margin:.2rem 0 .5rem;font-size:.85rem;color:var(--mute)}
button.rule-filter{font:inherit;font-family:ui-monospace,monospace;font-size:.85rem;background:none;
border:0;padding:0;color:var(--accent);cursor:pointer}
.controls{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin:.5rem 0}
.controls input,.controls select,.controls button{font:inherit;padding:.25rem .5rem}
.controls input{min-width:18rem}
.list{max-height:21rem;overflow:auto;border-bottom:1px solid var(--line)}
table.docs{width:100%;font-size:.9rem}
table.docs thead th{position:sticky;top:0;background:#fff}
table.docs th,table.docs td{border-bottom:1px solid var(--line);padding:.25rem .5rem;
text-align:left}
table.docs td.num{text-align:right;font-variant-numeric:tabular-nums;width:4.5rem}
table.docs tbody tr{cursor:pointer}table.docs tbody tr:hover{background:#f2f4f7}
table.docs tr.current{background:#eff4ff}
td.id{font-family:ui-monospace,monospace;word-break:break-all}
.st{font-size:.8rem;padding:0 .4rem;border-radius:.6rem;background:#f2f4f7}
.st.dropped{background:#344054;color:#fff}.st.added{background:var(--addbg)}
#viewer{margin-top:1rem;border-top:2px solid var(--line)}
#viewer h3{font-family:ui-monospace,monospace;font-size:1rem;word-break:break-all}
.p{white-space:pre-wrap;margin:.35rem 0;padding:.2rem .6rem;border-left:3px solid transparent}
.p.rm{border-color:var(--rm);background:var(--rmbg)}
.p.rm del{color:var(--rm)}
.p.add{border-color:var(--add);background:var(--addbg)}
.p.add ins{text-decoration:none}
.p.ch{border-color:var(--ch)}
.p.ch del{background:var(--rmbg);color:var(--rm)}
.p.ch ins{background:var(--addbg);color:var(--add);text-decoration:none}
.p.dim{opacity:.35}
.rule-label{display:inline-block;margin-left:.5rem;padding:0 .45rem;border-radius:.6rem;
background:#fff;border:1px solid currentColor;font:600 .75rem/1.4 ui-monospace,monospace;
color:var(--rm);white-space:nowrap;cursor:help}
.p.ch .rule-label{color:var(--ch)}
.why{display:block;font-size:.8rem;color:var(--mute);white-space:normal}
button.more{font:inherit;font-size:.85rem;color:var(--accent);background:none;
border:1px dashed var(--line);width:100%;padding:.2rem;cursor:pointer;margin:.3rem 0}
.banner{padding:.5rem .8rem;background:#344054;color:#fff;border-radius:.3rem}
.other li{font-size:.9rem}
.empty{color:var(--mute)}
"""

_BROWSER = """<section id=documents>
<h2>Documents</h2>
<div class=controls>
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

_JS = r"""
(function () {
  "use strict";
  var PAGE = 50, CONTEXT = 2;
  var data = JSON.parse(document.getElementById("cleanup-index").textContent);
  var rules = data.rules, docs = data.docs, lines = null;
  var state = { q: "", rule: "", status: "differing", page: 0, shown: [], current: null };
  var byId = Object.create(null);
  docs.forEach(function (d) { byId[d[0]] = d; });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function load(line) {
    if (lines === null) lines = document.getElementById("cleanup-docs").textContent.split("\n");
    return JSON.parse(lines[line]);
  }
  function detail(d) {
    if (!d) return "";
    var parts = [];
    if ("duplicate_of" in d) {
      var target = typeof d.duplicate_of === "number" ? "paragraph " + (d.duplicate_of + 1) :
        String(d.duplicate_of);
      if (d.duplicate_text) target += " (\"" + d.duplicate_text + "\u2026\")";
      parts.push("duplicate of " + target);
    }
    if ("similarity" in d) {
      var sim = d.similarity;
      parts.push("similarity " + (typeof sim === "number" ? sim.toFixed(2) : sim));
    }
    Object.keys(d).forEach(function (k) {
      if (["duplicate_of", "duplicate_text", "similarity"].indexOf(k) < 0) {
        parts.push(k + " " + JSON.stringify(d[k]));
      }
    });
    return parts.join(", ");
  }
  function describe(r) {
    var rule = r.rule || "?", step = r.step || "";
    var label = !step || rule.indexOf(step) === 0 ? rule : step + "/" + rule;
    var text = r.why ? label + ": " + r.why : label;
    var more = detail(r.detail);
    return more ? text + " (" + more + ")" : text;
  }

  var ruleSelect = document.getElementById("rule");
  rules.slice().sort().forEach(function (r) {
    var o = el("option", null, r || "(no rule)"); o.value = r; ruleSelect.appendChild(o);
  });

  function matches(d) {
    var st = state.status;
    if (st === "differing" ? d[1] === "unchanged" : st !== "all" && d[1] !== st) return false;
    if (state.rule !== "" && d[5].indexOf(rules.indexOf(state.rule)) < 0) return false;
    return !state.q || d[0].toLowerCase().indexOf(state.q) >= 0;
  }
  function refresh(keepPage) {
    state.shown = docs.filter(matches);
    if (!keepPage) state.page = 0;
    renderList();
    if (state.shown.length && (!state.current || !matches(state.current))) show(state.shown[0]);
    if (!state.shown.length) {
      var v = document.getElementById("viewer"); v.textContent = "";
      v.appendChild(el("p", "empty", "No document matches."));
      state.current = null;
      writeHash();
    }
  }
  function renderList() {
    var tbody = document.getElementById("list"), n = state.shown.length;
    var pages = Math.max(1, Math.ceil(n / PAGE));
    state.page = Math.min(state.page, pages - 1);
    tbody.textContent = "";
    state.shown.slice(state.page * PAGE, state.page * PAGE + PAGE).forEach(function (d) {
      var tr = el("tr");
      if (d === state.current) tr.className = "current";
      tr.appendChild(el("td", "id", d[0]));
      var st = el("td"); st.appendChild(el("span", "st " + d[1], d[1])); tr.appendChild(st);
      tr.appendChild(el("td", "num", d[2])); tr.appendChild(el("td", "num", d[3]));
      tr.appendChild(el("td", "num", d[4]));
      tr.addEventListener("click", function () { show(d); });
      tbody.appendChild(tr);
    });
    var first = state.page * PAGE;
    document.getElementById("page").textContent = n ?
      (first + 1) + "\u2013" + Math.min(n, first + PAGE) + " of " + n : "0 of 0";
    document.getElementById("prev").disabled = state.page === 0;
    document.getElementById("next").disabled = state.page >= pages - 1;
  }

  function labels(box, ids, reasons) {
    var rulesSeen = [], count = {}, whys = [];
    ids.forEach(function (i) {
      var r = reasons[i], why = describe(r);
      var rule = (r.rule || "?") + (r.kind === "move" ? " (moved)" : "");
      if (!(rule in count)) { rulesSeen.push(rule); count[rule] = 0; }
      count[rule]++;
      if (whys.indexOf(why) < 0) whys.push(why);
    });
    rulesSeen.forEach(function (rule) {
      var tag = el("span", "rule-label", count[rule] > 1 ? rule + " \u00d7" + count[rule] : rule);
      tag.title = whys.join("\n");
      box.appendChild(tag);
    });
    if (box.className.indexOf(" rm") >= 0) {  // a changed paragraph explains itself on hover
      whys.forEach(function (why) { box.appendChild(el("span", "why", why)); });
    }
  }
  function paragraph(op, reasons) {
    var kind = op[0], box;
    if (kind === "-") { box = el("div", "p rm"); box.appendChild(el("del", null, op[1])); }
    else if (kind === "+") { box = el("div", "p add"); box.appendChild(el("ins", null, op[1])); }
    else if (kind === "~") {
      box = el("div", "p ch");
      op[1].forEach(function (s) {
        box.appendChild(s[0] === "=" ? document.createTextNode(s[1]) :
          el(s[0] === "-" ? "del" : "ins", null, s[1]));
      });
    } else box = el("div", "p", op[1]);
    var ids = op[2] || [];
    labels(box, ids, reasons);
    if (state.rule !== "" && kind !== "=" &&
        !ids.some(function (i) { return reasons[i].rule === state.rule; })) box.className += " dim";
    return box;
  }
  function renderOps(box, ops, reasons) {
    var k = 0;
    while (k < ops.length) {
      if (ops[k][0] !== "=") { box.appendChild(paragraph(ops[k], reasons)); k++; continue; }
      var end = k; while (end < ops.length && ops[end][0] === "=") end++;
      var head = k === 0 ? 0 : CONTEXT, tail = end === ops.length ? 0 : CONTEXT;
      if (end - k > head + tail + 1) {
        for (var a = k; a < k + head; a++) box.appendChild(paragraph(ops[a], reasons));
        var hidden = ops.slice(k + head, end - tail);
        var more = el("button", "more", "show " + hidden.length + " unchanged paragraph" +
          (hidden.length > 1 ? "s" : ""));
        more.type = "button";
        (function (btn, run) {
          btn.addEventListener("click", function () {
            var frag = document.createDocumentFragment();
            run.forEach(function (o) { frag.appendChild(paragraph(o, reasons)); });
            btn.replaceWith(frag);
          });
        })(more, hidden);
        box.appendChild(more);
        for (var b = end - tail; b < end; b++) box.appendChild(paragraph(ops[b], reasons));
      } else {
        for (var c = k; c < end; c++) box.appendChild(paragraph(ops[c], reasons));
      }
      k = end;
    }
  }
  function show(d) {
    state.current = d;
    var at = state.shown.indexOf(d);
    if (at >= 0) state.page = Math.floor(at / PAGE);
    renderList();
    var v = document.getElementById("viewer");
    v.textContent = "";
    v.appendChild(el("h3", null, d[0]));
    if (d[6] < 0) { v.appendChild(el("p", "empty", "Unchanged.")); return; }
    var doc = load(d[6]);
    doc.rs = doc.rs.map(function (r) { return typeof r === "number" ? data.reasons[r] : r; });
    if (doc.drop) v.appendChild(el("p", "banner", "Dropped: " + describe(doc.drop)));
    if (doc.st === "added") v.appendChild(el("p", "banner", "Not in the input: a new document."));
    var body = el("div", "text");
    renderOps(body, doc.ops, doc.rs);
    v.appendChild(body);
    if (doc.other && doc.other.length) {
      v.appendChild(el("h4", null, "Other edits"));
      var ul = el("ul", "other");
      doc.other.forEach(function (i) {
        var r = doc.rs[i], li = el("li", null, describe(r));
        if (r.before || r.after) {
          var change = JSON.stringify(r.before || "") + " \u2192 " + JSON.stringify(r.after || "");
          li.appendChild(el("span", "why", change));
        }
        ul.appendChild(li);
      });
      v.appendChild(ul);
    }
    writeHash();
  }

  // The address keeps the view (#doc=ID&rule=R&q=TEXT&status=S), so it can be shared or reloaded.
  function writeHash() {
    var p = new URLSearchParams();
    if (state.current) p.set("doc", state.current[0]);
    if (state.rule) p.set("rule", state.rule);
    if (state.q) p.set("q", state.q);
    if (state.status !== "differing") p.set("status", state.status);
    try {
      history.replaceState(null, "", "#" + p.toString());
    } catch (e) { /* some file: URLs refuse; the address is only a convenience */ }
  }

  document.getElementById("search").addEventListener("input", function (e) {
    state.q = e.target.value.trim().toLowerCase(); refresh();
  });
  document.getElementById("search").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && byId[e.target.value.trim()]) show(byId[e.target.value.trim()]);
  });
  function on(id, event, fn) { document.getElementById(id).addEventListener(event, fn); }
  function setRule(rule) {
    ruleSelect.value = rule; state.rule = ruleSelect.value; state.current = null;
  }
  on("rule", "change", function () { setRule(ruleSelect.value); refresh(); });
  on("status", "change", function (e) { state.status = e.target.value; refresh(); });
  on("prev", "click", function () { state.page--; renderList(); });
  on("next", "click", function () { state.page++; renderList(); });
  Array.prototype.forEach.call(document.querySelectorAll("button.rule-filter"), function (b) {
    b.addEventListener("click", function () {
      setRule(b.getAttribute("data-rule"));
      refresh(); document.getElementById("documents").scrollIntoView();
    });
  });
  var wanted = new URLSearchParams(location.hash.slice(1));
  state.q = (wanted.get("q") || "").trim().toLowerCase();
  document.getElementById("search").value = wanted.get("q") || "";
  if (wanted.get("rule") !== null && rules.indexOf(wanted.get("rule")) >= 0) {
    setRule(wanted.get("rule"));
  }
  var statusSelect = document.getElementById("status");
  statusSelect.value = wanted.get("status") || "differing";
  if (!statusSelect.value) statusSelect.value = "differing";
  state.status = statusSelect.value;
  refresh();
  var doc = wanted.get("doc");
  if (doc !== null && byId[doc]) show(byId[doc]);
  writeHash();
})();
"""
