"""The theme co-occurrence network: filtered findings and their themes from the store, counted into a networkx graph."""

from __future__ import annotations

import calendar
import io
import json
import logging
import math
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import combinations

import networkx as nx
import pyoxigraph as ox

from .errors import InputError
from .ns import ID
from .queries import Param, to_term, with_value_sets
from .resources import read_text

log = logging.getLogger(__name__)

XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
WEIGHTS = ("lift", "pmi", "count")
FORMATS = ("html", "graphml", "gexf", "json", "png", "svg")


@lru_cache(maxsize=None)
def chart_query(name: str) -> str:
    """A query of the package's charts/ folder, read and parse-checked once."""
    text = read_text("charts", f"{name}.rq")
    try:
        ox.Store().query(text)
    except SyntaxError as err:
        raise InputError(f"charts/{name}.rq: not valid SPARQL ({err})") from err
    return text


# ---------------------------------------------------------------------------- filters

@dataclass(frozen=True)
class Filters:
    """What to count: evaluations of these kinds, in this period, of these authorities or
    regions, and findings of these polarities. Empty means any."""

    kinds: tuple[str, ...] = ()
    polarities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    authorities: tuple[str, ...] = ()  # DfE codes or names, as given
    neighbours_of: str | None = None  # an authority whose statistical neighbours to count
    start: date | None = None
    end: date | None = None

    def describe(self) -> str:
        parts = []
        if self.kinds:
            parts.append("kind " + ", ".join(self.kinds))
        if self.start or self.end:
            parts.append(f"from {self.start or '…'} to {self.end or '…'}")
        if self.polarities:
            parts.append("polarity " + ", ".join(self.polarities))
        if self.regions:
            parts.append("region " + ", ".join(self.regions))
        if self.authorities:
            parts.append("authorities " + ", ".join(self.authorities))
        if self.neighbours_of:
            parts.append(f"statistical neighbours of {self.neighbours_of}")
        return "; ".join(parts) or "all findings"


def parse_period_bound(value: str, end: bool = False) -> date:
    """A date from YYYY, YYYY-MM or YYYY-MM-DD; a year or month means its first day, or its last if `end`."""
    parts = value.strip().split("-")
    try:
        if len(parts) == 1:
            return date(int(parts[0]), 12, 31) if end else date(int(parts[0]), 1, 1)
        if len(parts) == 2:
            y, m = int(parts[0]), int(parts[1])
            return date(y, m, calendar.monthrange(y, m)[1] if end else 1)
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"'{value}' is not a date (give YYYY, YYYY-MM or YYYY-MM-DD)") from None


# ---------------------------------------------------------------------------- selection

@dataclass
class AuthorityInfo:
    iri: str
    code: str
    name: str
    region: str | None


@dataclass
class Selection:
    """The findings that pass the filters, with what the charts need to know about them."""

    filters: Filters
    findings: dict[str, tuple[str, str]]  # finding IRI -> (polarity id, evaluation IRI)
    themes_of: dict[str, tuple[str, ...]]  # finding IRI -> theme ids, sorted (only themed findings)
    evaluations: dict[str, tuple[str, date | None]]  # evaluation IRI -> (authority IRI, date)
    authorities: dict[str, AuthorityInfo]  # authority IRI -> who
    theme_labels: dict[str, str]  # theme id -> prefLabel, every theme of the scheme

    def authority_of(self, finding: str) -> str:
        return self.evaluations[self.findings[finding][1]][0]


def _terms(kind: str, values, register=None, scheme_ids=None, option: str | None = None) -> list:
    param = Param(option or f"--{kind}", kind, None, "")
    return [to_term(param, v, register, scheme_ids) for v in values]


def _concepts(store) -> tuple[dict[str, set[str]], dict[str, str], dict[str, str]]:
    """Scheme ids ({'theme': {...}, 'kind': {...}, ...}), theme labels by id, theme ids by IRI."""
    scheme_ids: dict[str, set[str]] = defaultdict(set)
    labels, theme_ids = {}, {}
    for row in store.query(chart_query("concepts")):
        scheme = row["scheme"].value.rsplit("/", 2)[-2]
        scheme_ids[scheme].add(row["id"].value)
        if scheme == "theme":
            labels[row["id"].value] = row["label"].value
            theme_ids[row["concept"].value] = row["id"].value
    return dict(scheme_ids), labels, theme_ids


