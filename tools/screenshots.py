"""Make the README's pictures from the bundled fictional sample: the charts and the pages of `ofsted-kg serve`.

Usage: python tools/screenshots.py [--out docs] [--store STORE]

Runs `ofsted-kg demo` into a temporary folder (unless --store names a store to use), writes
the charts with the ofsted-kg commands, starts `ofsted-kg serve` on a free port of 127.0.0.1
over the same store, opens the pages in Debian's headless Chromium (/usr/bin/chromium
through Playwright's Python package; nothing is downloaded) and saves:
  docs/network.png         the interactive network with a theme and a pair clicked
  docs/network-static.png  `ofsted-kg graph -f png`
  docs/heatmap.png         the authority x theme page
  docs/timeline.png        `ofsted-kg plot-timeline Northmoor -f png`
  docs/page-network.png    serve's /network, a theme clicked
  docs/page-theme.png      serve's /theme/ID (--theme)
  docs/page-authority.png  serve's /authority/Northmoor
  docs/page-editor.png     serve's /sparql-editor, recurring-themes run
Only the sample is used: its reports and authorities are invented, so the pictures hold no
report text.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ofsted_kg(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "ofsted_kg.cli", *args], check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def serve(store: Path, cwd: Path) -> tuple[subprocess.Popen, str]:
    """`ofsted-kg serve` on a free port of 127.0.0.1 over the store; its process and address once it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "ofsted_kg.cli", "serve", "-S", str(store), "-p", "0"], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        found = re.match(r"SPARQL endpoint: (http://127\.0\.0\.1:\d+)/sparql", line)
        if found:
            threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep its stderr from filling up
            return proc, found.group(1)
    proc.wait()
    raise SystemExit("ofsted-kg serve did not start:\n" + "".join(lines))


def served_pages(context, url: str, out: Path, theme: str) -> None:
    page = context.new_page()
    page.goto(url + "/network?min_weight=2")
    page.wait_for_selector("body[data-rendered]")
    page.click(f'g.node[data-id="{theme}"]')
    page.screenshot(path=str(out / "page-network.png"))
    page.goto(url + f"/theme/{theme}")
    page.screenshot(path=str(out / "page-theme.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(url + "/authority/Northmoor")
    page.screenshot(path=str(out / "page-authority.png"))
    page.set_viewport_size({"width": 1400, "height": 860})
    page.goto(url + "/sparql-editor#recurring-themes")
    page.wait_for_selector("body[data-rendered]")
    page.click("#run")
    page.wait_for_selector("table.results")
    page.screenshot(path=str(out / "page-editor.png"))
    page.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs [default: docs/]")
    ap.add_argument("--store", type=Path, default=None, help="use this store instead of a fresh demo store")
    ap.add_argument("--theme", default="drift-delay",
                    help="the theme to click in the network, and to show served [default: drift-delay]")
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="ofsted-kg-screenshots-"))
    store = args.store.resolve() if args.store else work / "ofsted-kg-demo-store"
    if args.store is None:
        ofsted_kg("demo", "--silent", "--store", str(store), cwd=work)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    title = ["-t", "Themes found together on the same finding (fictional sample)"]
    ofsted_kg("graph", "-S", str(store), "-m", "2", *title, "-o", str(work / "network.html"), cwd=work)
    ofsted_kg("graph", "-S", str(store), "-m", "2", *title, "-o", str(out / "network-static.png"), cwd=work)
    ofsted_kg("plot-heatmap", "-S", str(store), "-t", "Themes by authority (fictional sample)",
              "-o", str(work / "heatmap.html"), cwd=work)
    ofsted_kg("plot-timeline", "Northmoor", "-S", str(store), "-o", str(out / "timeline.png"), cwd=work)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(work / "chromium-profile"), executable_path="/usr/bin/chromium", args=ARGS, headless=True,
            viewport={"width": 1400, "height": 860})
        context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
        page = context.new_page()
        page.goto((work / "network.html").as_uri())
        page.wait_for_selector("body[data-rendered]")
        page.hover(f'g.node[data-id="{args.theme}"]')
        page.click(f'g.node[data-id="{args.theme}"]')
        page.locator("ol.partners li button").first.click()
        page.hover(f'g.node[data-id="{args.theme}"]')
        page.screenshot(path=str(out / "network.png"))
        page = context.new_page()
        page.set_viewport_size({"width": 1100, "height": 760})
        page.goto((work / "heatmap.html").as_uri())
        page.screenshot(path=str(out / "heatmap.png"))
        server, url = serve(store, work)
        try:
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith((url + "/", "file://"))
                          else r.abort())
            served_pages(context, url, out, args.theme)
        finally:
            server.terminate()
            server.wait(30)
        context.close()
    for name in ("network.png", "network-static.png", "heatmap.png", "timeline.png", "page-network.png",
                 "page-theme.png", "page-authority.png", "page-editor.png"):
        print(f"wrote {out / name} ({(out / name).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
