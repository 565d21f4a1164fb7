"""Ingest files into the store: extract, build the graph, validate, store; one document at a time."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from rdflib import Graph

from .errors import DocumentError, ValidationFailed
from .graph import build_graph, document_iri
from .load import SUFFIXES, read_source
from .pipeline import extract_normalised
from .load import load_normalised
from .register import load_register
from .store import Store
from .themes import ThemeTagger
from .validate import validate_graph

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
            out.append(path)  # a missing file is reported by ingest_one
    return out


class Ingester:
    """Holds what is costly to build once: the register, the tagger and the open store."""

    def __init__(self, store: Store, version: str, extra_register: Graph | None = None, force: bool = False):
        self.store = store
        self.version = version
        self.extra_register = extra_register
        self.register = load_register([extra_register] if extra_register is not None else ())
        self.tagger = ThemeTagger()
        self.force = force

    def ingest_one(self, path: Path) -> Outcome:
        try:
            data, sha256 = read_source(path)
            doc = document_iri(sha256)
            if not self.force and self.store.has_document(doc, self.version):
                return Outcome(path, "unchanged")
            norm = load_normalised(path, data)
            ex = extract_normalised(path, sha256, norm, self.register, self.tagger)
            graph = build_graph(ex, self.version)
            violations = validate_graph(graph, self.extra_register)
            if violations:
                raise ValidationFailed(path, [str(v) for v in violations])
            old = [g for g in self.store.documents_from(str(path)) if g != str(doc)]
            self.store.replace_document(doc, graph, drop=old)
        except ValidationFailed as err:
            return Outcome(path, "failed", reason=err.reason, violations=err.messages)
        except DocumentError as err:
            return Outcome(path, "failed", reason=err.reason)
        ev = ex.evaluations[0]
        passages = [p for e in ex.evaluations for p in e.findings + e.recommendations]
        return Outcome(
            path, "stored", kind=ev.kind,
            findings=sum(len(e.findings) for e in ex.evaluations),
            recommendations=sum(len(e.recommendations) for e in ex.evaluations),
            themes=len({t for p in passages for t in p.themes}),
        )

    def ingest(self, paths: Iterable[Path], progress: Callable[[Outcome], None] | None = None) -> Summary:
        summary = Summary()
        for path in paths:
            outcome = self.ingest_one(path)
            summary.outcomes.append(outcome)
            if progress:
                progress(outcome)
        self.store.flush()
        return summary
