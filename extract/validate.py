"""Validate a document's graph against the SHACL shapes and say what is wrong in plain words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property

import pyoxigraph as ox

from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

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




@dataclass
class _SparqlConstraint:
    shape: str
    targets: list[str]
    select: str
    message: str

    @cached_property
    def query(self) -> str:
        """The SELECT with $this bound to the instances of the shape's targets (and their subclasses)."""
        at = self.select.index("{", re.search(r"\bWHERE\b", self.select, re.I).end()) + 1
        classes = " ".join(c for t in self.targets for c in sorted(_subclasses(URIRef(t))))
        return f"{self.select[:at]} VALUES ?shacl_target {{ {classes} }} ?this a ?shacl_target . {self.select[at:]}"


@cache
def _split_shapes() -> tuple[Graph, list[_SparqlConstraint]]:
    """The shapes without their SPARQL constraints (for pyshacl), and those constraints.

    pyshacl runs a SPARQL constraint once per focus node with rdflib's engine, which takes
    minutes on a large report. The same constraint run once over the whole graph by
    pyoxigraph, with $this bound by the shape's targets, gives the same violations in
    milliseconds; the shapes files stay the one definition of the rules.
    """
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


@cache
def _schemes_without_register() -> Graph:
    ref = ontology_graph()
    g = Graph()
    authorities = set(ref.subjects(RDF.type, OFK.Authority))
    for triple in ref:
        if triple[0] not in authorities:
            g.add(triple)
    return g


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
        result = store.query(c.query, use_default_graph_as_union=True)
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


@dataclass
class _CoreCheck:
    """The core constraints of one property shape, evaluated in Python over a document's statements."""

    shape: str
    label: str
    targets: frozenset
    predicate: str  # N-Triples text, like every node key below
    inverse: bool
    message: str
    min_count: int | None = None
    max_count: int | None = None
    datatype: str | None = None
    node_kind: str | None = None  # "iri" or "literal"
    classes: tuple = ()  # each a frozenset: the class and its subclasses
    alternatives: tuple = ()  # sh:or: ("class", frozenset) or ("datatype", N-Triples text)
    min_inclusive: float | None = None
    min_length: int | None = None
    pattern: re.Pattern | None = None

    def value_errors(self, value: str, has_type) -> bool:
        """Whether `value` (an N-Triples term) breaks any of the value constraints;
        has_type(value, classes) says whether it is an instance of any of `classes`."""
        literal = value[0] == '"'
        datatype = _datatype(value) if literal else None
        if self.datatype is not None and datatype != self.datatype:
            return True
        if self.node_kind == "iri" and value[0] != "<" or self.node_kind == "literal" and not literal:
            return True
        for classes in self.classes:
            if not has_type(value, classes):
                return True
        if self.alternatives and not any(
            has_type(value, arg) if kind == "class" else datatype == arg for kind, arg in self.alternatives
        ):
            return True
        if self.min_inclusive is not None:
            number = _number(value, datatype)
            if number is None or number < self.min_inclusive:
                return True
        if self.min_length is not None and (value[0] == "_" or len(_lexical(value)) < self.min_length):
            return True
        if self.pattern is not None and (value[0] == "_" or not self.pattern.search(_lexical(value))):
            return True
        return False


_XSD_STRING = f"<{XSD.string}>"
_LANG_STRING = f"<{RDF.langString}>"
_NUMERIC = {f"<{XSD[t]}>" for t in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger",
                                    "positiveInteger", "short", "byte")}
_UNESCAPE = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))')
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _datatype(term: str) -> str:
    """The datatype of an N-Triples literal, as N-Triples text."""
    end = term.rindex('"')
    rest = term[end + 1:]
    if rest.startswith("^^"):
        return rest[2:]
    return _LANG_STRING if rest.startswith("@") else _XSD_STRING


def _lexical(term: str) -> str:
    """The value of an N-Triples term: an IRI without brackets, a literal's unescaped lexical form."""
    if term[0] == "<":
        return term[1:-1]
    if term[0] != '"':
        return term
    body = term[1:term.rindex('"')]
    if "\\" not in body:
        return body
    return _UNESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if m.group(3) is None else _ECHAR[m.group(3)], body)


def _number(term: str, datatype: str | None) -> float | None:
    if datatype in _NUMERIC:
        try:
            return float(_lexical(term))
        except ValueError:
            return None
    return None


def _subclasses(cls) -> frozenset:
    """`cls` and its subclasses in the ontology (the closure of rdfs:subClassOf), as N-Triples text."""
    return frozenset(f"<{c}>" for c in ontology_graph().transitive_subjects(RDFS.subClassOf, cls))


