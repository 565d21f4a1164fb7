"""The embedded on-disk store (pyoxigraph): one named graph per document, one for reference data."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from .errors import StoreError
from .ns import ID, OFK, REFERENCE_GRAPH
from .resources import ontology_graph
from .terms import quads, to_rdflib

log = logging.getLogger(__name__)

DEFAULT_STORE = "ofsted-kg-store"
STORE_ENV = "OFSTED_KG_STORE"
EXTRA_REGISTER_GRAPH = ID["graph/sample-register"]
VERSION_PRED = ox.NamedNode(str(OFK.extractorVersion))


def default_store_path() -> Path:
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


class Store:
    """A pyoxigraph store on disk. Each document is replaced as a unit, in one transaction."""

    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = Path(path)
        try:
            if read_only:
                if not self.path.exists():
                    raise StoreError(f"{self.path}: no store here yet (run 'ofsted-kg ingest' first, or pass --store)")
                self.ox = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self.ox = ox.Store(str(self.path))
        except OSError as err:
            raise StoreError(f"{self.path}: cannot open the store ({err}); is another ofsted-kg writing to it?") from err

    # ---------------------------------------------------------------- reference data
    def ensure_reference(self, version: str, extra: Graph | None = None) -> None:
        """Load the ontology, schemes and register into their graph unless this version is there."""
        ref = ox.NamedNode(str(REFERENCE_GRAPH))
        marker = ox.Quad(ref, VERSION_PRED, ox.Literal(version), ref)
        if extra is None and marker in self.ox:
            return
        data = Graph()
        data += ontology_graph()
        if extra is not None:
            data += extra
        new = quads(data, REFERENCE_GRAPH) + [marker]
        self._replace_graph(REFERENCE_GRAPH, new)

    def ensure_extra_register(self, register: Graph) -> None:
        """Store an extra register (the demo sample's fictional authorities) in its own graph."""
        self._replace_graph(EXTRA_REGISTER_GRAPH, quads(register, EXTRA_REGISTER_GRAPH))

    def extra_register(self) -> Graph | None:
        g = ox.NamedNode(str(EXTRA_REGISTER_GRAPH))
        if not self.ox.contains_named_graph(g):
            return None
        return self.graph(str(EXTRA_REGISTER_GRAPH))

    def extra_registers(self) -> list[Graph]:
        extra = self.extra_register()
        return [extra] if extra is not None else []

    def scheme_ids(self) -> dict[str, set[str]]:
        """The ids of every concept scheme: {'theme': {'cse', ...}, 'kind': {...}, ...}."""
        from rdflib.namespace import SKOS

        out: dict[str, set[str]] = {}
        g = ontology_graph()
        for concept, notation in g.subject_objects(SKOS.notation):
            parts = str(concept).rsplit("/", 2)
            if len(parts) == 3 and parts[0] == "https://w3id.org/ofsted-kg":
                out.setdefault(parts[1], set()).add(str(notation))
        return out

    # ---------------------------------------------------------------- documents
    def has_document(self, doc_iri: URIRef, version: str | None = None) -> bool:
        g = ox.NamedNode(str(doc_iri))
        if version is None:
            return self.ox.contains_named_graph(g)
        return any(True for _ in self.ox.quads_for_pattern(g, VERSION_PRED, ox.Literal(version), g))

    def documents_from(self, source_path: str) -> list[str]:
        """Graphs of documents ingested earlier from the same path (an older version of the file)."""
        pred = ox.NamedNode(str(OFK.sourcePath))
        return sorted({q.graph_name.value for q in self.ox.quads_for_pattern(None, pred, ox.Literal(source_path), None)
                       if isinstance(q.graph_name, ox.NamedNode)})

    def replace_document(self, doc_iri: URIRef, graph: Graph | list[ox.Quad] | bytes, drop: list[str] = ()) -> None:
        """Store a document's statements as the named graph `doc_iri`.

        `graph` is an rdflib Graph, pyoxigraph quads, or N-Quads bytes (from a worker process);
        quads must all be in the graph `doc_iri`. A new document is loaded in one transaction; a
        document stored before is dropped and written again in one SPARQL update, so a reader
        or a crash sees the old graph or the new one. Graphs in `drop` (older versions of the
        same file) are dropped afterwards.
        """
        g = ox.NamedNode(str(doc_iri))
        if isinstance(graph, Graph):
            new = quads(graph, doc_iri)
        elif isinstance(graph, (bytes, str)):
            new = None
        else:
            new = list(graph)
        if new is not None and any(q.graph_name != g for q in new):
            raise StoreError(f"{doc_iri}: statements for another graph were given to replace_document")
        if self.ox.contains_named_graph(g):
            if new is None:
                new = list(ox.parse(graph, format=ox.RdfFormat.N_QUADS))
            self._replace_graph(doc_iri, new)
        elif new is None:
            self.ox.load(graph, format=ox.RdfFormat.N_QUADS)
        else:
            self.ox.extend(new)
        for old in drop:
            if old != str(doc_iri):
                self.remove_document(old)

    def _replace_graph(self, graph_iri: URIRef, new_quads: list[ox.Quad], drop=()) -> None:
        # One SPARQL update is one transaction: a reader, or a crash, sees the old graph or the new one.
        g = ox.NamedNode(str(graph_iri))
        data = " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in new_quads)
        drops = "".join(f"DROP SILENT GRAPH {ox.NamedNode(d)} ;\n" for d in drop if d != str(graph_iri))
        self.ox.update(f"{drops}DROP SILENT GRAPH {g} ;\nINSERT DATA {{ GRAPH {g} {{ {data} }} }}")

    def remove_document(self, doc_iri: str) -> None:
        self.ox.update(f"DROP SILENT GRAPH {ox.NamedNode(doc_iri)}")

    def document_graphs(self) -> list[str]:
        ref = str(REFERENCE_GRAPH)
        return sorted(g.value for g in self.ox.named_graphs() if not g.value.startswith(ref.rsplit("/", 1)[0] + "/"))

    def graph(self, graph_iri: str) -> Graph:
        out = Graph()
        for q in self.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)):
            out.add(tuple(to_rdflib(t) for t in (q.subject, q.predicate, q.object)))
        return out

    def query(self, text: str, values: dict | None = None):
        """Run SPARQL over the union of all graphs; `values` are bound with a VALUES block."""
        from .queries import with_values

        return self.ox.query(with_values(text, values or {}), use_default_graph_as_union=True)

    def flush(self) -> None:
        self.ox.flush()

