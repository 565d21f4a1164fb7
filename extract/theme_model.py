"""Keep or drop each candidate theme of a passage, and add themes its words alone make likely.

The tagger finds candidates from the SKOS labels and its rules; many labels are
reliable ("child sexual exploitation"), others only sometimes a subject ("plan",
"health"). Two logistic models, trained on the labelled tuning passages, decide:

- the text model (text_model.LinearText), one logistic regression per theme over the
  passage's words (tf-idf; the training tool weighs each word by how unevenly it falls
  between the theme's passages and the others, and folds that into the weights), says how
  strongly the words as a whole go with each theme;
- the candidate model weighs what the tuning passages showed about each candidate:
  the theme, the words matched, how often and where they occur, whether only context
  labels matched, the passage's kind, how many other candidates it has, and the text
  model's logit for the theme. It keeps a candidate whose probability reaches
  `threshold`.

A theme no candidate names is added when the text model alone gives it `add_threshold`
or more; its evidence is the sentence that the text model scores highest for it. Both
are trained by tools/train_theme_model.py (scikit-learn, the `train` extra) and shipped
as extract/theme_model.json, so nothing is downloaded or trained at run time.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from .model import Mention
from .text_model import LinearText

_NORM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
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


def squash(z: float) -> float:
    """The text model's logit as the candidate model reads it: bounded at about +-9.2."""
    p = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
    return math.log((p + 1e-4) / (1.0 - p + 1e-4))


@dataclass(frozen=True)
class ThemeModel:
    weights: dict[str, float]
    bias: float
    threshold: float
    text: LinearText | None = None  # one logistic model per theme over the passage's words
    add_threshold: float = 1.01  # a theme no candidate names is added when its text probability reaches this

    def text_logits_many(self, passages: list[tuple[str, str]]) -> list[dict[str, float]]:
        """The text model's logit of every theme for each (kind, text) passage, scored
        together ({} each without a text model)."""
        if self.text is None:
            return [{} for _ in passages]
        outputs = self.text.outputs
        return [dict(zip(outputs, row)) for row in
                self.text.text_scores([kind + " " + text for kind, text in passages]).tolist()]

    def probability(self, features: list[str], text_logit: float | None = None) -> float:
        weight = self.weights.get
        z = self.bias + sum([weight(f, 0.0) for f in features])
        if text_logit is not None:
            z += weight("text", 0.0) * squash(text_logit)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def keep(self, features: list[str], text_logit: float | None = None) -> bool:
        return self.probability(features, text_logit) >= self.threshold

    def added(self, logits: dict[str, float], candidates) -> list[str]:
        """The themes that no candidate names but whose words alone make them likely enough."""
        if self.add_threshold > 1.0:
            return []
        cut = math.log(self.add_threshold / (1.0 - self.add_threshold))
        return sorted(t for t, z in logits.items() if z >= cut and t not in candidates)

    def to_json(self) -> dict:
        out = {"bias": self.bias, "threshold": self.threshold, "add_threshold": self.add_threshold,
               "weights": {k: round(v, 5) for k, v in sorted(self.weights.items()) if abs(v) >= 1e-5}}
        if self.text is not None:
            out["text"] = self.text.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict) -> "ThemeModel":
        text = LinearText.from_json(data["text"]) if "text" in data else None
        return cls(dict(data["weights"]), float(data["bias"]), float(data["threshold"]), text,
                   float(data.get("add_threshold", 1.01)))


@lru_cache(maxsize=1)
def packaged_model() -> ThemeModel | None:
    """The model shipped with the package (extract/theme_model.json), or None if there is none."""
    from .resources import data_file

    res = data_file("extract", "theme_model.json")
    if not res.is_file():
        return None
    return ThemeModel.from_json(json.loads(res.read_text(encoding="utf-8")))
