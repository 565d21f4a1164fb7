"""Ingest files into the store: extract, build the graph, validate, store; one document at a time."""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from rdflib import Graph

from .errors import DocumentError, ValidationFailed
from .graph import DocumentGraph, build_document_graph, document_iri
from .load import SUFFIXES, load_normalised, read_source
from .pipeline import extract_normalised
from .polarity import packaged_polarity_model
from .register import load_register
from .store import Store
from .themes import ThemeTagger
from .validate import validate_document

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    path: Path
    status: str  # stored, unchanged, failed
    kind: str | None = None
    findings: int = 0
    recommendations: int = 0
    themes: int = 0
    reason: str | None = None
    violations: list[str] = field(default_factory=list)


@dataclass
class Summary:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    def by_kind(self) -> Counter:
        return Counter(o.kind for o in self.outcomes if o.status == "stored")


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the report files inside folders named, in a stable order."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        else:
            out.append(path)  # a missing file is reported when it is read
    return out


def _largest_first(paths: Iterable[Path]) -> list[Path]:
    """The files, largest first: the long ones start early, so no worker is left with one at the end."""
    def size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0  # reported when it is read

    return sorted(paths, key=size, reverse=True)


_WORKER: dict = {}
# Documents written to the store together: one bulk load, then their commits in one
# transaction. Bigger batches load with less work: each bulk load adds its own files to
# RocksDB, whose background threads then compact them while the workers still need the
# cores. Over the corpus (322 files, two workers) batches of 24 documents or 3 s made 15
# loads, and the store's threads spent 9 s of CPU compacting; batches of 80 or 10 s make
# 4 or 5 loads and 4 s, and the whole ingest 4 s less CPU. A killed ingest loses at most
# one batch of work. A batch is also written once its oldest document has waited
# FLUSH_SECONDS; progress is reported as each document is built, not when it is written.
BATCH = 80
FLUSH_SECONDS = 10.0


def _worker_init(extra_register_nt: str | None) -> None:
    extra = Graph().parse(data=extra_register_nt, format="nt") if extra_register_nt else None
    _WORKER["extra"] = extra
    _WORKER["register"] = load_register([extra] if extra is not None else ())
    _WORKER["tagger"] = ThemeTagger()
    packaged_polarity_model()  # loaded here, before the workers fork, not once in each of them


def _warm_validation() -> None:
    """Compile the shapes' checks now, so that forked workers inherit them ready."""
    from .validate import _core_checks, _register_statements, _schemes_nquads, _split_shapes

    _core_checks(), _split_shapes(), _schemes_nquads(), _register_statements()


def build_document(path: Path, data: bytes, sha256: str, version: str) -> tuple[Outcome, DocumentGraph | None]:
    """Extract, build and validate one document (runs in a worker process)."""
    try:
        norm = load_normalised(path, data)
        ex = extract_normalised(path, sha256, norm, _WORKER["register"], _WORKER["tagger"])
        graph = build_document_graph(ex, version)
        violations = validate_document(graph, _WORKER["extra"])
        if violations:
            raise ValidationFailed(path, [str(v) for v in violations])
    except ValidationFailed as err:
        return Outcome(path, "failed", reason=err.reason, violations=err.messages), None
    except DocumentError as err:
        return Outcome(path, "failed", reason=err.reason), None
    passages = [p for e in ex.evaluations for p in e.findings + e.recommendations]
    outcome = Outcome(
        path, "stored", kind=ex.evaluations[0].kind,
        findings=sum(len(e.findings) for e in ex.evaluations),
        recommendations=sum(len(e.recommendations) for e in ex.evaluations),
        themes=len({t for p in passages for t in p.themes}),
    )
    return outcome, graph


def _build_in_worker(args) -> tuple[Outcome, bytes | None]:
    """build_document in a worker process; the quads come back as N-Quads, which the store parses natively."""
    outcome, graph = build_document(*args)
    return outcome, graph.nquads() if graph is not None else None


