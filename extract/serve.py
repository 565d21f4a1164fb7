"""The SPARQL 1.1 Protocol endpoint and the named queries as URLs, over HTTP (ofsted-kg serve).

Routes live in an App: `app.route(pattern, methods)(handler)`, where a handler takes a
Request (and the pattern's named groups) and returns a Response. Pages added later (the
analysts' web pages) register more routes through `plugins`: callables given the App, the
QueryPool and the server's base URL. Every query, from any route, runs in the QueryPool,
which enforces the time limit and the row cap.
"""

from __future__ import annotations

import faulthandler
import html
import io
import json
import logging
import os
import re
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyoxigraph as ox

from .. import __version__
from . import results
from .errors import InputError, StoreError
from .queries import NamedQuery, named_queries
from .querypool import Job, LoadInfo, Outcome, QueryPool

log = logging.getLogger(__name__)
access_log = logging.getLogger(__name__ + ".access")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8070
MAX_BODY = 1 << 20  # bytes of a POSTed query or form
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_READ_ONLY = ("this endpoint is read-only: SPARQL Update is refused (change the store with "
              "'ofsted-kg ingest'; the server sees the change after a reload)")


@dataclass
class ServeConfig:
    """What the operator sets on the command line."""

    store: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    timeout: float = 30.0
    max_rows: int = 100_000
    workers: int = 2
    in_memory: bool = True
    watch: float | None = None  # seconds between checks of the store for changes; None: reload on SIGHUP only


class HTTPProblem(Exception):
    """An answer other than 200, raised by a route handler."""

    def __init__(self, status: int, message: str, **headers: str):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def one(self, name: str, params: dict[str, list[str]] | None = None) -> str | None:
        values = (self.query if params is None else params).get(name, [])
        if len(values) > 1:
            raise HTTPProblem(400, f"parameter {name} is given {len(values)} times; give it once")
        return values[0] if values else None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def text_response(status: int, message: str, **headers: str) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode("utf-8"), "text/plain; charset=utf-8", headers)


def from_outcome(outcome: Outcome) -> Response:
    return Response(outcome.status, outcome.body, outcome.content_type, {"Vary": "Accept", **outcome.headers})


class App:
    """The routes of the server, tried in the order they were added."""

    def __init__(self):
        self.routes: list[tuple[tuple[str, ...], re.Pattern, Callable[..., Response]]] = []
        self.links: list[tuple[str, str]] = []  # (path, what it shows): listed on the index page by plugins

    def route(self, pattern: str, methods: tuple[str, ...] = ("GET",)):
        def register(handler):
            self.routes.append((tuple(methods), re.compile(pattern + r"\Z"), handler))
            return handler
        return register

    def dispatch(self, request: Request) -> Response:
        allowed: set[str] = set()
        for methods, pattern, handler in self.routes:
            match = pattern.match(request.path)
            if not match:
                continue
            if request.method not in methods:
                allowed.update(methods)
                continue
            try:
                return handler(request, **match.groupdict())
            except HTTPProblem as problem:
                return text_response(problem.status, problem.message, **problem.headers)
        if allowed:
            methods = ", ".join(sorted(allowed))
            return text_response(405, f"{request.path} answers {methods} only", Allow=methods)
        more = "".join(f", {path}" for path, _ in self.links)
        return text_response(404, f"{request.path}: nothing here (endpoints: /sparql, /queries, /queries/NAME{more})")


# ------------------------------------------------------------------ reading queries

