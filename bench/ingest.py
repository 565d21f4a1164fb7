"""Time the ingest of the corpus by stage on one core, against the floor of plain PDF text extraction.

Usage: python bench/ingest.py [--shared ../shared] [--limit N] [--jobs 2] [--repeat 3]

Stages: PDF text (pypdfium2), structure (normalise, kind, header, passages), NLP
(themes and polarity), RDF (graph building), SHACL (validation), store (one
bulk load per batch of documents, then their commits, into a fresh on-disk store,
and the compaction at the end, as ingest does). The floor is
pypdfium2's text extraction of the same files with nothing else done. Also prints
documents and pages per second, and the peak resident memory of this process.

Then it runs the real command, `ofsted-kg ingest -j JOBS`, on the same files into a
fresh store and prints its wall-clock time, its ratio to the floor, and the peak
resident memory of the command and its worker processes together. It does so --repeat
times, measuring the floor again before each, and prints the median, best and worst ratio.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--limit", type=int, default=None, help="only the first N files")
    ap.add_argument("--jobs", type=int, default=2, help="then time the real parallel ingest with this many workers (0: skip)")
    ap.add_argument("--repeat", type=int, default=3, help="real ingests to time, each after a fresh floor [default: 3]")
    args = ap.parse_args(argv)

    from ofsted_kg.extract.errors import DocumentError
    from ofsted_kg.extract.graph import build_document_graph, document_iri
    from ofsted_kg.extract.ingest import BATCH
    from ofsted_kg.extract.normalise import normalise_pages
    from ofsted_kg.extract.pipeline import read_structure, tag_extraction
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.store import Store
    from ofsted_kg.extract.themes import ThemeTagger
    from ofsted_kg.extract.validate import validate_document

    files = sorted((args.shared / "corpus" / "ofsted").rglob("*.pdf"))[: args.limit]
    datas = [(f, f.read_bytes()) for f in files]

    floor = _floor(datas)

    register, tagger = load_register(), ThemeTagger()
    store = Store(Path(tempfile.mkdtemp(prefix="ofsted-kg-bench-")) / "kg")
    store.ensure_reference("bench")
    spent: dict[str, float] = defaultdict(float)
    docs = pages = failed = 0
    batch: list = []

    def timed(stage, fn, *a):
        t = time.perf_counter()
        try:
            return fn(*a)
        finally:
            spent[stage] += time.perf_counter() - t

    import hashlib

    from ofsted_kg.extract.pdf import pdf_pages

    for path, data in datas:
        try:
            if data.lstrip()[:5] != b"%PDF-":
                raise DocumentError(path, "not a PDF")
            raw = timed("PDF text", pdf_pages, path, data)
            norm = timed("structure", lambda: normalise_pages(raw, paged=True))
            sha = hashlib.sha256(data).hexdigest()
            ex = timed("structure", read_structure, path, sha, norm, register)
            timed("NLP", tag_extraction, ex, tagger)
            graph = timed("RDF", build_document_graph, ex, "bench")
            violations = timed("SHACL", validate_document, graph)
            if violations:
                raise DocumentError(path, "violations")
            batch.append((document_iri(sha), graph, []))
            if len(batch) >= BATCH:
                timed("store", store.store_documents, batch)
                batch = []
            docs += 1
            pages += norm.page_count or 0
        except DocumentError:
            failed += 1
    if batch:
        timed("store", store.store_documents, batch)
    timed("store", store.flush)
    timed("store", store.optimize)  # the compaction ingest ends with
    total = sum(spent.values())
    print(f"files:\t{len(files)} ({docs} stored, {failed} rejected), pages: {pages}")
    print(f"floor (pypdfium2 text only):\t{floor:.1f} s")
    for stage in ("PDF text", "structure", "NLP", "RDF", "SHACL", "store"):
        print(f"{stage}:\t{spent[stage]:.1f} s")
    print(f"total (one core):\t{total:.1f} s\t{docs / total:.1f} documents/s\t{pages / total:.1f} pages/s")
    print(f"ratio to floor:\t{total / floor:.1f}x")
    print(f"peak memory (this process):\t{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.jobs:
        # the machine's speed drifts from minute to minute, so the floor is measured again
        # just before each real ingest and each ratio is taken against its own floor
        ratios = []
        for run in range(args.repeat):
            if run:
                floor = _floor(datas)
                print(f"floor (pypdfium2 text only):\t{floor:.1f} s")
            ratios.append(_parallel(files, args.jobs, floor, whole=args.limit is None))
        if len(ratios) > 1:
            ratios.sort()
            print(f"ingest -j {args.jobs} over {len(ratios)} runs:\tmedian {ratios[len(ratios) // 2]:.1f}x the floor, "
                  f"best {ratios[0]:.1f}x, worst {ratios[-1]:.1f}x")
    return 0


def _floor(datas) -> float:
    """Seconds pypdfium2 takes to extract the text of every page of the PDFs, on one core."""
    import pypdfium2 as pdfium

    t0 = time.perf_counter()
    for _, data in datas:
        if data.lstrip()[:5] != b"%PDF-":
            continue
        pdf = pdfium.PdfDocument(data)
        for i in range(len(pdf)):
            pdf[i].get_textpage().get_text_range()
        pdf.close()
    return time.perf_counter() - t0


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, StopIteration):
            continue
    return total / 1024


def _parallel(files, jobs: int, floor: float, whole: bool) -> float:
    """The real thing: `ofsted-kg ingest -j JOBS` into a fresh store, timed on the wall clock."""
    import os
    import subprocess
    import threading

    store = Path(tempfile.mkdtemp(prefix="ofsted-kg-bench-")) / "kg"
    cmd = [sys.executable, "-m", "ofsted_kg.cli", "ingest", "-s", "-j", str(jobs), "-S", str(store)]
    cmd += [str(files[0].parents[1])] if whole else [str(f) for f in files]
    peak = [0.0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))

    def watch():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    watcher.join()
    tail = (out.decode() + err.decode()).strip().splitlines()[-1:]
    print(f"ingest -j {jobs} (wall clock, fresh store):\t{wall:.1f} s\t{wall / floor:.1f}x the floor\t{' '.join(tail)}")
    print(f"peak memory (ingest and its workers):\t{peak[0]:.0f} MB")
    return wall / floor


if __name__ == "__main__":
    sys.exit(main())
