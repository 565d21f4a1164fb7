"""The HTML of ofsted-kg serve's pages: every value from the store or the URL is escaped, nothing is fetched.

Each function returns (page, policy): the page and the Content-Security-Policy the server
sends with it (the page carries the same policy in a meta element, as the chart files do).
The policies load nothing from anywhere, run only the page's own inline scripts (pinned by
hash), let forms send only to this server, and let only the SPARQL editor fetch (from this
server).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from html import escape
from urllib.parse import quote, urlencode

from .draw import GRADE_COLOURS, UNGRADED_COLOUR
from .html import csp, inline_svg, network_page, page, script_json
from .ns import ID
from .resources import read_text

log = logging.getLogger(__name__)

DOCUMENT_PREFIX = str(ID["document/"])
POLARITIES = ("weakness", "mixed", "strength", "neutral")
PAGE_SIZE = 50  # passages a theme page shows at once
COLOURS = {"weakness": "#b2182b", "mixed": "#b07aa1", "strength": "#2166ac", "neutral": "#bdbdbd",
           "recommendation": "#e08214"}
NAV = (("/network", "Network"), ("/themes", "Themes"), ("/authorities", "Authorities"),
       ("/sparql-editor", "SPARQL editor"), ("/queries", "Named queries"))
FRAME = "; frame-ancestors 'none'"  # only a header can say this


def nav(current: str) -> str:
    links = "".join(f'<a href="{path}"{" aria-current=page" if path == current else ""}>{name}</a>'
                    for path, name in NAV)
    return f'<nav class="site"><a href="/" class="home">ofsted-kg</a>{links}</nav>\n'


def served(title: str, subtitle: str, body: str, current: str, scripts: list[str] = (), data: str | None = None,
           connect: str = "'none'") -> tuple[str, str]:
    """A served page and its policy. `title` and `subtitle` are plain text; `body` is escaped HTML."""
    scripts = list(scripts)
    log.debug("page %r: %d characters of body", title, len(body))
    text = page(title, subtitle, f'<div class="content">{body}</div>', scripts, data, nav=nav(current),
                connect=connect, form_action="'self'")
    return text, csp(scripts, connect, "'self'") + FRAME


def not_found(message: str, link: str, link_text: str) -> tuple[str, str]:
    return served("Not found", message, f'<p><a href="{escape(link)}">{escape(link_text)}</a></p>', "")


def _href(path: str, **params) -> str:
    """A local URL with its parameters encoded, escaped for an attribute."""
    given = {k: v for k, v in params.items() if v is not None}
    return escape(path + ("?" + urlencode(given) if given else ""))


def source_href(document: str, file: str, page: int | None) -> str | None:
    """The /source/DOC link of a document IRI (at the page for a PDF), or None for an IRI of another shape."""
    doc = document[len(DOCUMENT_PREFIX):] if document.startswith(DOCUMENT_PREFIX) else ""
    if not re.fullmatch(r"[0-9a-f]{16}", doc):
        return None
    anchor = f"#page={page}" if page is not None and file.lower().endswith(".pdf") else ""
    return f"/source/{doc}{anchor}"


def _source(document: str, file: str, page: int | None, paragraph: str) -> str:
    href = source_href(document, file, page)
    name = f'<a href="{escape(href)}">{escape(file)}</a>' if href else escape(file)
    where = [name] + ([f"page {page}"] if page is not None else []) + [f"paragraph {escape(paragraph)}"]
    return ", ".join(where)


def marked(text: str, words: list[str]) -> str:
    """The text, escaped, with the words (matched theme phrases) in <mark>."""
    words = [w for w in words if w.strip()][:30]
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.IGNORECASE)
    out, at = [], 0
    for m in pattern.finditer(text):
        out += [escape(text[at:m.start()]), f"<mark>{escape(m.group())}</mark>"]
        at = m.end()
    out.append(escape(text[at:]))
    return "".join(out)


def _num(n: int) -> str:
    return f"{n:,}"


def _count(n: int, word: str) -> str:
    """'1 evaluation', '2 evaluations'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _polarity_cells(counts: Counter, total_link: str | None = None) -> str:
    findings = sum(counts[p] for p in POLARITIES)
    shown = f'<a href="{total_link}">{_num(findings)}</a>' if total_link and findings else _num(findings)
    cells = [f'<td class="n">{shown}</td>']
    cells += [f'<td class="n {p}">{_num(counts[p]) if counts[p] else ""}</td>' for p in POLARITIES]
    cells.append(f'<td class="n">{_num(counts["recommendation"]) if counts["recommendation"] else ""}</td>')
    return "".join(cells)


