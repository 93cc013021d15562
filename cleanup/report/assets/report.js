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
