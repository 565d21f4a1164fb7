"""The words of a passage as a model input: tf-idf weights and linear scores over them.

Both shipped models read a passage's words besides the tagger's candidates and the
polarity cues: the theme model asks, for each theme, how strongly the passage's words
go with it (which also finds themes that no label names), and the polarity model
weighs the words beside the cues. The words are the normalised tokens of two letters or
more; each weighs (1 + log count) x idf and the vector has unit length, as scikit-learn's
TfidfVectorizer(sublinear_tf=True) computes it, so the training scripts
(tools/train_*_model.py, which use scikit-learn) and this module give the same numbers.
Scoring is pure Python and numpy over the weights shipped in the models' JSON files.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]{2,}")
# A negator (not, no, never, none, nor, without, cannot, lack, lacks, lacking, n't), and
# in a lookahead the rest of its clause (to the next , ; : or bracket, at most 80 characters):
# the words it governs. The alternatives share first letters, which makes the scan twice as fast.
_NEGATOR = re.compile(r"\b(?:n(?:ot?|ever|one|or)|without|cannot|lack(?:s|ing)?)\b(?=([^,;:()]{0,80}))"
                      r"|n['\u2019]t\b(?=([^,;:()]{0,80}))")
NEGATED = "not:"


def _singular(w: str) -> str:
    return w[:-1] if len(w) > 3 and w[-1] == "s" and w[-2] != "s" else w


_SINGULAR: dict[str, str] = {}  # raw token -> _singular(token), filled as tokens are met


def words(text: str) -> list[str]:
    """The tokens the text models read: lower-case letters and digits, two characters or more,
    with a plural -s dropped (as the theme model's word features are)."""
    single = _SINGULAR
    return [single.get(w) or single.setdefault(w, _singular(w)) for w in _TOKEN.findall(text.lower())]


def word_pairs(text: str) -> list[str]:
    """Each two neighbouring words() of the text, joined by a space ("too long", "variable
    quality", "not yet"): the sentence model reads them beside the single words."""
    w = words(text)
    return [a + " " + b for a, b in zip(w, w[1:])]


def sentence_tokens(text: str) -> list[str]:
    """The tokens the polarity sentence model reads besides words(): negated_words and
    word_pairs."""
    return negated_words(text) + word_pairs(text)


def negated_words(text: str, span: int = 3) -> list[str]:
    """The words a negator governs, marked: "not:" and each of the (up to) `span` words
    after a negator in the same clause, as words() gives them ("plans are not always
    reviewed" gives not:always, not:reviewed). The sentence model reads them beside
    words(), so that "not timely" and "timely" weigh apart."""
    out = []
    for m in _NEGATOR.finditer(text.lower()):
        out.extend(NEGATED + _singular(w) for w in _TOKEN.findall(m.group(1) or m.group(2) or "")[:span])
    return out


@dataclass(frozen=True)
class LinearText:
    """Linear scores of a passage's tf-idf vector: one column of weights per output."""

    outputs: tuple[str, ...]  # e.g. theme ids, or polarity labels
    index: dict[str, int]  # word -> row
    idf: np.ndarray  # (words,)
    weights: np.ndarray  # (words, outputs)
    bias: np.ndarray  # (outputs,)

    def __post_init__(self):
        # Each raw token (lower-cased, plural or not) straight to its row: scoring a text then
        # needs one dictionary look-up per token, where words() and `index` take two steps.
        raw = {}
        for word, row in self.index.items():
            for form in (word, word + "s"):
                if _singular(form) == word:
                    raw[form] = row
        object.__setattr__(self, "_raw", raw)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """The linear score of every output (before any link function) for tokens from words()."""
        index = self.index
        return self._scores([Counter([index[t] for t in tokens if t in index])])[0]

    def text_scores(self, texts: list[str], extra: list[list[str]] | None = None) -> np.ndarray:
        """The linear scores of each text, one row each: the same numbers as
        scores(words(text)), or with `extra` (more tokens for each text, such as
        negated_words) scores(words(text) + extra[i]), with a few numpy steps for all the
        texts together."""
        raw = self._raw
        counts = [Counter([r for r in map(raw.get, _TOKEN.findall(text.lower())) if r is not None]) for text in texts]
        if extra is not None:
            index = self.index
            for known, tokens in zip(counts, extra):
                known.update([r for r in map(index.get, tokens) if r is not None])
        return self._scores(counts)

    def _scores(self, counts: list[Counter]) -> np.ndarray:
        """Bias plus weights times the unit-length tf-idf vector of each passage's row counts."""
        rows = [r for known in counts for r in known]
        out = np.tile(self.bias, (len(counts), 1))
        if not rows:
            return out
        sizes = np.array([len(known) for known in counts])
        segment = np.repeat(np.arange(len(counts)), sizes)
        values = (1.0 + np.log(np.array([n for known in counts for n in known.values()], dtype=float))) * self.idf[rows]
        values /= np.sqrt(np.bincount(segment, values * values, minlength=len(counts)))[segment]
        filled = sizes > 0
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))[filled]
        out[filled] += np.add.reduceat(self.weights[rows] * values[:, None], starts, axis=0)
        return out

    def to_json(self, digits: int = 4) -> dict:
        terms = sorted(self.index, key=self.index.get)
        return {"outputs": list(self.outputs), "bias": [round(float(b), digits) for b in self.bias],
                "idf": {t: round(float(self.idf[self.index[t]]), digits) for t in terms},
                "weights": {t: [round(float(w), digits) for w in self.weights[self.index[t]]] for t in terms}}

    @classmethod
    def from_json(cls, data: dict) -> "LinearText":
        terms = list(data["idf"])
        return cls(tuple(data["outputs"]), {t: i for i, t in enumerate(terms)},
                   np.array([data["idf"][t] for t in terms], dtype=float),
                   np.array([data["weights"][t] for t in terms], dtype=float).reshape(len(terms), len(data["outputs"])),
                   np.array(data["bias"], dtype=float))
