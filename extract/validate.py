"""Validate a document's graph against the SHACL shapes and say what is wrong in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH

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


def _sparql_violations(store: ox.Store, constraints: list[_SparqlConstraint]) -> list[Violation]:
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


_CORE_TEMPLATE = """
SELECT ?this ?value WHERE {{
  VALUES ?shacl_target {{ {targets} }}
  ?this rdf:type/rdfs:subClassOf* ?shacl_target .
  {body}
}}"""
_COUNT_TEMPLATE = """
SELECT ?this (COUNT(DISTINCT ?v) AS ?value) WHERE {{
  VALUES ?shacl_target {{ {targets} }}
  ?this rdf:type/rdfs:subClassOf* ?shacl_target .
  OPTIONAL {{ ?this {path} ?v }}
}} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) {op} {n})"""
_PREFIXES = ("PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
             "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")


@dataclass
class _CoreCheck:
    shape: str
    path: str
    query: str
    message: str


def _n3(term) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    return term.n3()


def _compile_core(shapes: Graph) -> list[_CoreCheck]:
    """SPARQL queries equivalent to the SHACL core constraints our shapes use.

    The components compiled: minCount, maxCount, datatype, nodeKind (IRI, Literal), class,
    or (of classes), minInclusive, minLength and pattern, on predicate and inverse paths.
    A shape using any other component is refused, so that nothing is silently unchecked;
    tests compare the result with pyshacl's on the same graphs.
    """
    known = {SH.path, SH.message, SH.minCount, SH.maxCount, SH.datatype, SH.nodeKind, SH["class"], SH["or"],
             SH.minInclusive, SH.minLength, SH.pattern, SH.name, SH.description, RDFS.comment, RDFS.label}
    checks = []
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        targets = " ".join(_n3(t) for t in shapes.objects(shape, SH.targetClass))
        if not targets:
            continue
        for prop in shapes.objects(shape, SH.property):
            unknown = {p for p in shapes.predicates(prop, None)} - known
            if unknown:
                raise ValueError(f"shape {prop} uses {sorted(map(str, unknown))}, which the fast validator does not compile")
            raw = shapes.value(prop, SH.path)
            inverse = shapes.value(raw, SH.inversePath)
            path = f"^{_n3(inverse)}" if inverse is not None else _n3(raw)
            message = str(shapes.value(prop, SH.message) or f"violates a constraint on {path}")
            label = _short(inverse if inverse is not None else raw)

            def add(query):
                checks.append(_CoreCheck(_short(shape), label, _PREFIXES + query, message))

            for comp, op in ((SH.minCount, "<"), (SH.maxCount, ">")):
                n = shapes.value(prop, comp)
                if n is not None:
                    add(_COUNT_TEMPLATE.format(targets=targets, path=path, op=op, n=int(n)))
            filters = []
            dt = shapes.value(prop, SH.datatype)
            if dt is not None:
                filters.append(f"!isLiteral(?value) || datatype(?value) != {_n3(dt)}")
            kind = shapes.value(prop, SH.nodeKind)
            if kind == SH.IRI:
                filters.append("!isIRI(?value)")
            elif kind == SH.Literal:
                filters.append("!isLiteral(?value)")
            elif kind is not None:
                raise ValueError(f"shape {prop}: nodeKind {kind} is not compiled")
            classes = list(shapes.objects(prop, SH["class"]))
            for alternatives in shapes.objects(prop, SH["or"]):
                options = []
                for member in Collection(shapes, alternatives):
                    preds = set(shapes.predicates(member, None))
                    if preds == {SH["class"]}:
                        options.append(f"EXISTS {{ ?value rdf:type/rdfs:subClassOf* {_n3(shapes.value(member, SH['class']))} }}")
                    elif preds == {SH.datatype}:
                        options.append(f"(isLiteral(?value) && datatype(?value) = {_n3(shapes.value(member, SH.datatype))})")
                    else:
                        raise ValueError(f"shape {prop}: sh:or is compiled only for alternatives of one class or datatype")
                filters.append(f"!({' || '.join(options)})")
            for cls in classes:
                filters.append(f"NOT EXISTS {{ ?value rdf:type/rdfs:subClassOf* {_n3(cls)} }}")
            low = shapes.value(prop, SH.minInclusive)
            if low is not None:
                filters.append(f"!(?value >= {_n3(low)})")
            length = shapes.value(prop, SH.minLength)
            if length is not None:
                filters.append(f"STRLEN(STR(?value)) < {int(length)}")
            pattern = shapes.value(prop, SH.pattern)
            if pattern is not None:
                filters.append(f"isBlank(?value) || !REGEX(STR(?value), {Literal(str(pattern)).n3()})")
            for f in filters:
                add(_CORE_TEMPLATE.format(targets=targets, body=f"?this {path} ?value . FILTER({f})"))
    return checks


def _core_checks() -> list[_CoreCheck]:
    if "core" not in _REF_CACHE:
        _REF_CACHE["core"] = _compile_core(shapes_graph())
    return _REF_CACHE["core"]


def _data_graph(doc_graph: Graph, extra_reference: Graph | None) -> Graph:
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
    return data


def _core_violations(store: ox.Store) -> list[Violation]:
    out = []
    for check in _core_checks():
        for row in store.query(check.query, use_default_graph_as_union=True):
            out.append(Violation(focus=_short(row["this"].value), path=check.path,
                                 value=_short(row["value"].value), message=check.message, shape=check.shape))
    return out


def validate_graph(doc_graph: Graph, extra_reference: Graph | None = None, *, engine: str = "fast") -> list[Violation]:
    """The violations of the shapes by `doc_graph` (an empty list when it conforms).

    engine "fast" runs every constraint of shapes/ as SPARQL in pyoxigraph (about 0.1 s a
    report); "pyshacl" runs the core constraints with pyshacl (slower, the reference).
    """
    from .ns import ID
    from .store import quads

    data = _data_graph(doc_graph, extra_reference)
    store = ox.Store()
    store.extend(quads(data, ID["graph/validate"]))
    out = _sparql_violations(store, _split_shapes()[1])
    focus = [s for s in set(doc_graph.subjects(RDF.type, None)) if isinstance(s, URIRef)]
    if engine == "fast":
        # the reference data loaded beside the document (its authority) is not the document's to answer for
        mine = {_short(s) for s in focus}
        out += _core_violations(store)
        return sorted((v for v in out if v.focus in mine), key=lambda v: (v.focus or "", v.path or "", v.message))
    core, _ = _split_shapes()
    conforms, report, _ = shacl_validate(
        data, shacl_graph=core, advanced=True, allow_warnings=True, focus_nodes=focus or None,
    )
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
