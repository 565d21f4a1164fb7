"""ofsted-kg serve: the real server on 127.0.0.1 over the seeds, queried with SPARQLWrapper and urllib."""

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from ofsted_kg.cli import cli
from ofsted_kg.extract import results
from ofsted_kg.extract.queries import named_queries
from ofsted_kg.extract.serve import HTTPProblem, query_form
from ofsted_kg.extract.store import Store
from ofsted_kg.extract.terms import to_rdflib
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    POST,
    POSTDIRECTLY,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

TIMEOUT = 3  # seconds: the servers' --timeout
MAX_ROWS = 1000
PREFIX = "PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # a cross join of the store thrice


class Server:
    """`python -m ofsted_kg.cli serve` in a subprocess on a free port, its stderr collected."""

    def __init__(self, store: Path, *args: str):
        cmd = [sys.executable, "-m", "ofsted_kg.cli", "serve", "-S", str(store), "-p", "0", *args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.lines: list[str] = []
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60) or self.proc.poll() is not None:
            self.proc.kill()
            raise AssertionError("the server did not start:\n" + "".join(self.lines))
        self.url = re.search(r"SPARQL endpoint: (http://127\.0\.0\.1:\d+)/sparql", self.stderr).group(1)
        self.sparql = self.url + "/sparql"

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            if line.startswith("SPARQL endpoint:"):
                self._ready.set()
        self._ready.set()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def descendants(self) -> set[int]:
        """The loader and worker processes under the server."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        found, todo = set(), [self.proc.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.add(child)
                todo.append(child)
        return found

    def stop(self, sig=signal.SIGTERM, wait: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGUSR1)  # the server prints every thread's stack (faulthandler)
            time.sleep(2)
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise AssertionError(f"the server did not stop on {sig!r}; the end of its stderr, with its "
                                 f"threads' stacks:\n{self.stderr[-6000:]}") from None


@pytest.fixture(scope="module")
def server(seed_store):
    srv = Server(seed_store, "--timeout", str(TIMEOUT), "--max-rows", str(MAX_ROWS), "--workers", "2")
    yield srv
    srv.stop()


@pytest.fixture
def start_server():
    """Start servers of one's own; any left running when the test ends are killed with their workers."""
    started = []

    def start(*args):
        started.append(Server(*args))
        return started[-1]

    yield start
    for srv in started:
        if srv.proc.poll() is None:
            os.killpg(srv.proc.pid, signal.SIGKILL)
            srv.proc.wait()


def wrapper(srv: Server, query: str, fmt=JSON, method=None) -> SPARQLWrapper:
    sw = SPARQLWrapper(srv.sparql)
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    if method == POSTDIRECTLY:
        sw.setMethod(POST)
        sw.setRequestMethod(POSTDIRECTLY)
    elif method:
        sw.setMethod(method)
    return sw


def fetch(url: str, data: bytes | None = None, **headers) -> tuple[int, dict, bytes]:
    """status, headers (lower-cased names), body; errors are answers too."""
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def get(srv: Server, path: str, params: dict | list = (), **headers):
    query = urllib.parse.urlencode(params)
    return fetch(srv.url + path + ("?" + query if query else ""), **headers)


def json_rows(data: dict) -> list[dict]:
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


def store_count(store_path: Path, query: str) -> int:
    store = Store(store_path, read_only=True)
    return int(next(iter(store.query(query)))["n"].value)


def cli_rows(seed_store, *args) -> list[dict]:
    result = CliRunner().invoke(cli, ["query", *args, "-S", str(seed_store), "-f", "csv"])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


# ------------------------------------------------------------------ answers are the store's

FINDINGS = PREFIX + "SELECT (COUNT(?f) AS ?n) WHERE { ?f a ofk:Finding }"
RECOMMENDATIONS = PREFIX + "SELECT (COUNT(?r) AS ?n) WHERE { ?r a ofk:Recommendation }"
JUDGEMENTS = PREFIX + """
SELECT ?authority ?area ?grade WHERE {
  ?j a ofk:Judgement ; ofk:evaluation/ofk:authority/rdfs:label ?authority ;
     ofk:area/<http://www.w3.org/2004/02/skos/core#notation> ?area ;
     ofk:grade/<http://www.w3.org/2004/02/skos/core#notation> ?grade .
} ORDER BY ?authority ?area"""