POLARITY_HEAD = ("<th>findings</th><th>weakness</th><th>mixed</th><th>strength</th><th>neutral</th>"
                 "<th>recommendations</th>")


def _named_query_links(kind: str, value: str) -> str:
    """Links to the named queries with a parameter of this type, run with it (as CSV)."""
    from .queries import named_queries

    links = []
    for nq in sorted(named_queries().values(), key=lambda q: q.name):
        for p in nq.params:
            if p.type == kind:
                links.append(f'<a href="{_href("/queries/" + nq.name, **{p.name: value, "format": "csv"})}">'
                             f"{escape(nq.name)}</a>")
                break
    return f'<p class="hint">Named queries for it (CSV): {" · ".join(links)}</p>' if links else ""


# ---------------------------------------------------------------------------- network

class NetworkForm:
    """The network's filters as a form (GET /network), showing the values asked for."""

    def __init__(self, params: list[tuple[str, str]], concepts, regions: list[str]):
        self.params, self.concepts, self.regions = params, concepts, regions

    def _value(self, name: str) -> str:
        return next((v for k, v in self.params if k == name), "")

    def _select(self, name: str, label: str, options: list[tuple[str, str]]) -> str:
        chosen = self._value(name)
        opts = [f'<option value=""{"" if chosen else " selected"}>any</option>']
        opts += [f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(text)}</option>'
                 for v, text in options]
        return f'<label>{label} <select name="{name}">{"".join(opts)}</select></label>'

    def _input(self, name: str, label: str, size: int, placeholder: str = "", kind: str = "text") -> str:
        return (f'<label>{label} <input type="{kind}" name="{name}" size="{size}" value="{escape(self._value(name))}"'
                f' placeholder="{escape(placeholder)}"></label>')

    def html(self) -> str:
        labels = self.concepts.labels
        weight = self._value("weight") or "lift"
        weights = "".join(f'<option{" selected" if w == weight else ""}>{w}</option>' for w in ("lift", "pmi", "count"))
        return (
            '<form class="filters" method="get" action="/network">'
            + self._select("kind", "kind", sorted(labels.get("kind", {}).items(), key=lambda kv: kv[1]))
            + self._select("polarity", "polarity", sorted(labels.get("polarity", {}).items()))
            + self._select("region", "region", [(r, r) for r in self.regions])
            + self._input("authority", "authority", 12, "code or name")
            + self._input("neighbours_of", "neighbours of", 12, "code or name")
            + self._input("from", "from", 8, "YYYY[-MM[-DD]]")
            + self._input("to", "to", 8, "YYYY[-MM[-DD]]")
            + self._input("min_weight", "min. findings together", 3, "5", "number")
            + f'<label>weight <select name="weight">{weights}</select></label>'
            + '<button type="submit">Draw</button> <a href="/network">reset</a></form>\n'
        )


def network(G, passages, by_theme, by_pair, partners: int, form: NetworkForm) -> tuple[str, str]:
    script = read_text("charts", "network.js")
    text = network_page(G, passages, by_theme, by_pair, partners, "Themes found together on the same finding",
                        controls=form.html(), theme_link="/theme/", nav=nav("/network"), form_action="'self'")
    return text, csp([script], "'none'", "'self'") + FRAME


def network_message(form: NetworkForm, message: str) -> tuple[str, str]:
    return served("Themes found together on the same finding", "", form.html() + f'<p class="error">{escape(message)}</p>',
                  "/network")


# ---------------------------------------------------------------------------- themes

@dataclass
class ThemeRow:
    id: str
    label: str
    findings: int
    weakness: int
    strength: int
    authorities: int


