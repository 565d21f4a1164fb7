"""Remote stores: the seeds ingested into a real Virtuoso through ofsted-kg, every named query answered as by the embedded store."""

import csv
import io
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import DATA, SEEDS
from ofsted_kg.cli import cli
from ofsted_kg.extract.queries import bindings, named_queries
from ofsted_kg.extract.register import load_register
from ofsted_kg.extract.remote import Endpoints, PartialAnswer, RemoteStore
from ofsted_kg.extract.store import CATALOGUE_GRAPH, Store

MAX_ROWS = 10000  # Virtuoso's ResultSetMaxRows here: above every named query's answer on the seeds
USER, PASSWORD = "dba", "dba"  # the default account of a fresh database, reachable only on 127.0.0.1
INSTALL = "apt-get install -y --no-install-recommends virtuoso-opensource-7-bin"
# named queries with no answer on the five seeds, and why
EMPTY_ON_SEEDS = {"neighbour-themes": "no seed authority is a statistical neighbour of another"}


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "?" + urllib.parse.urlencode({"query": "ASK {}"}), timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A Virtuoso of its own: database files in a temporary folder, both ports on 127.0.0.1, stopped by SIGTERM."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.fail(f"virtuoso-t is not installed; the remote-store tests need it ({INSTALL}, as .ci/run does)")
    folder = tmp_path_factory.mktemp("virtuoso")
    http_port, sql_port = _free_port(), _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text((DATA / "virtuoso.ini").read_text().format(
        dir=folder, sql_port=sql_port, http_port=http_port, max_rows=MAX_ROWS))
    log = (folder / "console.log").open("wb")
    proc = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)], cwd=folder,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    started = time.monotonic()
    while not _ask(base + "/sparql"):
        if proc.poll() is not None or time.monotonic() - started > 90:
            proc.kill()
            pytest.fail(f"Virtuoso did not start: {(folder / 'console.log').read_text(errors='replace')[-2000:]}")
        time.sleep(0.2)
    try:
        yield {"base": base, "query": base + "/sparql", "update": base + "/sparql-auth",
               "graph_store": base + "/sparql-graph-crud-auth", "folder": folder}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _options(v, graph_store=True):
    opts = ["--endpoint", v["query"], "--update-endpoint", v["update"], "--user", USER, "--password", PASSWORD]
    return opts + (["--graph-store-endpoint", v["graph_store"]] if graph_store else [])


@pytest.fixture(scope="module")
def remote(virtuoso):
    """The Virtuoso with the five seeds ingested through `ofsted-kg ingest --endpoint` (Graph Store PUTs)."""
    result = run("ingest", "--silent", *_options(virtuoso), SEEDS)
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "5 stored, 0 unchanged" in result.stderr
    return virtuoso


def _store(v, graph_store=True) -> RemoteStore:
    return RemoteStore(Endpoints(v["query"], v["update"], v["graph_store"] if graph_store else None, USER, PASSWORD))


def _statements(store, graph: str) -> set[str]:
    if isinstance(store, Store):
        return {f"{q.subject} {q.predicate} {q.object}"
                for q in store.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph))}
    rows = store.query("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": ox.NamedNode(graph)})
    return {f"{r['s']} {r['p']} {r['o']}" for r in rows}


_NUMERIC = {f"http://www.w3.org/2001/XMLSchema#{t}" for t in
            ("integer", "decimal", "double", "float", "int", "long", "short", "nonNegativeInteger")}


def _plain(term):
    """A cell as a plain value; numbers as numbers (rounded), so 0.5 and 5.0E-1 compare equal."""
    if term is None:
        return None
    if isinstance(term, ox.Literal) and term.datatype.value in _NUMERIC:
        try:
            return ("number", round(Decimal(term.value), 6))
        except InvalidOperation:
            return ("number", term.value)
    return ("value", term.value)


def _given(nq) -> list[tuple[str, str]]:
    """Values for the parameters a query cannot run without, from its own example; the others keep their defaults."""
    example = dict(re.findall(r"-p\s+(\w+)\s+(\S+)", nq.example))
    required = [p.name for p in nq.params if getattr(p, "required", False)]
    missing = [name for name in required if name not in example]
    assert not missing, f"{nq.name}: no example value for the required parameters {missing}"
    return [(name, example[name]) for name in required]


def _answer(store, name):
    nq = named_queries()[name]
    subs = bindings(nq, _given(nq), load_register(store.extra_registers()), store.scheme_ids())
    result = store.query(nq.text, subs)
    variables = [v.value for v in result.variables]
    return variables, Counter(tuple(_plain(row[v]) for v in variables) for row in result)


# ------------------------------------------------------------------ writing

