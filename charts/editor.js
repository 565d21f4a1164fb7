/* ofsted-kg SPARQL editor: pick a named query, set its parameters or edit it, run it on this server, see the rows.
   The queries come as JSON in #graph-data. Every value shown goes into the page as text (textContent), never as
   HTML; links are made only to this server's own pages. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var MAX_SHOWN = 2000;  // rows drawn in the table; the count says how many came
  var picker = document.getElementById("query-name");
  var description = document.getElementById("query-description");
  var paramsBox = document.getElementById("params");
  var text = document.getElementById("query-text");
  var runButton = document.getElementById("run");
  var status = document.getElementById("status");
  var results = document.getElementById("results");
  var byName = {};
  var current = null;  // the named query picked, or null
  var inputs = {};

  data.queries.forEach(function (q) { byName[q.name] = q; });

  function el(tag, content, parent, cls) {
    var e = document.createElement(tag);
    if (content !== null && content !== undefined) { e.textContent = content; }
    if (cls) { e.className = cls; }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function edited() { return current !== null && text.value !== current.text; }

  function showParams() {
    paramsBox.textContent = "";
    inputs = {};
    if (!current) { return; }
    if (!current.params.length) { el("span", "No parameters.", paramsBox, "hint"); }
    current.params.forEach(function (p) {
      var label = el("label", p.name + " ", paramsBox);
      label.title = p.type + ": " + p.description;
      var input = el("input", null, label);
      input.type = "text";
      input.size = 14;
      input.name = p.name;
      input.value = p.default === null ? "" : p.default;
      input.placeholder = p.default === null ? "any (" + p.type + ")" : p.type;
      input.setAttribute("data-param", p.name);
      inputs[p.name] = input;
    });
    el("span", "", paramsBox, "hint edited-note");
    markEdited();
  }

  function markEdited() {
    var note = paramsBox.querySelector(".edited-note");
    var off = edited();
    Object.keys(inputs).forEach(function (k) { inputs[k].disabled = off; });
    if (note) {
      note.textContent = off ? "Edited: this text runs at /sparql as written, without these parameters " +
        "(bind values in the text, e.g. VALUES ?name { 3 })." : "";
    }
  }

  function pick(name) {
    current = byName[name] || null;
    picker.value = current ? current.name : "";
    description.textContent = current ? current.description : "Write any SELECT, ASK, CONSTRUCT or DESCRIBE query.";
    if (current) { text.value = current.text; }
    if (current && location.hash !== "#" + current.name) { history.replaceState(null, "", "#" + current.name); }
    showParams();
    results.textContent = "";
    status.textContent = "";
  }

  // ------------------------------------------------------------------ running
  function request() {
    if (current && !edited()) {
      var params = new URLSearchParams();
      Object.keys(inputs).forEach(function (k) { if (inputs[k].value.trim() !== "") { params.append(k, inputs[k].value.trim()); } });
      var url = "/queries/" + encodeURIComponent(current.name) + (params.toString() ? "?" + params.toString() : "");
      return { url: url, init: { method: "GET", headers: { Accept: accept(current.form) } }, csv: url + (params.toString() ? "&" : "?") + "format=csv" };
    }
    var body = new URLSearchParams();
    body.append("query", text.value);
    var get = "/sparql?" + body.toString();
    return { url: "/sparql", csv: get.length < 6000 ? get + "&format=csv" : null,
             init: { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded",
                                                 Accept: "application/sparql-results+json, text/turtle;q=0.9" },
                     body: body.toString() } };
  }

  function accept(form) {
    return form === "CONSTRUCT" || form === "DESCRIBE" ? "text/turtle" : "application/sparql-results+json";
  }

  function run() {
    var r = request();
    var started = performance.now();
    runButton.disabled = true;
    status.className = "numbers";
    status.textContent = "Running…";
    results.textContent = "";
    fetch(r.url, r.init).then(function (response) {
      return response.text().then(function (body) { return { response: response, body: body }; });
    }).then(function (got) {
      var ms = Math.round(performance.now() - started);
      var response = got.response;
      if (!response.ok) {
        status.className = "error";
        status.textContent = "HTTP " + response.status + ": " + got.body.trim();
        return;
      }
      var type = response.headers.get("Content-Type") || "";
      var truncated = response.headers.get("X-Ofsted-KG-Truncated") === "true";
      var cap = response.headers.get("X-Ofsted-KG-Max-Rows");
      var note = truncated ? " CUT: the server keeps at most " + cap + " rows an answer; narrow the query." : "";
      if (type.indexOf("sparql-results+json") >= 0) {
        var json = JSON.parse(got.body);
        if (typeof json.boolean === "boolean") {
          status.textContent = "ASK: " + json.boolean + " (" + ms + " ms)";
          return;
        }
        var rows = json.results.bindings;
        status.textContent = rows.length + " rows (" + ms + " ms)." + note;
        table(json.head.vars, rows);
      } else {
        status.textContent = (response.headers.get("X-Ofsted-KG-Rows") || "?") + " triples (" + ms + " ms)." + note;
        el("pre", got.body, results, "turtle");
      }
      if (truncated) { status.className = "error"; }
      if (r.csv) {
        var p = el("p", null, results, "hint");
        var a = el("a", "the same as CSV", p);
        a.href = r.csv;
      }
    }).catch(function (err) {
      status.className = "error";
      status.textContent = "The request failed: " + err;
    }).then(function () { runButton.disabled = false; });
  }

  function localLink(iri) {
    var tail;
    if (iri.indexOf(data.authorityPrefix) === 0) {
      tail = iri.slice(data.authorityPrefix.length);
      return /^\w+$/.test(tail) ? "/authority/" + encodeURIComponent(tail) : null;
    }
    if (iri.indexOf(data.themePrefix) === 0) {
      tail = iri.slice(data.themePrefix.length);
      return /^[a-z0-9-]+$/.test(tail) ? "/theme/" + tail : null;
    }
    if (iri.indexOf(data.documentPrefix) === 0) {
      tail = iri.slice(data.documentPrefix.length);
      return /^[0-9a-f]{16}$/.test(tail) ? "/source/" + tail : null;
    }
    return null;
  }

  function cell(term, td) {
    if (!term) { return; }
    if (term.type === "uri") {
      var href = localLink(term.value);
      if (href) {
        var a = el("a", term.value, td);
        a.href = href;
      } else {
        td.textContent = term.value;
      }
      td.className = "iri";
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) { td.title = "@" + term["xml:lang"]; }
      else if (term.datatype) { td.title = term.datatype; }
      if (/#(integer|decimal|double|float)$/.test(term.datatype || "")) { td.className = "n"; }
    }
  }

  function table(vars, rows) {
    var t = el("table", null, results, "data results");
    var tr = el("tr", null, el("thead", null, t));
    vars.forEach(function (v) { el("th", v, tr); });
    var tbody = el("tbody", null, t);
    rows.slice(0, MAX_SHOWN).forEach(function (row) {
      var r = el("tr", null, tbody);
      vars.forEach(function (v) { cell(row[v], el("td", null, r)); });
    });
    if (rows.length > MAX_SHOWN) { el("p", "Showing the first " + MAX_SHOWN + " rows.", results, "hint"); }
  }

  // ------------------------------------------------------------------ wiring
  picker.addEventListener("change", function () { pick(picker.value); });
  text.addEventListener("input", markEdited);
  text.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); }
  });
  runButton.addEventListener("click", run);
  var wanted = decodeURIComponent(location.hash.slice(1));
  pick(byName[wanted] ? wanted : (data.queries.length ? data.queries[0].name : ""));
  document.body.setAttribute("data-rendered", String(data.queries.length));
})();
