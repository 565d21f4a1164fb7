"""The analysts' web pages of ofsted-kg serve: the theme network, a page per theme and per authority, a SPARQL editor.

In the server, `install` adds the routes. A route checks the names of the URL's parameters
and hands the page to the QueryPool as a Job of kind "call"; the page is made in a worker
(the functions registered with `worker_call` below), under the server's time limit, from the
store the worker holds. There the facts are read with the queries of charts/, every value
bound as an RDF term in a VALUES block (never pasted into a query), and written into HTML by
extract/pages_html.py, which escapes every value that comes from the store or the URL.

/source/DOC serves a document's source file, and only that: the path recorded at ingest
(ofk:sourcePath of a committed document) is read and served only if its bytes still have
the SHA-256 recorded at ingest (ofk:sha256, from which the document's IRI is made). So the
server never serves a file that was not ingested, whatever is in the store or the URL.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import stat
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

import pyoxigraph as ox

from . import pages_html
from .errors import InputError
from .network import (
    WEIGHTS,
    Filters,
    build_graph,
    chart_query,
    count,
    known_authorities,
    parse_period_bound,
    sample_passages,
    select,
)
from .ns import ID, THEME
from .queries import Param, named_queries, to_term, with_value_sets
from .querypool import Job, Outcome, error, worker_call

log = logging.getLogger(__name__)

# Imported by the loader before it forks the workers, so that no page pays for its imports.
PRELOAD = (__name__, "matplotlib.figure", "matplotlib.backends.backend_svg", "matplotlib.dates")

MAX_SOURCE_BYTES = 64 << 20
DOCUMENT_PREFIX = str(ID["document/"])
AUTHORITY_PREFIX = str(ID["authority/"])

# The query parameters of each page: name -> whether it may be given more than once.
NETWORK_PARAMS = {"kind": True, "polarity": True, "region": True, "authority": True, "neighbours_of": False,
                  "from": False, "to": False, "min_weight": False, "min_lift": False, "weight": False}
THEME_PARAMS = {"authority": False, "polarity": False, "page": False}
NO_PARAMS: dict[str, bool] = {}


# ============================================================================ in the server

def install(app, pool, base_url: str) -> None:
    """The pages' routes (a serve plugin): /network, /themes, /theme/ID, /authorities, /authority/CODE,
    /source/DOC and /sparql-editor."""
    from .serve import HTTPProblem, Response

    app.links += [("/network", "the theme co-occurrence network, with filters"),
                  ("/themes", "every theme, with a page each: authorities, trend by year, passages"),
                  ("/authorities", "every authority in the store, with a page each: judgements, themes, recommendations"),
                  ("/sparql-editor", "a SPARQL editor preloaded with the named queries")]

    def run(name: str, request, allowed: dict[str, bool], path: tuple[str, ...] = ()) -> Response:
        params = [("path", p) for p in path] + _query_params(request.path, request.query, allowed, HTTPProblem)
        outcome = pool.run(Job("call", name, "", params=params))
        headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", **outcome.headers}
        return Response(outcome.status, outcome.body, outcome.content_type, headers)

    @app.route(r"/network")
    def network(request):
        return run("pages.network", request, NETWORK_PARAMS)

    @app.route(r"/themes")
    def themes(request):
        return run("pages.themes", request, NO_PARAMS)

    @app.route(r"/theme/(?P<theme>[^/]+)")
    def theme(request, theme: str):
        return run("pages.theme", request, THEME_PARAMS, (theme,))

    @app.route(r"/authorities")
    def authorities(request):
        return run("pages.authorities", request, NO_PARAMS)

    @app.route(r"/authority/(?P<code>[^/]+)")
    def authority(request, code: str):
        return run("pages.authority", request, NO_PARAMS, (code,))

    @app.route(r"/source/(?P<doc>[0-9a-f]{16})")
    def source(request, doc: str):
        return run("pages.source", request, NO_PARAMS, (doc,))

    @app.route(r"/sparql-editor")
    def editor(request):
        _query_params(request.path, request.query, NO_PARAMS, HTTPProblem)
        text, policy = pages_html.editor_page(sorted(named_queries().values(), key=lambda nq: nq.name))
        return Response(200, text.encode("utf-8"), "text/html; charset=utf-8",
                        {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
                         "Referrer-Policy": "no-referrer"})


def _query_params(path: str, query: dict[str, list[str]], allowed: dict[str, bool], problem) -> list[tuple[str, str]]:
    """The URL's parameters as (name, value) pairs, checked against the page's; empty values are left out."""
    out = []
    for name, values in query.items():
        if name not in allowed:
            valid = ", ".join(allowed) or "none"
            raise problem(400, f"{path}: no parameter '{name[:40]}' (its parameters: {valid})")
        if len(values) > 1 and not allowed[name]:
            raise problem(400, f"{path}: parameter {name} is given {len(values)} times; give it once")
        out += [(name, v.strip()) for v in values if v.strip()]
    return out


# ============================================================================ in the workers

def _html(status: int, page: tuple[str, str]) -> Outcome:
    text, policy = page
    return Outcome(status, "text/html; charset=utf-8", text.encode("utf-8"), {"Content-Security-Policy": policy})


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    return values[0] if values else None


def _all(params: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in params if k == name]


def _rows(store, name: str, values: dict | None = None):
    return store.query(with_value_sets(chart_query(name), values or {}))


@dataclass
class Concepts:
    """Labels of every scheme's concepts: {'theme': {'cse': 'Child sexual exploitation', ...}, 'kind': ...}."""

    labels: dict[str, dict[str, str]]

    def label(self, scheme: str, concept_id: str) -> str:
        return self.labels.get(scheme, {}).get(concept_id, concept_id)


