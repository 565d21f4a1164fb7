"""Keep or drop each candidate theme of a passage: a small logistic model trained on the tuning labels.

The tagger finds candidates from the SKOS labels and its rules; many labels are
reliable ("child sexual exploitation"), others only sometimes a subject ("plan",
"health"). The model weighs what the labelled tuning passages showed about each:
the theme, the words matched, how often and where they occur, whether only context
labels matched, the passage's kind and how many other candidates it has. It is a
plain logistic regression, trained by tools/train_theme_model.py and shipped as
extract/theme_model.json (weights by feature name), so nothing is downloaded or
trained at run time.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .model import Mention

_NORM = re.compile(r"[^a-z0-9]+")


def _norm(text: str) -> str:
    words = _NORM.sub(" ", text.lower()).split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_SECTION_WORDS = {"help", "protection", "care", "leavers", "adoption", "leadership", "management", "governance",
                  "board", "lscb", "experiences", "progress", "permanence", "fostering", "early", "front",
                  "partnership", "safeguarding", "looked", "workforce"}


def _neighbours(text: str, start: int, end: int) -> tuple[str, str]:
    before = _WORD.findall(text[max(0, start - 40):start])
    after = _WORD.findall(text[end:end + 40])
    return (before[-1].lower() if before else "^"), (after[0].lower() if after else "$")


def candidate_features(theme: str, found: list[Mention], passage_kind: str, first_sentence_end: int,
                       candidates: int, text: str = "", section: str = "") -> list[str]:
    """The names of the (binary) features of one candidate theme of a passage.

    `found` are the theme's mentions in the passage (after the tagger's rules), in order;
    `first_sentence_end` is the offset where the passage's first sentence ends;
    `candidates` is the number of candidate themes of the passage; `text` is the text the
    mentions' offsets point into (for the words either side), `section` the passage's heading.
    """
    count = len(found)
    strong = [m for m in found if not m.weak]
    words = sorted({_norm(m.text) for m in found})
    out = [f"theme={theme}", f"kind={passage_kind}", f"count={min(count, 3)}", f"{theme}:count={min(count, 2)}",
           f"candidates={min(candidates, 6)}"]
    out += [f"{theme}:words={w}" for w in words]
    if not strong:
        out.append("context-only")
    if found[0].start < first_sentence_end:
        out.append("first-sentence")
        out.append(f"{theme}:first-sentence")
    if any(len(m.text.split()) > 1 for m in found):
        out.append("several-words")
    if text:
        for m in found:
            before, after = _neighbours(text, m.start, m.end)
            out += [f"{theme}:before={before}", f"{theme}:after={after}"]
    out += [f"{theme}:section={w}" for w in sorted(set(_WORD.findall(section.lower())) & _SECTION_WORDS)]
    return sorted(set(out))


@dataclass(frozen=True)
class ThemeModel:
    weights: dict[str, float]
    bias: float
    threshold: float

    def probability(self, features: list[str]) -> float:
        weight = self.weights.get
        z = self.bias + sum([weight(f, 0.0) for f in features])
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def keep(self, features: list[str]) -> bool:
        return self.probability(features) >= self.threshold

    def to_json(self) -> dict:
        return {"bias": self.bias, "threshold": self.threshold,
                "weights": {k: round(v, 5) for k, v in sorted(self.weights.items()) if abs(v) >= 1e-5}}

    @classmethod
    def from_json(cls, data: dict) -> "ThemeModel":
        return cls(dict(data["weights"]), float(data["bias"]), float(data["threshold"]))


@lru_cache(maxsize=1)
def packaged_model() -> ThemeModel | None:
    """The model shipped with the package (extract/theme_model.json), or None if there is none."""
    from .resources import data_file

    res = data_file("extract", "theme_model.json")
    if not res.is_file():
        return None
    return ThemeModel.from_json(json.loads(res.read_text(encoding="utf-8")))


def train(rows: list[tuple[list[str], int]], l2: float = 1.0, epochs: int = 1000, rate: float = 0.5) -> tuple[dict[str, float], float]:
    """Fit a logistic regression on (features, 0/1) rows by full-batch gradient descent with an
    L2 penalty (the bias is not penalised). Deterministic: no random start, no shuffling."""
    import numpy as np

    names = sorted({f for feats, _ in rows for f in feats})
    index = {f: i for i, f in enumerate(names)}
    n, d = len(rows), len(names)
    x = np.zeros((n, d))
    for i, (feats, _) in enumerate(rows):
        for f in feats:
            x[i, index[f]] = 1.0
    y = np.array([label for _, label in rows], dtype=float)
    w, b = np.zeros(d), 0.0
    for _ in range(epochs):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        grad_w = x.T @ (p - y) / n + l2 * w / n
        grad_b = float(np.mean(p - y))
        w -= rate * grad_w * 4
        b -= rate * grad_b * 4
    return {name: float(w[i]) for name, i in index.items()}, b