def _compile_core(shapes: Graph) -> list[_CoreCheck]:
    """The SHACL core constraints our shapes use, as checks evaluated in Python.

    The components compiled: minCount, maxCount, datatype, nodeKind (IRI, Literal), class,
    or (of classes or datatypes), minInclusive, minLength and pattern, on predicate and
    inverse paths; targets by sh:targetClass, with subclasses. A shape using any other
    component is refused, so that nothing is silently unchecked; tests compare the result
    with pyshacl's on the same graphs.
    """
    known = {SH.path, SH.message, SH.minCount, SH.maxCount, SH.datatype, SH.nodeKind, SH["class"], SH["or"],
             SH.minInclusive, SH.minLength, SH.pattern, SH.name, SH.description, RDFS.comment, RDFS.label}
    checks = []
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        targets = frozenset().union(*(_subclasses(t) for t in shapes.objects(shape, SH.targetClass)))
        if not targets:
            continue
        for prop in shapes.objects(shape, SH.property):
            unknown = {p for p in shapes.predicates(prop, None)} - known
            if unknown:
                raise ValueError(f"shape {prop} uses {sorted(map(str, unknown))}, which the fast validator does not compile")
            raw = shapes.value(prop, SH.path)
            inverse = shapes.value(raw, SH.inversePath)
            predicate = inverse if inverse is not None else raw
            label = _short(predicate)
            kind = shapes.value(prop, SH.nodeKind)
            if kind not in (None, SH.IRI, SH.Literal):
                raise ValueError(f"shape {prop}: nodeKind {kind} is not compiled")
            alternatives = []
            for head in shapes.objects(prop, SH["or"]):
                for member in Collection(shapes, head):
                    preds = set(shapes.predicates(member, None))
                    if preds == {SH["class"]}:
                        alternatives.append(("class", _subclasses(shapes.value(member, SH["class"]))))
                    elif preds == {SH.datatype}:
                        alternatives.append(("datatype", f"<{shapes.value(member, SH.datatype)}>"))
                    else:
                        raise ValueError(f"shape {prop}: sh:or is compiled only for alternatives of one class or datatype")

            def number(component):
                value = shapes.value(prop, component)
                return None if value is None else value.toPython()

            datatype = shapes.value(prop, SH.datatype)
            pattern = shapes.value(prop, SH.pattern)
            checks.append(_CoreCheck(
                shape=_short(shape), label=label, targets=targets, predicate=f"<{predicate}>",
                inverse=inverse is not None,
                message=str(shapes.value(prop, SH.message) or f"violates a constraint on {label}"),
                min_count=number(SH.minCount), max_count=number(SH.maxCount),
                datatype=f"<{datatype}>" if datatype is not None else None,
                node_kind={SH.IRI: "iri", SH.Literal: "literal"}.get(kind),
                classes=tuple(_subclasses(c) for c in shapes.objects(prop, SH["class"])),
                alternatives=tuple(alternatives), min_inclusive=number(SH.minInclusive),
                min_length=number(SH.minLength), pattern=re.compile(str(pattern)) if pattern is not None else None,
            ))
    return checks


@cache
def _core_checks() -> list[_CoreCheck]:
    return _compile_core(shapes_graph())


@cache
def _inverse_predicates() -> set:
    return {c.predicate for c in _core_checks() if c.inverse}


@cache
def _reference_types() -> dict:
    """rdf:type of every node in the ontology, schemes and register, keyed by N-Triples text."""
    types: dict = {}
    for s, o in ontology_graph().subject_objects(RDF.type):
        types.setdefault(f"<{s}>", set()).add(f"<{o}>")
    return types


def _core_violations(statements: list[tuple[str, str, str]]) -> list[Violation]:
    """Violations of the core constraints by `statements` (the document's and its authority's),
    each a (subject, predicate, object) of N-Triples terms, which are indexed as plain strings."""
    forward: dict = {}
    backward: dict = {}
    types: dict = {}
    by_type: dict = {}
    inverse = _inverse_predicates()
    for s, p, o in statements:
        forward.setdefault((s, p), []).append(o)
        if p in inverse:
            backward.setdefault((o, p), []).append(s)
        if p == _TYPE_KEY:
            types.setdefault(s, set()).add(o)
            by_type.setdefault(o, []).append(s)
    reference = _reference_types()
    empty: set = set()

    def has_type(node, classes):
        return not types.get(node, empty).isdisjoint(classes) or not reference.get(node, empty).isdisjoint(classes)

    out = []
    focus_of: dict = {}  # targets -> their instances, in order
    for check in _core_checks():
        index = backward if check.inverse else forward
        focus = focus_of.get(check.targets)
        if focus is None:
            focus = focus_of[check.targets] = list(dict.fromkeys(node for t in check.targets for node in by_type.get(t, ())))
        for node in focus:
            values = index.get((node, check.predicate), ())
            if len(values) > 1:
                values = list(dict.fromkeys(values))
            n = len(values)
            if (check.min_count is not None and n < check.min_count) or (check.max_count is not None and n > check.max_count):
                out.append(Violation(focus=_short(_lexical(node)), path=check.label, value=str(n),
                                     message=check.message, shape=check.shape))
            for value in values:
                if check.value_errors(value, has_type):
                    out.append(Violation(focus=_short(_lexical(node)), path=check.label, value=_short(_lexical(value)),
                                         message=check.message, shape=check.shape))
    return out


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