def _concepts(store) -> Concepts:
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for row in _rows(store, "concepts"):
        labels[row["scheme"].value.rsplit("/", 2)[-2]][row["id"].value] = row["label"].value
    return Concepts(dict(labels))


def _last(iri: str) -> str:
    return iri.rsplit("/", 1)[1]


def _date(term) -> date | None:
    return date.fromisoformat(term.value) if term is not None else None


# ---------------------------------------------------------------------------- the network

_network_cache: dict[tuple, bytes] = {}  # a worker's pages by parameters: a reload starts new workers


@worker_call("pages.network")
def network_call(ctx, store, params: list[tuple[str, str]], max_rows: int) -> Outcome:
    key = tuple(params)
    log.debug("network page %s: %s", key, "kept" if key in _network_cache else "to make")
    if key not in _network_cache:
        status, page = _network(ctx, store, params)
        if status != 200:
            return _html(status, page)
        if len(_network_cache) >= 8:
            _network_cache.pop(next(iter(_network_cache)))
        _network_cache[key] = page
    return _html(200, _network_cache[key])


def _network(ctx, store, params) -> tuple[int, tuple[str, str]]:
    concepts = _concepts(store)
    regions = sorted({row["region"].value for row in _rows(store, "authorities") if row["region"] is not None})
    form = pages_html.NetworkForm(params, concepts, regions)
    try:
        filters = Filters(kinds=tuple(_all(params, "kind")), polarities=tuple(_all(params, "polarity")),
                          regions=tuple(_all(params, "region")), authorities=tuple(_all(params, "authority")),
                          neighbours_of=_one(params, "neighbours_of"),
                          start=parse_period_bound(_one(params, "from")) if _one(params, "from") else None,
                          end=parse_period_bound(_one(params, "to"), end=True) if _one(params, "to") else None)
        min_weight = _number(params, "min_weight", int, 5, 1)
        min_lift = _number(params, "min_lift", float, 0.0, 0.0)
        weight = _one(params, "weight") or "lift"
        if weight not in WEIGHTS:
            raise InputError(f"weight: '{weight}' is not a weight (choose from {', '.join(WEIGHTS)})")
        selection = select(store, filters)
    except InputError as err:
        return 400, pages_html.network_message(form, err.message)
    if not selection.themes_of:
        return 200, pages_html.network_message(form, f"No finding with a theme matches the filters "
                                                     f"({filters.describe()}).")
    G = build_graph(selection, weight=weight, min_weight=min_weight, min_lift=min_lift)
    partners = 10
    found, by_theme, by_pair = sample_passages(store, selection, G, per_theme=5, per_pair=3, partners=partners)
    return 200, pages_html.network(G, found, by_theme, by_pair, partners, form)


def _number(params, name: str, kind, default, least):
    value = _one(params, name)
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or math.isnan(number) or number < least:
        raise InputError(f"{name}: '{value[:40]}' is not a number of at least {least}")
    return number