def test_remote_ingest_writes_the_same_graphs(remote, seed_store):
    local = Store(seed_store, read_only=True)
    server = _store(remote)
    assert server.document_graphs() == local.document_graphs()
    assert len(server.document_graphs()) == 5
    assert server.uncommitted() == []
    for graph in local.document_graphs():
        assert _statements(server, graph) == _statements(local, graph), graph
    ref = "https://w3id.org/ofsted-kg/id/graph/reference"
    on_server, here = _statements(server, ref), _statements(local, ref)
    assert {s for s in on_server if "_:" not in s} == {s for s in here if "_:" not in s}
    assert len(on_server) == len(here)  # the statements with blank nodes too, whose labels differ


def test_remote_ingest_again_skips_unchanged_documents(remote):
    result = run("ingest", "--silent", *_options(remote), SEEDS)
    assert result.exit_code == 0, result.output
    assert "0 stored, 5 unchanged" in result.stderr


def test_remote_replace_by_sparql_update_in_chunks(remote, seed_store):
    """Without a Graph Store endpoint, documents are replaced by DROP and INSERT DATA in chunks
    under Virtuoso's limit (the largest seed has over 5,000 statements: eleven chunks)."""
    local = Store(seed_store, read_only=True)
    server = _store(remote, graph_store=False)
    graphs = sorted(local.document_graphs(), key=lambda g: len(local.document_graph(g)))
    assert len(local.document_graph(graphs[-1])) > 5000
    replaced = [graphs[0], graphs[-1]]  # the smallest and the largest
    server.store_documents([(g, local.document_graph(g), []) for g in replaced])
    assert server.document_graphs() == local.document_graphs()
    assert server.uncommitted() == []
    for graph in replaced:
        assert _statements(server, graph) == _statements(local, graph), graph


def test_remote_uncommitted_graph_is_reported_and_replaced(remote, seed_store):
    local = Store(seed_store, read_only=True)
    server = _store(remote)
    doc = local.document_graphs()[0]
    server._update(f"DELETE DATA {{ GRAPH {CATALOGUE_GRAPH} {{ <{doc}> a <https://w3id.org/ofsted-kg/ont#Document> }} }}")
    assert server.uncommitted() == [doc]  # as an ingest stopped between the graph and its commit leaves it
    assert not server.has_document(doc)
    server.store_documents([(doc, local.document_graph(doc), [])])
    assert server.uncommitted() == [] and server.has_document(doc)


# ------------------------------------------------------------------ reading

@pytest.mark.parametrize("name", sorted(named_queries()))
def test_remote_named_query_answers_as_embedded(remote, seed_store, name):
    local_vars, local_rows = _answer(Store(seed_store, read_only=True), name)
    remote_vars, remote_rows = _answer(_store(remote), name)
    assert remote_vars == local_vars
    if name in EMPTY_ON_SEEDS:  # compared all the same: the server must run it and find nothing too
        assert sum(local_rows.values()) == 0, f"{name} answers on the seeds now: drop it from EMPTY_ON_SEEDS"
    else:
        assert sum(local_rows.values()) > 0, f"{name}: no answer on the seeds, nothing compared"
    assert remote_rows == local_rows, (f"{name}: only embedded {list((local_rows - remote_rows).items())[:5]}; "
                                       f"only Virtuoso {list((remote_rows - local_rows).items())[:5]}")


def test_remote_query_command_prints_the_same_csv(remote, seed_store):
    local = run("query", "recurring-themes", "-S", seed_store, "-f", "csv")
    server = run("query", "recurring-themes", "--endpoint", remote["query"], "-f", "csv")
    assert server.exit_code == 0, server.output + str(server.exception)
    assert server.stdout == local.stdout
    found = {r["theme"]: r for r in csv.DictReader(io.StringIO(server.stdout))}
    assert all(int(found[t]["authorities"]) == 3 for t in ("cse", "missing", "thresholds"))


def test_remote_query_binds_parameters_as_terms(remote, seed_store):
    args = ["theme-evidence", "-f", "csv", "-p", "theme", "cse", "-p", "authority", "Reading"]
    local = run("query", *args, "-S", seed_store)
    server = run("query", *args, "--endpoint", remote["query"])
    assert server.exit_code == 0, server.output
    assert sorted(server.stdout.splitlines()) == sorted(local.stdout.splitlines())
    assert {r["authority_name"] for r in csv.DictReader(io.StringIO(server.stdout))} == {"Reading"}


def test_remote_stats_as_embedded(remote, seed_store):
    local = run("stats", "-S", seed_store)
    server = run("stats", "--endpoint", remote["query"])
    assert server.exit_code == 0, server.output
    assert server.stdout.splitlines()[1:] == local.stdout.splitlines()[1:]
    assert "documents:\t5" in server.stdout


