"""A SPARQL 1.1 server as the store: graphs written by the Graph Store Protocol or SPARQL Update, queries through SPARQLWrapper."""

from __future__ import annotations

import ast
import logging
import re
import urllib.error
from dataclasses import dataclass
from typing import Iterator, Protocol

import pyoxigraph as ox
import requests
from rdflib import Graph, URIRef
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from SPARQLWrapper import BASIC, DIGEST, JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from .errors import StoreError
from .ns import OFK, REFERENCE_GRAPH
from .resources import ontology_graph
from .store import CATALOGUE_GRAPH, EXTRA_REGISTER_GRAPH, VERSION_PRED, Store, _as_quads
from .terms import quads, to_rdflib

log = logging.getLogger(__name__)

ENDPOINT_ENV = "OFSTED_KG_ENDPOINT"
UPDATE_ENV = "OFSTED_KG_UPDATE_ENDPOINT"
GRAPH_STORE_ENV = "OFSTED_KG_GRAPH_STORE"
USER_ENV = "OFSTED_KG_USER"
PASSWORD_ENV = "OFSTED_KG_PASSWORD"

# Triples per INSERT DATA request. Virtuoso compiles an update to SQL and refuses one of
# about 1,500 triples ("generated SQL text has exceeded 10000 lines"); 500 stay well below.
INSERT_CHUNK = 500
_CATALOGUE = f"<{CATALOGUE_GRAPH.value}>"
_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_DOCUMENT = f"<{OFK.Document}>"
_VERSION = str(VERSION_PRED)
_XSD = "http://www.w3.org/2001/XMLSchema#"


class Backend(Protocol):
    """What the ingest and query commands need of a store: the embedded Store and RemoteStore offer it."""

    path: object

    def ensure_reference(self, version: str, extra: Graph | None = None) -> None: ...
    def ensure_extra_register(self, register: Graph) -> None: ...
    def extra_registers(self) -> list[Graph]: ...
    def scheme_ids(self) -> dict[str, set[str]]: ...
    def has_document(self, doc_iri: URIRef, version: str | None = None) -> bool: ...
    def documents_from(self, source_path: str) -> list[str]: ...
    def store_documents(self, items: list[tuple]) -> None: ...
    def remove_document(self, doc_iri: str) -> None: ...
    def document_graphs(self) -> list[str]: ...
    def query(self, text: str, values: dict | None = None): ...
    def flush(self) -> None: ...
    def optimize(self) -> None: ...


class PartialAnswer(StoreError):
    """The server sent an answer it had cut short (a row limit or a time limit)."""


@dataclass
class Endpoints:
    """Where a remote store answers: SPARQL query, SPARQL Update and (optionally) Graph Store Protocol URLs."""

    query: str
    update: str | None = None  # default: the query URL
    graph_store: str | None = None  # without it, graphs are written with SPARQL Update
    user: str | None = None
    password: str | None = None
    timeout: float = 300.0  # seconds to wait for one HTTP answer