_LEX = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"|'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
              |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<var>[?$]\w+)
  | (?P<pname>[\w.-]*:[\w.:%-]*)
  | (?P<word>\w+)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE, read from the query text; HTTPProblem for updates and SERVICE.

    Read lexically (IRIs, strings, comments, variables and prefixed names are whole
    tokens), so no query is evaluated outside the workers. SERVICE is refused: the server
    makes no requests to other servers on a client's behalf.
    """
    form = None
    expect_declaration = 0
    for m in _LEX.finditer(text):
        kind, tok = m.lastgroup, m.group()
        if kind in ("space", "comment"):
            continue
        word = tok.upper() if kind == "word" else None
        if word == "SERVICE":
            raise HTTPProblem(400, "SERVICE (a federated query) is not allowed: this endpoint queries its own store only")
        if form is not None:
            continue
        if expect_declaration:
            expect_declaration -= 1
            continue
        if word == "PREFIX":
            expect_declaration = 2  # the prefix and its IRI
        elif word == "BASE":
            expect_declaration = 1
        elif word in _FORMS:
            form = word
        elif word in _UPDATE_WORDS:
            raise HTTPProblem(403, _READ_ONLY)
        else:
            raise HTTPProblem(400, f"not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE after the "
                                   f"prologue, found {tok[:40]!r}")
    if form is None:
        raise HTTPProblem(400, "not a SPARQL query: the query is empty")
    return form


def _graph_iris(params: dict[str, list[str]], name: str) -> list[str] | None:
    values = params.get(name)
    if values is None:
        return None
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError:
            raise HTTPProblem(400, f"{name}: '{value[:200]}' is not an absolute IRI") from None
    return values


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPProblem(400, f"{what} is not UTF-8 text") from None


def _form(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(_decode(body, "the form"), keep_blank_values=True, errors="strict", max_num_fields=1000)
    except ValueError as err:
        raise HTTPProblem(400, f"the form cannot be read ({err})") from None


def _choose(form: str, request: Request, params: dict[str, list[str]]) -> results.Format:
    try:
        return results.negotiate(form, request.header("accept"), params.get("format", []))
    except results.NotAcceptable as err:
        raise HTTPProblem(406, str(err)) from None


def _prefers_html(request: Request) -> bool:
    fmt = request.one("format")
    if fmt is not None:
        if fmt not in ("html", "json"):
            raise HTTPProblem(406, f"format={fmt[:40]}: this page comes as html or json")
        return fmt == "html"
    ranges = results.media_ranges(request.header("accept") or "")
    return results.quality("text/html", ranges) > results.quality("application/json", ranges)


def _page(title: str, body: str) -> Response:
    doc = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
           "<style>body{font-family:sans-serif;max-width:60em;margin:1em auto;padding:0 1em}"
           "code{background:#eee}td,th{text-align:left;vertical-align:top;padding:.2em .6em}</style>"
           f"</head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")
    return Response(200, doc.encode("utf-8"), "text/html; charset=utf-8", {"Vary": "Accept"})


def _json(data) -> Response:
    return Response(200, json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"), "application/json",
                    {"Vary": "Accept"})


# ------------------------------------------------------------------ the routes

def make_app(pool: QueryPool, base_url: str, plugins=()) -> App:
    """The server's routes: /, /sparql, /queries, /queries/NAME, /queries/NAME.rq, and the plugins'."""
    app = App()

    @app.route(r"/")
    def index(request: Request) -> Response:
        info = pool.info
        limits = {"timeout_seconds": pool.timeout, "max_rows": pool.max_rows, "workers": pool.workers}
        if not _prefers_html(request):
            return _json({"sparql": f"{base_url}/sparql", "queries": f"{base_url}/queries",
                          "documents": info.documents, "limits": limits,
                          "pages": {path: f"{base_url}{path}" for path, _ in app.links}})
        pages = "".join(f'<li><a href="{html.escape(path)}"><code>{html.escape(path)}</code></a>: {html.escape(what)}</li>'
                        for path, what in app.links)
        return _page("ofsted-kg", (
            f"<p>{info.documents} documents. Time limit {pool.timeout:g} s a query, at most "
            f"{pool.max_rows} rows an answer.</p><ul>{pages}"
            "<li><a href=\"/sparql\"><code>/sparql</code></a>: the SPARQL 1.1 Protocol endpoint (GET or POST a query)</li>"
            "<li><a href=\"/queries\"><code>/queries</code></a>: the named queries, each at <code>/queries/NAME</code></li>"
            "</ul>"))

    @app.route(r"/sparql", ("GET", "POST"))
    def sparql(request: Request) -> Response:
        if request.method == "GET":
            params = request.query
            if "update" in params:
                raise HTTPProblem(403, _READ_ONLY)
            if "query" not in params:
                return _service_description(request, base_url)
        elif request.content_type == "application/x-www-form-urlencoded":
            params = {**request.query, **_form(request.body)}
            if "update" in params:
                raise HTTPProblem(403, _READ_ONLY)
            if "query" not in params:
                raise HTTPProblem(400, "the form has no query= field")
        elif request.content_type == "application/sparql-query":
            if "query" in request.query:
                raise HTTPProblem(400, "a query POSTed as application/sparql-query cannot also have query= in the URL")
            params = {**request.query, "query": [_decode(request.body, "the query")]}
        elif request.content_type == "application/sparql-update":
            raise HTTPProblem(403, _READ_ONLY)
        else:
            raise HTTPProblem(415, f"POST a query as application/x-www-form-urlencoded (query=...) or as "
                                   f"application/sparql-query, not {request.content_type or 'no content type'}")
        text = request.one("query", params)
        form = query_form(text)
        fmt = _choose(form, request, params)
        job = Job("sparql", text, fmt.name,
                  default_graphs=_graph_iris(params, "default-graph-uri"),
                  named_graphs=_graph_iris(params, "named-graph-uri"))
        return from_outcome(pool.run(job))

    @app.route(r"/queries")
    def list_queries(request: Request) -> Response:
        queries = sorted(named_queries().values(), key=lambda nq: nq.name)
        if not _prefers_html(request):
            return _json({"queries": [_describe(nq, base_url) for nq in queries]})
        return _page("ofsted-kg named queries", _queries_html(queries))

    @app.route(r"/queries/(?P<name>[\w-]+)\.rq")
    def query_text(request: Request, name: str) -> Response:
        nq = _named(name)
        return Response(200, nq.text.encode("utf-8"), "application/sparql-query; charset=utf-8")

    @app.route(r"/queries/(?P<name>[\w-]+)")
    def run_named(request: Request, name: str) -> Response:
        nq = _named(name)
        given = []
        for key in request.query:
            if key == "format":
                continue
            try:
                nq.param(key)
            except InputError as err:
                raise HTTPProblem(400, err.message) from None
            given.append((key, request.one(key)))
        fmt = _choose(query_form(nq.text), request, request.query)
        return from_outcome(pool.run(Job("named", name, fmt.name, params=given)))

    for plugin in plugins:
        plugin(app, pool, base_url)
    return app


def _named(name: str) -> NamedQuery:
    queries = named_queries()
    if name not in queries:
        raise HTTPProblem(404, f"no query named '{name}' (named queries: {', '.join(sorted(queries))})")
    return queries[name]


def _describe(nq: NamedQuery, base_url: str) -> dict:
    return {"name": nq.name, "description": nq.description, "form": query_form(nq.text),
            "parameters": [{"name": p.name, "type": p.type, "default": p.default, "description": p.description}
                           for p in nq.params],
            "example": nq.example, "url": f"{base_url}/queries/{nq.name}", "sparql": f"{base_url}/queries/{nq.name}.rq"}


def _queries_html(queries: list[NamedQuery]) -> str:
    e = html.escape
    parts = [("<p>Run one with <code>/queries/NAME?parameter=value&amp;format=csv</code>; parameters are bound "
              "as RDF terms, never pasted into the query. The same list as JSON: "
              "<a href=\"/queries?format=json\">/queries?format=json</a>.</p>")]
    for nq in queries:
        names = [f.names[0] for f in results.formats_for(query_form(nq.text))]
        links = " ".join(f'<a href="/queries/{e(nq.name)}?format={f}">{f}</a>' for f in names)
        parts.append(f'<h2 id="{e(nq.name)}">{e(nq.name)}</h2><p>{e(nq.description)}</p>'
                     f'<p>Run: {links} · <a href="/queries/{e(nq.name)}.rq">SPARQL</a></p>')
        if nq.params:
            rows = "".join(f"<tr><td><code>{e(p.name)}</code></td><td>{e(p.type)}</td>"
                           f"<td>{e(p.default) if p.default is not None else '(any)'}</td><td>{e(p.description)}</td></tr>"
                           for p in nq.params)
            parts.append(f"<table><tr><th>parameter</th><th>type</th><th>default</th><th>meaning</th></tr>{rows}</table>")
        if nq.example:
            parts.append(f"<p>Example: <code>{e(nq.example)}</code></p>")
    return "\n".join(parts)


_SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS_NS = "http://www.w3.org/ns/formats/"
_SD_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
               "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N3")


def _service_description(request: Request, base_url: str) -> Response:
    """GET /sparql with no query: a SPARQL 1.1 Service Description of the endpoint."""
    fmt = _choose("DESCRIBE", request, request.query)
    service, dataset, graph = ox.BlankNode("service"), ox.BlankNode("dataset"), ox.BlankNode("default")

    def sd(term: str) -> ox.NamedNode:
        return ox.NamedNode(_SD + term)

    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    triples = [
        ox.Triple(service, rdf_type, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(f"{base_url}/sparql")),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), graph),
        ox.Triple(graph, rdf_type, sd("Graph")),
    ]
    triples += [ox.Triple(service, sd("resultFormat"), ox.NamedNode(_FORMATS_NS + f)) for f in _SD_FORMATS]
    return Response(200, results.write_triples(triples, fmt.name), fmt.content_type, {"Vary": "Accept"})


# ------------------------------------------------------------------ HTTP

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"ofsted-kg/{__version__}"
    timeout = 60  # seconds an idle kept-alive connection holds its thread

    def _handle(self) -> None:
        url = urlsplit(self.path)
        try:
            query = parse_qs(url.query, keep_blank_values=True, errors="strict", max_num_fields=1000)
            path = unquote(url.path, errors="strict")
        except ValueError as err:
            self._send(text_response(400, f"the URL cannot be read ({err})"))
            return
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._send(text_response(411, "send the body with a Content-Length, not chunked"))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True  # the body is left unread
            self._send(text_response(413 if length > 0 else 400,
                                     f"the body must have a Content-Length of at most {MAX_BODY} bytes"))
            return
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        method = "GET" if self.command == "HEAD" else self.command  # HEAD: GET's headers, no body
        request = Request(method, path, query, headers, body)
        self._send(self.server.app.dispatch(request))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left before the answer

    def log_message(self, format: str, *args) -> None:
        access_log.info("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: App


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Stop(Exception):
    """SIGTERM or SIGINT: stop serving."""


def _fingerprint(path: Path) -> tuple:
    """Names, sizes and times of the store's files (not its logs): a write changes it, a reader does not."""
    try:
        entries = [e for e in os.scandir(path) if e.is_file() and not e.name.startswith(("LOG", "LOCK"))]
        return tuple(sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns) for e in entries))
    except OSError:
        return ()


