"""Self-contained HTML pages for the charts: no network, report text escaped, scripts pinned by a CSP hash."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import re
from html import escape

from .draw import GRADE_COLOURS, UNGRADED_COLOUR, community_colour, edge_strengths, heat_colour, node_fill, ring_colour
from .resources import read_text

log = logging.getLogger(__name__)


def script_json(obj) -> str:
    """JSON safe inside a <script> element: '<', '>', '&' and the JavaScript line separators escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def csp(scripts: list[str], connect: str = "'none'", form_action: str = "'none'") -> str:
    """A Content-Security-Policy that loads nothing from anywhere and runs only our own inline scripts.

    `connect` and `form_action` are the sources scripts may fetch from and forms may send to
    (the served pages allow 'self'; a file page allows nothing).
    """
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode() + "'"
                      for s in scripts)
    return (f"default-src 'none'; script-src {hashes or chr(39) + 'none' + chr(39)}; style-src 'unsafe-inline'; "
            f"img-src data:; connect-src {connect}; form-action {form_action}; base-uri 'none'")


def page(title: str, subtitle: str, body: str, scripts: list[str] = (), data: str | None = None, nav: str = "",
         connect: str = "'none'", form_action: str = "'none'") -> str:
    """A whole page. `title` and `subtitle` are plain text; `body` and `nav` are HTML the caller has escaped."""
    scripts = list(scripts)
    log.debug("page %r: %d scripts, %d characters of data", title, len(scripts), len(data or ""))
    data_block = f'<script type="application/json" id="graph-data">{data}</script>\n' if data is not None else ""
    script_blocks = "".join(f"<script>{s}</script>\n" for s in scripts)
    policy = csp(scripts, connect, form_action)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{escape(policy)}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{read_text('charts', 'page.css')}</style>\n</head>\n<body>\n"
        f"{nav}<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>\n{body}\n{data_block}{script_blocks}"
        "</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------- network

def network_data(G, passages: dict, by_theme: dict, by_pair: dict, partners: int, title: str, subtitle: str) -> dict:
    """What network.js draws: nodes with their layout, edges, sample passages (under short ids)."""
    short = {f: f"p{i}" for i, f in enumerate(sorted(passages))}
    most = max((d["authorities"] for _, d in G.nodes(data=True)), default=1) or 1
    order = sorted(G)
    index = {n: i for i, n in enumerate(order)}
    nodes = []
    for n in order:
        d = G.nodes[n]
        nodes.append({"id": n, "label": d["label"], "x": d["x"], "y": d["y"],
                      "r": round(5 + 15 * math.sqrt(d["authorities"] / most), 2),
                      "fill": node_fill(G, d), "ring": ring_colour(G, d),
                      "findings": d["findings"], "authorities": d["authorities"], "weakness": d["weakness"],
                      "strength": d["strength"], "share": d["weakness_share"],
                      "community": d["community"] if d["community"] < G.graph["communities"] else -1})
    strength = edge_strengths(G)
    edges = []
    for a, b, d in sorted(G.edges(data=True), key=lambda e: (strength[(e[0], e[1])], e[0], e[1])):
        s = strength[(a, b)]
        a, b = sorted((a, b))
        edges.append({"a": index[a], "b": index[b], "count": d["count"], "authorities": d["authorities"],
                      "lift": d["lift"], "pmi": d["pmi"], "npmi": d["npmi"], "weight": d["weight"],
                      "width": round(0.5 + 7 * s, 2), "opacity": round(0.06 + 0.6 * s, 3)})
    return {
        "title": title, "subtitle": subtitle, "measure": G.graph["weight_measure"], "partners": partners,
        "nodes": nodes, "edges": edges,
        "passages": {short[f]: {"text": p.text, "source": p.source(), "authority": p.authority, "date": p.date,
                                "polarity": p.polarity} for f, p in passages.items()},
        "themePassages": {t: [short[f] for f in fs if f in short] for t, fs in by_theme.items()},
        "pairPassages": {k: [short[f] for f in fs if f in short] for k, fs in by_pair.items()},
    }


