"""Build the RDF graph of one document from what the pipeline extracted."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
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


def _passage(g: Graph, node: URIRef, p: Passage, eval_node: URIRef, key: str, tag: str, eval_label: str) -> None:
    cls = OFK.Finding if p.kind == "finding" else OFK.Recommendation
    g.add((node, RDF.type, cls))
    where = f"paragraph {p.number}" if p.number is not None else (f"paragraph {p.label}" if p.label else f"item {p.ordinal}")
    noun = "Finding" if p.kind == "finding" else "Recommendation"
    g.add((node, RDFS.label, Literal(f"{noun}, {where}, {eval_label}")))
    g.add((node, OFK.evaluation, eval_node))
    g.add((node, OFK.text, Literal(p.text)))
    g.add((node, OFK.ordinal, Literal(p.ordinal)))
    g.add((node, OFK.charStart, Literal(p.start)))
    g.add((node, OFK.charEnd, Literal(p.end)))
    if p.number is not None:
        g.add((node, OFK.number, Literal(p.number)))
    if p.label:
        g.add((node, OFK.paragraphLabel, Literal(p.label)))
    if p.section and p.kind == "finding":
        g.add((node, OFK.section, Literal(p.section)))
    if p.area:
        g.add((node, OFK.area, AREA[p.area]))
    if p.page is not None:
        g.add((node, OFK.page, Literal(p.page)))
    if p.kind == "finding":
        g.add((node, OFK.polarity, POLARITY[p.polarity or "neutral"]))
        g.add((node, OFK.underpinsRecommendation, Literal(p.underpins_recommendation)))
    for theme in p.themes:
        g.add((node, OFK.theme, THEME[theme]))
    for j, m in enumerate(p.mentions, start=1):
        mnode = ID[f"mention/{key}-{tag}{p.ordinal}-{j}"]
        g.add((node, OFK.mention, mnode))
        g.add((mnode, RDF.type, OFK.ThemeMention))
        g.add((mnode, RDFS.label, Literal(f"'{m.text}' ({m.theme})")))
        g.add((mnode, OFK.mentionOf, THEME[m.theme]))
        g.add((mnode, OFK.matchedText, Literal(m.text)))
        g.add((mnode, OFK.charStart, Literal(m.start)))
        g.add((mnode, OFK.charEnd, Literal(m.end)))


def build_graph(ex: Extraction, version: str) -> Graph:
    """All triples of one document; they go into the named graph `document_iri(ex.sha256)`."""
    g = Graph()
    key = doc_key(ex.sha256)
    doc = document_iri(ex.sha256)
    g.add((doc, RDF.type, OFK.Document))
    g.add((doc, RDFS.label, Literal(ex.file_name)))
    g.add((doc, OFK.sha256, Literal(ex.sha256)))
    g.add((doc, OFK.fileName, Literal(ex.file_name)))
    g.add((doc, OFK.sourcePath, Literal(ex.path)))
    g.add((doc, OFK.extractorVersion, Literal(version)))
    g.add((doc, DCTERMS.title, Literal(ex.title)))
    if ex.issued:
        g.add((doc, DCTERMS.issued, Literal(ex.issued, datatype=XSD.date)))
    if ex.normalised.page_count is not None:
        g.add((doc, OFK.pageCount, Literal(ex.normalised.page_count)))
    for n, ev in enumerate(ex.evaluations, start=1):
        node = ID[f"evaluation/{key}-{n}"]
        g.add((node, RDF.type, OFK.SelfEvaluation if ev.is_self_evaluation else OFK.Inspection))
        when = ev.start or ev.published
        label = f"{ev.authority_name}, {KIND_LABELS.get(ev.kind, ev.kind)}" + (f", {when:%B %Y}" if when else "")
        g.add((node, RDFS.label, Literal(label)))
        g.add((node, OFK.authority, authority_iri(ev.authority)))
        g.add((node, OFK.kind, KIND[ev.kind]))
        g.add((node, OFK.source, doc))
        for prop, value in ((OFK.startDate, ev.start), (OFK.endDate, ev.end), (OFK.publishedDate, ev.published)):
            if value:
                g.add((node, prop, Literal(value, datatype=XSD.date)))
        for j in ev.judgements:
            jnode = ID[f"judgement/{key}-{n}-{j.area}"]
            g.add((jnode, RDF.type, OFK.Judgement))
            g.add((jnode, RDFS.label, Literal(f"{label}: {j.area.replace('-', ' ')} {j.grade.replace('-', ' ')}")))
            g.add((jnode, OFK.evaluation, node))
            g.add((jnode, OFK.area, AREA[j.area]))
            g.add((jnode, OFK.grade, GRADE[j.grade]))
        for p in ev.findings:
            _passage(g, ID[f"finding/{key}-{p.ordinal}"], p, node, key, "f", label)
        for p in ev.recommendations:
            _passage(g, ID[f"recommendation/{key}-{p.ordinal}"], p, node, key, "r", label)
    return g
