/* ofsted-kg theme network: draws the graph that ofsted-kg laid out, from the JSON in #graph-data.
   Every piece of report text goes into the page as text (textContent), never as HTML. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var W = 1000, H = 740, M = 46;
  var svg = document.getElementById("network");
  var tooltip = document.getElementById("tooltip");
  var panel = document.getElementById("panel");
  var slider = document.getElementById("min-count");
  var sliderValue = document.getElementById("min-count-value");
  var view = { x: 0, y: 0, w: W, h: H };
  var selected = null;

  function svgEl(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function el(tag, text, parent, cls) {
    var e = document.createElement(tag);
    if (text !== null && text !== undefined) { e.textContent = text; }
    if (cls) { e.className = cls; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function fmt(x, digits) { return Number(x).toFixed(digits); }
  function pct(x) { return Math.round(100 * x) + "%"; }
  function community(n) { return n.community < 0 ? "in no community" : "community " + (n.community + 1); }

  var nodes = data.nodes, edges = data.edges;
  var byId = {};
  nodes.forEach(function (n, i) { n.index = i; n.px = M + n.x * (W - 2 * M); n.py = M + n.y * (H - 2 * M); byId[n.id] = n; n.links = []; });
  edges.forEach(function (e) { nodes[e.a].links.push(e); nodes[e.b].links.push(e); });

  function nodeText(n) {
    return n.label + "\n" + n.findings + " findings · " + n.authorities + " authorities\n" +
      n.weakness + " weakness (" + pct(n.share) + ") · " + n.strength + " strength\n" + community(n);
  }
  function edgeText(e) {
    return nodes[e.a].label + " + " + nodes[e.b].label + "\n" + e.count + " findings together · " + e.authorities +
      " authorities\nlift " + fmt(e.lift, 2) + " · PMI " + fmt(e.pmi, 2) + " · NPMI " + fmt(e.npmi, 2);
  }

  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  var edgeLayer = svgEl("g", { "class": "edges" }, svg);
  var nodeLayer = svgEl("g", { "class": "nodes" }, svg);

  edges.forEach(function (e) {
    var a = nodes[e.a], b = nodes[e.b];
    e.line = svgEl("line", { "class": "edge", x1: a.px, y1: a.py, x2: b.px, y2: b.py,
      "stroke-width": e.width, "stroke-opacity": e.opacity, "data-a": a.id, "data-b": b.id }, edgeLayer);
    e.line.addEventListener("mouseenter", function (ev) { showTip(edgeText(e), ev); });
    e.line.addEventListener("mousemove", moveTip);
    e.line.addEventListener("mouseleave", hideTip);
  });

  nodes.forEach(function (n) {
    var g = svgEl("g", { "class": "node", transform: "translate(" + n.px + "," + n.py + ")", "data-id": n.id,
      tabindex: "0", role: "button" }, nodeLayer);
    g.setAttribute("aria-label", n.label);
    svgEl("circle", { r: n.r, fill: n.fill, stroke: n.ring }, g);
    var t = svgEl("text", { y: n.r + 12 }, g);
    t.textContent = n.label;
    n.g = g;
    g.addEventListener("mouseenter", function (ev) { showTip(nodeText(n), ev); });
    g.addEventListener("mousemove", moveTip);
    g.addEventListener("mouseleave", hideTip);
    g.addEventListener("click", function (ev) { ev.stopPropagation(); select(n); });
    g.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(n); }
    });
  });

  // ------------------------------------------------------------------ tooltip
  function showTip(text, ev) { tooltip.textContent = text; tooltip.style.display = "block"; moveTip(ev); }
  function moveTip(ev) {
    var box = svg.parentNode.getBoundingClientRect();
    tooltip.style.left = (ev.clientX - box.left + 14) + "px";
    tooltip.style.top = (ev.clientY - box.top + 14) + "px";
  }
  function hideTip() { tooltip.style.display = "none"; }

  // ------------------------------------------------------------------ panel
  function passageList(ids, parent) {
    if (!ids || !ids.length) { el("p", "No sample passage kept.", parent, "hint"); return; }
    ids.forEach(function (id) {
      var p = data.passages[id];
      var art = el("article", null, parent, "passage " + p.polarity);
      el("p", p.text, art, "text");
      el("p", p.source + " · " + p.authority + (p.date ? " (" + p.date + ")" : "") + " · " + p.polarity, art, "source");
    });
  }
  function partnersOf(n) {
    return n.links.filter(function (e) { return e.count >= Number(slider.value); }).slice().sort(function (x, y) {
      return y.weight - x.weight || y.count - x.count;
    }).slice(0, data.partners);
  }
  function select(n) {
    selected = n;
    nodes.forEach(function (m) { m.g.classList.toggle("selected", m === n); });
    var near = {}; near[n.id] = true;
    n.links.forEach(function (e) { near[nodes[e.a].id] = true; near[nodes[e.b].id] = true; });
    nodes.forEach(function (m) { m.g.classList.toggle("dim", !near[m.id]); });
    edges.forEach(function (e) {
      var touches = e.a === n.index || e.b === n.index;
      e.line.classList.toggle("dim", !touches); e.line.classList.toggle("hot", touches);
    });
    panel.textContent = "";
    el("h2", n.label, panel);
    el("p", n.findings + " findings in " + n.authorities + " authorities; " + n.weakness + " weakness (" +
      pct(n.share) + "), " + n.strength + " strength; " + community(n) + ".", panel, "numbers");
    if (typeof data.themeLink === "string") {  // served by ofsted-kg serve: the theme's own page
      var link = el("a", "All passages, authorities and the trend of " + n.label, el("p", null, panel), "theme-link");
      link.href = data.themeLink + encodeURIComponent(n.id);
    }
    el("h3", "Strongest partners (by " + data.measure + ")", panel);
    var partners = partnersOf(n);
    var pairBox;
    if (!partners.length) { el("p", "No partner at this minimum.", panel, "hint"); }
    var ol = el("ol", null, panel, "partners");
    partners.forEach(function (e) {
      var other = nodes[e.a === n.index ? e.b : e.a];
      var li = el("li", null, ol);
      var b = el("button", other.label, li, "link");
      b.type = "button";
      el("span", " " + e.count + " together · lift " + fmt(e.lift, 2) + " · PMI " + fmt(e.pmi, 2), li, "numbers");
      b.addEventListener("click", function () { showPair(n, other, e, pairBox); });
    });
    pairBox = el("section", null, panel, "pair");
    el("h3", "Sample passages", panel);
    passageList(data.themePassages[n.id], panel);
  }
  function showPair(n, other, e, box) {
    box.textContent = "";
    el("h3", "Passages with " + n.label + " and " + other.label, box);
    el("p", e.count + " findings carry both, in " + e.authorities + " authorities.", box, "numbers");
    var key = n.id < other.id ? n.id + "|" + other.id : other.id + "|" + n.id;
    passageList(data.pairPassages[key], box);
  }
  function clear() {
    selected = null;
    nodes.forEach(function (m) { m.g.classList.remove("selected", "dim"); });
    edges.forEach(function (e) { e.line.classList.remove("dim", "hot"); });
    panel.textContent = "";
    el("p", "Click a theme to see its strongest partners and sample passages.", panel, "hint");
  }

  // ------------------------------------------------------------------ minimum count
  function applyMinimum() {
    var v = Number(slider.value);
    sliderValue.textContent = String(v);
    edges.forEach(function (e) { e.line.style.display = e.count >= v ? "" : "none"; });
    if (selected) { select(selected); }
  }
  slider.addEventListener("input", applyMinimum);

  // ------------------------------------------------------------------ zoom and pan
  function setView() { svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" ")); }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var box = svg.getBoundingClientRect();
    var fx = (ev.clientX - box.left) / box.width, fy = (ev.clientY - box.top) / box.height;
    var k = ev.deltaY < 0 ? 0.85 : 1 / 0.85;
    var w = Math.min(Math.max(view.w * k, W / 8), W * 2), h = w * H / W;
    view.x += (view.w - w) * fx; view.y += (view.h - h) * fy; view.w = w; view.h = h;
    setView();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) {
    if (ev.target.closest && ev.target.closest(".node")) { return; }
    drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false };
    svg.classList.add("panning");
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    var box = svg.getBoundingClientRect();
    var dx = (ev.clientX - drag.x) * view.w / box.width, dy = (ev.clientY - drag.y) * view.h / box.height;
    if (Math.abs(dx) + Math.abs(dy) > 2) { drag.moved = true; }
    view.x = drag.vx - dx; view.y = drag.vy - dy; setView();
  });
  window.addEventListener("mouseup", function () { svg.classList.remove("panning"); setTimeout(function () { drag = null; }, 0); });
  svg.addEventListener("click", function () { if (!drag || !drag.moved) { clear(); } });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { clear(); } });

  clear();
  applyMinimum();
  document.body.setAttribute("data-rendered", String(nodes.length));
})();