def _reload(pool: QueryPool) -> None:
    log.info("reloading %s", pool.path)
    try:
        info = pool.reload()
    except StoreError as err:
        log.error("reload failed, still serving the earlier copy: %s", err.message)
        return
    if info is None:
        log.info("a reload is already under way")
    else:
        log.info("reloaded: %s", describe_load(info))


def describe_load(info: LoadInfo) -> str:
    where = "into memory" if info.in_memory else "(queries read the store on disk)"
    triples = f", {info.triples} triples" if info.triples is not None else ""
    return f"{info.documents} documents{triples} from {info.path} {where} in {info.seconds:.1f} s"


def _watch(pool: QueryPool, interval: float, loaded: tuple, stopped: threading.Event) -> None:
    previous = loaded
    while not stopped.wait(interval):
        now = _fingerprint(pool.path)
        if now != loaded and now == previous:  # changed, then quiet for one interval
            loaded = now
            _reload(pool)
        previous = now


def run_serve(config: ServeConfig, on_ready: Callable[[str, LoadInfo], None] | None = None, plugins=()) -> None:
    """Load the store, serve until SIGINT or SIGTERM; SIGHUP (or a change seen with `watch`) reloads.

    The analysts' pages (extract/pages.py) are always served, before any other `plugins`.
    Raises InputError if the address cannot be bound and StoreError if the store cannot be read.
    """
    server_class = _Server6 if ":" in config.host else _Server
    try:
        server = server_class((config.host, config.port), _Handler)
    except OSError as err:
        raise InputError(f"{config.host}:{config.port}: cannot listen there ({err.strerror})") from err
    host = f"[{config.host}]" if ":" in config.host else config.host
    base_url = f"http://{host}:{server.server_address[1]}"
    from . import pages

    plugins = (pages.install, *plugins)
    pool = QueryPool(config.store, in_memory=config.in_memory, workers=config.workers,
                     timeout=config.timeout, max_rows=config.max_rows, preload=pages.PRELOAD)
    stopped = threading.Event()

    def stop(signum, frame):
        raise _Stop

    def hang_up(signum, frame):
        threading.Thread(target=_reload, args=(pool,), name="reload", daemon=True).start()

    # Handlers of our own for all three, and none of them blocked: a shell that starts a server in
    # the background (`ofsted-kg serve &` in a script) leaves SIGINT ignored, and Python then
    # installs no Ctrl-C handler of its own, so the server would never stop on SIGINT.
    handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    old = {sig: signal.signal(sig, handler) for sig, handler in zip(handled, (stop, stop, hang_up))}
    old_mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, handled)
    try:  # kill -USR1: every thread's stack to stderr (to see what a stuck server is doing)
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    except (AttributeError, ValueError, io.UnsupportedOperation):  # a stderr with no file descriptor (tests)
        pass
    try:
        fingerprint = _fingerprint(config.store)
        info = pool.start()
        log.info("loaded %s", describe_load(info))
        server.app = make_app(pool, base_url, plugins)
        if config.watch:
            threading.Thread(target=_watch, args=(pool, config.watch, fingerprint, stopped), name="watch",
                             daemon=True).start()
        if on_ready:
            on_ready(base_url, info)
        server.serve_forever()
    except (KeyboardInterrupt, _Stop):
        log.info("stopping")
    finally:
        stopped.set()
        server.server_close()
        pool.close()
        for sig, handler in old.items():
            signal.signal(sig, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        faulthandler.unregister(signal.SIGUSR1)