def known_authorities(store) -> dict[str, AuthorityInfo]:
    """Every authority of the registers in the store, by IRI (its English label when it has several)."""
    out: dict[str, AuthorityInfo] = {}
    for row in store.query(chart_query("authorities")):
        iri, name = row["authority"].value, row["name"]
        if iri in out and name.language != "en":
            continue
        region = row["region"].value if row["region"] else None
        out[iri] = AuthorityInfo(iri, row["code"].value, name.value, region)
    return out


def select(store, filters: Filters) -> Selection:
    """Run the chart queries with the filters bound as RDF terms; join their rows in Python.

    Each query is one or two triple patterns: pyoxigraph answers those several times faster
    on the on-disk store than one query joining them all.
    """
    scheme_ids, labels, theme_ids = _concepts(store)
    known = known_authorities(store)
    authority_terms = []
    if filters.authorities or filters.neighbours_of is not None:
        from .register import load_register

        register = load_register(store.extra_registers())
        authority_terms = _terms("authority", filters.authorities, register)
        if filters.neighbours_of is not None:
            (centre,) = _terms("authority", [filters.neighbours_of], register, option="--neighbours-of")
            code = centre.value.rsplit("/", 1)[1]
            neighbours = register[code].neighbours
            if not neighbours:
                raise InputError(f"--neighbours-of: {register[code].name} ({code}) has no statistical neighbours "
                                 "in the register")
            authority_terms += [ox.NamedNode(str(ID[f"authority/{n}"])) for n in neighbours]
    regions = sorted({a.region for a in known.values() if a.region})
    for region in filters.regions:
        if region not in regions:
            raise InputError(f"--region: no region '{region}' in the register (regions: {', '.join(regions)})")
    if filters.start and filters.end and filters.start > filters.end:
        raise InputError(f"--from {filters.start} is after --to {filters.end}")
    values = {
        "kind": _terms("kind", filters.kinds, scheme_ids=scheme_ids),
        "authority": authority_terms,
        "region_in": [ox.Literal(r) for r in filters.regions],
        "from": [ox.Literal(filters.start.isoformat(), datatype=XSD_DATE)] if filters.start else [],
        "to": [ox.Literal(filters.end.isoformat(), datatype=XSD_DATE)] if filters.end else [],
    }
    polarity_terms = _terms("polarity", filters.polarities, scheme_ids=scheme_ids)
    evaluations = {}
    for row in store.query(with_value_sets(chart_query("evaluations"), values)):
        when = row["date"]
        evaluations[row["evaluation"].value] = (row["authority"].value, date.fromisoformat(when.value) if when else None)
    narrowed = any(values.values())
    findings: dict[str, tuple[str, str]] = {}
    if evaluations:
        evaluation_of = {}
        ev_values = {"evaluation": [ox.NamedNode(e) for e in evaluations]} if narrowed else {}
        for row in store.query(with_value_sets(chart_query("passage-evaluations"), ev_values)):
            evaluation_of[row["finding"].value] = row["evaluation"].value
        for row in store.query(with_value_sets(chart_query("findings"), {"pol": polarity_terms})):
            finding = row["finding"].value
            evaluation = evaluation_of.get(finding)
            if evaluation in evaluations:
                findings[finding] = (row["pol"].value.rsplit("/", 1)[1], evaluation)
    themes_of: dict[str, set[str]] = defaultdict(set)
    if findings:
        for row in store.query(chart_query("finding-themes")):
            finding = row["finding"].value
            if finding in findings:
                themes_of[finding].add(theme_ids[row["theme"].value])
    authorities = {}
    for iri in {a for a, _ in evaluations.values()}:
        code = iri.rsplit("/", 1)[1]
        authorities[iri] = known.get(iri) or AuthorityInfo(iri, code, code, None)
    log.info("%d evaluations, %d findings (%d with a theme) for %s", len(evaluations), len(findings),
             len(themes_of), filters.describe())
    return Selection(filters, findings, {f: tuple(sorted(t)) for f, t in themes_of.items()},
                     evaluations, authorities, labels)


