"""Tag passages with themes: spaCy phrase matching on the SKOS labels of ontology/themes.ttl."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

import spacy
from rdflib import Graph
from rdflib.namespace import SKOS
from spacy.attrs import IDX, LENGTH
from spacy.matcher import PhraseMatcher

from .model import Mention, Passage
from .theme_model import ThemeModel, candidate_features, packaged_model
from .resources import data_file, parse_turtle

THEME_NS = "https://w3id.org/ofsted-kg/theme/"

_WEAK = "|context"
# A label followed by these words names a group, a post or a document, not the subject of the passage.
_PASSING = re.compile(r"\s*(?:sub-?groups?|panels? (?:chair|minutes)|co-?ordinators?|champions?)\b", re.I)
# ...and a strategy, policy or protocol that is only published or launched is a name too
_NAMED = re.compile(r"\b(?:strateg(?:y|ies)|polic(?:y|ies)|protocols?|toolkits?)\b", re.I)
_EVENT = re.compile(r"(?:\s*(?:strateg(?:y|ies)|polic(?:y|ies)|protocols?|toolkits?))?\s+(?:was|were|has been|have been|is|are)\s+"
                    r"(?:published|launched|refreshed|agreed|approved|signed off|written|updated|due)\b", re.I)
# the theme is said to be absent: "no children live in private fostering arrangements", "no concerns about missing"
_NEGATED = re.compile(r"\b(?:no(?!\s+(?:longer|more|less|later|sooner))|none of the|not any|nor)\s+(?:[\w'-]+\s+){0,5}$", re.I)


def _negated(before: str, cut: bool) -> bool:
    """Whether the words `before` a mention, up to its sentence's start, say it is absent.

    Only the last 160 characters are read (the negation is at most six words back); when
    they were cut from a longer sentence, the first, maybe partial, word is dropped.
    """
    if cut:
        before = before[before.find(" ") + 1:] if " " in before else ""
    return bool(_NEGATED.search(before))


# the harms and groups that reports list as kinds of children ("at risk of sexual exploitation, going missing or ...")
_GROUP_THEMES = {"cse", "criminal-exploitation", "exploitation", "missing", "neglect", "domestic-abuse",
                 "harmful-practices", "private-fostering", "uasc", "homeless-16-17", "young-carers", "disabled-children",
                 "youth-justice", "parental-risk", "education"}
_LIST_GAP = re.compile(r"^[\s,;]*(?:(?:and|or|and/or|as well as|including|such as|who are|who)\b[\s,]*)*(?:[\w'-]+\s+){0,3}$", re.I)


def _drop_group_lists(mentions: list[Mention], text: str, offset: int, ends: list[int]) -> list[Mention]:
    """Drop harms named only in a list of three or more groups of children in one sentence.

    A theme in such a list stays when the passage mentions it again outside the list.
    """
    ordered = sorted(mentions, key=lambda m: m.start)
    listed: set[int] = set()
    run: list[int] = []

    def close():
        if len({ordered[k].theme for k in run}) >= 3:
            listed.update(run)

    for k, m in enumerate(ordered):
        if m.theme not in _GROUP_THEMES:
            continue
        if run:
            prev = ordered[run[-1]]
            gap = text[prev.end - offset:m.start - offset]
            same_sentence = bisect_right(ends, prev.start - offset) == bisect_right(ends, m.start - offset)
            if same_sentence and _LIST_GAP.match(gap):
                run.append(k)
                continue
            close()
        run = [k]
    if run:
        close()
    kept = [m for k, m in enumerate(ordered) if k not in listed]
    elsewhere = {m.theme for m in kept}
    return [m for k, m in enumerate(ordered) if k not in listed or m.theme in elsewhere]


# a harm named as a topic of audits, briefings, priorities or issues ("three multi-agency audits, on
# parental mental health, on sexual exploitation and ...", "priorities, including ... CSE") is not a
# subject either; "an audit of neglect cases found ..." is ("of" is not a topic word here)
_TOPIC = re.compile(r"\b(?:audits?|audited|briefings?|priorit(?:y|ies)|themes?|topics?|issues)\b[^.;:]{0,60}"
                    r"\b(?:on|into|about|including|such as|regarding)\b[^.;:]{0,60}$", re.I)


def _drop_topics(mentions: list[Mention], text: str, offset: int, ends: list[int]) -> list[Mention]:
    """Drop harms named only as the topic of an audit, briefing or priority, in the words of
    their sentence before them; a theme stays when the passage mentions it again otherwise."""
    def topic(m: Mention) -> bool:
        if m.theme not in _GROUP_THEMES:
            return False
        i = bisect_right(ends, m.start - offset)
        before = text[ends[i - 1] if i else 0:m.start - offset]
        return bool(_TOPIC.search(before[before.rfind(";") + 1:]))

    dropped = [topic(m) for m in mentions]
    elsewhere = {m.theme for m, d in zip(mentions, dropped) if not d}
    return [m for m, d in zip(mentions, dropped) if not d or m.theme in elsewhere]


# (theme, theme that takes its place in the same sentence, only when the first is a context label)
_SUPERSEDED = [("case-recording", "management-oversight", False), ("planning", "care-leavers", True),
               ("assessment", "early-help", True)]


def _drop_superseded(mentions: list[Mention], offset: int, ends: list[int]) -> list[Mention]:
    """A recorded management rationale is management oversight, not case recording; pathway
    plans are care leavers' work, not planning; early help assessments are early help."""
    sentence = {id(m): bisect_right(ends, m.start - offset) for m in mentions}
    out = []
    for m in mentions:
        if any(m.theme == a and (m.weak or not weak_only) and any(o.theme == b and sentence[id(o)] == sentence[id(m)]
                                                                  for o in mentions)
               for a, b, weak_only in _SUPERSEDED):
            continue
        out.append(m)
    return out