def test_serve_counts_equal_the_store_and_the_seed_facts(server, seed_store, seed_facts):
    got = wrapper(server, FINDINGS).query().convert()
    assert got["head"]["vars"] == ["n"]
    findings = int(got["results"]["bindings"][0]["n"]["value"])
    assert findings == store_count(seed_store, FINDINGS) > 300
    recs = int(wrapper(server, RECOMMENDATIONS).query().convert()["results"]["bindings"][0]["n"]["value"])
    # read by hand from the seeds: the authority's and the board's recommendations of each report,
    # and the focused visit's points for improvement
    assert recs == sum(f["recommendations"] + f["board_recommendations"] + f.get("improvements", 0)
                       for f in seed_facts.values()) == 68


def test_serve_select_in_json_xml_csv_tsv(server, seed_facts):
    as_json = json_rows(wrapper(server, JUDGEMENTS).query().convert())
    overall = {r["authority"]: r["grade"] for r in as_json if r["area"] == "overall"}
    assert overall["Reading"] == "inadequate" == next(
        j["grade"] for j in seed_facts["000_4fd3cb4d566c6112.txt"]["judgements"] if j["area"] == "overall")
    assert len(as_json) == sum(len(f["judgements"]) for f in seed_facts.values())

    doc = wrapper(server, JUDGEMENTS, XML).query().convert()  # a DOM
    as_xml = []
    for result in doc.getElementsByTagName("result"):
        row = {}
        for binding in result.getElementsByTagName("binding"):
            row[binding.getAttribute("name")] = binding.getElementsByTagName("literal")[0].firstChild.data
        as_xml.append(row)
    assert as_xml == as_json

    text = wrapper(server, JUDGEMENTS, CSV).query().convert().decode("utf-8")
    assert text.startswith("authority,area,grade\r\n")
    assert list(csv.DictReader(io.StringIO(text))) == as_json

    body = wrapper(server, JUDGEMENTS, TSV).query().convert()
    assert body.decode("utf-8").startswith("?authority\t?area\t?grade\n")
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.TSV)
    assert [{v.value: s[v].value for v in parsed.variables} for s in parsed] == as_json


def test_serve_get_post_and_direct_post_agree(server):
    answers = [json_rows(wrapper(server, JUDGEMENTS, JSON, method).query().convert())
               for method in (None, POST, POSTDIRECTLY)]
    assert answers[0] == answers[1] == answers[2] and answers[0]


def test_serve_ask(server):
    yes = wrapper(server, PREFIX + "ASK { ?f a ofk:Finding }").query().convert()
    no = wrapper(server, PREFIX + "ASK { ?f a ofk:NoSuchClass }").query().convert()
    assert yes["boolean"] is True and no["boolean"] is False
    status, headers, body = get(server, "/sparql", {"query": PREFIX + "ASK { ?f a ofk:Finding }"},
                                Accept="application/sparql-results+xml")
    assert status == 200 and headers["content-type"] == "application/sparql-results+xml"
    assert b"<boolean>true</boolean>" in body


CONSTRUCT = PREFIX + """
CONSTRUCT { ?j ofk:area ?area ; ofk:grade ?grade } WHERE {
  ?j a ofk:Judgement ; ofk:area ?area ; ofk:grade ?grade ; ofk:evaluation/ofk:authority/rdfs:label ?name .
  FILTER(STR(?name) = "Reading") }"""


def _expected_graph(seed_store) -> Graph:
    g = Graph()
    for t in Store(seed_store, read_only=True).query(CONSTRUCT):
        g.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return g


def _same_graph(got: Graph, expected: Graph):
    if not isomorphic(got, expected):
        _, only_got, only_expected = graph_diff(to_isomorphic(got), to_isomorphic(expected))
        raise AssertionError(f"only served: {sorted(only_got)[:5]}; only in the store: {sorted(only_expected)[:5]}")


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated")  # inside SPARQLWrapper's JSON-LD parsing
def test_serve_construct_in_turtle_and_json_ld(server, seed_store):
    expected = _expected_graph(seed_store)
    assert len(expected) == 14  # Reading's seven graded areas, an area and a grade each
    result = wrapper(server, CONSTRUCT, TURTLE).query()
    assert result.info()["content-type"] == "text/turtle; charset=utf-8"
    _same_graph(Graph().parse(data=result.convert(), format="turtle"), expected)
    result = wrapper(server, CONSTRUCT, JSONLD).query()
    assert result.info()["content-type"] == "application/ld+json"
    _same_graph(result.convert(), expected)  # SPARQLWrapper parses JSON-LD with rdflib
    for accept, parse_as in (("application/n-triples", "nt"), ("application/rdf+xml", "xml")):
        status, headers, body = get(server, "/sparql", {"query": CONSTRUCT}, Accept=accept)
        assert status == 200 and headers["content-type"] == accept
        _same_graph(Graph().parse(data=body, format=parse_as), expected)