# ---------------------------------------------------------------------------- counts

@dataclass
class Cooccurrence:
    """How often themes are found, alone and together on one finding."""

    total: int  # findings counted (with or without a theme): the N of lift and PMI
    findings: Counter  # theme -> findings carrying it
    weakness: Counter  # theme -> weakness findings carrying it
    strength: Counter  # theme -> strength findings carrying it
    authorities: dict[str, set[str]]  # theme -> authorities with a finding on it
    pairs: Counter  # (theme a, theme b), a < b -> findings carrying both
    pair_authorities: dict[tuple[str, str], set[str]]
    pair_findings: dict[tuple[str, str], list[str]] = field(repr=False, default_factory=dict)
    theme_findings: dict[str, list[str]] = field(repr=False, default_factory=dict)

    def lift(self, a: str, b: str) -> float:
        n = self.pairs[tuple(sorted((a, b)))]
        return n * self.total / (self.findings[a] * self.findings[b])


def count(selection: Selection) -> Cooccurrence:
    findings, weakness, strength, pairs = Counter(), Counter(), Counter(), Counter()
    authorities, pair_authorities = defaultdict(set), defaultdict(set)
    theme_findings, pair_findings = defaultdict(list), defaultdict(list)
    for finding, themes in sorted(selection.themes_of.items()):
        polarity = selection.findings[finding][0]
        authority = selection.authority_of(finding)
        for t in themes:
            findings[t] += 1
            weakness[t] += polarity == "weakness"
            strength[t] += polarity == "strength"
            authorities[t].add(authority)
            theme_findings[t].append(finding)
        for pair in combinations(themes, 2):  # themes are sorted, so a < b
            pairs[pair] += 1
            pair_authorities[pair].add(authority)
            pair_findings[pair].append(finding)
    return Cooccurrence(len(selection.findings), findings, weakness, strength, dict(authorities), pairs,
                        dict(pair_authorities), dict(pair_findings), dict(theme_findings))


def association(n_ab: int, n_a: int, n_b: int, total: int) -> tuple[float, float, float]:
    """Lift, PMI (log2 of lift) and normalised PMI (PMI / -log2 p(a,b)) of a pair."""
    lift = n_ab * total / (n_a * n_b)
    pmi = math.log2(lift)
    p_ab = n_ab / total
    npmi = 1.0 if p_ab >= 1 else pmi / -math.log2(p_ab)
    return lift, pmi, npmi


# ---------------------------------------------------------------------------- the graph

def build_graph(selection: Selection, weight: str = "lift", min_weight: int = 5, min_lift: float = 0.0,
                seed: int = 1) -> nx.Graph:
    """The co-occurrence graph: a node per theme found, an edge per pair found together.

    Nodes carry label, findings, authorities, weakness, strength, weakness_share, community
    and a layout position (x, y in 0..1); edges carry count, authorities, lift, pmi, npmi and
    weight, the measure chosen for the layout, the communities and the strongest partners:
    lift (as VOSviewer's association strength), PMI or count. With lift or PMI, pairs found
    no more often than chance (lift <= 1) do not pull their themes together. Edges with fewer
    than `min_weight` findings or a lift under `min_lift` are left out.
    """
    if weight not in WEIGHTS:
        raise InputError(f"unknown weight '{weight}' (choose from {', '.join(WEIGHTS)})")
    co = count(selection)
    G = nx.Graph(findings_total=co.total, themed_findings=len(selection.themes_of),
                 authorities_total=len({selection.authority_of(f) for f in selection.findings}),
                 weight_measure=weight, min_weight=min_weight, min_lift=float(min_lift), seed=seed,
                 filters=selection.filters.describe())
    for t in sorted(co.findings):
        G.add_node(t, label=selection.theme_labels.get(t, t), findings=co.findings[t],
                   authorities=len(co.authorities[t]), weakness=co.weakness[t], strength=co.strength[t],
                   weakness_share=round(co.weakness[t] / co.findings[t], 6))
    for (a, b), n in sorted(co.pairs.items()):
        lift, pmi, npmi = association(n, co.findings[a], co.findings[b], co.total)
        if n < min_weight or lift < min_lift:
            continue
        w = {"lift": lift, "pmi": pmi, "count": float(n)}[weight]
        G.add_edge(a, b, count=n, authorities=len(co.pair_authorities[(a, b)]), lift=round(lift, 6),
                   pmi=round(pmi, 6), npmi=round(npmi, 6), weight=round(w, 6))
    G.graph["weakness_scale"] = math.ceil(10 * max((d["weakness_share"] for _, d in G.nodes(data=True)),
                                                   default=0.0) - 1e-9) / 10 or 1.0
    _communities(G, seed)
    _layout(G, seed)
    G.graph["cooccurrence"] = co  # for sample passages; dropped by the writers
    return G


