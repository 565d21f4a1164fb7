"""Build the RDF graph of one document from what the pipeline extracted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from itertools import combinations

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from .model import Extraction, Passage
from .ns import AREA, GRADE, ID, KIND, OFK, POLARITY, THEME, THEME_PAIR

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


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _iri(iri) -> str:
    return f"<{iri}>"


def lit(value) -> str:
    """A Python value as an N-Triples literal, as rdflib would type it: strings plain; ints,
    booleans and dates typed with XSD."""
    if isinstance(value, bool):
        return f'"{"true" if value else "false"}"^^{_BOOLEAN}'
    if isinstance(value, int):
        return f'"{value}"^^{_INTEGER}'
    if isinstance(value, date):
        return f'"{value.isoformat()}"^^{_DATE}'
    return '"' + str(value).translate(_ESCAPES) + '"'


_TYPE, _LABEL, _TITLE, _ISSUED = _iri(RDF.type), _iri(RDFS.label), _iri(DCTERMS.title), _iri(DCTERMS.issued)
_P = {name: _iri(OFK[name]) for name in (
    "Document", "Inspection", "SelfEvaluation", "Judgement", "Finding", "Recommendation", "ThemeMention",
    "sha256", "fileName", "sourcePath", "extractorVersion", "pageCount", "authority", "kind", "source",
    "startDate", "endDate", "publishedDate", "evaluation", "area", "grade", "text", "ordinal", "charStart",
    "charEnd", "number", "paragraphLabel", "section", "page", "polarity", "underpinsRecommendation",
    "theme", "mention", "mentionOf", "matchedText", "ThemeTally", "tallyEvaluation", "tallyTheme",
    "tallyPolarity", "findingCount", "themePair")}
_BOOLEAN, _INTEGER, _DATE = _iri(XSD.boolean), _iri(XSD.integer), _iri(XSD.date)
_ID = str(ID)


@dataclass
class DocumentGraph:
    """The statements of one document: (subject, predicate, object) as N-Triples terms, all in
    the named graph `iri` (the document's IRI).

    Kept as N-Triples text from the start: validation indexes the terms as Python strings,
    and the stores parse the N-Quads in Rust, so no statement is made as an rdflib or
    pyoxigraph object one at a time (that cost more than the rest of the ingest after NLP).
    """

    iri: str
    statements: list[tuple[str, str, str]]

    def nquads(self) -> bytes:
        g = f"<{self.iri}>"
        text = "".join(f"{s} {p} {o} {g} .\n" for s, p, o in self.statements)
        return text.encode("utf-8", "replace")

    def quads(self) -> list[ox.Quad]:
        return list(ox.parse(self.nquads(), format=ox.RdfFormat.N_QUADS))

    def __len__(self) -> int:
        return len(self.statements)


def _passage(add, node: str, p: Passage, eval_node: str, key: str, tag: str, eval_label: str) -> None:
    P = _P
    finding = p.kind == "finding"
    add(node, _TYPE, P["Finding"] if finding else P["Recommendation"])
    where = f"paragraph {p.number}" if p.number is not None else (f"paragraph {p.label}" if p.label else f"item {p.ordinal}")
    add(node, _LABEL, lit(f"{'Finding' if finding else 'Recommendation'}, {where}, {eval_label}"))
    add(node, P["evaluation"], eval_node)
    add(node, P["text"], lit(p.text))
    add(node, P["ordinal"], lit(p.ordinal))
    add(node, P["charStart"], lit(p.start))
    add(node, P["charEnd"], lit(p.end))
    if p.number is not None:
        add(node, P["number"], lit(p.number))
    if p.label:
        add(node, P["paragraphLabel"], lit(p.label))
    if p.section and finding:
        add(node, P["section"], lit(p.section))
    if p.area:
        add(node, P["area"], _iri(AREA[p.area]))
    if p.page is not None:
        add(node, P["page"], lit(p.page))
    if finding:
        add(node, P["polarity"], _iri(POLARITY[p.polarity or "neutral"]))
        add(node, P["underpinsRecommendation"], lit(p.underpins_recommendation))
    for theme in p.themes:
        add(node, P["theme"], _iri(THEME[theme]))
    if finding:
        for first, second in combinations(sorted(set(p.themes)), 2):
            add(node, P["themePair"], _iri(theme_pair_iri(first, second)))
    for j, m in enumerate(p.mentions, start=1):
        mnode = f"<{_ID}mention/{key}-{tag}{p.ordinal}-{j}>"
        add(node, P["mention"], mnode)
        add(mnode, _TYPE, P["ThemeMention"])
        add(mnode, _LABEL, lit(f"'{m.text}' ({m.theme})"))
        add(mnode, P["mentionOf"], _iri(THEME[m.theme]))
        add(mnode, P["matchedText"], lit(m.text))
        add(mnode, P["charStart"], lit(m.start))
        add(mnode, P["charEnd"], lit(m.end))


def theme_pair_iri(first: str, second: str) -> URIRef:
    """The ofk:ThemePair of two theme ids, given in alphabetical order."""
    return THEME_PAIR[f"{first}/{second}"]


def theme_pairs(themes: Graph) -> Graph:
    """An ofk:ThemePair for every two themes of theme:scheme in `themes` (the reference data)."""
    from rdflib import Literal
    from rdflib.namespace import SKOS

    labels = {}
    for concept in themes.subjects(SKOS.inScheme, THEME.scheme):
        notation = themes.value(concept, SKOS.notation)
        if notation is not None:
            labels[str(notation)] = themes.value(concept, SKOS.prefLabel)
    out = Graph()
    for first, second in combinations(sorted(labels), 2):
        pair = theme_pair_iri(first, second)
        out.add((pair, RDF.type, OFK.ThemePair))
        out.add((pair, RDFS.label, Literal(f"{labels[first]} and {labels[second]}", lang="en")))
        out.add((pair, OFK.firstTheme, THEME[first]))
        out.add((pair, OFK.secondTheme, THEME[second]))
    return out


def _tallies(add, eval_node: str, findings: list[Passage], key: str, n: int) -> None:
    """One ofk:ThemeTally per theme and polarity of the evaluation's findings: how many carry both."""
    P = _P
    counts = Counter((theme, p.polarity or "neutral") for p in findings for theme in set(p.themes))
    for (theme, polarity), count in sorted(counts.items()):
        node = f"<{_ID}tally/{key}-{n}-{theme}-{polarity}>"
        add(node, _TYPE, P["ThemeTally"])
        add(node, P["tallyEvaluation"], eval_node)
        add(node, P["tallyTheme"], _iri(THEME[theme]))
        add(node, P["tallyPolarity"], _iri(POLARITY[polarity]))
        add(node, P["findingCount"], lit(count))


def build_document_graph(ex: Extraction, version: str) -> DocumentGraph:
    """All statements of one document; they go into the named graph `document_iri(ex.sha256)`."""
    P = _P
    out: dict[tuple[str, str, str], None] = {}
    key = doc_key(ex.sha256)
    iri = str(document_iri(ex.sha256))
    doc = _iri(iri)

    def add(s, pred, obj):
        out[(s, pred, obj)] = None

    add(doc, _TYPE, P["Document"])
    add(doc, _LABEL, lit(ex.file_name))
    add(doc, P["sha256"], lit(ex.sha256))
    add(doc, P["fileName"], lit(ex.file_name))
    add(doc, P["sourcePath"], lit(ex.path))
    add(doc, P["extractorVersion"], lit(version))
    add(doc, _TITLE, lit(ex.title))
    if ex.issued:
        add(doc, _ISSUED, lit(ex.issued))
    if ex.normalised.page_count is not None:
        add(doc, P["pageCount"], lit(ex.normalised.page_count))
    for n, ev in enumerate(ex.evaluations, start=1):
        node = f"<{_ID}evaluation/{key}-{n}>"
        add(node, _TYPE, P["SelfEvaluation"] if ev.is_self_evaluation else P["Inspection"])
        when = ev.start or ev.published
        label = f"{ev.authority_name}, {KIND_LABELS.get(ev.kind, ev.kind)}" + (f", {when:%B %Y}" if when else "")
        add(node, _LABEL, lit(label))
        add(node, P["authority"], _iri(authority_iri(ev.authority)))
        add(node, P["kind"], _iri(KIND[ev.kind]))
        add(node, P["source"], doc)
        for prop, value in (("startDate", ev.start), ("endDate", ev.end), ("publishedDate", ev.published)):
            if value:
                add(node, P[prop], lit(value))
        for j in ev.judgements:
            jnode = f"<{_ID}judgement/{key}-{n}-{j.area}>"
            add(jnode, _TYPE, P["Judgement"])
            add(jnode, _LABEL, lit(f"{label}: {j.area.replace('-', ' ')} {j.grade.replace('-', ' ')}"))
            add(jnode, P["evaluation"], node)
            add(jnode, P["area"], _iri(AREA[j.area]))
            add(jnode, P["grade"], _iri(GRADE[j.grade]))
        for p in ev.findings:
            _passage(add, f"<{_ID}finding/{key}-{p.ordinal}>", p, node, key, "f", label)
        _tallies(add, node, ev.findings, key, n)
        for p in ev.recommendations:
            _passage(add, f"<{_ID}recommendation/{key}-{p.ordinal}>", p, node, key, "r", label)
    return DocumentGraph(iri, list(out))


def build_graph(ex: Extraction, version: str) -> Graph:
    """The same statements as an rdflib Graph (for tests, pyshacl and rdflib-based tools)."""
    from .terms import to_rdflib

    g = Graph()
    for q in build_document_graph(ex, version).quads():
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g