# ------------------------------------------------------------------ named queries as URLs

def test_serve_named_query_equals_the_query_command(server, seed_store):
    for name, params in (("recurring-themes", {}), ("theme-evidence", {"theme": "cse", "authority": "Reading"}),
                         ("judgements", {"authority": "870", "area": "overall"})):
        status, headers, body = get(server, f"/queries/{name}", {**params, "format": "csv"})
        assert status == 200 and headers["content-type"] == "text/csv; charset=utf-8", body
        assert headers["x-ofsted-kg-truncated"] == "false"
        served = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
        args = [a for k, v in params.items() for a in ("-p", k, v)]
        assert served == cli_rows(seed_store, name, *args) and served, name
    evidence = get(server, "/queries/theme-evidence", {"theme": "cse", "authority": "Reading"},
                   Accept="application/sparql-results+json")
    rows = json_rows(json.loads(evidence[2]))
    assert {r["authority_name"] for r in rows} == {"Reading"}
    assert "39" in {r["number"] for r in rows if r["file"].startswith("000_")}  # paragraph 39 of the 2016 SIF


def test_serve_named_query_errors_name_the_valid_choices(server):
    status, _, body = get(server, "/queries/no-such-query")
    assert status == 404 and b"recurring-themes" in body
    status, _, body = get(server, "/queries/recurring-themes", {"colour": "red"})
    assert status == 400 and b"min_authorities" in body
    status, _, body = get(server, "/queries/theme-evidence", {"theme": 'cse" } UNION { ?s ?p ?o'})
    assert status == 400 and b"is not a theme id" in body
    status, _, body = get(server, "/queries/judgements", [("authority", "870"), ("authority", "Reading")])
    assert status == 400 and b"given 2 times" in body
    status, _, body = get(server, "/queries/judgements", {"authority": '" } ; DROP ALL #'})
    assert status == 400


