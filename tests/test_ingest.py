"""Ingesting PDFs: every kind of bad input gets one line and the batch goes on; a killed ingest leaves a consistent store."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner
from rdflib.compare import isomorphic

from conftest import SEEDS, SHARED
from ofsted_kg.cli import cli

CORPUS = SHARED / "corpus" / "ofsted"
NORFOLK_2015 = CORPUS / "80418_norfolk" / "a4ed99d961ed.pdf"  # a SIF report with a board review, 46 pages


def _text_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with a text layer, written by hand (no report text)."""
    body = "BT /F1 11 Tf 50 780 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(body)} >>\nstream\n{body}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    import pypdf

    html = tmp_path / "html.pdf"
    html.write_text("<!DOCTYPE html><html><head><title>Not found</title></head><body>Gone</body></html>")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(NORFOLK_2015.read_bytes()[:20000])
    noise = tmp_path / "noise.pdf"
    noise.write_bytes(os.urandom(30000).replace(b"%PDF", b"%XXX"))
    encrypted = tmp_path / "encrypted.pdf"
    writer = pypdf.PdfWriter(clone_from=str(_text_pdf(tmp_path / "plain.pdf", ["A secret page"])))
    writer.encrypt("open-sesame", algorithm="AES-128")
    writer.write(str(encrypted))
    (tmp_path / "plain.pdf").unlink()
    blank = tmp_path / "scanned.pdf"
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    doc.new_page(595, 842)
    doc.save(str(blank))
    other = _text_pdf(tmp_path / "minutes.pdf", ["Minutes of the allotment society", "The treasurer reported a surplus."])
    return {
        "html": (html, "not a report (it is an HTML page)"),
        "empty": (empty, "the file is empty"),
        "truncated": (truncated, "not a readable PDF"),
        "noise": (noise, "not a PDF (no PDF header"),
        "encrypted": (encrypted, "the PDF is encrypted (needs a password)"),
        "scanned": (blank, "the PDF has no text layer"),
        "other": (other, "not an Ofsted report"),
    }


