"""The analysts' pages of ofsted-kg serve in headless Chromium (Debian's /usr/bin/chromium through Playwright).

The real server runs over the seeds (and over the hostile fictional store); every number a page
shows is checked against the store with an independent SPARQL query, and against the facts read
by hand from the seed reports (tests/data/seed_facts.json). Every request the browser makes is
recorded: none may leave 127.0.0.1. A screenshot of each page goes to tests/artifacts/ (git-ignored).
"""

import hashlib
import html
import http.client
import json
import re
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from ofsted_kg.cli import cli
from ofsted_kg.extract.pages_html import marked
from ofsted_kg.extract.queries import named_queries
from ofsted_kg.extract.store import Store
from playwright.sync_api import expect
from test_browser import ARTIFACTS, recording_chromium
from test_serve import Server, fetch, get

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds"
LOCAL = re.compile(r"^(about:blank$|data:|http://127\.0\.0\.1:\d+/)")
PREFIXES = """PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
CATALOGUE = "<https://w3id.org/ofsted-kg/id/graph/catalogue>"


@pytest.fixture(scope="module")
def server(seed_store):
    srv = Server(seed_store, "--timeout", "30", "--workers", "2")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def hostile_server(hostile_store):
    srv = Server(hostile_store, "--timeout", "30", "--workers", "1")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A fresh Chromium that records every request any page makes and lets only 127.0.0.1 through."""
    with recording_chromium(tmp_path_factory.mktemp("chromium-profile"), LOCAL) as context:
        yield context
    requests = context.requests
    assert requests and all(LOCAL.match(u) for u in requests), [u for u in requests if not LOCAL.match(u)]


def open_page(browser, url: str, console_errors: bool = True):
    page = browser.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    if console_errors:
        page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    response = page.goto(url)
    page.status = response.status
    return page


def shot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def store_rows(store_path: Path, query: str) -> list[dict]:
    """The rows of an independent query on the store itself (not through the server)."""
    solutions = Store(store_path, read_only=True).query(PREFIXES + query)
    names = [v.value for v in solutions.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in solutions]


def table(page, selector: str) -> list[list[str]]:
    return page.locator(f"{selector} tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.children).map(c => c.innerText.trim()))")


def num(text: str) -> int:
    return int(text.replace(",", "")) if text else 0