def test_serve_lists_the_named_queries(server):
    status, headers, body = get(server, "/queries", Accept="application/json")
    assert status == 200 and headers["content-type"] == "application/json"
    listed = {q["name"]: q for q in json.loads(body)["queries"]}
    assert set(listed) == set(named_queries())
    assert {p["name"] for p in listed["recurring-themes"]["parameters"]} >= {"min_authorities", "kind", "polarity"}
    status, _, text = fetch(listed["recurring-themes"]["sparql"])
    assert status == 200 and text.decode("utf-8") == named_queries()["recurring-themes"].text
    status, headers, page = get(server, "/queries", Accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert b'href="/queries/theme-evidence?format=csv"' in page and b"<script" not in page


# ------------------------------------------------------------------ limits and refusals

def test_serve_refuses_updates(server, seed_store):
    before = store_count(seed_store, FINDINGS)
    sw = wrapper(server, PREFIX + "INSERT DATA { <urn:x> a ofk:Finding }", JSON, POST)
    with pytest.raises(urllib.error.HTTPError) as err:
        sw.query()  # SPARQLWrapper sends update=... as a form
    assert err.value.code == 403 and b"read-only" in err.value.read()
    update = PREFIX + "DELETE WHERE { ?f a ofk:Finding }"
    status, _, body = fetch(server.sparql, update.encode(), **{"Content-Type": "application/sparql-update"})
    assert status == 403 and b"read-only" in body
    assert get(server, "/sparql", {"update": update})[0] == 403
    assert get(server, "/sparql", {"query": update})[0] == 403  # an update given as a query
    assert get(server, "/sparql", {"query": "CLEAR ALL"})[0] == 403
    assert int(wrapper(server, FINDINGS).query().convert()["results"]["bindings"][0]["n"]["value"]) == before


def test_serve_time_limit_stops_a_slow_query_and_keeps_serving(server):
    slow = {}

    def run_slow():
        started = time.monotonic()
        try:
            wrapper(server, SLOW, JSON, POST).query()
        except urllib.error.HTTPError as err:
            slow["status"], slow["body"] = err.code, err.read()
        slow["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.5)
    started = time.monotonic()  # another client is answered while the slow query runs
    assert json_rows(wrapper(server, FINDINGS).query().convert())
    assert time.monotonic() - started < TIMEOUT - 0.5 and thread.is_alive()
    thread.join(30)
    assert slow["status"] == 503, slow
    assert b"time limit of 3 s" in slow["body"] and b"no results" in slow["body"]
    assert TIMEOUT <= slow["seconds"] < TIMEOUT + 3
    # the server logs before it answers, but this process reads its stderr in another thread
    assert _wait_for(lambda: "query stopped at the time limit" in server.stderr, 10), server.stderr
    for _ in range(3):  # the killed worker is replaced
        assert json_rows(wrapper(server, JUDGEMENTS).query().convert())


def test_serve_survives_workers_killed_from_outside(server):
    assert json_rows(wrapper(server, JUDGEMENTS).query().convert())
    workers = {pid for pid in server.descendants() if _parent(pid) != server.proc.pid}  # the loader's forks
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    for _ in range(3):  # dead idle workers are dropped and fresh ones forked
        assert json_rows(wrapper(server, JUDGEMENTS).query().convert())


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_serve_caps_rows_and_says_so(server, seed_store):
    result = wrapper(server, "SELECT * WHERE { ?s ?p ?o }").query()
    info = result.info()
    assert info["x-ofsted-kg-truncated"] == "true" and info["x-ofsted-kg-max-rows"] == str(MAX_ROWS)
    assert len(result.convert()["results"]["bindings"]) == MAX_ROWS == int(info["x-ofsted-kg-rows"])
    status, headers, body = get(server, "/sparql", {"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "nt"})
    assert status == 200 and headers["x-ofsted-kg-truncated"] == "true"
    assert len(body.decode("utf-8").splitlines()) == MAX_ROWS
    whole = store_count(seed_store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    exact = f"SELECT ?s WHERE {{ ?s ?p ?o }} LIMIT {MAX_ROWS}"  # exactly the cap: complete, not cut
    assert wrapper(server, exact).query().info()["x-ofsted-kg-truncated"] == "false"
    assert whole > MAX_ROWS
    small = wrapper(server, JUDGEMENTS).query().info()
    assert small["x-ofsted-kg-truncated"] == "false" and small["x-ofsted-kg-max-rows"] == str(MAX_ROWS)


def test_serve_content_negotiation(server):
    query = {"query": JUDGEMENTS}
    status, headers, _ = get(server, "/sparql", query, Accept="text/csv;q=0.5, application/sparql-results+xml")
    assert headers["content-type"] == "application/sparql-results+xml"
    status, headers, _ = get(server, "/sparql", query)
    assert headers["content-type"] == "application/sparql-results+json"  # no Accept: JSON
    status, headers, _ = get(server, "/sparql", {**query, "format": "tsv"}, Accept="application/sparql-results+json")
    assert headers["content-type"] == "text/tab-separated-values; charset=utf-8"  # format= wins
    status, _, body = get(server, "/sparql", query, Accept="image/png")
    assert status == 406 and b"application/sparql-results+json" in body
    status, _, body = get(server, "/sparql", {"query": CONSTRUCT, "format": "csv"})
    assert status == 406 and b"turtle" in body
    status, headers, _ = get(server, "/sparql", {"query": CONSTRUCT}, Accept="application/json")
    assert headers["content-type"] == "application/ld+json"


def test_serve_dataset_parameters(server, seed_store):
    store = Store(seed_store, read_only=True)
    doc = store.document_graphs()[0]
    in_doc = len(list(store.ox.quads_for_pattern(None, None, None, ox.NamedNode(doc))))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    status, _, body = get(server, "/sparql", {"query": count, "default-graph-uri": doc})
    assert status == 200 and int(json_rows(json.loads(body))[0]["n"]) == in_doc
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    status, _, body = get(server, "/sparql", [("query", graphs), ("named-graph-uri", doc)])
    assert [r["g"] for r in json_rows(json.loads(body))] == [doc]
    status, _, body = get(server, "/sparql", {"query": count, "default-graph-uri": "not an iri"})
    assert status == 400 and b"not an absolute IRI" in body


def test_serve_bad_requests(server):
    with pytest.raises(QueryBadFormed):
        wrapper(server, "SELECT * WHERE { ?s ?p }").query()
    status, _, body = get(server, "/sparql", {"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"})
    assert status == 400 and b"SERVICE" in body
    status, _, body = get(server, "/sparql", [("query", "ASK {}"), ("query", "ASK {}")])
    assert status == 400
    assert fetch(server.sparql, b"ASK {}", **{"Content-Type": "text/plain"})[0] == 415
    request = urllib.request.Request(server.sparql, data=b"ASK {}", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 405 and "POST" in err.value.headers["Allow"]
    assert get(server, "/nowhere")[0] == 404
    head = urllib.request.urlopen(urllib.request.Request(server.url + "/queries", method="HEAD"), timeout=10)
    assert head.status == 200 and int(head.headers["Content-Length"]) > 100 and head.read() == b""
    status, _headers, body = get(server, "/sparql", Accept="text/turtle")  # no query: the service description
    assert status == 200 and Graph().parse(data=body, format="turtle")
    assert f"<{server.sparql}>".encode() in body


# ------------------------------------------------------------------ start, stop, reload

def _doc_count(srv: Server) -> int:
    status, _, body = get(srv, "/sparql", {"query": PREFIX + "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a ofk:Document }"})
    assert status == 200, body
    return int(json_rows(json.loads(body))[0]["n"])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly(seed_store, sig, start_server):
    srv = start_server(seed_store, "--workers", "2")
    assert _doc_count(srv) == 5
    assert re.search(r"Serving 5 documents, \d+ triples from .* into memory in \d+\.\d s", srv.stderr)
    helpers = srv.descendants()
    assert helpers  # the loader and its workers
    assert srv.stop(sig) == 0
    time.sleep(0.5)
    assert not [pid for pid in helpers if Path(f"/proc/{pid}").exists()
                and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]]


def test_serve_stops_on_sigint_when_started_with_it_ignored(seed_store, start_server):
    # as a shell leaves it for a command started in the background: `ofsted-kg serve &` in a script
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        srv = start_server(seed_store, "--workers", "1")
    finally:
        signal.signal(signal.SIGINT, old)
    assert _doc_count(srv) == 5
    assert srv.stop(signal.SIGINT, wait=20) == 0
    assert "stopping" in srv.stderr


def test_serve_prints_its_threads_on_sigusr1(seed_store, start_server):
    srv = start_server(seed_store, "--workers", "1")
    os.kill(srv.proc.pid, signal.SIGUSR1)
    assert _wait_for(lambda: "(most recent call first)" in srv.stderr, 10), srv.stderr
    assert _doc_count(srv) == 5  # still serving
    assert srv.stop() == 0


def test_serve_from_disk(seed_store, start_server):
    srv = start_server(seed_store, "--from-disk")
    assert "queries read the store on disk" in srv.stderr
    assert int(json_rows(json.loads(get(srv, "/sparql", {"query": FINDINGS})[2]))[0]["n"]) == \
        store_count(seed_store, FINDINGS)
    assert srv.stop() == 0


def _remove_a_document(path: Path) -> None:
    store = Store(path)
    store.remove_document(store.document_graphs()[0])
    store.flush()


def _wait_for(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


@pytest.mark.parametrize("how", ["sighup", "watch"])
def test_serve_reloads_the_changed_store(seed_store, tmp_path, how, start_server):
    copy = tmp_path / "kg"
    shutil.copytree(seed_store, copy)
    srv = start_server(copy, *(["--watch", "0.5"] if how == "watch" else []))
    assert _doc_count(srv) == 5
    _remove_a_document(copy)
    if how == "sighup":
        time.sleep(1)
        assert _doc_count(srv) == 5  # the copy in memory does not change by itself
        srv.proc.send_signal(signal.SIGHUP)
    assert _wait_for(lambda: _doc_count(srv) == 4)
    assert _wait_for(lambda: "reloaded: 4 documents" in srv.stderr), srv.stderr
    assert srv.stop() == 0


def test_serve_reports_a_busy_port_and_a_missing_store(server, tmp_path):
    port = server.url.rsplit(":", 1)[1]
    result = CliRunner().invoke(cli, ["serve", "-S", str(tmp_path), "-p", port])
    assert result.exit_code == 2 and f"127.0.0.1:{port}: cannot listen there" in result.stderr
    result = CliRunner().invoke(cli, ["serve", "-S", str(tmp_path / "none"), "-p", "0"])
    assert result.exit_code == 1 and "no store here yet" in result.stderr


# ------------------------------------------------------------------ the pieces

def test_serve_query_form_reads_past_prologue_strings_and_names():
    assert query_form("PREFIX select: <http://x/>\nBASE <http://b/>\n# CONSTRUCT\nASK { ?s select:p 'SERVICE' }") == "ASK"
    assert query_form("prefix : <http://x/> describe :a") == "DESCRIBE"
    assert query_form('SELECT * WHERE { ?s <http://x/SERVICE> ?service ; ex:service """a "SERVICE" b""" }') == "SELECT"
    for text, status in (("INSERT DATA { <a> <b> <c> }", 403), ("PREFIX a: <x:> WITH <g> DELETE {}", 403),
                         ("SELECT * WHERE { ?s ?p ?o }service<http://e/>{}", 400),
                         ("SELECT * WHERE { ?s ?p ?o . service ?x { } }", 400), ("# only a comment", 400),
                         ("FOO", 400)):
        with pytest.raises(HTTPProblem) as err:
            query_form(text)
        assert err.value.status == status, text


def test_serve_results_round_trip_through_pyoxigraph():
    terms = [ox.NamedNode("http://e/a"), ox.BlankNode("b1"), ox.Literal('tab\there "quoted" <x> & new\nline'),
             ox.Literal("chat", language="fr"), ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
             None]
    rows = [terms[:3], terms[3:], [None, None, None]]
    variables = ["x", "y", "z"]
    for fmt, ox_fmt in (("json", ox.QueryResultsFormat.JSON), ("xml", ox.QueryResultsFormat.XML),
                        ("tsv", ox.QueryResultsFormat.TSV)):
        parsed = ox.parse_query_results(results.write_solutions(variables, rows, fmt), format=ox_fmt)
        assert [v.value for v in parsed.variables] == variables
        assert [[s[v] for v in variables] for s in parsed] == rows, fmt
    store = ox.Store()  # CSV is lossy by design: compare with pyoxigraph's own writer
    values = " ".join(f"({' '.join('UNDEF' if t is None else str(t) for t in row)})"
                      for row in [[terms[0], terms[2], terms[4]], [terms[3], None, terms[0]]])
    expected = store.query(f"SELECT ?x ?y ?z WHERE {{ VALUES (?x ?y ?z) {{ {values} }} }}")
    mine = results.write_solutions(variables, [[terms[0], terms[2], terms[4]], [terms[3], None, terms[0]]], "csv")
    assert mine == expected.serialize(format=ox.QueryResultsFormat.CSV)


def test_serve_negotiation_rules():
    assert results.negotiate("SELECT", None).name == "json"
    assert results.negotiate("SELECT", "*/*").name == "json"
    assert results.negotiate("SELECT", "text/*;q=0.5, text/csv").name == "csv"
    assert results.negotiate("SELECT", "text/*").name == "xml"  # text/xml, before CSV in the server's order
    assert results.negotiate("SELECT", "application/json;q=0.2, text/tab-separated-values;q=0.9").name == "tsv"
    assert results.negotiate("SELECT", "text/csv;q=0, */*;q=0.1").name == "json"
    assert results.negotiate("CONSTRUCT", None).name == "turtle"
    assert results.negotiate("CONSTRUCT", "application/xml").name == "rdf-xml"
    assert results.negotiate("ASK", "text/turtle", ["tsv", "text/tab-separated-values"]).name == "tsv"
    assert results.negotiate("DESCRIBE", None, ["json-ld", "application/ld+json"]).name == "json-ld"
    with pytest.raises(results.NotAcceptable):
        results.negotiate("SELECT", "text/csv;q=0")
    with pytest.raises(results.NotAcceptable):
        results.negotiate("CONSTRUCT", None, ["csv"])