def pull(G: nx.Graph, d: dict) -> float:
    """How strongly an edge pulls its themes together: its weight above chance (lift 1, PMI 0), or its count."""
    return max(d["weight"] - (1.0 if G.graph["weight_measure"] == "lift" else 0.0), 0.0)


def _communities(G: nx.Graph, seed: int) -> None:
    """Louvain communities on the edges' pull (seeded), numbered from the largest.

    graph["communities"] counts those of two themes or more; a theme alone comes after them.
    """
    positive = _pulling(G)
    found = nx.community.louvain_communities(positive, weight="weight", seed=seed) if positive.number_of_edges() else \
        [{n} for n in G]
    ordered = sorted(found, key=lambda c: (-len(c), min(c)))
    for i, members in enumerate(ordered):
        for n in members:
            G.nodes[n]["community"] = i
    G.graph["communities"] = sum(1 for c in ordered if len(c) > 1)


def _pulling(G: nx.Graph) -> nx.Graph:
    """The themes with only the edges that pull them together, weighted by their pull."""
    H = nx.Graph()
    H.add_nodes_from(sorted(G))
    H.add_edges_from((a, b, {"weight": pull(G, d)}) for a, b, d in sorted(G.edges(data=True)) if pull(G, d) > 0)
    return H


def _layout(G: nx.Graph, seed: int) -> None:
    """A force-directed layout (seeded) in the unit square; themes that nothing pulls go in rows at the bottom."""
    H = _pulling(G)
    linked = [n for n in H if H.degree(n)]
    alone = sorted((n for n in H if not H.degree(n)), key=lambda n: (-G.nodes[n]["findings"], n))
    per_row = 10
    rows = math.ceil(len(alone) / per_row)
    bottom = 1.0 - 0.09 * rows if linked else 0.0
    if linked:
        sub = H.subgraph(linked)
        top = max(d["weight"] for _, _, d in sub.edges(data=True))
        sub = nx.Graph((a, b, {"w": d["weight"] / top}) for a, b, d in sub.edges(data=True))
        pos = nx.spring_layout(sub, weight="w", seed=seed, k=1.6 / math.sqrt(len(linked)), iterations=200)
        xs, ys = [p[0] for p in pos.values()], [p[1] for p in pos.values()]
        span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
        for n, (x, y) in pos.items():
            G.nodes[n]["x"] = round((x - min(xs)) / span_x, 6)
            G.nodes[n]["y"] = round(bottom * (y - min(ys)) / span_y, 6)
    for i, n in enumerate(alone):
        row, col = divmod(i, per_row)
        in_row = min(per_row, len(alone) - row * per_row)
        G.nodes[n]["x"] = round((col + 0.5) / in_row, 6)
        G.nodes[n]["y"] = round(bottom + 0.09 * (row + 1) if linked else (row + 0.5) / rows, 6)


# ---------------------------------------------------------------------------- passages