def network_page(G, passages: dict, by_theme: dict, by_pair: dict, partners: int, title: str, *,
                 controls: str = "", theme_link: str | None = None, **page_options) -> str:
    """The interactive network. Served by ofsted-kg serve, it has `controls` (escaped HTML: the filter form)
    above the chart, links from a clicked theme to `theme_link` + its id, and `page_options` for page()."""
    g = G.graph
    subtitle = (f"{len(G)} themes, {G.number_of_edges()} pairs found on the same finding; {g['findings_total']} findings "
                f"({g['themed_findings']} with a theme) of {g['authorities_total']} authorities; {g['filters']}.")
    most_together = max([int(g["min_weight"])] + [d["count"] for _, _, d in G.edges(data=True)])
    communities = "".join(
        f'<span class="legend"><span class="swatch" style="border-color:{community_colour(i)}"></span>'
        f"community {i + 1}</span>" for i in range(min(g["communities"], 10)))
    body = (
        f'{controls}<div class="controls">'
        '<span class="legend">size: authorities with a finding on the theme</span>'
        f'<span class="legend">fill: share of weakness findings <span class="scale"></span> 0–{g["weakness_scale"]:.0%}</span>'
        f'<span class="legend">ring: community</span>{communities}'
        f'<span class="legend">edge width: {escape(g["weight_measure"])}{"" if g["weight_measure"] == "count" else " above chance"}</span>'
        f'<label>minimum findings together <input type="range" id="min-count" min="{int(g["min_weight"])}" '
        f'max="{most_together}" step="1" value="{int(g["min_weight"])}"> <span id="min-count-value"></span></label>'
        "</div>\n"
        '<main><div id="chart"><svg id="network" role="img" aria-label="theme co-occurrence network" '
        'xmlns="http://www.w3.org/2000/svg"></svg><div id="tooltip"></div></div>'
        '<aside id="panel" aria-live="polite"></aside></main>'
    )
    data = network_data(G, passages, by_theme, by_pair, partners, title, subtitle)
    if theme_link is not None:
        data["themeLink"] = theme_link
    return page(title, subtitle, body, [read_text("charts", "network.js")], script_json(data), **page_options)


# ---------------------------------------------------------------------------- heatmap

def heatmap_page(hm, title: str, subtitle: str) -> str:
    top = hm.top() or 1
    head = "".join(f'<th scope="col" title="{escape(label)}">{escape(label)}</th>' for _, label in hm.themes)
    rows, group = [], object()
    for a in hm.authorities:
        key = a.grade_label if hm.order == "grade" else a.region if hm.order == "region" else None
        if hm.order != "name" and key != group:
            group = key
            name = key or ("no overall grade" if hm.order == "grade" else "no region")
            rows.append(f'<tr class="group"><th class="group" colspan="{len(hm.themes) + 1}">{escape(name)}</th></tr>')
        cells = []
        for t, label in hm.themes:
            v = hm.value(a.iri, t)
            shown = f"{v:.0%}" if hm.measure == "share" else str(int(v))
            cells.append(f'<td style="background:{heat_colour(v / top)}" title="{escape(hm.describe(a, t, label))}">'
                         f"{escape(shown)}</td>")
        rows.append(f'<tr><th scope="row">{escape(a.name)} <span class="hint">({escape(a.code)})</span></th>{"".join(cells)}</tr>')
    body = (f'<div class="controls"><span>cell: {escape(hm.measure_label())}; darker is more (darkest '
            f'{escape(f"{top:.0%}" if hm.measure == "share" else str(int(top)))}); hover a cell for its numbers</span></div>'
            f'<table class="heatmap"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return page(title, subtitle, body)


# ---------------------------------------------------------------------------- timeline

def inline_svg(svg: str) -> str:
    """matplotlib's SVG (text drawn as paths) for inlining in a page: no prolog, no comments holding text."""
    return re.sub(r"<!--.*?-->", "", svg[svg.index("<svg"):], flags=re.S)


def timeline_page(tl, title: str, subtitle: str, svg: str) -> str:
    """The timeline as matplotlib's SVG (text drawn as paths) above a table of the same facts."""
    svg = inline_svg(svg)
    rows = []
    for ev in tl.evaluations:
        grades = " ".join(
            f'<span class="grade" style="background:{GRADE_COLOURS.get(j.rank, UNGRADED_COLOUR)}">'
            f"{escape(j.area_label)}: {escape(j.grade_label)}</span>" for j in ev.judgements) or '<span class="hint">no grades</span>'
        rows.append(f"<tr><td>{escape(ev.date.isoformat() if ev.date else 'no date')}</td><td>{escape(ev.kind_label)}</td>"
                    f"<td>{grades}</td><td>{escape(ev.file)}</td></tr>")
    body = (f"<figure>{svg}</figure>"
            '<table class="timeline"><thead><tr><th>date</th><th>evaluation</th><th>judgements</th><th>document</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    return page(title, subtitle, body)