def graph_json(store: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["graph", "-S", str(store), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def theme_iri(theme: str):
    import pyoxigraph as ox

    return ox.NamedNode(f"https://w3id.org/ofsted-kg/theme/{theme}")


def authority_iri(code: str):
    import pyoxigraph as ox

    return ox.NamedNode(f"https://w3id.org/ofsted-kg/id/authority/{code}")


def bound_rows(store_path: Path, query: str, values: dict) -> list[dict]:
    solutions = Store(store_path, read_only=True).query(PREFIXES + query, values)
    names = [v.value for v in solutions.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in solutions]


# Independent of the pages' own queries: one aggregate per question, through the documents' graphs.
PASSAGE_COUNTS = f"""
SELECT ?code ?what (COUNT(DISTINCT ?p) AS ?n) WHERE {{
  GRAPH {CATALOGUE} {{ ?doc a ofk:Document }}
  GRAPH ?doc {{ ?p ofk:theme ?theme ; ofk:evaluation ?e ; a ?class . ?e ofk:authority ?a }}
  FILTER(?class IN (ofk:Finding, ofk:Recommendation))
  ?a ofk:laCode ?code .
  OPTIONAL {{ ?p ofk:polarity ?pol . ?pol skos:notation ?pid }}
  BIND(IF(?class = ofk:Recommendation, "recommendation", ?pid) AS ?what)
}} GROUP BY ?code ?what"""
THEME_EVALUATIONS = f"""
SELECT ?code (COUNT(DISTINCT ?e) AS ?n) WHERE {{
  GRAPH {CATALOGUE} {{ ?doc a ofk:Document }}
  GRAPH ?doc {{ ?p ofk:theme ?theme ; ofk:evaluation ?e . ?e ofk:authority ?a }}
  ?a ofk:laCode ?code .
}} GROUP BY ?code"""
BY_YEAR = f"""
SELECT ?year ?what (COUNT(DISTINCT ?p) AS ?n) WHERE {{
  GRAPH {CATALOGUE} {{ ?doc a ofk:Document }}
  GRAPH ?doc {{ ?p ofk:theme ?theme ; ofk:evaluation ?e ; a ?class .
               OPTIONAL {{ ?e ofk:startDate ?s }} OPTIONAL {{ ?e ofk:publishedDate ?pd }} }}
  FILTER(?class IN (ofk:Finding, ofk:Recommendation))
  OPTIONAL {{ ?p ofk:polarity ?pol . ?pol skos:notation ?pid }}
  BIND(YEAR(COALESCE(?s, ?pd)) AS ?year)
  BIND(IF(?class = ofk:Recommendation, "recommendation", ?pid) AS ?what)
}} GROUP BY ?year ?what"""
TEXTS = f"""
SELECT ?p ?text ?code ?pid WHERE {{
  GRAPH {CATALOGUE} {{ ?doc a ofk:Document }}
  GRAPH ?doc {{ ?p ofk:theme ?theme ; ofk:text ?text ; ofk:evaluation/ofk:authority ?a }}
  ?a ofk:laCode ?code .
  OPTIONAL {{ ?p ofk:polarity ?pol . ?pol skos:notation ?pid }}
}}"""
AUTHORITY_THEMES = f"""
SELECT ?theme ?what (COUNT(DISTINCT ?p) AS ?n) WHERE {{
  GRAPH {CATALOGUE} {{ ?doc a ofk:Document }}
  GRAPH ?doc {{ ?p ofk:theme ?t ; ofk:evaluation ?e ; a ?class . ?e ofk:authority ?who }}
  FILTER(?class IN (ofk:Finding, ofk:Recommendation))
  ?t skos:notation ?theme .
  OPTIONAL {{ ?p ofk:polarity ?pol . ?pol skos:notation ?pid }}
  BIND(IF(?class = ofk:Recommendation, "recommendation", ?pid) AS ?what)
}} GROUP BY ?theme ?what"""
MATCHED = """SELECT ?p ?m WHERE { ?p ofk:mention ?x . ?x ofk:mentionOf ?theme ; ofk:matchedText ?m }"""
COLUMNS = ("weakness", "mixed", "strength", "neutral", "recommendation")


def counts_by(rows: list[dict], key: str) -> dict[str, Counter]:
    out: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        out[r[key]][r["what"]] += int(r["n"])
    return out


def polarity_cells(cells: list[str]) -> tuple[int, Counter]:
    """A page's cells: findings, weakness, mixed, strength, neutral, recommendations."""
    return num(cells[0]), Counter({k: num(v) for k, v in zip(COLUMNS, cells[1:6], strict=True) if num(v)})


def doc_year(fact: dict) -> int:
    return int((fact["start_date"] or fact["published"] or fact["report_date"])[:4])


# ---------------------------------------------------------------------------- the network

def test_pages_network_renders_filters_hover_and_click(browser, server, seed_store):
    graph = graph_json(seed_store)
    nodes = {n["id"]: n for n in graph["nodes"]}
    page = open_page(browser, server.url + "/network")
    page.wait_for_selector("body[data-rendered]")
    assert page.locator("g.node").count() == len(nodes) == 39  # the seeds carry 39 of the 42 themes as tagged (not parental-risk, young-carers, nor criminal-exploitation, which one seed names only in a list of topics of work in development)
    assert page.locator("line.edge").count() == len(graph["links"])
    t = nodes["thresholds"]
    page.hover('g.node[data-id="thresholds"]')
    assert f"{t['label']}\n{t['findings']} findings · {t['authorities']} authorities" in page.locator("#tooltip").inner_text()
    page.click('g.node[data-id="thresholds"]')
    assert page.locator("#panel h2").inner_text() == t["label"]
    assert page.locator("#panel article.passage").count() == min(5, t["findings"])
    link = page.locator("#panel a.theme-link")
    assert link.get_attribute("href") == "/theme/thresholds"
    shot(page, "pages-network")
    link.click()
    page.wait_for_url("**/theme/thresholds")
    assert page.locator("h1").inner_text() == "Theme: Thresholds"
    assert page.errors == []
    page.close()

    # the filter form: its values go into the URL and are bound as RDF terms by the server
    page = open_page(browser, server.url + "/network")
    page.select_option("select[name=polarity]", "weakness")
    page.fill("input[name=min_weight]", "2")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/network?*polarity=weakness*")
    page.wait_for_selector("body[data-rendered]")
    weak = graph_json(seed_store, "-p", "weakness", "-m", "2")
    assert page.locator("g.node").count() == len(weak["nodes"]) < len(nodes)
    assert page.locator("line.edge").count() == len(weak["links"])
    assert page.locator("select[name=polarity]").input_value() == "weakness"
    assert page.errors == []
    page.close()


def test_pages_network_filters_are_checked(browser, server):
    page = open_page(browser, server.url + "/network?min_weight=0&kind=sif", console_errors=False)
    assert page.status == 400
    assert page.locator("p.error").inner_text() == "min_weight: '0' is not a number of at least 1"
    assert page.locator("select[name=kind]").input_value() == "sif"  # the form keeps what was asked
    page.close()
    status, _, body = get(server, "/network", {"kind": "no-such-kind"})
    assert status == 400 and b"is not a kind id" in body
    status, _, body = get(server, "/network", {"authority": "Atlantis"})
    assert status == 400 and b"Atlantis" in body
    status, _, body = get(server, "/network", {"region": "Nowhere"})
    assert status == 400 and "no region 'Nowhere'" in html.unescape(body.decode())
    status, _, body = get(server, "/network", [("kind", "sif"), ("kind", "focused-visit"), ("from", "2016")])
    assert status == 200 and b'id="graph-data"' in body


# ---------------------------------------------------------------------------- a theme

def test_pages_theme_numbers_equal_the_store_and_the_seed_facts(browser, server, seed_store, seed_facts):
    theme = {"theme": theme_iri("cse")}
    page = open_page(browser, server.url + "/theme/cse")
    assert page.locator("h1").inner_text() == "Theme: Child sexual exploitation"
    # authorities: every count against the store
    expected = counts_by(bound_rows(seed_store, PASSAGE_COUNTS, theme), "code")
    evaluations = {r["code"]: int(r["n"]) for r in bound_rows(seed_store, THEME_EVALUATIONS, theme)}
    rows = table(page, "#authorities table")
    assert len(rows) == len(expected) == 3
    seen = set()
    for cells in rows:
        code = cells[0].rsplit(" ", 1)[1]
        findings, counts = polarity_cells(cells[2:8])
        assert counts == +expected[code], code
        assert findings == sum(counts[p] for p in COLUMNS[:4])
        assert num(cells[8]) == evaluations[code]
        seen.add(code)
    # the seeds' authorities, read by hand: all three have passages on child sexual exploitation
    assert seen == {str(f["la_code"]) for f in seed_facts.values()}
    totals = sum(expected.values(), Counter())
    summary = page.locator("p.numbers").first.inner_text()
    assert summary.startswith(f"{sum(totals[p] for p in COLUMNS[:4])} findings ({totals['weakness']} weakness, "
                              f"{totals['mixed']} mixed, {totals['strength']} strength, {totals['neutral']} neutral) "
                              f"and {totals['recommendation']} recommendations")

    # trend by year: the evaluations of each year from the seed facts, the passages from the store
    trend = {int(cells[0]): cells for cells in table(page, "#trend table")}
    years = Counter(doc_year(f) for f in seed_facts.values())
    assert sorted(trend) == list(range(min(years), max(years) + 1))
    by_year = counts_by(bound_rows(seed_store, BY_YEAR, theme), "year")
    for year, cells in trend.items():
        assert num(cells[1]) == years.get(year, 0), year
        findings, counts = polarity_cells(cells[4:10])
        assert counts == +by_year.get(str(year), Counter()), year
    assert page.locator("#trend svg rect").count() == sum(len(+c) for y, c in by_year.items() if y is not None)
    shot(page, "pages-theme", full_page=True)
    assert page.errors == []
    page.close()


def test_pages_theme_passages_with_their_source(browser, server, seed_store):
    theme = {"theme": theme_iri("cse")}
    texts = bound_rows(seed_store, TEXTS, theme)
    reading_weak = sorted(r["text"] for r in texts if r["code"] == "870" and r["pid"] == "weakness")
    assert reading_weak
    page = open_page(browser, server.url + "/theme/cse")
    page.select_option("#passages select[name=authority]", "870")
    page.select_option("#passages select[name=polarity]", "weakness")
    page.click("#passages button[type=submit]")
    page.wait_for_url("**/theme/cse?authority=870&polarity=weakness#passages")
    articles = page.locator("#passages article.passage")
    assert sorted(articles.locator("p.text").all_inner_texts()) == reading_weak
    n = len(reading_weak)
    assert page.locator("#passage-count").inner_text().startswith(f"{n} passage{'' if n == 1 else 's'}; 1–{n} shown")
    matched = defaultdict(set)
    for r in bound_rows(seed_store, MATCHED, theme):
        matched[r["p"]].add(r["m"].casefold())
    for i in range(articles.count()):
        article = articles.nth(i)
        marks = article.locator("mark").all_inner_texts()
        assert marks and {m.casefold() for m in marks} <= matched[article.get_attribute("data-passage")]
        source = article.locator("p.source").inner_text()
        assert re.match(r"^000_4fd3cb4d566c6112\.txt, paragraph \d+ · Reading · 2016-05-23 · Single inspection "
                        r"framework inspection · weakness$", source), source
    href = articles.first.locator("p.source a").first.get_attribute("href")
    seed = SEEDS / "000_4fd3cb4d566c6112.txt"
    assert href == "/source/" + hashlib.sha256(seed.read_bytes()).hexdigest()[:16]
    status, _, body = fetch(server.url + href)
    assert status == 200 and body == seed.read_bytes()
    assert page.errors == []
    page.close()

    # paging: the most common theme runs over several pages, each passage once
    everything = {r["p"] for r in bound_rows(seed_store, TEXTS, {"theme": theme_iri("multi-agency")})}
    assert len(everything) > 100
    shown = []
    for n in (1, 2, 3):
        status, _, body = get(server, "/theme/multi-agency", {"page": n})
        assert status == 200
        shown += re.findall(r'data-passage="([^"]+)"', body.decode())
    assert sorted(shown) == sorted(everything)


# ---------------------------------------------------------------------------- an authority

def test_pages_authority_reading(browser, server, seed_store, seed_facts):
    reading = {name: f for name, f in seed_facts.items() if f["la_code"] == 870}
    labels = {r["id"]: r["label"] for r in store_rows(seed_store, """
        SELECT ?id ?label WHERE { ?c skos:notation ?id ; skos:prefLabel ?label ;
                                     skos:inScheme ?s . FILTER(STRENDS(STR(?s), "/scheme")) }""")}
    page = open_page(browser, server.url + "/authority/Reading")  # a name: redirected to the code
    assert page.url == server.url + "/authority/870"
    assert page.locator("h1").inner_text() == "Reading (870)"
    history = table(page, "#judgements table")
    assert len(history) == len(reading) == 3
    sif = reading["000_4fd3cb4d566c6112.txt"]
    row = next(cells for cells in history if cells[0] == sif["start_date"])
    grades = page.locator("#judgements tbody tr").nth(history.index(row)).locator(".grade").all_inner_texts()
    assert sorted(grades) == sorted(f"{labels[j['area']]}: {labels[j['grade']]}" for j in sif["judgements"])
    assert "Overall judgement: Inadequate" in grades
    assert row[3] == "000_4fd3cb4d566c6112.txt"
    assert page.locator("#judgements figure svg").count() == 1
    # themes: every count against the store
    themes = counts_by(bound_rows(seed_store, AUTHORITY_THEMES, {"who": authority_iri("870")}), "theme")
    shown = {}
    for i, cells in enumerate(table(page, "#themes table")):
        href = page.locator("#themes tbody tr").nth(i).locator("a").first.get_attribute("href")
        shown[href.removeprefix("/theme/")] = polarity_cells(cells[1:7])[1]
    assert shown == {t: +c for t, c in themes.items()}
    # recommendations: as many as read by hand from Reading's reports, with the store's texts
    recs = store_rows(seed_store, f"""SELECT ?text WHERE {{ GRAPH {CATALOGUE} {{ ?d a ofk:Document }}
        ?r a ofk:Recommendation ; ofk:text ?text ; ofk:evaluation ?e . ?e ofk:source ?d ;
        ofk:authority <https://w3id.org/ofsted-kg/id/authority/870> }}""")
    texts = page.locator("#recommendations article.passage p.text").all_inner_texts()
    assert len(texts) == sum(f["recommendations"] + f["board_recommendations"] + f.get("improvements", 0)
                             for f in reading.values()) == 27
    assert sorted(texts) == sorted(r["text"] for r in recs)
    shot(page, "pages-authority", full_page=True)
    assert page.errors == []
    page.close()
    status, _, _ = get(server, "/authority/9999")
    assert status == 404


# ---------------------------------------------------------------------------- the editor

def test_pages_editor_runs_named_and_edited_queries(browser, server, seed_store):
    page = open_page(browser, server.url + "/sparql-editor#recurring-themes", console_errors=False)
    page.wait_for_selector("body[data-rendered]")
    assert page.locator("#query-name option:not([value=''])").evaluate_all("os => os.map(o => o.value)") == \
        sorted(named_queries())
    assert page.locator("#query-text").input_value() == named_queries()["recurring-themes"].text
    page.fill('input[data-param="min_authorities"]', "3")
    page.click("#run")
    page.wait_for_selector("table.results")
    result = CliRunner().invoke(cli, ["query", "recurring-themes", "-p", "min_authorities", "3", "-S", str(seed_store),
                                      "-f", "json"])
    expected = [[b[v]["value"] for v in json.loads(result.stdout)["head"]["vars"]]
                for b in json.loads(result.stdout)["results"]["bindings"]]
    assert table(page, "table.results") == expected and expected
    assert page.locator("#status").inner_text().startswith(f"{len(expected)} rows")
    shot(page, "pages-editor")
    assert any("/queries/recurring-themes?min_authorities=3" in u for u in browser.requests)

    # an edited query runs at /sparql as written; IRIs of this server's pages become links
    page.fill("#query-text", "PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>\n"
                             "SELECT ?a (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e ofk:authority ?a } GROUP BY ?a ORDER BY ?a")
    assert page.locator('input[data-param="min_authorities"]').is_disabled()
    page.click("#run")
    expect(page.locator("#status")).to_contain_text("rows")
    rows = table(page, "table.results")
    assert rows == [[r["a"], r["n"]] for r in store_rows(
        seed_store, "SELECT ?a (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e ofk:authority ?a } GROUP BY ?a ORDER BY ?a")]
    assert page.locator("table.results a").evaluate_all("as => as.map(a => a.getAttribute('href'))") == \
        ["/authority/803", "/authority/825", "/authority/870"]
    page.fill("#query-text", "SELECT * WHERE { ?s ?p }")
    page.click("#run")
    page.wait_for_selector("#status.error")
    assert page.locator("#status").inner_text().startswith("HTTP 400: query: not valid SPARQL")
    page.fill("#query-text", "DROP ALL")
    page.click("#run")
    expect(page.locator("#status")).to_have_text(re.compile(r"^HTTP 403: this endpoint is read-only"))
    assert page.errors == []
    page.close()


# ---------------------------------------------------------------------------- untrusted text

def test_pages_show_markup_as_text(browser, hostile_server):
    url = hostile_server.url
    page = open_page(browser, url + "/theme/case-recording")
    texts = page.locator("#passages p.text").all_inner_texts()
    assert "Managers do not check <script>window.__pwned = 1</script> case records, so plans drift." in texts
    sources = page.locator("#passages p.source").all_inner_texts()
    assert any(s.startswith("hostile<script>window.__pwned=3</script>.txt, page 2, paragraph 7 · "
                            'Hostile <img src=x onerror="window.__pwned=4"> (fictional) · 2021-03-01') for s in sources)
    names = [cells[0] for cells in table(page, "#authorities table")]
    assert 'Hostile <img src=x onerror="window.__pwned=4"> (fictional) 999' in names
    assert page.locator("script, img, b").count() == 0
    shot(page, "pages-theme-hostile", full_page=True)
    page.close()
    page = open_page(browser, url + "/theme/assessment")
    assert page.locator("#passages p.text").all_inner_texts() == [
        'Assessments ]]></script><img src=x onerror="window.__pwned=2"> are thorough and happen without delay.']
    assert page.locator("script, img").count() == 0
    page.close()
    page = open_page(browser, url + "/authority/999")
    assert page.locator("h1").inner_text() == 'Hostile <img src=x onerror="window.__pwned=4"> (fictional) (999)'
    assert table(page, "#judgements table")[0][3] == "hostile<script>window.__pwned=3</script>.txt"
    assert page.locator("img").count() == 0 and page.evaluate("window.__pwned === undefined")
    page.close()
    page = open_page(browser, url + "/authorities")
    assert 'Hostile <img src=x onerror="window.__pwned=4"> (fictional)' in page.locator("table.data").inner_text()
    page.close()
    page = open_page(browser, url + "/network?min_weight=1")
    page.wait_for_selector("body[data-rendered]")
    page.click('g.node[data-id="case-recording"]')
    assert "Managers do not check <script>window.__pwned = 1</script> case records, so plans drift." in \
        page.locator("#panel article.passage p.text").all_inner_texts()
    page.close()
    page = open_page(browser, url + "/sparql-editor")
    page.select_option("#query-name", "")
    page.fill("#query-text", "PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>\nSELECT ?t WHERE { ?f ofk:text ?t } ORDER BY ?t")
    page.click("#run")
    page.wait_for_selector("table.results")
    assert "Managers do not check <script>window.__pwned = 1</script> case records, so plans drift." in \
        page.locator("table.results td").all_inner_texts()
    assert page.locator("#results img, #results script").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    assert page.errors == []
    page.close()
    # these documents were never ingested from a file: there is no source to serve
    status, _, body = get(hostile_server, "/source/ffffffffffffff01")
    assert status == 404 and b"no committed document" in body


# ---------------------------------------------------------------------------- source files, parameters, headers

def test_pages_serve_only_the_ingested_source_file(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    report = folder / "002_06bdabc3c54811b2.txt"
    shutil.copy(SEEDS / report.name, report)
    store = tmp_path / "kg"
    result = CliRunner().invoke(cli, ["ingest", "--silent", "--store", str(store), str(report)])
    assert result.exit_code == 0, result.output
    srv = Server(store, "--workers", "1")
    try:
        check_source(srv, report)
    finally:
        srv.stop()


def check_source(srv: Server, report: Path) -> None:
    doc = hashlib.sha256(report.read_bytes()).hexdigest()[:16]
    status, headers, body = get(srv, f"/source/{doc}")
    assert status == 200 and body == report.read_bytes()
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff" and "sandbox" in headers["content-security-policy"]
    report.write_bytes(report.read_bytes() + b"\nchanged after ingest\n")
    status, _, body = get(srv, f"/source/{doc}")
    assert status == 404 and b"only the file as ingested is served" in body
    report.unlink()
    report.symlink_to("/etc/passwd")
    status, _, body = get(srv, f"/source/{doc}")
    assert status == 404 and b"root:" not in body
    for path in ("/source/0000000000000000", "/source/../../etc/passwd", "/source/%2e%2e%2fetc%2fpasswd",
                 "/source/" + doc + "/x"):
        status, _, body = get(srv, path)
        assert status == 404 and b"root:" not in body, path


def test_pages_parameters_and_headers(server):
    status, _, body = get(server, "/theme/cse", {"bogus": "1"})
    assert status == 400 and body == b"/theme/cse: no parameter 'bogus' (its parameters: authority, polarity, page)\n"
    status, _, body = get(server, "/theme/cse", [("page", "2"), ("page", "3")])
    assert status == 400 and b"given 2 times" in body
    status, _, body = get(server, "/theme/cse", {"polarity": "awful"})
    assert status == 400 and b"'awful' is not a polarity id" in body
    status, _, body = get(server, "/theme/no-such-theme")
    assert status == 404 and b"No theme" in body
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=30)
    connection.request("GET", "/authority/Reading")
    answer = connection.getresponse()
    assert answer.status == 302 and answer.getheader("Location") == "/authority/870"
    connection.close()
    for path in ("/network", "/themes", "/theme/cse", "/authorities", "/authority/870", "/sparql-editor"):
        status, headers, body = get(server, path)
        assert status == 200 and headers["content-type"] == "text/html; charset=utf-8", path
        policy = headers["content-security-policy"]
        assert policy.startswith("default-src 'none'; script-src ") and "frame-ancestors 'none'" in policy, path
        assert ("connect-src 'self'" if path == "/sparql-editor" else "connect-src 'none'") in policy, path
        assert headers["x-content-type-options"] == "nosniff"
        assert not re.search(rb"<(script|link|img)[^>]+(src|href)=", body), path  # nothing loaded from anywhere
    status, _, body = get(server, "/", Accept="text/html")
    assert status == 200 and all(f'href="{p}"'.encode() in body for p in ("/network", "/themes", "/authorities",
                                                                          "/sparql-editor"))


def test_pages_marked_escapes_text_and_words():
    assert marked("Plans <b>drift</b> & DRIFT", ["drift", "<b>"]) == \
        "Plans <mark>&lt;b&gt;</mark><mark>drift</mark>&lt;/b&gt; &amp; <mark>DRIFT</mark>"
    assert marked("a (b) c", ["(b)", ""]) == "a <mark>(b)</mark> c"
