"""Time the whole-corpus theme network: generating its HTML page, and opening it in headless Chromium until drawn.

Usage: python bench/graph.py --store STORE [--repeat 3] [--out FOLDER]

1. `ofsted-kg graph -S STORE -o network.html` run as a command (Python start-up and imports
   included, as an analyst would run it), --repeat times: median, best and worst wall-clock
   seconds, and the command's CPU seconds (on a busy machine the wall clock waits for a core;
   the load average is printed before and after); then the same steps in this process, timed one by one (the chart queries, counting
   and the graph with its communities and layout, the sample passages, the page).
2. The page opened in Debian's headless Chromium (/usr/bin/chromium through Playwright) from
   page.goto until network.js has drawn every node (body[data-rendered]), --repeat times in
   fresh pages of one browser: median, best and worst; the browser's start is timed apart.
Also the same two figures for `plot-heatmap` (HTML), and the page sizes. Goal: under 5 s each.
The store is only read.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def spread(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s (best {min(times):.2f}, worst {max(times):.2f}, n={len(times)})"


def run_command(args: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of each run of the command."""
    times, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ofsted_kg.cli", *args], check=True, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return times, cpu


def stages(store_path: Path) -> dict[str, float]:
    from ofsted_kg.extract.html import network_page
    from ofsted_kg.extract.network import Filters, build_graph, sample_passages, select
    from ofsted_kg.extract.store import Store

    out, start = {}, time.perf_counter()
    store = Store(store_path, read_only=True)
    selection = select(store, Filters())
    out["chart queries (select)"], start = time.perf_counter() - start, time.perf_counter()
    G = build_graph(selection)
    out["counts, graph, communities, layout"], start = time.perf_counter() - start, time.perf_counter()
    found = sample_passages(store, selection, G, 5, 3, 10)
    out["sample passages"], start = time.perf_counter() - start, time.perf_counter()
    network_page(G, *found, 10, "bench")
    out["page"] = time.perf_counter() - start
    out["(graph: themes, pairs, findings)"] = f"{len(G)}, {G.number_of_edges()}, {G.graph['findings_total']}"
    return out


def open_in_browser(pages: list[Path], repeat: int, selector: dict[Path, str]) -> tuple[float, dict[Path, list[float]]]:
    from playwright.sync_api import sync_playwright

    times: dict[Path, list[float]] = {p: [] for p in pages}
    with sync_playwright() as pw:
        start = time.perf_counter()
        context = pw.chromium.launch_persistent_context(tempfile.mkdtemp(prefix="ofsted-kg-chromium-"),
                                                        executable_path="/usr/bin/chromium", args=ARGS, headless=True,
                                                        viewport={"width": 1400, "height": 900})
        launch = time.perf_counter() - start
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
        for _ in range(repeat):
            for path in pages:
                page = context.new_page()
                start = time.perf_counter()
                page.goto(path.as_uri())
                page.wait_for_selector(selector[path], state="attached")
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # painted
                times[path].append(time.perf_counter() - start)
                page.close()
        context.close()
    return launch, times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="a store holding the corpus (only read)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="keep the pages in this folder [default: a temporary one]")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="ofsted-kg-bench-graph-"))
    out.mkdir(parents=True, exist_ok=True)
    network, heatmap = out / "network.html", out / "heatmap.html"

    print(f"store: {args.store}")
    print(f"load average (1, 5, 15 min) on {os.cpu_count()} cores:\t{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    gen, gen_cpu = run_command(["graph", "-S", str(args.store), "-o", str(network)], args.repeat)
    print(f"generate network.html (command):\t{spread(gen)}; CPU {spread(gen_cpu)}")
    for name, value in stages(args.store).items():
        print(f"  {name}:\t{value if isinstance(value, str) else f'{value:.2f} s'}")
    heat, heat_cpu = run_command(["plot-heatmap", "-S", str(args.store), "-o", str(heatmap)], args.repeat)
    print(f"generate heatmap.html (command):\t{spread(heat)}; CPU {spread(heat_cpu)}")
    print(f"page sizes:\tnetwork.html {network.stat().st_size / 1e6:.2f} MB, heatmap.html {heatmap.stat().st_size / 1e6:.2f} MB")
    launch, opened = open_in_browser([network, heatmap], args.repeat,
                                     {network: "body[data-rendered]", heatmap: "table.heatmap tbody tr:last-child"})
    print(f"chromium start (once):\t{launch:.2f} s")
    print(f"open network.html until drawn:\t{spread(opened[network])}")
    print(f"open heatmap.html until drawn:\t{spread(opened[heatmap])}")
    worst = max(statistics.median(gen), statistics.median(opened[network]), statistics.median(heat),
                statistics.median(opened[heatmap]))
    print(f"goal (each under 5 s):\t{'met' if worst < 5 else 'NOT met'} (slowest median {worst:.2f} s)")
    print(f"load average (1, 5, 15 min) at the end:\t{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
