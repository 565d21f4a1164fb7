"""Validate a document's graph against the SHACL shapes and say what is wrong in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from pyshacl import validate as shacl_validate
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from .ns import OFK
from .resources import ontology_graph, shapes_graph


@dataclass
class Violation:
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str

    def __str__(self) -> str:
        where = self.focus + (f" {self.path}" if self.path else "")
        value = f" (value: {self.value})" if self.value else ""
        return f"{where}: {self.message}{value}"


def _short(term) -> str | None:
    if term is None:
        return None
    text = str(term)
    for prefix, ns in (("ofk:", str(OFK)), ("id:", "https://w3id.org/ofsted-kg/id/"), ("", "https://w3id.org/ofsted-kg/")):
        if text.startswith(ns):
            return prefix + text[len(ns):]
    return text


_REF_CACHE: dict = {}


def _schemes_without_register() -> Graph:
    if "g" not in _REF_CACHE:
        ref = ontology_graph()
        g = Graph()
        authorities = set(ref.subjects(RDF.type, OFK.Authority))
        for triple in ref:
            if triple[0] not in authorities:
                g.add(triple)
        _REF_CACHE["g"] = g
        _REF_CACHE["auth"] = authorities
    return _REF_CACHE["g"]


def validate_graph(doc_graph: Graph, extra_reference: Graph | None = None) -> list[Violation]:
    """The violations of the shapes by `doc_graph` (an empty list when it conforms)."""
    data = Graph()
    data += _schemes_without_register()
    ref = ontology_graph()
    for auth in set(doc_graph.objects(None, OFK.authority)):
        for triple in ref.triples((auth, None, None)):
            data.add(triple)
        if extra_reference is not None:
            for triple in extra_reference.triples((auth, None, None)):
                data.add(triple)
    data += doc_graph
    focus = [s for s in set(doc_graph.subjects(RDF.type, None)) if isinstance(s, URIRef)]
    conforms, report, _ = shacl_validate(
        data, shacl_graph=shapes_graph(), advanced=True, allow_warnings=True, focus_nodes=focus or None,
    )
    if conforms:
        return []
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        messages = [str(m) for m in report.objects(result, SH.resultMessage)]
        out.append(Violation(
            focus=_short(report.value(result, SH.focusNode)),
            path=_short(report.value(result, SH.resultPath)),
            value=_short(report.value(result, SH.value)),
            message=messages[0] if messages else "violates a shape",
            shape=_short(report.value(result, SH.sourceShape)),
        ))
    return sorted(out, key=lambda v: (v.focus or "", v.path or "", v.message))