_TYPE_KEY = f"<{RDF.type}>"
_AUTHORITY_KEY = f"<{OFK.authority}>"
_CHECKED = "https://w3id.org/ofsted-kg/id/graph/validate"
_SCHEMES = "https://w3id.org/ofsted-kg/id/graph/schemes"


_VARIABLE_PREDICATE = re.compile(r"(?:[{.;]|\bWHERE)\s*[?$]\w+\s+[?$]\w+\s", re.I)


@cache
def _sparql_predicates() -> frozenset:
    """The predicates the shapes' SPARQL constraints name (and rdf:type), as N-Triples text.

    A constraint can only match statements with these predicates, so only those are loaded
    into the checking store: the texts and labels, most of a document's bytes, stay out. A
    constraint with a variable predicate would need everything, and is refused here.
    """
    used = {_TYPE_KEY}
    for c in _split_shapes()[1]:
        if _VARIABLE_PREDICATE.search(c.select):
            raise ValueError(f"a SPARQL constraint of {c.shape} has a variable predicate, which the fast validator does not support")
        prefixes = dict(re.findall(r"PREFIX\s+(\w*):\s*<([^>]*)>", c.select))
        used |= {f"<{prefixes[p]}{local}>" for p, local in re.findall(r"\b(\w*):([\w.-]*[\w-])", c.select) if p in prefixes}
        used |= {f"<{iri}>" for iri in re.findall(r"<([^<>\s]+)>", c.select)}
    return frozenset(used)


@cache
def _schemes_nquads() -> bytes:
    """The statements of the ontology and schemes (without the register) that the SPARQL
    constraints can read (see _sparql_predicates), as N-Quads, made once a process."""
    from .terms import quads

    used = _sparql_predicates()
    kept = Graph()
    for triple in _schemes_without_register():
        if f"<{triple[1]}>" in used:
            kept.add(triple)
    return ox.serialize(quads(kept, _SCHEMES), format=ox.RdfFormat.N_QUADS)


def _nt(graph: Graph, subject=None) -> list[tuple[str, str, str]]:
    from .terms import to_ox

    return [(str(to_ox(s)), str(to_ox(p)), str(to_ox(o))) for s, p, o in graph.triples((subject, None, None))]


@cache
def _register_statements() -> dict[str, list[tuple[str, str, str]]]:
    """The statements of the ontology graph by subject (the register's authorities among them)."""
    register: dict = {}
    for st in _nt(ontology_graph()):
        register.setdefault(st[0], []).append(st)
    return register


def _authority_statements(authorities: set[str], extra_reference: Graph | None) -> list[tuple[str, str, str]]:
    register = _register_statements()
    out = []
    for auth in authorities:
        out.extend(register.get(auth, ()))
        if extra_reference is not None:
            out.extend(_nt(extra_reference, URIRef(auth[1:-1])))
    return out


def validate_document(doc, extra_reference: Graph | None = None) -> list[Violation]:
    """The violations of the shapes by one document's statements (a graph.DocumentGraph); the fast engine.

    The SPARQL constraints run in an in-memory pyoxigraph store holding the document, the
    schemes and the document's authority; the core constraints are checked in Python over the statements (see _compile_core).
    """
    from .graph import DocumentGraph

    statements = doc.statements
    authorities = {o for s, p, o in statements if p == _AUTHORITY_KEY}
    reference = _authority_statements(authorities, extra_reference)
    # a fresh in-memory store each time: loading the schemes takes a millisecond, while one
    # store reused with documents added and removed grows slower with every document
    used = _sparql_predicates()
    checked = DocumentGraph(doc.iri, [st for st in statements + reference if st[1] in used])
    store = ox.Store()
    store.load(_schemes_nquads() + checked.nquads(), format=ox.RdfFormat.N_QUADS)
    out = _sparql_violations(store, _split_shapes()[1])
    out += _core_violations(statements + reference)
    # the reference data loaded beside the document (its authority) is not the document's to answer for
    mine = {_short(s[1:-1]) for s, p, o in statements if p == _TYPE_KEY and s[0] == "<"}
    return sorted((v for v in out if v.focus in mine), key=lambda v: (v.focus or "", v.path or "", v.message))


def validate_graph(doc_graph: Graph, extra_reference: Graph | None = None, *, engine: str = "fast") -> list[Violation]:
    """The violations of the shapes by `doc_graph` (an empty list when it conforms).

    engine "fast" runs every constraint of shapes/ as SPARQL in pyoxigraph (a few
    milliseconds a report); "pyshacl" runs the core constraints with pyshacl (slower, the
    reference) and the SPARQL constraints in pyoxigraph.
    """
    from .graph import DocumentGraph
    from .terms import quads

    if engine == "fast":
        return validate_document(DocumentGraph(_CHECKED, _nt(doc_graph)), extra_reference)
    data = _data_graph(doc_graph, extra_reference)
    store = ox.Store()
    store.extend(quads(data, _CHECKED))
    out = _sparql_violations(store, _split_shapes()[1])
    focus = [s for s in set(doc_graph.subjects(RDF.type, None)) if isinstance(s, URIRef)]
    mine = {_short(s) for s in focus}
    out = [v for v in out if v.focus in mine]
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
