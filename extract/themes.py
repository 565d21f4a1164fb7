"""Tag passages with themes: spaCy phrase matching on the SKOS labels of ontology/themes.ttl."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import spacy
from rdflib import Graph
from rdflib.namespace import SKOS
from spacy.matcher import PhraseMatcher

from .model import Mention, Passage
from .resources import data_file, parse_turtle

THEME_NS = "https://w3id.org/ofsted-kg/theme/"

# A label found in these surroundings names something other than the subject of the passage.
_PASSING = re.compile(
    r"\b(?:sub-?groups?|panels? (?:chair|minutes)|strategy (?:was|has been|is) (?:published|launched|refreshed)|"
    r"co-?ordinator|champions?)\b",
    re.I,
)
_NEGATED = re.compile(r"\b(?:no|none of the|not any)\s+(?:\w+\s+){0,4}$", re.I)


@dataclass(frozen=True)
class ThemeLabels:
    """Each theme id with the labels the tagger matches."""

    labels: dict[str, tuple[str, ...]]  # theme id -> labels (pref, alt, hidden)
    pref: dict[str, str]  # theme id -> prefLabel


def _plural(label: str) -> list[str]:
    words = label.split()
    last = words[-1]
    if not last.isalpha() or last.isupper() or last.endswith("s"):
        return []
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        plural = last[:-1] + "ies"
    elif last.endswith(("ch", "sh", "x")):
        plural = last + "es"
    else:
        plural = last + "s"
    return [" ".join(words[:-1] + [plural])]


def labels_from_graph(graph: Graph) -> ThemeLabels:
    labels: dict[str, list[str]] = {}
    pref: dict[str, str] = {}
    for concept, notation in graph.subject_objects(SKOS.notation):
        if not str(concept).startswith(THEME_NS):
            continue
        theme = str(notation)
        found: list[str] = []
        for prop in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel):
            for lit in graph.objects(concept, prop):
                if getattr(lit, "language", None) in (None, "en"):
                    found.append(str(lit))
                    if prop == SKOS.prefLabel:
                        pref[theme] = str(lit)
        labels[theme] = found
    return ThemeLabels({t: tuple(sorted(set(v))) for t, v in labels.items()}, pref)


@lru_cache(maxsize=1)
def theme_labels() -> ThemeLabels:
    """The theme labels of the packaged ontology/themes.ttl."""
    return labels_from_graph(parse_turtle(data_file("ontology", "themes.ttl"), Graph()))


# A sentence ends after . ! or ? (and any closing quote or bracket) where white space and a
# capital, a digit, an opening quote or bracket, or a bullet follow; and at the end of the text.
_SENTENCE_END = re.compile(r"""[.!?]+["'\u2019\u201d)\]]*(?=\s+["'\u2018\u201c(\[]?[A-Z0-9\u2022•-])""")


def sentence_ends(text: str) -> list[int]:
    """The offsets at which the sentences of `text` end (the last is len(text))."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not ends or ends[-1] < len(text):
        ends.append(len(text))
    return ends


def baseline_tagger() -> "ThemeTagger":
    """The evaluation's baseline: each theme's prefLabel alone, matched exactly (case aside), no rules."""
    labels = theme_labels()
    return ThemeTagger(ThemeLabels({t: (p,) for t, p in labels.pref.items()}, labels.pref), plurals=False, rules=False)


class ThemeTagger:
    """Finds theme mentions in passages of normalised text."""

    def __init__(self, labels: ThemeLabels | None = None, *, plurals: bool = True, rules: bool = True):
        self.labels = labels or theme_labels()
        self.rules = rules
        self.nlp = spacy.blank("en")  # the tokenizer only: sentences come from sentence_ends
        self.lower = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.exact = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        for theme, labels in self.labels.labels.items():
            lower, exact = [], []
            for label in labels:
                is_acronym = any(w.isupper() and len(w) > 1 for w in label.split())
                (exact if is_acronym else lower).append(label if is_acronym else label.lower())
                if not is_acronym and plurals:
                    lower.extend(_plural(label.lower()))
            if lower:
                self.lower.add(theme, list(self.nlp.tokenizer.pipe(sorted(set(lower)))))
            if exact:
                self.exact.add(theme, list(self.nlp.tokenizer.pipe(sorted(set(exact)))))

    def mentions(self, doc, offset: int, text: str | None = None, ends: list[int] | None = None) -> list[Mention]:
        """Theme mentions in one passage's spaCy doc; `text` is the doc's text and `ends` its
        sentence ends (sentence_ends(text)), found here when not given."""
        spans = []
        for matcher in (self.lower, self.exact):
            for match_id, start, end in matcher(doc):
                spans.append((doc.vocab.strings[match_id], doc[start:end]))
        # longest span first, so that 'child sexual exploitation' wins over 'exploitation'
        spans.sort(key=lambda s: (s[1].start_char, -(s[1].end_char - s[1].start_char)))
        taken: list[tuple[int, int]] = []
        out: list[Mention] = []
        if text is None:
            text = doc.text  # Doc.text joins the tokens again on every call
        for theme, span in spans:
            if any(span.start_char < e and s < span.end_char for s, e in taken):
                continue
            if ends is None:
                ends = sentence_ends(text)
            i = min(bisect_right(ends, span.start_char), len(ends) - 1)
            sent = text[ends[i - 1] if i else 0:ends[i]]
            before = text[max(0, span.start_char - 40):span.start_char]
            after = text[span.end_char:span.end_char + 25]
            if self.rules and (_PASSING.match(after.strip()) or _NEGATED.search(before) and "concern" not in sent.lower()):
                continue
            taken.append((span.start_char, span.end_char))
            out.append(Mention(theme, offset + span.start_char, offset + span.end_char, span.text))
        return out

    def tag(self, text: str, passages: list[Passage]) -> list:
        """Set `themes` and `mentions` on each passage; offsets point into `text`.

        A passage keeps one mention for each of its themes, the first in its text: the
        vocabulary's ThemeMention is the evidence for one theme on one passage, and repeats
        of a theme in the same paragraph would add a third of the graph and no new theme.

        Returns the sentences of each passage, in order, for the polarity stage.
        """
        texts = [text[p.start:p.end] for p in passages]
        out = []
        for passage, doc, body in zip(passages, self.nlp.tokenizer.pipe(texts), texts):
            ends = sentence_ends(body)
            first: dict[str, Mention] = {}
            for m in self.mentions(doc, passage.start, body, ends):
                first.setdefault(m.theme, m)
            passage.mentions = sorted(first.values(), key=lambda m: m.start)
            passage.themes = sorted(first)
            out.append([body[a:b].strip() for a, b in zip([0] + ends[:-1], ends)])
        return out