# ---------------------------------------------------------------------------- themes

@worker_call("pages.themes")
def themes_call(ctx, store, params, max_rows: int) -> Outcome:
    selection = select(store, Filters())
    co = count(selection)
    themes = [pages_html.ThemeRow(t, label, co.findings[t], co.weakness[t], co.strength[t],
                                  len(co.authorities.get(t, ())))
              for t, label in selection.theme_labels.items()]
    themes.sort(key=lambda r: (-r.authorities, -r.findings, r.label))
    return _html(200, pages_html.themes_page(themes, len(selection.findings), len(selection.authorities)))


@dataclass
class ThemePassage:
    iri: str
    type: str  # finding or recommendation
    evaluation: str
    authority: str
    polarity: str | None
    document: str
    date: date | None
    ordinal: int
    kind: str
    text: str = ""
    file: str = ""
    page: int | None = None
    paragraph: str = ""
    matched: list[str] = field(default_factory=list)


@dataclass
class ThemeFacts:
    """What a theme page shows; counts cover the whole store, `shown` the page of passages asked for."""

    id: str
    label: str
    definition: str
    concepts: Concepts
    authorities: dict  # authority IRI -> network.AuthorityInfo
    by_authority: dict[str, Counter]  # authority IRI -> {polarity id or "recommendation": passages}
    evaluations_by_authority: dict[str, set[str]]
    by_year: dict[int, Counter]  # year -> {polarity id or "recommendation": passages}
    evaluations_by_year: dict[int, set[str]]  # year -> evaluations with a passage on the theme
    all_evaluations_by_year: dict[int, int]  # year -> evaluations in the store
    totals: Counter
    selected: int  # passages that pass the page's filters
    shown: list[ThemePassage]
    page: int
    pages: int
    authority_filter: str | None  # its DfE code
    polarity_filter: str | None


@worker_call("pages.theme")
def theme_call(ctx, store, params, max_rows: int) -> Outcome:
    theme_id = _one(params, "path")
    themes = ctx.scheme_ids.get("theme", set())
    if theme_id not in themes:
        return _html(404, pages_html.not_found(f"No theme '{theme_id}'.", "/themes", "the list of themes"))
    authority = _one(params, "authority")
    authority_term = to_term(Param("authority", "authority", None, ""), authority, ctx.register) if authority else None
    polarity = _one(params, "polarity")
    if polarity is not None:
        to_term(Param("polarity", "polarity", None, ""), polarity, scheme_ids=ctx.scheme_ids)  # checks the id
    page = _number(params, "page", int, 1, 1)
    facts = theme_facts(store, theme_id, authority_term.value if authority_term else None, polarity, page)
    return _html(200, pages_html.theme_page(facts))