def themes_page(rows: list[ThemeRow], findings: int, authorities: int) -> tuple[str, str]:
    body = [('<table class="data"><thead><tr><th>theme</th><th>authorities</th><th>findings</th><th>weakness</th>'
             "<th>strength</th><th>weakness share</th></tr></thead><tbody>")]
    for r in rows:
        share = f"{r.weakness / r.findings:.0%}" if r.findings else ""
        body.append(f'<tr><td><a href="/theme/{quote(r.id)}">{escape(r.label)}</a> <span class="hint">{escape(r.id)}</span>'
                    f'</td><td class="n">{_num(r.authorities)}</td><td class="n">{_num(r.findings)}</td>'
                    f'<td class="n">{_num(r.weakness)}</td><td class="n">{_num(r.strength)}</td>'
                    f'<td class="n">{share}</td></tr>')
    body.append("</tbody></table>")
    subtitle = (f"{len(rows)} themes; {_num(findings)} findings of {_num(authorities)} authorities in the store, "
                "counted as in the network (findings of committed documents).")
    return served("Themes", subtitle, "".join(body), "/themes")


def _trend_svg(years: list[int], by_year: dict[int, Counter]) -> str:
    """Stacked bars: each year's findings on the theme by polarity, and its recommendations."""
    parts = [*POLARITIES, "recommendation"]
    top = max((sum(by_year.get(y, Counter())[p] for p in parts) for y in years), default=0) or 1
    bar, gap, height, left, bottom = 26, 10, 180, 44, 24
    width = left + len(years) * (bar + gap) + 10
    out = [(f'<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + bottom + 10}" '
            f'viewBox="0 0 {width} {height + bottom + 10}" role="img" aria-label="passages on the theme by year">'),
           f'<line x1="{left - 4}" y1="{height + 5}" x2="{width}" y2="{height + 5}" stroke="#999"/>',
           f'<text x="{left - 8}" y="14" text-anchor="end" class="axis">{_num(top)}</text>',
           f'<text x="{left - 8}" y="{height + 5}" text-anchor="end" class="axis">0</text>']
    for i, y in enumerate(years):
        x, base = left + i * (bar + gap), height + 5
        counts = by_year.get(y, Counter())
        for p in parts:
            if counts[p]:
                h = counts[p] / top * (height - 10)
                base -= h
                what = f"{p} findings" if p in POLARITIES else "recommendations"
                out.append(f'<rect x="{x}" y="{base:.1f}" width="{bar}" height="{h:.1f}" fill="{COLOURS[p]}">'
                           f"<title>{y}: {_num(counts[p])} {what}</title></rect>")
        out.append(f'<text x="{x + bar / 2}" y="{height + 20}" text-anchor="middle" class="axis">{y}</text>')
    out.append("</svg>")
    return "".join(out)


def _legend() -> str:
    return "".join(f'<span class="legend"><span class="box" style="background:{COLOURS[p]}"></span>'
                   f"{p if p in POLARITIES else 'recommendations'}</span>" for p in [*POLARITIES, "recommendation"])


