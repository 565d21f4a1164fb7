"""Measure the theme tagger and polarity against a labelled set, the way Annif's eval does.

Systems compared in one run:
- "preflabel": the baseline, each theme's skos:prefLabel matched exactly (case aside),
  nothing else (no other labels, plurals or rules); its polarity is the cue rules alone;
- "ofsted-kg": the tagger as ingest runs it (every SKOS label of ontology/themes.ttl,
  plurals, the rules for passing mentions, names and negation, the theme model), and
  polarity as ingest gives it (the polarity model over the cue rules' verdicts).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .labels import Label, find_passage, labelled_extractions
from .polarity import set_polarity

log = logging.getLogger(__name__)

POLARITIES = ["strength", "weakness", "mixed", "neutral"]


@dataclass
class Scores:
    """Per-theme counts and the polarity confusion matrix of one system on one labelled set."""

    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    polarity: Counter = field(default_factory=Counter)  # (gold, predicted) -> n
    passages: int = 0

    def add(self, gold: set[str], predicted: set[str]) -> None:
        self.passages += 1
        for t in gold & predicted:
            self.tp[t] += 1
        for t in predicted - gold:
            self.fp[t] += 1
        for t in gold - predicted:
            self.fn[t] += 1

    @staticmethod
    def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def theme(self, t: str) -> dict:
        p, r, f = self._prf(self.tp[t], self.fp[t], self.fn[t])
        return {"precision": p, "recall": r, "f1": f, "support": self.tp[t] + self.fn[t]}

    def themes(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def metrics(self) -> dict:
        tp, fp, fn = sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        micro = self._prf(tp, fp, fn)
        per = [self.theme(t) for t in self.themes()]
        macro = [sum(m[k] for m in per) / len(per) if per else 0.0 for k in ("precision", "recall", "f1")]
        judged = sum(self.polarity.values())
        right = sum(n for (g, p), n in self.polarity.items() if g == p)
        return {
            "passages": self.passages,
            "Precision (micro avg)": micro[0], "Recall (micro avg)": micro[1], "F1 score (micro avg)": micro[2],
            "Precision (macro avg)": macro[0], "Recall (macro avg)": macro[1], "F1 score (macro avg)": macro[2],
            "True positives": tp, "False positives": fp, "False negatives": fn,
            "Polarity findings": judged, "Polarity accuracy": right / judged if judged else 0.0,
        }


@dataclass
class System:
    name: str
    tag: Callable  # (extraction) -> None: sets themes (and polarity) on its passages


def default_systems() -> list[System]:
    from .pipeline import tag_extraction
    from .themes import ThemeTagger, baseline_tagger

    best, base = ThemeTagger(), baseline_tagger()

    def run_base(ex):
        for ev in ex.evaluations:
            base.tag(ex.normalised.text, ev.findings + ev.recommendations)
            set_polarity(ev.findings, model=None)  # the cue rules alone, beside the model

    return [System("preflabel", run_base), System("ofsted-kg", lambda ex: tag_extraction(ex, best))]


def evaluate(labels: list[Label], shared: Path, systems: list[System] | None = None,
             progress: Callable[[str], None] | None = None) -> tuple[dict[str, Scores], list[str]]:
    """Scores of each system on `labels`; also the labels that could not be found, with the reason."""
    systems = systems or default_systems()
    scores = {s.name: Scores() for s in systems}
    missing: list[str] = []
    for file, group, ex in labelled_extractions(labels, shared, missing, progress):
        for system in systems:
            system.tag(ex)
            for label in group:
                passage = find_passage(ex, label)
                if passage is None:
                    if system is systems[0]:
                        missing.append(f"{label.id}: no passage of {file} fits the label (the extraction changed)")
                    continue
                scores[system.name].add(set(label.themes), set(passage.themes))
                if label.passage == "finding" and label.polarity:
                    scores[system.name].polarity[(label.polarity, passage.polarity or "neutral")] += 1
    return scores, missing
