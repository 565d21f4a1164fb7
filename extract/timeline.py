"""An authority's judgement history: its evaluations in date order with their graded judgements."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import pyoxigraph as ox

from .errors import InputError
from .network import chart_query
from .queries import Param, to_term, with_value_sets

log = logging.getLogger(__name__)


@dataclass
class Judgement:
    area_id: str
    area_label: str
    grade_id: str
    grade_label: str
    rank: int


@dataclass
class Evaluation:
    iri: str
    kind_label: str
    date: date | None
    file: str
    judgements: list[Judgement] = field(default_factory=list)
    document: str = ""  # its IRI


@dataclass
class Timeline:
    authority: str  # its name
    code: str
    evaluations: list[Evaluation]

    def lanes(self) -> list[str]:
        """'evaluation' first, then the judgement areas in the order they first appear (overall first)."""
        areas: list[str] = []
        for ev in self.evaluations:
            for j in sorted(ev.judgements, key=lambda j: j.area_id != "overall"):
                if j.area_label not in areas:
                    areas.append(j.area_label)
        return ["evaluation", *areas]


def build_timeline(store, authority: str, register=None) -> Timeline:
    """The authority's evaluations (`authority`: a DfE code or a name the register resolves)."""
    from .register import load_register

    register = register if register is not None else load_register(store.extra_registers())
    term: ox.NamedNode = to_term(Param("authority", "authority", None, ""), authority, register)
    code = term.value.rsplit("/", 1)[1]
    evaluations: dict[str, Evaluation] = {}
    for row in store.query(with_value_sets(chart_query("timeline"), {"authority": [term]})):
        iri = row["evaluation"].value
        if iri not in evaluations:
            when = row["date"]
            evaluations[iri] = Evaluation(iri, row["kind_label"].value, date.fromisoformat(when.value) if when else None,
                                          row["file"].value, document=row["document"].value)
        if row["area_id"] is not None:
            evaluations[iri].judgements.append(Judgement(row["area_id"].value, row["area_label"].value,
                                                         row["grade_id"].value, row["grade_label"].value,
                                                         int(row["rank"].value)))
    if not evaluations:
        raise InputError(f"{register[code].name} ({code}): no evaluations in the store")
    ordered = sorted(evaluations.values(), key=lambda e: (e.date is None, e.date or date.min, e.file))
    log.info("timeline of %s: %d evaluations", register[code].name, len(ordered))
    return Timeline(register[code].name, code, ordered)