def theme_page(f) -> tuple[str, str]:
    """The page of one theme (f: pages.ThemeFacts)."""
    t = f.totals
    findings = sum(t[p] for p in POLARITIES)
    authorities = len(f.by_authority)
    evaluations = len({e for evs in f.evaluations_by_authority.values() for e in evs})
    here = "/theme/" + quote(f.id)
    summary = (f'<p class="numbers">{_num(findings)} findings ({_num(t["weakness"])} weakness, {_num(t["mixed"])} mixed, '
               f'{_num(t["strength"])} strength, {_num(t["neutral"])} neutral) and {_num(t["recommendation"])} '
               f"recommendations carry this theme, in {_num(evaluations)} evaluations of {_num(authorities)} "
               f"authorities (committed documents).</p>" + _named_query_links("theme", f.id))
    # trend
    years = sorted(set(f.by_year) | set(f.all_evaluations_by_year))
    years = list(range(years[0], years[-1] + 1)) if years else []
    trend_rows = []
    for y in years:
        counts, with_theme, total = f.by_year.get(y, Counter()), len(f.evaluations_by_year.get(y, ())), \
            f.all_evaluations_by_year.get(y, 0)
        share = f"{with_theme / total:.0%}" if total else ""
        trend_rows.append(f'<tr><th scope="row">{y}</th><td class="n">{_num(total)}</td><td class="n">{_num(with_theme)}</td>'
                          f'<td class="n">{share}</td>{_polarity_cells(counts)}</tr>')
    trend = ('<section id="trend"><h2>Trend by year</h2>'
             f'<p class="hint">Year of each evaluation (its start date, else its publication date). {_legend()}</p>'
             f"{_trend_svg(years, f.by_year) if years else ''}"
             '<table class="data"><thead><tr><th>year</th><th>evaluations</th><th>with the theme</th><th>share</th>'
             f'{POLARITY_HEAD}</tr></thead><tbody>{"".join(trend_rows)}</tbody></table></section>')
    # authorities
    rows = []
    for iri, counts in sorted(f.by_authority.items(),
                              key=lambda kv: (-sum(kv[1][p] for p in POLARITIES), -kv[1]["recommendation"],
                                              f.authorities[kv[0]].name if kv[0] in f.authorities else kv[0])):
        who = f.authorities.get(iri)
        code = who.code if who else iri.rsplit("/", 1)[1]
        name = who.name if who else code
        region = (who.region or "") if who else ""
        passages = _href(here, authority=code) + "#passages"
        rows.append(f'<tr><td><a href="/authority/{quote(code)}">{escape(name)}</a> <span class="hint">{escape(code)}</span></td>'
                    f"<td>{escape(region)}</td>{_polarity_cells(counts, passages)}"
                    f'<td class="n">{_num(len(f.evaluations_by_authority[iri]))}</td></tr>')
    table = ('<section id="authorities"><h2>Authorities with passages on the theme</h2>'
             '<table class="data"><thead><tr><th>authority</th><th>region</th>'
             f'{POLARITY_HEAD}<th>evaluations</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')
    return served(f"Theme: {f.label}", f.definition, summary + trend + table + _theme_passages(f, here),
                  "/themes")


def _theme_passages(f, here: str) -> str:
    authority_names = sorted(((a.code, a.name) for iri, a in f.authorities.items() if iri in f.by_authority),
                             key=lambda cn: cn[1].casefold())
    options = "".join(f'<option value="{escape(code)}"{" selected" if code == f.authority_filter else ""}>'
                      f"{escape(name)}</option>" for code, name in authority_names)
    pol = "".join(f'<option{" selected" if p == f.polarity_filter else ""}>{p}</option>' for p in POLARITIES)
    form = (f'<form class="filters" method="get" action="{escape(here)}#passages">'
            f'<label>authority <select name="authority"><option value="">any</option>{options}</select></label>'
            f'<label>polarity <select name="polarity"><option value="">any (and recommendations)</option>{pol}</select>'
            '</label><button type="submit">Show</button></form>')
    first = (f.page - 1) * PAGE_SIZE + 1 if f.shown else 0
    last = first + len(f.shown) - 1 if f.shown else 0
    counts = f'<p class="numbers" id="passage-count">{_count(f.selected, "passage")}; {first}–{last} shown, newest first.</p>'
    pager = ""
    if f.pages > 1:
        links = []
        for n in range(1, f.pages + 1):
            if n == f.page:
                links.append(f'<span aria-current="page">{n}</span>')
            elif n in (1, f.pages) or abs(n - f.page) <= 3:
                links.append(f'<a href="{_href(here, authority=f.authority_filter, polarity=f.polarity_filter, page=n)}'
                             f'#passages">{n}</a>')
            elif abs(n - f.page) == 4:
                links.append("…")
        pager = f'<p class="pager">pages: {" ".join(links)}</p>'
    items = []
    for p in f.shown:
        who = f.authorities.get(p.authority)
        code = who.code if who else p.authority.rsplit("/", 1)[1]
        what = p.polarity if p.type == "finding" else "recommendation"
        kind = f.concepts.label("kind", p.kind)
        items.append(
            f'<article class="passage {escape(what or "")}" data-passage="{escape(p.iri)}">'
            f'<p class="text">{marked(p.text, p.matched)}</p>'
            f'<p class="source">{_source(p.document, p.file, p.page, p.paragraph)} · '
            f'<a href="/authority/{quote(code)}">{escape(who.name if who else code)}</a> · '
            f'{escape(p.date.isoformat() if p.date else "no date")} · {escape(kind)} · {escape(what or "")}</p></article>')
    return (f'<section id="passages"><h2>Passages</h2>{form}{counts}{pager}{"".join(items)}{pager}</section>')