# ------------------------------------------------------------------ limits and errors

def test_remote_answer_cut_at_row_limit_is_an_error(remote, tmp_path):
    query = tmp_path / "pairs.rq"  # every pair of findings: 429 x 429 rows, far above the limit
    query.write_text("PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>\n"
                     "SELECT ?a ?b WHERE { ?a a ofk:Finding . ?b a ofk:Finding }\n")
    result = run("query", query, "--endpoint", remote["query"], "-f", "csv")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"row limit ({MAX_ROWS} rows, X-SPARQL-MaxRows)" in result.stderr
    with pytest.raises(PartialAnswer):
        _store(remote).query(query.read_text())


def test_remote_partial_answer_at_time_limit_is_an_error(remote, tmp_path):
    """Asked for an 'anytime' answer (timeout=1000 ms in the URL), Virtuoso sends what it has
    with HTTP 200 and X-SQL-State: S1TAT; ofsted-kg refuses it."""
    query = tmp_path / "slow.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n")
    result = run("query", query, "--endpoint", remote["query"] + "?timeout=1000", "-f", "csv")
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert "partial answer" in result.stderr and "S1TAT" in result.stderr


def test_remote_wrong_password(remote):
    result = run("ingest", "--silent", "--endpoint", remote["query"], "--update-endpoint", remote["update"],
                 "--user", USER, "--password", "not-the-password", "--force", SEEDS / "000_4fd3cb4d566c6112.txt")
    assert result.exit_code == 1
    assert f"Error: {remote['update']}: the server refused the user name or password (HTTP 401)" in result.stderr


def test_remote_credentials_asked_before_extracting(remote):
    result = run("ingest", "--silent", "--endpoint", remote["query"], "--update-endpoint", remote["update"],
                 "--force", SEEDS)
    assert result.exit_code == 1
    assert f"Error: {remote['update']}: the server asks for a user name and password (HTTP 401)" in result.stderr


def test_remote_server_not_reachable():
    url = f"http://127.0.0.1:{_free_port()}/sparql"
    result = run("query", "recurring-themes", "--endpoint", url)
    assert result.exit_code == 1
    assert f"Error: {url}: cannot reach the SPARQL server" in result.stderr


def test_remote_store_and_endpoint_conflict(tmp_path):
    result = run("query", "recurring-themes", "-S", tmp_path, "--endpoint", "http://127.0.0.1:1/sparql")
    assert result.exit_code == 2
    assert "--store and --endpoint name two stores" in result.stderr


def test_remote_endpoint_from_environment(remote, seed_store):
    result = run("query", "judgements", "-p", "authority", "870", "-f", "csv",
                 env={"OFSTED_KG_ENDPOINT": remote["query"]})
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + 7  # header and the seven graded judgements of Reading


def test_remote_sample_register_round_trip(remote):
    """The demo's fictional register goes to its own graph on the server and reads back whole."""
    from rdflib import Graph
    from rdflib.compare import isomorphic

    from ofsted_kg.extract.resources import data_file, parse_turtle

    server = _store(remote)
    sample = parse_turtle(data_file("sample", "authorities.ttl"), Graph())
    assert server.extra_register() is None
    server.ensure_extra_register(sample)
    try:
        assert isomorphic(server.extra_register(), sample)
        assert load_register(server.extra_registers()).resolve("Kestrel Vale").la_code == "993"  # fictional
    finally:
        server._update("DROP SILENT GRAPH <https://w3id.org/ofsted-kg/id/graph/sample-register>")


def test_remote_new_version_of_a_file_replaces_the_old(remote, tmp_path):
    """A file changed since it was ingested: its new document is committed and the old one removed."""
    report = tmp_path / "focused-visit.txt"
    report.write_bytes((SEEDS / "002_06bdabc3c54811b2.txt").read_bytes() + b"\n")  # not the seed's sha256
    server = _store(remote)
    before = server.document_graphs()
    assert run("ingest", "--silent", "-j", "1", *_options(remote), report).exit_code == 0
    first = sorted(set(server.document_graphs()) - set(before))
    assert len(first) == 1
    report.write_bytes(report.read_bytes() + b"\n")  # another sha256, the same path
    result = run("ingest", "--silent", "-j", "1", *_options(remote), report)
    assert result.exit_code == 0, result.output
    second = sorted(set(server.document_graphs()) - set(before))
    assert len(second) == 1 and second != first
    assert not server.has_document(first[0]) and server.uncommitted() == []
    assert _statements(server, first[0]) == set()  # the old graph is gone, not only its commit
    server.remove_document(second[0])
    assert server.document_graphs() == before