class Ingester:
    """Ingests files: workers extract and validate, this process writes each document in one transaction."""

    def __init__(self, store: Store, version: str, extra_register: Graph | None = None, force: bool = False,
                 jobs: int = 1):
        self.store = store
        self.version = version
        self.extra_register = extra_register
        self.force = force
        self.jobs = max(1, jobs)
        self._batch: list = []
        self._batch_started = 0.0

    def _pending(self, paths, summary, progress):
        """Files to build, after reporting the unreadable and the unchanged ones."""
        for path in paths:
            try:
                data, sha256 = read_source(path)
            except DocumentError as err:
                self._done(Outcome(path, "failed", reason=err.reason), summary, progress)
                continue
            if not self.force and self.store.has_document(document_iri(sha256), self.version):
                self._done(Outcome(path, "unchanged"), summary, progress)
                continue
            yield path, data, sha256, self.version

    def _store(self, outcome: Outcome, graph: DocumentGraph | bytes | None, sha256: str, summary, progress) -> None:
        """Queue a built document for the store (its progress is reported now, its outcome
        joins the summary once it is written); a failure is reported at once."""
        if graph is None:
            self._done(outcome, summary, progress)
            return
        if progress:
            progress(outcome)
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append((outcome, graph, sha256))
        if len(self._batch) >= BATCH or time.monotonic() - self._batch_started > FLUSH_SECONDS:
            self._flush(summary)

    def _flush(self, summary) -> None:
        """Write the queued documents (bulk-loaded together, each committed whole), then add them to the summary."""
        if not self._batch:
            return
        items = []
        for outcome, graph, sha256 in self._batch:
            doc = document_iri(sha256)
            old = [g for g in self.store.documents_from(str(outcome.path)) if g != str(doc)]
            items.append((doc, graph, old))
        self.store.store_documents(items)
        summary.outcomes.extend(outcome for outcome, _, _ in self._batch)
        self._batch = []

    @staticmethod
    def _done(outcome, summary, progress):
        summary.outcomes.append(outcome)
        if progress:
            progress(outcome)

    def ingest(self, paths: Iterable[Path], progress: Callable[[Outcome], None] | None = None) -> Summary:
        summary = Summary()
        extra_nt = self.extra_register.serialize(format="nt") if self.extra_register is not None else None
        tasks = self._pending(_largest_first(paths), summary, progress)
        if self.jobs == 1:
            _worker_init(extra_nt)
            for task in tasks:
                outcome, graph = build_document(*task)
                self._store(outcome, graph, task[2], summary, progress)
        else:
            import multiprocessing

            # Where the platform can fork, the workers are forked from this process after it has
            # loaded the tagger, the register and the shapes once: each worker then starts at
            # once instead of importing spaCy and parsing the ontology itself (two seconds of
            # both cores). The workers never touch the store this process has open.
            if "fork" in multiprocessing.get_all_start_methods():
                _worker_init(extra_nt)
                _warm_validation()
                ctx, init, initargs = multiprocessing.get_context("fork"), None, ()
            else:
                ctx, init, initargs = multiprocessing.get_context("spawn"), _worker_init, (extra_nt,)
            with ProcessPoolExecutor(self.jobs, mp_context=ctx, initializer=init, initargs=initargs) as pool:
                shas = {}
                futures = set()
                for task in tasks:
                    fut = pool.submit(_build_in_worker, task)
                    shas[fut] = task[2]
                    futures.add(fut)
                    if len(futures) >= 4 * self.jobs:
                        futures = self._collect(futures, shas, summary, progress, wait_for=FIRST_COMPLETED)
                self._collect(futures, shas, summary, progress, wait_for=ALL_COMPLETED)
        self._flush(summary)
        self.store.flush()
        if summary.count("stored"):
            self.store.optimize()
        return summary

    def _collect(self, futures, shas, summary, progress, wait_for):
        done, rest = wait(futures, return_when=wait_for)
        for fut in done:
            outcome, nt = fut.result()
            self._store(outcome, nt, shas.pop(fut), summary, progress)
        return rest