def theme_facts(store, theme_id: str, authority: str | None = None, polarity: str | None = None,
                page: int = 1) -> ThemeFacts:
    """The counts of a theme's page over the whole store, and the passages of one page of its list
    (`authority`: an authority IRI, `polarity`: an id; both narrow the list only)."""
    concepts = _concepts(store)
    theme = ox.NamedNode(str(THEME[theme_id]))
    definition = ""
    for row in _rows(store, "concept", {"concept": [theme]}):
        definition = row["definition"].value if row["definition"] is not None else ""
    passages: dict[str, ThemePassage] = {}
    for row in _rows(store, "theme-passages", {"theme": [theme]}):
        iri = row["passage"].value
        if iri in passages:
            continue
        passages[iri] = ThemePassage(iri, row["type"].value, row["evaluation"].value, row["authority"].value,
                                     _last(row["polarity"].value) if row["polarity"] is not None else None,
                                     row["document"].value, _date(row["date"]), int(row["ordinal"].value),
                                     _last(row["kind"].value))
    by_authority: dict[str, Counter] = defaultdict(Counter)
    evaluations_by_authority: dict[str, set[str]] = defaultdict(set)
    by_year: dict[int, Counter] = defaultdict(Counter)
    evaluations_by_year: dict[int, set[str]] = defaultdict(set)
    totals = Counter()
    for p in passages.values():
        what = p.polarity if p.type == "finding" else "recommendation"
        by_authority[p.authority][what] += 1
        evaluations_by_authority[p.authority].add(p.evaluation)
        totals[what] += 1
        if p.date is not None:
            by_year[p.date.year][what] += 1
            evaluations_by_year[p.date.year].add(p.evaluation)
    all_by_year = Counter(d.year for d in (_date(row["date"]) for row in _rows(store, "evaluations")) if d is not None)
    selected = [p for p in passages.values()
                if (authority is None or p.authority == authority) and (polarity is None or p.polarity == polarity)]
    selected.sort(key=lambda p: (-(p.date or date.min).toordinal(), p.document, p.type, p.ordinal))
    pages = max(1, -(-len(selected) // pages_html.PAGE_SIZE))
    page = min(page, pages)
    shown = selected[(page - 1) * pages_html.PAGE_SIZE:page * pages_html.PAGE_SIZE]
    _read_texts(store, shown)
    if shown:
        matched = defaultdict(set)
        for row in _rows(store, "mentions", {"passage": [ox.NamedNode(p.iri) for p in shown], "theme": [theme]}):
            matched[row["passage"].value].add(row["matched"].value)
        for p in shown:
            p.matched = sorted(matched[p.iri], key=lambda m: (-len(m), m))
    return ThemeFacts(theme_id, concepts.label("theme", theme_id), definition, concepts, known_authorities(store),
                      dict(by_authority), dict(evaluations_by_authority), dict(by_year), dict(evaluations_by_year),
                      dict(all_by_year), totals, len(selected), shown, page, pages,
                      _last(authority) if authority else None, polarity)


def _read_texts(store, passages: list) -> None:
    """Fill in the text, file, page and paragraph of each passage (a ThemePassage or AuthorityPassage)."""
    by_iri = {p.iri: p for p in passages}
    for start in range(0, len(passages), 1000):
        chunk = [ox.NamedNode(p.iri) for p in passages[start:start + 1000]]
        for row in _rows(store, "passages", {"finding": chunk}):
            p = by_iri[row["finding"].value]
            number = row["number"] or row["paragraph_label"]
            p.text, p.file = row["text"].value, row["file"].value
            p.page = int(row["page"].value) if row["page"] is not None else None
            p.paragraph = number.value if number is not None else f"{row['ordinal'].value} (in document order)"


# ---------------------------------------------------------------------------- authorities

@worker_call("pages.authorities")
def authorities_call(ctx, store, params, max_rows: int) -> Outcome:
    known = known_authorities(store)
    evaluations: dict[str, list[tuple[date | None, str]]] = defaultdict(list)
    for row in _rows(store, "evaluations"):
        evaluations[row["authority"].value].append((_date(row["date"]), row["evaluation"].value))
    overall = {row["evaluation"].value: (row["grade_label"].value, int(row["rank"].value))
               for row in _rows(store, "overall-grades")}
    rows = []
    for iri, evs in evaluations.items():
        info = known.get(iri)
        dated = sorted((d, e) for d, e in evs if d is not None)
        graded = [(d, overall[e]) for d, e in dated if e in overall]
        rows.append(pages_html.AuthorityRow(
            info.code if info else _last(iri), info.name if info else _last(iri), info.region if info else None,
            len(evs), dated[-1][0] if dated else None,
            graded[-1][1] if graded else None, graded[-1][0] if graded else None))
    rows.sort(key=lambda r: (r.name.casefold(), r.code))
    return _html(200, pages_html.authorities_page(rows))


@dataclass
class AuthorityPassage:
    iri: str
    type: str
    evaluation: str
    polarity: str | None
    themes: list[str] = field(default_factory=list)
    text: str = ""
    file: str = ""
    page: int | None = None
    paragraph: str = ""


@dataclass
class AuthorityFacts:
    code: str
    name: str
    region: str | None
    neighbours: list[tuple[str, str]]  # (code, name)
    timeline: object | None  # timeline.Timeline, None if the authority has no evaluation in the store
    timeline_svg: str
    concepts: Concepts
    themes: dict[str, Counter]  # theme id -> {polarity id or "recommendation": passages}
    theme_evaluations: dict[str, set[str]]
    findings: int
    recommendations: list[AuthorityPassage]  # with texts, in the evaluations' order, then in document order
    documents: dict[str, str]  # evaluation IRI -> document IRI


@worker_call("pages.authority")
def authority_call(ctx, store, params, max_rows: int) -> Outcome:
    from .register import AuthorityError

    given = _one(params, "path")
    if given not in ctx.register:
        try:
            code = ctx.register.resolve(given).la_code
        except AuthorityError as err:
            return _html(404, pages_html.not_found(f"No authority '{given}': {err}", "/authorities",
                                                   "the list of authorities"))
        return Outcome(302, "text/plain; charset=utf-8", f"see /authority/{code}\n".encode(),
                       {"Location": f"/authority/{quote(code)}"})
    return _html(200, pages_html.authority_page(authority_facts(store, given, ctx.register)))


def authority_facts(store, code: str, register) -> AuthorityFacts:
    from .draw import draw_timeline
    from .timeline import build_timeline

    who = register[code]
    try:
        tl = build_timeline(store, code, register)
    except InputError:  # no evaluation of it in the store
        tl = None
    svg = draw_timeline(tl, f"{who.name} ({code}): judgements over time", "svg").decode("utf-8") if tl else ""
    passages: dict[str, AuthorityPassage] = {}
    for row in _rows(store, "authority-passages", {"authority": [ox.NamedNode(AUTHORITY_PREFIX + code)]}):
        iri = row["passage"].value
        p = passages.get(iri)
        if p is None:
            p = passages[iri] = AuthorityPassage(iri, row["type"].value, row["evaluation"].value,
                                                 _last(row["polarity"].value) if row["polarity"] is not None else None)
        if row["theme"] is not None:
            p.themes.append(_last(row["theme"].value))
    themes: dict[str, Counter] = defaultdict(Counter)
    theme_evaluations: dict[str, set[str]] = defaultdict(set)
    for p in passages.values():
        p.themes.sort()
        for t in p.themes:
            themes[t][p.polarity if p.type == "finding" else "recommendation"] += 1
            theme_evaluations[t].add(p.evaluation)
    recommendations = [p for p in passages.values() if p.type == "recommendation"]
    _read_texts(store, recommendations)
    order = {ev.iri: i for i, ev in enumerate(tl.evaluations)} if tl else {}
    recommendations.sort(key=lambda p: (-order.get(p.evaluation, -1), p.file, _ordinal(p.iri)))
    documents = {ev.iri: ev.document for ev in tl.evaluations} if tl else {}
    neighbours = [(n, register[n].name if n in register else n) for n in who.neighbours]
    return AuthorityFacts(code, who.name, who.region, neighbours, tl, svg, _concepts(store), dict(themes),
                          dict(theme_evaluations), sum(p.type == "finding" for p in passages.values()),
                          recommendations, documents)


def _ordinal(iri: str) -> int:
    tail = iri.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


# ---------------------------------------------------------------------------- source files

@worker_call("pages.source")
def source_call(ctx, store, params, max_rows: int) -> Outcome:
    doc = _one(params, "path")
    rows = list(_rows(store, "source", {"document": [ox.NamedNode(DOCUMENT_PREFIX + doc)]}))
    if not rows:
        return error(404, f"/source/{doc}: no committed document {DOCUMENT_PREFIX}{doc} in the store")
    path, digest, name = rows[0]["path"].value, rows[0]["sha256"].value, rows[0]["file"].value
    if not digest.startswith(doc):
        return error(404, f"/source/{doc}: the document's recorded SHA-256 does not match its IRI; not served")
    data = _read_source(path)
    if data is None or hashlib.sha256(data).hexdigest() != digest:
        log.warning("/source/%s: not served: %s is missing, not a regular file, or changed since it was ingested",
                    doc, path)
        return error(404, f"/source/{doc}: {name} is no longer at the path it was ingested from, or has changed "
                          "since; only the file as ingested is served")
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    disposition = f"inline; filename*=UTF-8''{quote(name, safe='')}"
    if suffix == "pdf":
        return Outcome(200, "application/pdf", data, {"Content-Disposition": disposition})
    if suffix == "txt":
        return Outcome(200, "text/plain; charset=utf-8", data,
                       {"Content-Disposition": disposition, "Content-Security-Policy": "default-src 'none'; sandbox"})
    return Outcome(200, "application/octet-stream", data,
                   {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"})


def _read_source(path: str) -> bytes | None:
    """The bytes of a regular file of at most MAX_SOURCE_BYTES, or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SOURCE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
