"""The authority x theme view: for each authority, how many of its findings carry each theme."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date

from .errors import InputError
from .network import AuthorityInfo, Selection, chart_query

log = logging.getLogger(__name__)

ORDERS = ("grade", "region", "name")
MEASURES = ("share", "findings", "weakness")


@dataclass
class Row:
    """An authority with its latest overall grade among the evaluations counted."""

    iri: str
    code: str
    name: str
    region: str | None
    findings: int  # findings of the authority counted (with or without a theme)
    grade_id: str | None
    grade_label: str | None
    rank: int | None


@dataclass
class Heatmap:
    authorities: list[Row]
    themes: list[tuple[str, str]]  # (id, label), most found first
    cells: Counter  # (authority IRI, theme id) -> findings
    weakness: Counter  # (authority IRI, theme id) -> weakness findings
    measure: str
    order: str

    def __post_init__(self):
        self._totals = {a.iri: a.findings for a in self.authorities}

    def value(self, authority: str, theme: str) -> float:
        if self.measure == "findings":
            return self.cells[(authority, theme)]
        if self.measure == "weakness":
            return self.weakness[(authority, theme)]
        total = self._totals.get(authority, 0)
        return self.cells[(authority, theme)] / total if total else 0.0

    def top(self) -> float:
        return max((self.value(a.iri, t) for a in self.authorities for t, _ in self.themes), default=0)

    def measure_label(self) -> str:
        return {"share": "share of the authority's findings carrying the theme",
                "findings": "findings carrying the theme",
                "weakness": "weakness findings carrying the theme"}[self.measure]

    def row_label(self, a: Row) -> str:
        if self.order == "grade":
            return f"{a.name} ({a.grade_label or 'no overall grade'})"
        if self.order == "region":
            return f"{a.name} ({a.region or 'no region'})"
        return a.name

    def describe(self, a: Row, theme: str, label: str) -> str:
        n, w = self.cells[(a.iri, theme)], self.weakness[(a.iri, theme)]
        share = n / a.findings if a.findings else 0.0
        return f"{a.name} · {label}: {n} of {a.findings} findings ({share:.0%}), {w} weakness"


def build_heatmap(store, selection: Selection, measure: str = "share", order: str = "grade") -> Heatmap:
    if measure not in MEASURES:
        raise InputError(f"unknown measure '{measure}' (choose from {', '.join(MEASURES)})")
    if order not in ORDERS:
        raise InputError(f"unknown order '{order}' (choose from {', '.join(ORDERS)})")
    cells, weakness, totals, themes = Counter(), Counter(), Counter(), Counter()
    for finding in selection.findings:
        totals[selection.authority_of(finding)] += 1
    for finding, ids in selection.themes_of.items():
        a = selection.authority_of(finding)
        for t in ids:
            cells[(a, t)] += 1
            themes[t] += 1
            weakness[(a, t)] += selection.findings[finding][0] == "weakness"
    latest: dict[str, tuple[date, str, str, int]] = {}
    for row in store.query(chart_query("overall-grades")):
        ev = row["evaluation"].value
        if ev not in selection.evaluations:
            continue
        authority, when = selection.evaluations[ev]
        key = (when or date.min, row["grade_id"].value, row["grade_label"].value, int(row["rank"].value))
        if authority not in latest or key[0] >= latest[authority][0]:
            latest[authority] = key
    rows = []
    for iri in sorted(totals):
        info: AuthorityInfo = selection.authorities[iri]
        g = latest.get(iri)
        rows.append(Row(iri, info.code, info.name, info.region, totals[iri],
                        g[1] if g else None, g[2] if g else None, g[3] if g else None))
    if order == "grade":
        rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.name))
    elif order == "region":
        rows.sort(key=lambda r: (r.region is None, r.region or "", r.name))
    else:
        rows.sort(key=lambda r: r.name)
    cols = [(t, selection.theme_labels.get(t, t)) for t, _ in sorted(themes.items(), key=lambda kv: (-kv[1], kv[0]))]
    log.info("heatmap: %d authorities x %d themes", len(rows), len(cols))
    return Heatmap(rows, cols, cells, weakness, measure, order)
