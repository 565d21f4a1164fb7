"""Build the RDF graph of one document from what the pipeline extracted."""

from __future__ import annotations

from datetime import date

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from .model import Extraction, Passage
from .ns import AREA, GRADE, ID, KIND, OFK, POLARITY, THEME

KIND_LABELS = {
    "ilacs-standard": "ILACS standard inspection", "ilacs-short": "ILACS short inspection",
    "focused-visit": "focused visit", "monitoring-visit": "monitoring visit", "jtai": "joint targeted area inspection",
    "sif": "single inspection framework inspection", "sif-reinspection": "single inspection framework re-inspection",
    "lscb-review": "review of the local safeguarding children board",
    "safeguarding-lac": "inspection of safeguarding and looked after children services",
    "child-protection": "inspection of arrangements for the protection of children",
    "looked-after-children": "inspection of looked after children services",
    "committee-report": "committee report", "other": "evaluation",
}


def doc_key(sha256: str) -> str:
    return sha256[:16]


def document_iri(sha256: str) -> URIRef:
    """The document node, which is also the IRI of the document's named graph."""
    return ID[f"document/{doc_key(sha256)}"]


def authority_iri(la_code: str) -> URIRef:
    return ID[f"authority/{la_code}"]


def _n(iri) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


# the terms used below, made once as pyoxigraph nodes
_TYPE, _LABEL, _TITLE, _ISSUED = _n(RDF.type), _n(RDFS.label), _n(DCTERMS.title), _n(DCTERMS.issued)
_P = {name: _n(OFK[name]) for name in (
    "Document", "Inspection", "SelfEvaluation", "Judgement", "Finding", "Recommendation", "ThemeMention",
    "sha256", "fileName", "sourcePath", "extractorVersion", "pageCount", "authority", "kind", "source",
    "startDate", "endDate", "publishedDate", "evaluation", "area", "grade", "text", "ordinal", "charStart",
    "charEnd", "number", "paragraphLabel", "section", "page", "polarity", "underpinsRecommendation",
    "theme", "mention", "mentionOf", "matchedText")}
_BOOLEAN, _INTEGER, _DATE = _n(XSD.boolean), _n(XSD.integer), _n(XSD.date)
_SCHEME_NODES: dict[str, ox.NamedNode] = {}


def _scheme(ns, value: str) -> ox.NamedNode:
    iri = str(ns) + value
    node = _SCHEME_NODES.get(iri)
    if node is None:
        node = _SCHEME_NODES[iri] = ox.NamedNode(iri)
    return node


def _lit(value) -> ox.Literal:
    """The literal rdflib would make of a Python value (strings plain, ints, booleans and dates typed)."""
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=_BOOLEAN)
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=_INTEGER)
    if isinstance(value, date):
        return ox.Literal(value.isoformat(), datatype=_DATE)
    return ox.Literal(value)


_ID = str(ID)


def _passage(out: list, graph: ox.NamedNode, node: ox.NamedNode, p: Passage, eval_node: ox.NamedNode, key: str,
             tag: str, eval_label: str) -> None:
    P = _P

    def add(pred, obj):
        out.append(ox.Quad(node, pred, obj, graph))

    finding = p.kind == "finding"
    add(_TYPE, P["Finding"] if finding else P["Recommendation"])
    where = f"paragraph {p.number}" if p.number is not None else (f"paragraph {p.label}" if p.label else f"item {p.ordinal}")
    add(_LABEL, ox.Literal(f"{'Finding' if finding else 'Recommendation'}, {where}, {eval_label}"))
    add(P["evaluation"], eval_node)
    add(P["text"], ox.Literal(p.text))
    add(P["ordinal"], _lit(p.ordinal))
    add(P["charStart"], _lit(p.start))
    add(P["charEnd"], _lit(p.end))
    if p.number is not None:
        add(P["number"], _lit(p.number))
    if p.label:
        add(P["paragraphLabel"], ox.Literal(p.label))
    if p.section and finding:
        add(P["section"], ox.Literal(p.section))
    if p.area:
        add(P["area"], _scheme(AREA, p.area))
    if p.page is not None:
        add(P["page"], _lit(p.page))
    if finding:
        add(P["polarity"], _scheme(POLARITY, p.polarity or "neutral"))
        add(P["underpinsRecommendation"], _lit(p.underpins_recommendation))
    for theme in dict.fromkeys(p.themes):
        add(P["theme"], _scheme(THEME, theme))
    for j, m in enumerate(p.mentions, start=1):
        mnode = ox.NamedNode(f"{_ID}mention/{key}-{tag}{p.ordinal}-{j}")
        add(P["mention"], mnode)
        for pred, obj in ((_TYPE, P["ThemeMention"]), (_LABEL, ox.Literal(f"'{m.text}' ({m.theme})")),
                          (P["mentionOf"], _scheme(THEME, m.theme)), (P["matchedText"], ox.Literal(m.text)),
                          (P["charStart"], _lit(m.start)), (P["charEnd"], _lit(m.end))):
            out.append(ox.Quad(mnode, pred, obj, graph))


