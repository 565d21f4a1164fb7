"""Validate a document's graph against the SHACL shapes and say what is wrong in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
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


@dataclass
class _SparqlConstraint:
    shape: str
    targets: list[str]
    select: str
    message: str


def _split_shapes() -> tuple[Graph, list[_SparqlConstraint]]:
    """The shapes without their SPARQL constraints (for pyshacl), and those constraints.

    pyshacl runs a SPARQL constraint once per focus node with rdflib's engine, which takes
    minutes on a large report. The same constraint run once over the whole graph by
    pyoxigraph, with $this bound by the shape's targets, gives the same violations in
    milliseconds; the shapes files stay the one definition of the rules.
    """
    if "split" in _REF_CACHE:
        return _REF_CACHE["split"]
    shapes = shapes_graph()
    core = Graph()
    constraint_nodes = set(shapes.objects(None, SH.sparql))
    sparql = []
    for shape, node in shapes.subject_objects(SH.sparql):
        if (node, SH.deactivated, Literal(True)) in shapes:
            continue
        prefixes = ""
        for decl_owner in shapes.objects(node, SH.prefixes):
            for decl in shapes.objects(decl_owner, SH.declare):
                prefixes += f"PREFIX {shapes.value(decl, SH.prefix)}: <{shapes.value(decl, SH.namespace)}>\n"
        targets = [str(t) for t in shapes.objects(shape, SH.targetClass)]
        select = prefixes + str(shapes.value(node, SH.select)).replace("$this", "?this")
        sparql.append(_SparqlConstraint(str(shape), targets, select, str(shapes.value(node, SH.message) or "")))
    skip = constraint_nodes | {n for c in constraint_nodes for n in _descendants(shapes, c)}
    for triple in shapes:
        if triple[1] == SH.sparql or triple[0] in skip:
            continue
        core.add(triple)
    _REF_CACHE["split"] = (core, sparql)
    return core, sparql


def _descendants(g: Graph, node) -> set:
    out, todo = set(), [node]
    while todo:
        n = todo.pop()
        for o in g.objects(n, None):
            if isinstance(o, BNode) and o not in out:
                out.add(o)
                todo.append(o)
    return out


def _schemes_without_register() -> Graph:
    if "g" not in _REF_CACHE:
        ref = ontology_graph()
        g = Graph()
        authorities = set(ref.subjects(RDF.type, OFK.Authority))
        for triple in ref:
            if triple[0] not in authorities:
                g.add(triple)
        _REF_CACHE["g"] = g
    return _REF_CACHE["g"]


def _message(template: str, row, variables: list[str]) -> str:
    def sub(m):
        name = m.group(1)
        term = row[name] if name in variables else None
        return _short(term.value) if term is not None else m.group(0)

    return re.sub(r"\{[?$](\w+)\}", sub, template.replace("{$this}", "{?this}"))


def _sparql_violations(data: Graph, constraints: list[_SparqlConstraint]) -> list[Violation]:
    from .store import quads
    from .ns import ID

    store = ox.Store()
    store.extend(quads(data, ID["graph/validate"]))
    out = []
    for c in constraints:
        if not c.targets:
            continue
        select = c.select
        at = select.index("{", re.search(r"\bWHERE\b", select, re.I).end()) + 1
        classes = " ".join(f"<{t}>" for t in c.targets)
        query = f"{select[:at]} VALUES ?shacl_target {{ {classes} }} ?this a ?shacl_target . {select[at:]}"
        result = store.query(query, use_default_graph_as_union=True)
        variables = [v.value for v in result.variables]
        for row in result:
            value = row["value"] if "value" in variables else None
            path = row["path"] if "path" in variables else None
            out.append(Violation(
                focus=_short(row["this"].value), path=_short(path.value) if path is not None else None,
                value=_short(value.value) if value is not None else None,
                message=_message(c.message, row, variables), shape=_short(c.shape),
            ))
    return out


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
    core, sparql = _split_shapes()
    focus = [s for s in set(doc_graph.subjects(RDF.type, None)) if isinstance(s, URIRef)]
    conforms, report, _ = shacl_validate(
        data, shacl_graph=core, advanced=True, allow_warnings=True, focus_nodes=focus or None,
    )
    out = _sparql_violations(data, sparql)
    if not conforms:
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