@dataclass
class Passage:
    text: str
    file: str
    page: int | None
    paragraph: str
    authority: str
    date: str
    polarity: str

    def source(self) -> str:
        parts = [self.file]
        if self.page is not None:
            parts.append(f"page {self.page}")
        parts.append(f"paragraph {self.paragraph}")
        return ", ".join(parts)


def _sample(findings: list[str], selection: Selection, n: int, order: dict[str, int]) -> list[str]:
    """Up to n findings in a seeded pseudo-random order, one per authority before any second."""
    chosen, seen, rest = [], set(), []
    for f in sorted(findings, key=order.__getitem__):
        a = selection.authority_of(f)
        (rest if a in seen else chosen).append(f)
        seen.add(a)
        if len(chosen) >= n:
            break
    return (chosen + rest)[:n]


def sample_passages(store, selection: Selection, G: nx.Graph, per_theme: int = 5, per_pair: int = 3,
                    partners: int = 8) -> tuple[dict, dict, dict]:
    """Sample passages for each theme and for each theme's strongest partners.

    Returns (passages by finding IRI, finding IRIs by theme, finding IRIs by pair "a|b").
    """
    co: Cooccurrence = G.graph["cooccurrence"]
    seed = G.graph["seed"]
    order = {f: zlib.crc32(f"{seed}:{f}".encode()) for f in selection.themes_of}  # a seeded shuffle
    by_theme = {t: _sample(co.theme_findings[t], selection, per_theme, order) for t in G}
    pairs = set()
    for t in G:
        strongest = sorted(G[t].items(), key=lambda kv: (-kv[1]["weight"], -kv[1]["count"], kv[0]))[:partners]
        pairs |= {tuple(sorted((t, u))) for u, _ in strongest}
    by_pair = {f"{a}|{b}": _sample(co.pair_findings[(a, b)], selection, per_pair, order) for a, b in sorted(pairs)}
    wanted = sorted({f for fs in by_theme.values() for f in fs} | {f for fs in by_pair.values() for f in fs})
    passages = {}
    for start in range(0, len(wanted), 2000):
        chunk = [ox.NamedNode(f) for f in wanted[start:start + 2000]]
        for row in store.query(with_value_sets(chart_query("passages"), {"finding": chunk})):
            f = row["finding"].value
            number = row["number"] or row["paragraph_label"]
            passages[f] = Passage(
                text=row["text"].value, file=row["file"].value,
                page=int(row["page"].value) if row["page"] else None,
                paragraph=number.value if number else f"{row['ordinal'].value} (in document order)",
                authority=row["authority_name"].value, date=row["date"].value if row["date"] else "",
                polarity=selection.findings[f][0])
    return passages, by_theme, by_pair


# ---------------------------------------------------------------------------- writers

def plain(G: nx.Graph) -> nx.Graph:
    """A copy with only the attributes GraphML, GEXF and JSON take (no Python objects)."""
    H = G.copy()
    H.graph.pop("cooccurrence", None)
    return H


def graph_bytes(G: nx.Graph, fmt: str) -> bytes:
    """The graph as GraphML, GEXF (with Gephi's viz position, size and colour) or node-link JSON."""
    from .draw import node_fill

    H = plain(G)
    if fmt == "graphml":
        out = io.BytesIO()
        nx.write_graphml(H, out, named_key_ids=True)
        return out.getvalue()
    if fmt == "gexf":
        top = max((d["authorities"] for _, d in H.nodes(data=True)), default=1)
        for _, d in H.nodes(data=True):
            r, g, b = (int(node_fill(H, d)[i:i + 2], 16) for i in (1, 3, 5))
            d["viz"] = {"color": {"r": r, "g": g, "b": b, "a": 1.0},
                        "size": 5.0 + 25.0 * math.sqrt(d["authorities"] / top),
                        "position": {"x": 1000.0 * d["x"], "y": -1000.0 * d["y"], "z": 0.0}}
        out = io.BytesIO()
        nx.write_gexf(H, out)
        return out.getvalue()
    if fmt == "json":
        data = nx.node_link_data(H, edges="links")
        return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    raise InputError(f"unknown graph format '{fmt}'")