# ---------------------------------------------------------------------------- authorities

@dataclass
class AuthorityRow:
    code: str
    name: str
    region: str | None
    evaluations: int
    latest: date | None
    overall: tuple[str, int] | None  # the latest overall grade: label and rank
    overall_date: date | None


def _grade(label: str, rank: int | None) -> str:
    colour = GRADE_COLOURS.get(rank, UNGRADED_COLOUR)
    return f'<span class="grade" style="background:{colour}">{escape(label)}</span>'


def authorities_page(rows: list[AuthorityRow]) -> tuple[str, str]:
    body = [('<table class="data"><thead><tr><th>authority</th><th>code</th><th>region</th><th>evaluations</th>'
             "<th>latest</th><th>latest overall grade</th></tr></thead><tbody>")]
    for r in rows:
        grade = (f"{_grade(*r.overall)} <span class=\"hint\">{r.overall_date.isoformat()}</span>"
                 if r.overall else "")
        body.append(f'<tr><td><a href="/authority/{quote(r.code)}">{escape(r.name)}</a></td><td>{escape(r.code)}</td>'
                    f'<td>{escape(r.region or "")}</td><td class="n">{r.evaluations}</td>'
                    f'<td>{r.latest.isoformat() if r.latest else ""}</td><td>{grade}</td></tr>')
    body.append("</tbody></table>")
    total = sum(r.evaluations for r in rows)
    return served("Authorities", f"{len(rows)} authorities with {_num(total)} evaluations in the store.",
                  "".join(body), "/authorities")


def authority_page(f) -> tuple[str, str]:
    """The page of one authority (f: pages.AuthorityFacts)."""
    neighbours = ", ".join(f'<a href="/authority/{quote(c)}">{escape(n)}</a>' for c, n in f.neighbours)
    intro = [f'<p>Region: {escape(f.region or "not recorded")}.'
             + (f" Statistical neighbours: {neighbours}." if neighbours else "") + "</p>",
             f'<p><a href="{_href("/network", authority=f.code, min_weight=1)}">Its theme network</a>'
             + (f' · <a href="{_href("/network", neighbours_of=f.code, min_weight=2)}">its statistical neighbours\' '
                "network</a>" if f.neighbours else "") + "</p>",
             _named_query_links("authority", f.code)]
    tl = f.timeline
    if tl is None:
        history = '<section id="judgements"><h2>Judgement history</h2><p class="hint">No evaluation of this authority ' \
                  "in the store.</p></section>"
    else:
        rows = []
        for ev in reversed(tl.evaluations):
            judgements = sorted(ev.judgements, key=lambda j: j.area_id != "overall")  # overall first
            grades = " ".join(_grade(f"{j.area_label}: {j.grade_label}", j.rank) for j in judgements) \
                or '<span class="hint">no grades</span>'
            href = source_href(ev.document, ev.file, None)
            doc = f'<a href="{escape(href)}">{escape(ev.file)}</a>' if href else escape(ev.file)
            rows.append(f"<tr><td>{escape(ev.date.isoformat() if ev.date else 'no date')}</td>"
                        f"<td>{escape(ev.kind_label)}</td><td>{grades}</td><td>{doc}</td></tr>")
        graded = sum(len(ev.judgements) for ev in tl.evaluations)
        history = ('<section id="judgements"><h2>Judgement history</h2>'
                   f'<p class="numbers">{_count(len(tl.evaluations), "evaluation")}, {_count(graded, "graded judgement")}.</p>'
                   f"<figure>{inline_svg(f.timeline_svg)}</figure>"
                   '<table class="data timeline"><thead><tr><th>date</th><th>evaluation</th><th>judgements</th>'
                   f'<th>document</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')
    theme_rows = []
    for t, counts in sorted(f.themes.items(), key=lambda kv: (-sum(kv[1][p] for p in POLARITIES),
                                                             -kv[1]["recommendation"], kv[0])):
        passages = _href("/theme/" + t, authority=f.code) + "#passages"
        theme_rows.append(f'<tr><td><a href="/theme/{quote(t)}">{escape(f.concepts.label("theme", t))}</a></td>'
                          f'{_polarity_cells(counts, passages)}<td class="n">{len(f.theme_evaluations[t])}</td></tr>')
    themes = ('<section id="themes"><h2>Themes</h2>'
              f'<p class="numbers">{_count(f.findings, "finding")}; {_count(len(f.themes), "theme")}. A finding can carry several '
              "themes. Follow a count for the passages.</p>"
              f'<table class="data"><thead><tr><th>theme</th>{POLARITY_HEAD}<th>evaluations</th></tr></thead>'
              f'<tbody>{"".join(theme_rows)}</tbody></table></section>')
    evaluations = {ev.iri: ev for ev in tl.evaluations} if tl else {}
    groups, current = [], None
    for r in f.recommendations:
        if r.evaluation != current:
            if current is not None:
                groups.append("</ol>")
            current = r.evaluation
            ev = evaluations.get(r.evaluation)
            head = (f"{ev.date.isoformat() if ev and ev.date else 'no date'} · {ev.kind_label if ev else ''} · "
                    f"{ev.file if ev else ''}")
            groups.append(f"<h3>{escape(head)}</h3><ol class=\"recommendations\">")
        themes_of = ", ".join(f'<a href="/theme/{quote(t)}">{escape(f.concepts.label("theme", t))}</a>' for t in r.themes)
        groups.append(f'<li><article class="passage recommendation" data-passage="{escape(r.iri)}">'
                      f'<p class="text">{escape(r.text)}</p><p class="source">'
                      f'{_source(f.documents.get(r.evaluation, ""), r.file, r.page, r.paragraph)}'
                      f'{" · " + themes_of if themes_of else ""}</p></article></li>')
    if current is not None:
        groups.append("</ol>")
    recs = (f'<section id="recommendations"><h2>Recommendations</h2><p class="numbers">'
            f'{_count(len(f.recommendations), "recommendation")}, newest evaluation first.</p>{"".join(groups)}</section>')
    return served(f"{f.name} ({f.code})", "Judgements, themes and recommendations in the store.",
                  "".join(intro) + history + themes + recs, "/authorities")