def test_ingest_bad_pdfs_reported_and_batch_goes_on(tmp_path):
    bad = _bad_inputs(tmp_path)
    store = tmp_path / "kg"
    result = CliRunner().invoke(cli, ["ingest", "-s", "-j", "1", "-S", str(store)] + [str(p) for p, _ in bad.values()] + [str(NORFOLK_2015)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    for name, (path, reason) in bad.items():
        mine = [line for line in lines if line.startswith(f"Error: {path}: ")]
        assert len(mine) == 1 and reason in mine[0], (name, mine)
    assert f"1 stored, 0 unchanged (already in the store), {len(bad)} failed" in result.stderr
    stats = CliRunner().invoke(cli, ["stats", "-S", str(store)]).stdout
    assert "documents:\t1" in stats and "  sif:\t1" in stats


def test_ingest_norfolk_2015_pdf_facts(tmp_path):
    """Norfolk's 2015 SIF report, as printed: dates, grades, pages."""
    from ofsted_kg.extract.pipeline import extract_file
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.themes import ThemeTagger

    ex = extract_file(NORFOLK_2015, load_register(), ThemeTagger())
    ev = ex.evaluations[0]
    assert (ev.kind, ev.authority) == ("sif", "926")
    assert (ev.start.isoformat(), ev.end.isoformat(), ev.published.isoformat()) == ("2015-07-06", "2015-07-30", "2015-10-19")
    grades = {j.area: j.grade for j in ev.judgements}
    assert grades == {"overall": "inadequate", "help-and-protection": "requires-improvement", "in-care": "inadequate",
                      "adoption": "requires-improvement", "care-leavers": "inadequate",
                      "leadership": "requires-improvement", "lscb": "requires-improvement"}
    assert ex.normalised.page_count == 46
    assert all(p.page and 1 <= p.page <= 46 for p in ev.findings + ev.recommendations)


def test_ingest_rerun_processes_only_new_or_changed(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(NORFOLK_2015.read_bytes())
    store = tmp_path / "kg"
    first = CliRunner().invoke(cli, ["ingest", "-s", "-j", "1", "-S", str(store), str(folder)])
    assert first.exit_code == 0 and "1 stored" in first.stderr
    second = CliRunner().invoke(cli, ["ingest", "-s", "-j", "1", "-S", str(store), str(folder)])
    assert "0 stored, 1 unchanged" in second.stderr


def test_ingest_killed_midway_leaves_consistent_store(tmp_path):
    """Kill an ingest part-way: every stored document is whole, and equal to a fresh build."""
    from ofsted_kg import __version__
    from ofsted_kg.extract.graph import build_graph, document_iri
    from ofsted_kg.extract.pipeline import extract_file
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.errors import DocumentError, StoreError
    from ofsted_kg.extract.store import Store
    from ofsted_kg.extract.themes import ThemeTagger
    from ofsted_kg.extract.validate import validate_graph

    folder = tmp_path / "in"
    folder.mkdir()
    sources = sorted(CORPUS.glob("804*/*.pdf"))[:40]
    for src in sources:
        (folder / f"{src.parent.name}-{src.name}").write_bytes(src.read_bytes())
    store_path = tmp_path / "kg"
    proc = subprocess.Popen([sys.executable, "-m", "ofsted_kg.cli", "ingest", "-s", "-j", "1", "-S", str(store_path), str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:  # a read-only view of the store while the ingest writes to it
            if len(Store(store_path, read_only=True).document_graphs()) >= 2:
                break
        except StoreError:  # the store may not exist yet
            continue
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Store(store_path, read_only=True)
    stored = store.document_graphs()
    assert 0 < len(stored) < len(sources), "the kill should land part-way through the batch"
    register, tagger = load_register(), ThemeTagger()
    by_iri = {}
    for path in sorted(folder.iterdir()):
        try:
            ex = extract_file(path, register, tagger)
        except DocumentError:  # the corpus's HTML error pages, which ingest rejects too
            continue
        by_iri[str(document_iri(ex.sha256))] = build_graph(ex, __version__)
    for g in stored:
        graph = store.graph(g)
        assert validate_graph(graph) == []
        assert isomorphic(graph, by_iri[g]), g
    del store
    # opening it for writing removes whatever the kill left half-loaded, and nothing committed
    store = Store(store_path)
    assert store.uncommitted() == [] and store.document_graphs() == stored
    assert {g.value for g in store.ox.named_graphs() if "/document/" in g.value} == set(stored)


def test_store_removes_a_document_left_uncommitted(tmp_path, caplog):
    """A crash between bulk-loading a document and committing it: the half-written graph is
    never listed, and the next open for writing removes it; committed documents are untouched."""
    import pyoxigraph as ox

    from ofsted_kg.extract.store import Store

    store_path = tmp_path / "kg"
    result = CliRunner().invoke(cli, ["ingest", "-s", "-j", "1", "-S", str(store_path), str(NORFOLK_2015)])
    assert result.exit_code == 0, result.output
    store = Store(store_path)
    [committed] = store.document_graphs()
    before = len(store.graph(committed))
    # what an interrupted load leaves: part of a document's graph and no commit
    half = ox.NamedNode(committed[:-4] + "beef")
    partial = list(store.ox.quads_for_pattern(None, None, None, ox.NamedNode(committed)))[:500]
    store.ox.bulk_load(ox.serialize([ox.Quad(q.subject, q.predicate, q.object, half) for q in partial],
                                    format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
    assert store.uncommitted() == [half.value] and store.document_graphs() == [committed]
    del store

    reader = Store(store_path, read_only=True)
    assert reader.document_graphs() == [committed] and reader.uncommitted() == [half.value]
    del reader
    with caplog.at_level("WARNING"):
        store = Store(store_path)
    assert f"removing {half.value}, left half-written by an interrupted ingest" in caplog.text
    assert store.uncommitted() == [] and not store.ox.contains_named_graph(half)
    assert store.document_graphs() == [committed] and len(store.graph(committed)) == before


def test_snapshot_holds_the_committed_documents_in_memory(seed_store):
    """The in-memory copy answers like the store on disk, with the same committed documents."""
    from ofsted_kg.extract.store import Store

    disk = Store(seed_store, read_only=True)
    mem = disk.snapshot()
    assert mem.document_graphs() == disk.document_graphs() and len(disk.document_graphs()) == 5
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?f a <https://w3id.org/ofsted-kg/ont#Finding> }"
    assert next(iter(mem.query(count)))["n"].value == next(iter(disk.query(count)))["n"].value


def test_ingest_ends_by_compacting_the_store(tmp_path, monkeypatch):
    """Each bulk load adds its own files to RocksDB's first level; the compaction at the end
    of an ingest merges them (fewer files, and on-disk joins two to three times faster)."""
    import ofsted_kg.extract.ingest as ingest_module
    from ofsted_kg.extract.store import Store

    monkeypatch.setattr(ingest_module, "BATCH", 1)  # one bulk load per document: many files

    def files_after(store: Path) -> int:
        result = CliRunner().invoke(cli, ["ingest", "-s", "-j", "1", "-S", str(store), str(SEEDS)])
        assert result.exit_code == 0, result.output
        return len(list(store.glob("*.sst")))

    compacted = files_after(tmp_path / "compacted")
    monkeypatch.setattr(Store, "optimize", lambda self: None)
    left_as_loaded = files_after(tmp_path / "as-loaded")
    assert compacted < left_as_loaded


def test_progress_reports_each_file_once_as_it_is_built_and_the_summary_as_it_is_written(tmp_path):
    from ofsted_kg import __version__
    from ofsted_kg.extract.ingest import Ingester
    from ofsted_kg.extract.store import Store

    html = tmp_path / "html.pdf"
    html.write_text("<!DOCTYPE html><html><body>Gone</body></html>")
    store = Store(tmp_path / "kg")
    store.ensure_reference(__version__)
    files = sorted(SEEDS.glob("*")) + [html]
    seen = []
    summary = Ingester(store, __version__, jobs=1).ingest(
        files, lambda o: seen.append((o.path, o.status, len(store.document_graphs()))))
    assert sorted(p for p, _, _ in seen) == sorted(files)  # each file once
    stored = [n for _, status, n in seen if status == "stored"]
    assert len(stored) == 5 and stored[0] == 0  # the first is reported before its batch is written
    assert [status for p, status, _ in seen if p == html] == ["failed"]
    assert summary.count("stored") == 5 and summary.count("failed") == 1
    assert len(store.document_graphs()) == 5
