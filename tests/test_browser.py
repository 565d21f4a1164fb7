"""The HTML charts in headless Chromium (Debian's /usr/bin/chromium driven by Playwright's Python package).

The tests fail, never skip, when the browser or Playwright is missing: .ci/run installs both.
A screenshot of each page goes to tests/artifacts/ (git-ignored) for a reviewer to look at.
"""

import json
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsted_kg.cli import cli

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LOCAL = re.compile(r"^(file://|about:blank$|data:|https?://127\.0\.0\.1[:/])")


@contextmanager
def recording_chromium(profile: Path, local: re.Pattern):
    """A fresh Chromium (own user data dir `profile`) that records every request any page
    makes in `context.requests` and lets through only the URLs `local` matches."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright's Python package is missing: pip install -e '.[test]' (see .ci/run)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install --no-install-recommends chromium (see .ci/run)")
    requests: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=ARGS, headless=True, viewport={"width": 1400, "height": 900})

        def route(r):
            requests.append(r.request.url)
            if local.match(r.request.url):
                r.continue_()
            else:
                r.abort()

        context.route("**/*", route)
        context.on("request", lambda req: requests.append(req.url))
        context.requests = requests
        yield context
        context.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A fresh Chromium that records every request any page makes."""
    with recording_chromium(tmp_path_factory.mktemp("chromium-profile"), LOCAL) as context:
        yield context


def open_page(browser, path: Path):
    page = browser.new_page()
    page.errors = []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.goto(path.as_uri())
    return page


def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)


def make(args: list[str], out: Path) -> Path:
    result = CliRunner().invoke(cli, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def seed_pages(seed_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    html = make(["graph", "-S", str(seed_store)], folder / "seeds.html")
    graph = json.loads(make(["graph", "-S", str(seed_store), "-f", "json"], folder / "seeds.json").read_text())
    return html, graph


def test_browser_network_renders_hover_and_click(browser, seed_pages, tmp_path):
    html, graph = seed_pages
    nodes = {n["id"]: n for n in graph["nodes"]}
    page = open_page(browser, html)
    page.wait_for_selector("body[data-rendered]")
    assert page.locator("g.node").count() == len(nodes) == 39  # the seeds carry 39 of the 42 themes as tagged (not parental-risk, young-carers, nor criminal-exploitation, which one seed names only in a list of topics of work in development)
    assert page.locator("line.edge").count() == len(graph["links"])
    assert sorted(page.locator("g.node").evaluate_all("els => els.map(e => e.dataset.id)")) == sorted(nodes)

    t = nodes["thresholds"]
    page.hover('g.node[data-id="thresholds"]')
    tip = page.locator("#tooltip")
    assert tip.is_visible()
    assert f"{t['label']}\n{t['findings']} findings · {t['authorities']} authorities" in tip.inner_text()

    page.click('g.node[data-id="thresholds"]')
    panel = page.locator("#panel")
    assert panel.locator("h2").inner_text() == t["label"]
    links = [(e["target"] if e["source"] == "thresholds" else e["source"], e) for e in graph["links"]
             if "thresholds" in (e["source"], e["target"])]
    strongest = sorted(links, key=lambda kv: (-kv[1]["weight"], -kv[1]["count"]))[:10]
    shown = panel.locator("ol.partners li button").all_inner_texts()
    assert shown == [nodes[other]["label"] for other, _ in strongest]
    passages = panel.locator(":scope > article.passage")
    assert passages.count() == min(5, t["findings"])
    for source in passages.locator(".source").all_inner_texts():
        assert re.match(r"^\d{3}_[0-9a-f]{16}\.txt, paragraph \S+ · ", source), source

    other, link = strongest[0]
    panel.locator("ol.partners li button").first.click()
    pair = panel.locator("section.pair")
    assert f"{link['count']} findings carry both" in pair.inner_text()
    assert pair.locator("article.passage").count() == min(3, link["count"])
    shot(page, tmp_path, "network-seeds")
    assert page.errors == []
    assert browser.requests and all(LOCAL.match(u) for u in browser.requests), browser.requests
    page.close()


def test_browser_network_shows_markup_as_text(browser, hostile_store, tmp_path):
    html = make(["graph", "-S", str(hostile_store), "-m", "1"], tmp_path / "hostile.html")
    page = open_page(browser, html)
    page.wait_for_selector("body[data-rendered]")
    assert page.locator("g.node").count() == 6
    page.click('g.node[data-id="case-recording"]')
    partners = page.locator("#panel ol.partners li").all_inner_texts()
    assert partners == ["Management oversight 2 together · lift 3.00 · PMI 1.58",  # 2 * 6 / (2 * 2)
                        "Drift and delay 1 together · lift 1.50 · PMI 0.58"]  # 1 * 6 / (2 * 2)
    texts = page.locator("#panel article.passage p.text").all_inner_texts()
    assert "Managers do not check <script>window.__pwned = 1</script> case records, so plans drift." in texts
    sources = page.locator("#panel article.passage p.source").all_inner_texts()
    assert any(s.startswith("hostile<script>window.__pwned=3</script>.txt, page 2, paragraph 7 · Hostile <img src=x")
               for s in sources), sources
    page.click('g.node[data-id="assessment"]')
    texts = page.locator("#panel article.passage p.text").all_inner_texts()
    assert texts == ['Assessments ]]></script><img src=x onerror="window.__pwned=2"> are thorough and happen without delay.']
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("img, b, #panel script").count() == 0
    shot(page, tmp_path, "network-hostile")
    assert page.errors == []
    assert all(LOCAL.match(u) for u in browser.requests), browser.requests
    page.close()


def test_browser_heatmap_and_timeline(browser, seed_store, hostile_store, tmp_path):
    heat = make(["plot-heatmap", "-S", str(seed_store)], tmp_path / "heatmap.html")
    page = open_page(browser, heat)
    assert page.locator("table.heatmap tbody th[scope=row]").count() == 3
    assert page.locator("table.heatmap thead th[scope=col]").count() == 39  # the seeds carry 39 themes as tagged (see test_browser_network_renders_hover_and_click)
    shot(page, tmp_path, "heatmap-seeds")
    assert page.errors == []
    page.close()
    hostile = make(["plot-heatmap", "-S", str(hostile_store)], tmp_path / "heatmap-hostile.html")
    page = open_page(browser, hostile)
    rows = page.locator("table.heatmap tbody th[scope=row]").all_inner_texts()
    assert rows == ["Westerley (fictional) (998)", 'Hostile <img src=x onerror="window.__pwned=4"> (fictional) (999)']
    assert page.evaluate("window.__pwned === undefined") and page.locator("img").count() == 0
    page.close()
    timeline = make(["plot-timeline", "Reading", "-S", str(seed_store)], tmp_path / "timeline.html")
    page = open_page(browser, timeline)
    assert page.locator("table.timeline tbody tr").count() == 3
    assert page.locator("figure svg").count() == 1
    shot(page, tmp_path, "timeline-reading")
    assert page.errors == []
    page.close()
    assert all(LOCAL.match(u) for u in browser.requests), browser.requests
