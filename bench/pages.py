"""Time ofsted-kg serve's pages over a whole-corpus store: each page made by the server and opened in headless Chromium.

Usage: python bench/pages.py --store STORE [--repeat 3] [--theme ID] [--authority CODE] [--shots FOLDER]

Starts `ofsted-kg serve -S STORE -p 0` (the store is only read), waits until it has loaded,
then opens each page in Debian's headless Chromium (/usr/bin/chromium through Playwright)
and times it from page.goto until the page is drawn (its last element is in the page and two
animation frames have passed; for the network, until network.js has drawn every node; for
the editor, until a named query has run and its rows are shown):

  /network                  the whole-corpus theme network
  /themes, /authorities     the lists
  /theme/ID                 the theme with the most passages unless --theme (all its counts, 50 passages)
  /theme/ID?authority=CODE  the same, its passages narrowed to one authority
  /authority/CODE           the authority with the most evaluations unless --authority
  /sparql-editor            open, run recurring-themes, rows shown

The first opening of each page is timed apart: the server makes the page then (the
network page is then kept by the worker that made it, so later openings of the same
network are faster). Then --repeat more openings: median, best and worst. Goal: under 5 s
each, first openings included.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def start_server(store: Path) -> tuple[subprocess.Popen, str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "ofsted_kg.cli", "serve", "-S", str(store), "-p", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("SPARQL endpoint:"):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(300) or proc.poll() is not None:
        proc.kill()
        raise SystemExit("the server did not start:\n" + "".join(lines))
    url = re.search(r"SPARQL endpoint: (http://\S+)/sparql", "".join(lines)).group(1)
    loaded = next((line.strip() for line in lines if line.startswith("Serving ")), "")
    return proc, url, loaded


def sparql(url: str, query: str) -> list[dict]:
    request = urllib.request.Request(url + "/sparql?" + urllib.parse.urlencode({"query": query}),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        data = json.load(response)
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


BUSIEST_THEME = """PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>
SELECT ?theme (COUNT(?p) AS ?n) WHERE { ?p ofk:theme ?theme } GROUP BY ?theme ORDER BY DESC(?n) LIMIT 1"""
BUSIEST_AUTHORITY = """PREFIX ofk: <https://w3id.org/ofsted-kg/ont#>
SELECT ?code (COUNT(DISTINCT ?e) AS ?n) WHERE {
  GRAPH <https://w3id.org/ofsted-kg/id/graph/catalogue> { ?d a ofk:Document }
  ?e ofk:source ?d ; ofk:authority/ofk:laCode ?code } GROUP BY ?code ORDER BY DESC(?n) ?code LIMIT 1"""


def spread(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s (best {min(times):.2f}, worst {max(times):.2f}, n={len(times)})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="a store holding the corpus (only read)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--theme", default=None, help="the theme page to time [default: the theme with most passages]")
    ap.add_argument("--authority", default=None, help="the authority page to time [default: most evaluations]")
    ap.add_argument("--shots", type=Path, default=None, help="save a screenshot of each page in this folder")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    print(f"store: {args.store}")
    print(f"load average (1, 5, 15 min) on {os.cpu_count()} cores:\t{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    start = time.perf_counter()
    proc, url, loaded = start_server(args.store)
    print(f"server ready:\t{time.perf_counter() - start:.1f} s ({loaded})")
    try:
        theme = args.theme or sparql(url, BUSIEST_THEME)[0]["theme"].rsplit("/", 1)[1]
        authority = args.authority or sparql(url, BUSIEST_AUTHORITY)[0]["code"]
        pages = [("network", "/network", "body[data-rendered]"),
                 ("themes", "/themes", "table.data tbody tr:last-child"),
                 ("authorities", "/authorities", "table.data tbody tr:last-child"),
                 (f"theme {theme}", f"/theme/{theme}", "#passages article.passage:last-of-type"),
                 (f"theme {theme}, one authority", f"/theme/{theme}?authority={authority}#passages",
                  "#passage-count"),
                 (f"authority {authority}", f"/authority/{authority}", "#recommendations"),
                 ("editor: recurring-themes run", "/sparql-editor#recurring-themes", None)]
        first: dict[str, float] = {}
        again: dict[str, list[float]] = {name: [] for name, _, _ in pages}
        sizes: dict[str, int] = {}
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(tempfile.mkdtemp(prefix="ofsted-kg-chromium-"),
                                                            executable_path="/usr/bin/chromium", args=ARGS,
                                                            headless=True, viewport={"width": 1400, "height": 900})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
            for round_ in range(args.repeat + 1):
                for name, path, selector in pages:
                    page = context.new_page()
                    t0 = time.perf_counter()
                    response = page.goto(url + path)
                    if response.status != 200:
                        raise SystemExit(f"{path}: HTTP {response.status}")
                    if selector is None:  # the editor: run the query it opened with
                        page.wait_for_selector("body[data-rendered]")
                        page.click("#run")
                        page.wait_for_selector("table.results tbody tr", state="attached")
                    else:
                        page.wait_for_selector(selector, state="attached")
                    page.evaluate(PAINTED)
                    elapsed = time.perf_counter() - t0
                    if round_ == 0:
                        first[name] = elapsed
                        sizes[name] = len(response.body())
                        if args.shots:
                            args.shots.mkdir(parents=True, exist_ok=True)
                            page.screenshot(path=str(args.shots / f"{re.sub(r'[^a-z0-9]+', '-', name)}.png"))
                    else:
                        again[name].append(elapsed)
                    page.close()
            context.close()
    finally:
        proc.terminate()
        proc.wait(30)
    print("page\tfirst opening\tagain\tsize")
    for name, _, _ in pages:
        print(f"{name}:\t{first[name]:.2f} s\t{spread(again[name]) if again[name] else '-'}\t"
              f"{sizes[name] / 1e6:.2f} MB")
    worst = max(first.values())
    print(f"goal (each under 5 s, first openings included):\t{'met' if worst < 5 else 'NOT met'} "
          f"(slowest first opening {worst:.2f} s)")
    print(f"load average (1, 5, 15 min) at the end:\t{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