class RemoteResult:
    """A SELECT answer as the embedded store gives it: `variables` and rows indexed by variable name."""

    def __init__(self, variables: list[str], rows: list[dict]):
        self.variables = [ox.Variable(v) for v in variables]
        self._rows = rows

    def __iter__(self) -> Iterator[dict]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def json_term(cell: dict | None):
    """A term of SPARQL 1.1 JSON results (Virtuoso's older 'typed-literal' too) as a pyoxigraph term."""
    if cell is None:
        return None
    kind, value = cell["type"], cell["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(re.sub(r"[^A-Za-z0-9_]", "_", value))
    if "xml:lang" in cell:
        return ox.Literal(value, language=cell["xml:lang"])
    if cell.get("datatype"):
        if cell["datatype"] == _XSD + "boolean":  # Virtuoso keeps booleans as 1 and 0: the same values
            value = {"1": "true", "0": "false"}.get(value, value)
        return ox.Literal(value, datatype=ox.NamedNode(cell["datatype"]))
    return ox.Literal(value)


class _Http:
    """HTTP writes with the credentials, the authentication scheme learnt from the server's challenge.

    Virtuoso answers the first request of a digest exchange with 401 and closes the
    connection without reading the body, so a large PUT sent that way fails. The first
    request to each URL is therefore a HEAD (no body either way) that learns the scheme (Digest for
    Virtuoso, Basic for Fuseki and GraphDB) and, for Digest, the server's nonce; every
    later request carries its Authorization header from the start.
    """

    def __init__(self, user: str | None, password: str | None, timeout: float):
        self.user, self.password, self.timeout = user, password, timeout
        self.session = requests.Session()
        self._auth: dict[str, object] = {}

    def scheme(self, url: str) -> str | None:
        """'digest', 'basic' or None (the server asks for no credentials at this URL)."""
        auth = self.auth(url)
        if isinstance(auth, HTTPDigestAuth):
            return "digest"
        return "basic" if isinstance(auth, HTTPBasicAuth) else None

    def auth(self, url: str, fresh: bool = False):
        if url in self._auth and not fresh:
            return self._auth[url]
        response = self._send("HEAD", url, None)
        challenge = response.headers.get("WWW-Authenticate", "")
        if self.user is None:
            if response.status_code == 401:
                raise StoreError(f"{url}: the server asks for a user name and password (HTTP 401); "
                                 "give --user and --password")
            self._auth[url] = None
            return None
        auth: object = None
        if response.status_code == 401 and challenge.lower().startswith("digest"):
            auth = HTTPDigestAuth(self.user, self.password or "")
            response = self._send("HEAD", url, auth)  # the exchange that gives the nonce
        elif response.status_code == 401:
            auth = HTTPBasicAuth(self.user, self.password or "")
            response = self._send("HEAD", url, auth)
        if response.status_code in (401, 403):
            raise StoreError(f"{url}: the server refused the user name or password "
                             f"(HTTP {response.status_code}); check --user and --password")
        self._auth[url] = auth
        return auth

    def _send(self, method: str, url: str, auth, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, url, auth=auth, timeout=self.timeout, **kwargs)
        except requests.RequestException as err:
            raise StoreError(f"{url}: cannot reach the SPARQL server ({_reason(err)})") from err

    def write(self, method: str, url: str, **kwargs) -> requests.Response:
        """A write request; a stale nonce (401, or the connection closed unread) is renewed once."""
        try:
            response = self.session.request(method, url, auth=self.auth(url), timeout=self.timeout, **kwargs)
        except requests.ConnectionError:
            response = None
        if response is None or response.status_code == 401:
            response = self._send(method, url, self.auth(url, fresh=True), **kwargs)
        if response.status_code == 401:
            raise StoreError(f"{url}: the server asks for a user name and password (HTTP 401); "
                             "give --user and --password")
        if response.status_code >= 400:
            raise StoreError(f"{url}: the server refused the write (HTTP {response.status_code}: "
                             f"{_first_line(response.text)})")
        return response


class RemoteStore:
    """A SPARQL 1.1 server holding the graphs as the embedded Store does: one named graph per
    document, committed by the quad `<doc> a ofk:Document` in the catalogue graph.

    A server offers no transactions across requests, so a document is written graph first
    and committed after; replacing one first removes its commit. A reader that goes through
    the catalogue (as the named queries do) never sees a document half-written, and an
    ingest that stops midway leaves graphs without a commit, which the next ingest replaces.
    """

    def __init__(self, endpoints: Endpoints, *, read_only: bool = False):
        self.endpoints = endpoints
        self.path = endpoints.query  # where the store is, for messages
        self.http = _Http(endpoints.user, endpoints.password, endpoints.timeout)
        self._query_auth: str | None | bool = False  # not yet learnt
        if not read_only:
            # credentials checked now, not after the first documents have been extracted
            for url in (endpoints.update or endpoints.query, endpoints.graph_store):
                if url:
                    self.http.auth(url)
            left = self.uncommitted()
            if left:
                log.warning("%s: %d document graph(s) have no commit (an ingest stopped midway, or one running now); "
                            "they are invisible to the named queries and replaced when ingested again",
                            self.path, len(left))

    # ---------------------------------------------------------------- reading
    def _sparql(self, text: str):
        client = SPARQLWrapper(self.endpoints.query)
        client.setMethod(POST)  # long queries fit, and parameters in the URL (Virtuoso's ?timeout=) stay
        client.setReturnFormat(JSON)
        client.setTimeout(int(self.endpoints.timeout))
        if self._query_auth is False:
            self._query_auth = self.http.scheme(self.endpoints.query) if self.endpoints.user else None
        if self._query_auth is not None:
            client.setHTTPAuth(DIGEST if self._query_auth == "digest" else BASIC)
            client.setCredentials(self.endpoints.user, self.endpoints.password or "")
        client.setQuery(text)
        try:
            result = client.query()
            headers = {k.lower(): v for k, v in result.info().items()}
            status = result.response.getcode()
            data = result.convert()
        except SPARQLWrapperException as err:
            code = getattr(err.__context__, "code", None)
            if code == 404:
                raise StoreError(f"{self.path}: no SPARQL endpoint at this address (HTTP 404); check --endpoint "
                                 "(Virtuoso: http://HOST:8890/sparql)") from err
            if code == 401 and self._query_auth is None:
                raise StoreError(f"{self.path}: the server asks for a user name and password (HTTP 401); "
                                 "give --user and --password") from err
            raise StoreError(f"{self.path}: the server refused the query ({_server_message(err)})") from err
        except urllib.error.HTTPError as err:  # a status SPARQLWrapper does not map (503 from a busy server)
            body = err.read().decode("utf-8", "replace")
            raise StoreError(f"{self.path}: the server refused the query (HTTP {err.code}: {_first_line(body)})") from err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise StoreError(f"{self.path}: cannot reach the SPARQL server ({_reason(err)})") from err
        if not isinstance(data, dict):
            raise StoreError(f"{self.path}: the server did not answer with SPARQL JSON results")
        self._check_complete(headers, status, len(data.get("results", {}).get("bindings", [])))
        return data

    def _check_complete(self, headers: dict, status: int, rows: int) -> None:
        """Refuse an answer the server cut short: its time limit (Virtuoso: X-SQL-State S1TAT,
        HTTP 206) or its row limit (Virtuoso: X-SPARQL-MaxRows, sent when the rows reach it;
        ofsted-kg serve: X-Ofsted-KG-Truncated)."""
        state = headers.get("x-sql-state")
        if state or status == 206:
            raise PartialAnswer(
                f"{self.path}: the server stopped the query at its time limit and sent a partial answer "
                f"(HTTP {status}, X-SQL-State: {state or '-'}: {_first_line(headers.get('x-sql-message', ''))}); "
                "it is not shown. Narrow the query with parameters, or raise the limit (Virtuoso: [SPARQL] "
                "MaxQueryExecutionTime, or the timeout parameter in the endpoint URL)")
        if headers.get("x-ofsted-kg-truncated") == "true":  # `ofsted-kg serve` with its row cap
            raise PartialAnswer(
                f"{self.path}: the server cut the answer at its row limit ({headers.get('x-ofsted-kg-max-rows', '?')} "
                "rows, X-Ofsted-KG-Truncated); it is not shown. Narrow the query with parameters, or ask the "
                "operator for a higher limit")
        limit = headers.get("x-sparql-maxrows")
        if limit is not None and (not limit.strip().isdigit() or rows >= int(limit)):
            raise PartialAnswer(
                f"{self.path}: the server cut the answer at its row limit ({limit} rows, X-SPARQL-MaxRows); "
                "it is not shown. Narrow the query with parameters, or raise the limit (Virtuoso: [SPARQL] "
                "ResultSetMaxRows in virtuoso.ini)")

    def query(self, text: str, values: dict | None = None) -> RemoteResult:
        """Run a SELECT on the server; `values` ({name: pyoxigraph term}) are bound with a VALUES block."""
        from .queries import with_values

        data = self._sparql(with_values(text, values or {}))
        if "results" not in data or "head" not in data:
            raise StoreError(f"{self.path}: not a SELECT answer (ofsted-kg query shows the rows of SELECT queries)")
        variables = data["head"].get("vars", [])
        rows = [{v: json_term(b.get(v)) for v in variables} for b in data["results"]["bindings"]]
        return RemoteResult(variables, rows)

    def _column(self, text: str, values: dict | None = None) -> list[str]:
        result = self.query(text, values)
        var = result.variables[0].value
        return [row[var].value for row in result if row[var] is not None]

    # ---------------------------------------------------------------- commits
    def has_document(self, doc_iri: URIRef, version: str | None = None) -> bool:
        values = {"doc": ox.NamedNode(str(doc_iri))}
        pattern = f"GRAPH {_CATALOGUE} {{ ?doc a {_DOCUMENT} }}"
        if version is not None:
            values["version"] = ox.Literal(version)
            pattern += f" GRAPH ?doc {{ ?doc {_VERSION} ?version }}"
        return bool(self._column(f"SELECT ?doc WHERE {{ {pattern} }} LIMIT 1", values))

    def document_graphs(self) -> list[str]:
        """The committed documents' graphs."""
        return sorted(self._column(f"SELECT ?doc WHERE {{ GRAPH {_CATALOGUE} {{ ?doc a {_DOCUMENT} }} }}"))

    def uncommitted(self) -> list[str]:
        """Document graphs written without their commit (an ingest stopped while writing them)."""
        return sorted(self._column(
            f"SELECT DISTINCT ?doc WHERE {{ GRAPH ?doc {{ ?doc a {_DOCUMENT} }} "
            f"FILTER NOT EXISTS {{ GRAPH {_CATALOGUE} {{ ?doc a {_DOCUMENT} }} }} }}"))

    def documents_from(self, source_path: str) -> list[str]:
        """Graphs of documents ingested earlier from the same path (an older version of the file)."""
        return sorted(set(self._column(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?d <{OFK.sourcePath}> ?path }} }}",
                                       {"path": ox.Literal(source_path)})))

    # ---------------------------------------------------------------- writing
    def _update(self, text: str) -> None:
        url = self.endpoints.update or self.endpoints.query
        self.http.write("POST", url, data={"update": text.encode("utf-8")})

    def _replace_graph(self, iri: str, lines: list[str]) -> None:
        """Make the graph `iri` hold exactly these N-Triples lines; the last line is written last."""
        if self.endpoints.graph_store:
            body = ("\n".join(lines) + "\n").encode("utf-8")
            self.http.write("PUT", self.endpoints.graph_store, params={"graph": iri}, data=body,
                            headers={"Content-Type": "application/n-triples; charset=utf-8"})
            return
        # INSERT DATA in chunks: a blank node is one node only within one request, so every
        # statement with a blank node goes into the first chunk.
        blank = [line for line in lines[:-1] if "_:" in line]
        rest = [line for line in lines[:-1] if "_:" not in line] + lines[-1:]
        first = max(INSERT_CHUNK, len(blank))
        chunks = [blank + rest[: first - len(blank)]]
        rest = rest[first - len(blank):]
        chunks += [rest[i:i + INSERT_CHUNK] for i in range(0, len(rest), INSERT_CHUNK)]
        for n, chunk in enumerate(chunks):
            drop = f"DROP SILENT GRAPH <{iri}> ;\n" if n == 0 else ""
            self._update(f"{drop}INSERT DATA {{ GRAPH <{iri}> {{\n{chr(10).join(chunk)}\n}} }}")

    def store_documents(self, items: list[tuple]) -> None:
        """Store documents, each given as (doc_iri, statements, graphs to drop), as Store.store_documents takes them.

        Their commits are removed first (a document stored before), then each graph is
        replaced, then the commits are written together; older versions of the same files
        are removed last.
        """
        commits = " ".join(f"<{doc}> {_TYPE} {_DOCUMENT} ." for doc, _, _ in items)
        if not commits:
            return
        self._update(f"DELETE DATA {{ GRAPH {_CATALOGUE} {{ {commits} }} }}")
        for doc, graph, _ in items:
            self._replace_graph(str(doc), _ntriples(graph, str(doc)))
        self._update(f"INSERT DATA {{ GRAPH {_CATALOGUE} {{ {commits} }} }}")
        for doc, _, drop in items:
            for old in drop:
                if old != str(doc):
                    self.remove_document(old)

    def replace_document(self, doc_iri: URIRef, graph, drop: list[str] = ()) -> None:
        self.store_documents([(doc_iri, graph, list(drop))])

    def remove_document(self, doc_iri: str) -> None:
        g = ox.NamedNode(doc_iri)
        self._update(f"DELETE DATA {{ GRAPH {_CATALOGUE} {{ {g} {_TYPE} {_DOCUMENT} }} }} ;\nDROP SILENT GRAPH {g}")

    def flush(self) -> None:
        """Nothing to do: every write is sent when it is made."""

    def optimize(self) -> None:
        """Nothing to do: the server looks after its own storage."""

    # ---------------------------------------------------------------- reference data
    def ensure_reference(self, version: str, extra: Graph | None = None) -> None:
        """Load the ontology, schemes and register into their graph unless this version is there.

        The version marker is the graph's last statement, written last: a load that stops
        midway is done again by the next ingest.
        """
        ref = ox.NamedNode(str(REFERENCE_GRAPH))
        marker = ox.Triple(ref, VERSION_PRED, ox.Literal(version))
        if extra is None and self._column(f"SELECT ?v WHERE {{ GRAPH {ref} {{ {ref} {VERSION_PRED} ?v }} }}",
                                          {"v": marker.object}):
            return
        data = Graph()
        data += ontology_graph()
        if extra is not None:
            data += extra
        lines = [f"{q.subject} {q.predicate} {q.object} ." for q in quads(data, REFERENCE_GRAPH)]
        self._replace_graph(ref.value, lines + [f"{marker} ."])

    def ensure_extra_register(self, register: Graph) -> None:
        """Store an extra register (the demo sample's fictional authorities) in its own graph."""
        lines = [f"{q.subject} {q.predicate} {q.object} ." for q in quads(register, EXTRA_REGISTER_GRAPH)]
        self._replace_graph(str(EXTRA_REGISTER_GRAPH), lines)

    def extra_register(self) -> Graph | None:
        result = self.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{EXTRA_REGISTER_GRAPH}> {{ ?s ?p ?o }} }}")
        rows = list(result)
        if not rows:
            return None
        out = Graph()
        for row in rows:
            out.add((to_rdflib(row["s"]), to_rdflib(row["p"]), to_rdflib(row["o"])))
        return out

    def extra_registers(self) -> list[Graph]:
        extra = self.extra_register()
        return [extra] if extra is not None else []

    def scheme_ids(self) -> dict[str, set[str]]:
        """The ids of every concept scheme, read from the packaged ontology as the embedded store does."""
        return Store.scheme_ids(self)


def _ntriples(graph, iri: str) -> list[str]:
    """A document's statements (graph.DocumentGraph, N-Quads bytes, rdflib Graph, quads) as N-Triples lines."""
    if hasattr(graph, "statements"):
        if graph.iri != iri:
            raise StoreError(f"{iri}: statements for another graph were given to store_documents")
        return [f"{s} {p} {o} ." for s, p, o in graph.statements]
    return [f"{q.subject} {q.predicate} {q.object} ." for q in _as_quads(graph, ox.NamedNode(iri))]


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else "no message"


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or err
    return str(reason)[:300]


def _server_message(err: SPARQLWrapperException) -> str:
    """The server's own words from a SPARQLWrapper error (it keeps the body only inside its message)."""
    code = getattr(err.__context__, "code", None)
    text = str(err)
    if "Response:\n" in text:
        try:
            body = ast.literal_eval(text.split("Response:\n", 1)[1])
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        except (ValueError, SyntaxError):
            pass
    return (f"HTTP {code}: " if code else "") + _first_line(text)
