"""Time the ingest of the corpus by stage on one core, against the floor of plain PDF text extraction.

Usage: python bench/ingest.py [--shared ../shared] [--limit N]

Stages: PDF text (pypdfium2), structure (normalise, kind, header, passages), NLP
(themes and polarity), RDF (graph building), SHACL (validation), store (one
transaction per document into a fresh on-disk pyoxigraph store). The floor is
pypdfium2's text extraction of the same files with nothing else done. Also prints
documents and pages per second, and the peak resident memory of this process.
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
    args = ap.parse_args(argv)

    import pypdfium2 as pdfium

    from ofsted_kg.extract.errors import DocumentError
    from ofsted_kg.extract.graph import build_quads, document_iri
    from ofsted_kg.extract.normalise import normalise_pages
    from ofsted_kg.extract.pipeline import read_structure, tag_extraction
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.store import Store
    from ofsted_kg.extract.themes import ThemeTagger
    from ofsted_kg.extract.validate import validate_quads

    files = sorted((args.shared / "corpus" / "ofsted").rglob("*.pdf"))[: args.limit]
    datas = [(f, f.read_bytes()) for f in files]

    t0 = time.perf_counter()
    for _, data in datas:
        if data.lstrip()[:5] != b"%PDF-":
            continue
        pdf = pdfium.PdfDocument(data)
        for i in range(len(pdf)):
            pdf[i].get_textpage().get_text_range()
        pdf.close()
    floor = time.perf_counter() - t0

    register, tagger = load_register(), ThemeTagger()
    store = Store(Path(tempfile.mkdtemp(prefix="ofsted-kg-bench-")) / "kg")
    store.ensure_reference("bench")
    spent: dict[str, float] = defaultdict(float)
    docs = pages = failed = 0

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
            graph = timed("RDF", build_quads, ex, "bench")
            violations = timed("SHACL", validate_quads, graph)
            if violations:
                raise DocumentError(path, "violations")
            timed("store", store.replace_document, document_iri(sha), graph)
            docs += 1
            pages += norm.page_count or 0
        except DocumentError:
            failed += 1
    total = sum(spent.values())
    print(f"files:\t{len(files)} ({docs} stored, {failed} rejected), pages: {pages}")
    print(f"floor (pypdfium2 text only):\t{floor:.1f} s")
    for stage in ("PDF text", "structure", "NLP", "RDF", "SHACL", "store"):
        print(f"{stage}:\t{spent[stage]:.1f} s")
    print(f"total (one core):\t{total:.1f} s\t{docs / total:.1f} documents/s\t{pages / total:.1f} pages/s")
    print(f"ratio to floor:\t{total / floor:.1f}x")
    print(f"peak memory:\t{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
