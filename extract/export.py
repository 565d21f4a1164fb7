"""Export the store as Turtle, N-Triples, TriG or JSON-LD, and count what it holds."""

from __future__ import annotations

import json

import pyoxigraph as ox
from rdflib import Dataset

from .ns import ID, OFK, REFERENCE_GRAPH
from .resources import read_text
from .store import Store

PREFIXES = {
    "ofk": str(OFK), "id": str(ID), "theme": "https://w3id.org/ofsted-kg/theme/",
    "grade": "https://w3id.org/ofsted-kg/grade/", "area": "https://w3id.org/ofsted-kg/area/",
    "kind": "https://w3id.org/ofsted-kg/kind/", "polarity": "https://w3id.org/ofsted-kg/polarity/",
    "skos": "http://www.w3.org/2004/02/skos/core#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dcterms": "http://purl.org/dc/terms/", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#", "org": "http://www.w3.org/ns/org#", "prov": "http://www.w3.org/ns/prov#",
    "sh": "http://www.w3.org/ns/shacl#",
}


def jsonld_context() -> dict:
    return json.loads(read_text("ontology", "context.jsonld"))["@context"]


def _graphs(store: Store, reference: bool) -> list[str]:
    names = store.document_graphs()
    if reference:
        names = sorted(g.value for g in store.ox.named_graphs())
    return names


def export_store(store: Store, fmt: str, reference: bool = True) -> bytes:
    graphs = [ox.NamedNode(g) for g in _graphs(store, reference)]
    if fmt in ("trig", "nt", "turtle"):
        if fmt == "trig":
            quads = (q for g in graphs for q in store.ox.quads_for_pattern(None, None, None, g))
            return ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
        triples = {ox.Triple(q.subject, q.predicate, q.object)
                   for g in graphs for q in store.ox.quads_for_pattern(None, None, None, g)}
        if fmt == "nt":
            return ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.N_TRIPLES)
        return ox.serialize(sorted(triples, key=str), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    ds = Dataset()
    for g in graphs:
        target = ds.graph(g.value)
        target += store.graph(g.value)
    return ds.serialize(format="json-ld", context=jsonld_context(), auto_compact=True).encode("utf-8")


# Every count goes through the catalogue (committed documents only) with explicit GRAPH
# patterns, so it reads the same on the embedded store and on a SPARQL server, whatever
# the server's default graph is.
_PREFIXES = ("PREFIX ofk: <https://w3id.org/ofsted-kg/ont#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
             f"PREFIX cat: <{ID['graph/catalogue']}> PREFIX ref: <{REFERENCE_GRAPH}> ")
_COMMITTED = "GRAPH cat: { ?doc a ofk:Document }"
_COUNTS = _PREFIXES + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {_COMMITTED} GRAPH ?doc {{ ?x a ?class }} }}"


def store_stats(store) -> list[tuple[str, str]]:
    """Counts for `ofsted-kg stats`, from the embedded Store or a remote.RemoteStore."""
    out: list[tuple[str, str]] = []

    def count(cls) -> int:
        rows = list(store.query(_COUNTS, {"class": ox.NamedNode(str(cls))}))
        return int(rows[0]["n"].value)

    out.append(("store", str(store.path)))
    out.append(("documents", str(count(OFK.Document))))
    by_kind = store.query(
        _PREFIXES + f"SELECT ?k (COUNT(DISTINCT ?e) AS ?n) WHERE {{ {_COMMITTED} GRAPH ?doc {{ ?e ofk:kind ?kind }} "
        "GRAPH ref: { ?kind skos:notation ?k } } GROUP BY ?k ORDER BY ?k"
    )
    for row in by_kind:
        out.append((f"  {row['k'].value}", row["n"].value))
    for label, cls in (("evaluations", OFK.Evaluation), ("inspections", OFK.Inspection),
                       ("self-evaluations", OFK.SelfEvaluation), ("judgements", OFK.Judgement),
                       ("findings", OFK.Finding), ("recommendations", OFK.Recommendation),
                       ("theme mentions", OFK.ThemeMention)):
        if cls == OFK.Evaluation:
            n = count(OFK.Inspection) + count(OFK.SelfEvaluation)
        else:
            n = count(cls)
        out.append((label, str(n)))
    rows = list(store.query(
        _PREFIXES + "SELECT (COUNT(DISTINCT ?a) AS ?auth) (COUNT(DISTINCT ?t) AS ?themes) "
        f"WHERE {{ {_COMMITTED} GRAPH ?doc {{ {{ ?e ofk:authority ?a }} UNION {{ ?p ofk:theme ?t }} }} }}"))
    out.append(("authorities with a document", rows[0]["auth"].value))
    out.append(("themes used", rows[0]["themes"].value))
    return out