def _evidence(mentions: list[Mention], first_sentence_end: int) -> list[Mention]:
    """One mention for each theme of a passage, or none where its only evidence is in passing.

    A theme with a mention of one of its labels keeps the first such; a theme found only by
    context labels (ofk:contextLabel) keeps its first when one of them is in the passage's
    first sentence or they occur at least twice.
    """
    by_theme: dict[str, list[Mention]] = {}
    for m in sorted(mentions, key=lambda m: m.start):
        by_theme.setdefault(m.theme, []).append(m)
    out = []
    for found in by_theme.values():
        strong = [m for m in found if not m.weak]
        if strong:
            out.append(strong[0])
        elif len(found) >= 2 or found[0].start < first_sentence_end:
            out.append(found[0])
    return sorted(out, key=lambda m: m.start)


@dataclass(frozen=True)
class ThemeLabels:
    """Each theme id with the labels the tagger matches."""

    labels: dict[str, tuple[str, ...]]  # theme id -> labels (pref, alt, hidden)
    pref: dict[str, str]  # theme id -> prefLabel
    context: dict[str, frozenset[str]] = field(default_factory=dict)  # theme id -> context labels, lower case


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
    from .ns import OFK

    labels: dict[str, list[str]] = {}
    pref: dict[str, str] = {}
    context: dict[str, set[str]] = {}
    for concept, notation in graph.subject_objects(SKOS.notation):
        if not str(concept).startswith(THEME_NS):
            continue
        theme = str(notation)
        found: list[str] = []
        for prop in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, OFK.contextLabel):
            for lit in graph.objects(concept, prop):
                if getattr(lit, "language", None) in (None, "en"):
                    found.append(str(lit))
                    if prop == SKOS.prefLabel:
                        pref[theme] = str(lit)
                    elif prop == OFK.contextLabel:
                        context.setdefault(theme, set()).add(str(lit).lower())
        labels[theme] = found
    return ThemeLabels({t: tuple(sorted(set(v))) for t, v in labels.items()}, pref,
                       {t: frozenset(v) for t, v in context.items()})


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