def build_quads(ex: Extraction, version: str) -> list[ox.Quad]:
    """All statements of one document as pyoxigraph quads in its named graph `document_iri(ex.sha256)`.

    Built directly as pyoxigraph terms: validation and the store work on these, and making
    rdflib terms first and converting them cost more than all the rest of the ingest after NLP.
    """
    P = _P
    out: list[ox.Quad] = []
    key = doc_key(ex.sha256)
    doc = ox.NamedNode(str(document_iri(ex.sha256)))
    graph = doc

    def add(s, pred, obj):
        out.append(ox.Quad(s, pred, obj, graph))

    add(doc, _TYPE, P["Document"])
    add(doc, _LABEL, ox.Literal(ex.file_name))
    add(doc, P["sha256"], ox.Literal(ex.sha256))
    add(doc, P["fileName"], ox.Literal(ex.file_name))
    add(doc, P["sourcePath"], ox.Literal(ex.path))
    add(doc, P["extractorVersion"], ox.Literal(version))
    add(doc, _TITLE, ox.Literal(ex.title))
    if ex.issued:
        add(doc, _ISSUED, _lit(ex.issued))
    if ex.normalised.page_count is not None:
        add(doc, P["pageCount"], _lit(ex.normalised.page_count))
    for n, ev in enumerate(ex.evaluations, start=1):
        node = ox.NamedNode(f"{_ID}evaluation/{key}-{n}")
        add(node, _TYPE, P["SelfEvaluation"] if ev.is_self_evaluation else P["Inspection"])
        when = ev.start or ev.published
        label = f"{ev.authority_name}, {KIND_LABELS.get(ev.kind, ev.kind)}" + (f", {when:%B %Y}" if when else "")
        add(node, _LABEL, ox.Literal(label))
        add(node, P["authority"], ox.NamedNode(str(authority_iri(ev.authority))))
        add(node, P["kind"], _scheme(KIND, ev.kind))
        add(node, P["source"], doc)
        for prop, value in (("startDate", ev.start), ("endDate", ev.end), ("publishedDate", ev.published)):
            if value:
                add(node, P[prop], _lit(value))
        for j in ev.judgements:
            jnode = ox.NamedNode(f"{_ID}judgement/{key}-{n}-{j.area}")
            add(jnode, _TYPE, P["Judgement"])
            add(jnode, _LABEL, ox.Literal(f"{label}: {j.area.replace('-', ' ')} {j.grade.replace('-', ' ')}"))
            add(jnode, P["evaluation"], node)
            add(jnode, P["area"], _scheme(AREA, j.area))
            add(jnode, P["grade"], _scheme(GRADE, j.grade))
        for p in ev.findings:
            _passage(out, graph, ox.NamedNode(f"{_ID}finding/{key}-{p.ordinal}"), p, node, key, "f", label)
        for p in ev.recommendations:
            _passage(out, graph, ox.NamedNode(f"{_ID}recommendation/{key}-{p.ordinal}"), p, node, key, "r", label)
    return out


def build_graph(ex: Extraction, version: str) -> Graph:
    """The same triples as an rdflib Graph (for tests, pyshacl and rdflib-based tools)."""
    from .terms import to_rdflib

    g = Graph()
    for q in build_quads(ex, version):
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g