# ---------------------------------------------------------------------------- SPARQL editor

def editor_page(queries) -> tuple[str, str]:
    """The SPARQL editor: pick a named query, set its parameters or edit it, run it, see the rows (charts/editor.js)."""
    from .serve import query_form

    data = {"queries": [{"name": nq.name, "description": nq.description, "form": query_form(nq.text),
                         "text": nq.text, "example": nq.example,
                         "params": [{"name": p.name, "type": p.type, "default": p.default,
                                     "description": p.description} for p in nq.params]} for nq in queries],
            "documentPrefix": DOCUMENT_PREFIX, "authorityPrefix": str(ID["authority/"]),
            "themePrefix": "https://w3id.org/ofsted-kg/theme/"}
    options = "".join(f'<option value="{escape(nq.name)}">{escape(nq.name)}</option>' for nq in queries)
    body = (
        '<div class="editor">'
        '<div class="editor-top"><label>named query <select id="query-name">'
        f'<option value="">(your own query)</option>{options}</select></label>'
        '<span id="query-description" class="hint"></span></div>'
        '<div id="params" class="filters"></div>'
        '<textarea id="query-text" spellcheck="false" rows="18" aria-label="SPARQL query"></textarea>'
        '<div class="editor-buttons"><button type="button" id="run">Run</button> '
        '<span class="hint">Ctrl+Enter runs. A named query as shipped runs at /queries/NAME with its parameters '
        "bound by the server as RDF terms; an edited one is POSTed to /sparql as written.</span></div>"
        '<p id="status" class="numbers" aria-live="polite"></p>'
        '<div id="results"></div></div>'
    )
    return served("SPARQL editor", "Queries run against this server's read-only endpoint, under its time limit and "
                  "row cap.", body, "/sparql-editor", [read_text("charts", "editor.js")],
                  script_json(data), connect="'self'")