def sentences(text: str, ends: list[int] | None = None) -> list[str]:
    """The sentences of `text` (cut at sentence_ends), without surrounding white space."""
    ends = sentence_ends(text) if ends is None else ends
    return [text[a:b].strip() for a, b in zip([0] + ends[:-1], ends)]


def baseline_tagger() -> "ThemeTagger":
    """The evaluation's baseline: each theme's prefLabel alone, matched exactly (case aside), no rules."""
    labels = theme_labels()
    return ThemeTagger(ThemeLabels({t: (p,) for t, p in labels.pref.items()}, labels.pref), plurals=False, rules=False)


class ThemeTagger:
    """Finds theme mentions in passages of normalised text."""

    def __init__(self, labels: ThemeLabels | None = None, *, plurals: bool = True, rules: bool = True,
                 model: "ThemeModel | None | str" = "packaged"):
        self.labels = labels or theme_labels()
        self.rules = rules
        # the packaged theme model, unless rules are off (the baseline) or a model (or None) is given
        self.model = (packaged_model() if rules else None) if model == "packaged" else model
        self.nlp = spacy.blank("en")  # the tokenizer only: sentences come from sentence_ends
        self.lower = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.exact = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        for theme, labels in self.labels.labels.items():
            context = self.labels.context.get(theme, frozenset()) if rules else frozenset()
            groups: dict[tuple, list[str]] = {}  # (matcher, key) -> phrases
            for label in labels:
                is_acronym = any(w.isupper() and len(w) > 1 for w in label.split())
                key = theme + _WEAK if label.lower() in context else theme
                phrases = [label] if is_acronym else [label.lower()] + (_plural(label.lower()) if plurals else [])
                groups.setdefault(("exact" if is_acronym else "lower", key), []).extend(phrases)
            for (matcher, key), phrases in groups.items():
                getattr(self, matcher).add(key, list(self.nlp.tokenizer.pipe(sorted(set(phrases)))))

    def mentions(self, doc, offset: int, text: str | None = None, ends: list[int] | None = None) -> list[Mention]:
        """Theme mentions in one passage's spaCy doc; `text` is the doc's text and `ends` its
        sentence ends (sentence_ends(text)), found here when not given."""
        matches = []
        for matcher in (self.lower, self.exact):
            matches.extend(matcher(doc))
        if not matches:
            return []
        if text is None:
            text = doc.text  # Doc.text joins the tokens again on every call
        if ends is None:
            ends = sentence_ends(text)
        # character offsets from the token table, without making a Span for every match
        table = doc.to_array([IDX, LENGTH]).tolist()
        strings = doc.vocab.strings
        spans = [(table[start][0], table[end - 1][0] + table[end - 1][1], strings[match_id])
                 for match_id, start, end in matches]
        # longest span first, so that 'child sexual exploitation' wins over 'exploitation'
        spans.sort(key=lambda s: (s[0], -s[1]))
        taken: list[tuple[int, int]] = []
        out: list[Mention] = []
        for start, end, theme in spans:
            if any(start < e and s < end for s, e in taken):
                continue
            words = text[start:end]
            i = min(bisect_right(ends, start), len(ends) - 1)
            sent_start = ends[i - 1] if i else 0
            after = text[end:end + 25]
            if self.rules and (_PASSING.match(after) or _NAMED.search(words + after[:12]) and _EVENT.match(after)
                               or _negated(text[max(sent_start, start - 160):start], start - 160 > sent_start)):
                continue
            taken.append((start, end))
            weak = theme.endswith(_WEAK)
            out.append(Mention(theme.removesuffix(_WEAK), offset + start, offset + end, words, weak))
        if self.rules:
            out = _drop_group_lists(out, text, offset, ends)
            out = _drop_topics(out, text, offset, ends)
            out = _drop_superseded(out, offset, ends)
        return out

    def named(self, text: str) -> set[str]:
        """The themes any of whose labels occur in `text`, before the rules drop any: the text
        model may not add these, since the rules (group lists, names, negation) keep them out."""
        doc = self.nlp.tokenizer(text)
        strings = self.nlp.vocab.strings
        return {strings[match_id].removesuffix(_WEAK) for matcher in (self.lower, self.exact)
                for match_id, _, _ in matcher(doc)}

    def candidates(self, text: str, passages: list[Passage]):
        """For each passage: (its mentions after the rules, the offset where its first sentence
        ends, its sentences). Offsets point into `text`."""
        texts = [text[p.start:p.end] for p in passages]
        for passage, doc, body in zip(passages, self.nlp.tokenizer.pipe(texts), texts):
            ends = sentence_ends(body)
            yield self.mentions(doc, passage.start, body, ends), passage.start + ends[0], sentences(body, ends)

    def tag(self, text: str, passages: list[Passage]) -> list:
        """Set `themes` and `mentions` on each passage; offsets point into `text`.

        A passage keeps one mention for each of its themes, the first in its text: the
        vocabulary's ThemeMention is the evidence for one theme on one passage, and repeats
        of a theme in the same paragraph would add a third of the graph and no new theme.
        Which candidate themes a passage keeps is the theme model's decision
        (theme_model.py) where there is one, else the context-label rule of _evidence.

        Returns the sentences of each passage, in order, for the polarity stage.
        """
        out = []
        if self.model is not None:
            logits = self.model.text_logits_many([(p.kind, text[p.start:p.end]) for p in passages])
        for i, (passage, (found, first_end, sents)) in enumerate(zip(passages, self.candidates(text, passages))):
            if self.model is not None:
                passage.mentions = self._decide(found, passage, first_end, text, logits[i])
            else:
                passage.mentions = _evidence(found, first_end)
            passage.themes = sorted(m.theme for m in passage.mentions)
            out.append(sents)
        return out

    def _decide(self, found: list[Mention], passage: Passage, first_end: int, text: str,
                logits: dict[str, float]) -> list[Mention]:
        """The themes the model keeps, each with its first mention (a strong one if any), and
        those its text model adds (themes no label in the passage names), each with the
        sentence it scores highest for the theme. `logits` are the text model's for the passage."""
        by_theme: dict[str, list[Mention]] = {}
        for m in sorted(found, key=lambda m: m.start):
            by_theme.setdefault(m.theme, []).append(m)
        body = text[passage.start:passage.end]
        out = []
        for theme, group in by_theme.items():
            if self.model.keep(candidate_features(theme, group, passage.kind, first_end, len(by_theme), text,
                                                  passage.section or ""), logits.get(theme)):
                strong = [m for m in group if not m.weak]
                out.append(strong[0] if strong else group[0])
        added = self.model.added(logits, by_theme)
        if added:
            added = [t for t in added if t not in self.named(body)]  # a label the rules dropped keeps it out
            out.extend(_sentence_mentions(self.model, added, passage.kind, body, passage.start))
        return sorted(out, key=lambda m: (m.start, m.theme))


def _sentence_mentions(model: ThemeModel, themes: list[str], kind: str, body: str, offset: int) -> list[Mention]:
    """For each theme, the sentence of `body` that the model's text part scores highest for it."""
    spans = []
    start = 0
    for end in sentence_ends(body):
        piece = body[start:end]
        lead = len(piece) - len(piece.lstrip())
        if piece.strip():
            spans.append((start + lead, start + lead + len(piece.strip())))
        start = end
    scored = [(a, b, logits) for (a, b), logits in zip(spans, model.text_logits_many([(kind, body[a:b]) for a, b in spans]))]
    out = []
    for theme in themes:
        a, b, _ = max(scored, key=lambda s: s[2].get(theme, 0.0))
        out.append(Mention(theme, offset + a, offset + b, body[a:b]))
    return out
