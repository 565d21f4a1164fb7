"""Give each finding a polarity: strength, weakness, mixed or neutral, from cue words by sentence.

Each sentence is searched for cues of a shortfall (_NEGATIVE) and of good practice
(_POSITIVE); then the context of each cue decides whether it counts:
- a good word negated or hedged ("not well used", "less effective", "a lack of clear
  priorities") counts as a shortfall, not a strength;
- a good word that only states an aim ("to ensure that plans are effective", "this would
  improve", "plans to ...") counts for nothing: plans not yet showing impact are not strengths;
- a negation that denies a harm ("children are not left at risk", "without delay",
  "to prevent delay") or that sits in a clause describing who ("children who do not
  attend school") is not a shortfall; nor are "minimal delay", "not afraid to challenge",
  "low" vacancies, caseloads or turnover, "serious case reviews" or a responsibility taken
  "seriously".
The rules alone call a passage with both kinds of sentence (or a sentence with both)
mixed (rule_polarity). What ingest gives is the choice of a small model, PolarityModel,
that weighs the rules' verdicts by sentence (how many, first or last, the share of each),
contrasts, a few marker words, the passage's words (tf-idf, text_model.py), which
catch the evaluations the cue lists miss and the facts they take for one, and the answers
of a SentenceModel (does each sentence state a strength? a shortfall?), trained on the
sentence labels of tests/data/sentence_labels.json. A passage in
which the rules counted no cue is never a weakness or mixed, and is neutral when they
discounted one (an aim) or when it gives figures (PolarityModel.predict). The rules were
written, and the models trained (tools/train_polarity_model.py, with scikit-learn, shipped
as extract/polarity_model.json), from the tuning part of tests/data/theme_labels.json
only (see LABELLING.md).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

import numpy as np

from .model import Passage
from .text_model import LinearText, sentence_tokens

# The cues, each a regex that begins with a letter (after any lookbehind); matched as whole
# words of the lower-cased sentence, the first in this order winning at one position.
_NEGATIVE_CUES = [
    r"not(?! only| just)(?<!whether or not)(?<!if not)", r"n't", r"no longer", r"never", r"poor(?:ly)?",
    r"weak(?:ness|nesses|er)?", r"inadequate", r"insufficient(?:ly)?",
    r"(?<!without )(?<!without unnecessary )(?<!without undue )(?<!no )delays?", r"delayed", r"drift",
    r"too (?:many|few|slow|slowly|long|late|high|often|variable|narrowly|soon|early|complex)", r"lack(?:s|ed|ing)?",
    r"inconsistent(?:ly)?", r"inconsistenc(?:y|ies)", r"variable", r"var(?:y|ies)", r"fail(?:s|ed|ure|ures|ing|ings)?",
    r"limited", r"unclear", r"unacceptable", r"shortfalls?", r"shortcomings?", r"deficien\w+", r"ineffective", r"unmet",
    r"gaps?", r"serious concerns?", r"significant concerns?", r"continuing concerns?", r"ongoing concerns?",
    r"remaining concerns?", r"some concerns?", r"deteriorat\w+", r"overdue", r"backlog", r"serious(?:ly)?", r"worse",
    r"low(?![- ](?:level|risk))", r"high turnover", r"still", r"yet to", r"only recently", r"too early",
    r"more (?:needs|is needed|needs) to be done", r"more (?:work|to do|to be done)",
    r"needs? to (?:further )?(?:improve|be improved|strengthen|develop)", r"requires? improvement", r"underdeveloped",
    r"under-developed", r"absence of", r"unsuitable", r"instability", r"incomplete", r"out of date", r"cause for concern",
    r"missed opportunit\w+", r"unaware", r"unassessed", r"slower", r"neither", r"difficult",
    # added on the third and fourth tuning sets: shortfalls in findings the rules called neutral
    r"wait(?:ed|ing)? (?:for )?(?:a|too) long", r"turnover", r"pressures?",
]
_POSITIVE_CUES = [
    r"effective(?:ly)?", r"good", r"strong(?:ly)?", r"(?<!as )well(?! as)", r"improv(?:ed|ing|ement|ements)", r"timely",
    r"appropriate(?:ly)?", r"robust", r"comprehensive", r"positive(?:ly)?", r"benefit(?:s|ed|ing)?", r"strengths?",
    r"prompt(?:ly)?", r"high[- ]quality", r"thorough(?:ly)?", r"skilled", r"clear(?:ly)?", r"successful(?:ly)?",
    r"outstanding", r"excellent", r"swift(?:ly)?", r"well[- ]\w+", r"committed", r"helpful", r"sensitive(?:ly)?",
    r"safe", r"stable", r"meets? (?:their|his|her|children's|the child's) needs", r"suitabl[ey]", r"quickly",
    r"impressive", r"exceptional", r"tenacious(?:ly)?", r"diligent(?:ly)?", r"proactive(?:ly)?", r"ambitious",
    r"rigorous(?:ly)?", r"insightful", r"thoughtful(?:ly)?", r"seamless(?:ly)?", r"proportionate", r"decisive(?:ly)?",
    r"accurate(?:ly)?", r"stronger", r"competent(?:ly)?", r"punctual(?:ly)?", r"careful(?:ly)?", r"high level of",
    r"works? hard", r"strengthened", r"encourag\w+", r"tak\w+ (?:\w+ ){0,8}seriously",
    # added on the third and fourth tuning sets: words of good practice in findings the rules called neutral
    r"regular(?:ly)?", r"routine(?:ly)?", r"persisten(?:t|tly|ce)", r"valued?", r"instrumental", r"morale is high",
    r"increasingly",
]


def _cue_pattern(cues: list[str]) -> re.Pattern:
    """One regex for `cues`, its alternatives grouped under their first letter.

    Python's regex engine tries every alternative at every word boundary; grouped, it
    compares one letter per group and then tries only that letter's cues: the same
    matches, faster. A lookbehind before the first letter moves after it, the letter
    added to its text.
    """
    groups: dict[str, list[str]] = {}
    for cue in cues:
        behind = re.match(r"(?:\(\?<!(?:[^()]|\([^()]*\))*?\))*", cue).group(0)
        rest = cue[len(behind):]
        first = rest[0]
        if not first.isalpha():
            raise ValueError(f"a polarity cue must begin with a letter: {cue}")
        moved = "".join(f"(?<!{look[4:-1]}{first})" for look in re.findall(r"\(\?<![^)]*\)", behind))
        groups.setdefault(first, []).append(moved + rest[1:])
    return re.compile(r"\b(?:" + "|".join(f"{c}(?:{'|'.join(g)})" for c, g in groups.items()) + r")\b")


_NEGATIVE = _cue_pattern(_NEGATIVE_CUES)
_POSITIVE = _cue_pattern(_POSITIVE_CUES)
# a contrast inside the sentence; "However," opening a sentence contrasts it with the one before
_CONTRAST = re.compile(r"(?<!^)\b(?:however|but)\b|\b(?:although|despite|while|whilst)\b")
# The context patterns below are searched in the last few words before a cue (_tail), or
# in the clause it sits in (_clause), never anchored at the end of a long window: that keeps
# the rules at about the cost of the plain cue search.
# a good word after these (within a few words) is negated or hedged: a shortfall
_NEGATED_GOOD = re.compile(r"\b(?:not|no|n't|less|neither|nor|lack of|lacks?|lacked|absence of|insufficiently|without|rather than)\b")
# progress only conceded ("some improvements", "early signs of improvement")
_CONCESSION = re.compile(r"\b(?:some|emerging|signs of|initial|early)\b")
# a good word after these only states an aim or a hope: neither strength nor shortfall
_AIM = re.compile(
    r"\b(?:to (?:ensure|make sure|help|further|improve|be|become|achieve|develop|support|promote)|aims?|aimed|designed|would|will|should|"
    r"could|intend\w*|plans? to|in order to|so that|(?:need|needs|needed) to|seeking|seeks?)\b")
# a negation or harm word after these is denied or averted: not a shortfall
_HARM_DENIED_BEFORE = re.compile(
    r"\b(?:prevent\w*|avoid\w*|minimum(?: of)?|minimal|minimi[sz]\w*|reduc\w*|decreas\w*|without|addressed|tackl\w*|redress\w*|reversed?|no|not|n't)\b")
_NOT_HARM_AFTER = re.compile(
    r"^\W*(?:\w+\W+){0,3}?(?:exposed|left|harmed|at risk|deter\w*|experienc\w+ (?:any )?(?:delay|drift)|remain(?:ing|s)? (?:living )?in (?:unsafe|situations|unacceptable)|afraid|hesitant|lost|"
    r"subject to|complacent|drift\w*|delay\w*|in their best interests?|avoidable harm|need|until)\b")
# a clause that only says which children: "children who do not ...", "when children do not ..."
_DESCRIBING = re.compile(r"\b(?:who|whom|when|if|unless|where|whether|those|which)\b")
_CLAUSE_END = re.compile(r"[,;:(]")
_NOT_A_SHORTFALL = re.compile(
    r"(?:vacanc\w*|caseloads?|turnover|sickness|re-?referrals?|level of risk|repeat \w+|offending|comparatively|relatively|already)")
_TAK = re.compile(r"\btak\w+\b")
_STILL_SHORT = re.compile(r"\b(?:not|too|no|poor|limited|few|some|waiting|wait|remain|lack|has|have|is|are)\b")
_LOW_NOW = re.compile(r"^\W*(?:\w+\W+){0,6}?(?:is|are|remains?|has|have|been)?\s*(?:low|lower|reduced|fallen|decreased|"
                     r"stable|minimal)\b")
_SERIOUS_NAMES = (" case review", " incident", " harm", " youth violence", " violence")


def _tail(before: str, words: int) -> str:
    """The last `words` words of `before`."""
    return " ".join(before.split()[-words:])


def _clause(before: str) -> str:
    """The text between the last clause mark (comma, semicolon, colon, bracket) and the cue."""
    marks = list(_CLAUSE_END.finditer(before))
    return before[marks[-1].end():] if marks else before


def _counted(sentence: str) -> tuple[bool, bool]:
    # shortfalls first: the first one that counts settles `negative`, and then the good
    # words need only be read up to the first that counts as a strength
    negative = any(_counts_as_shortfall(m, sentence) for m in _NEGATIVE.finditer(sentence))
    positive = False
    for m in _POSITIVE.finditer(sentence):
        before = sentence[max(0, m.start() - 80):m.start()]
        if m.group(0).startswith(("improv", "positive")) and _CONCESSION.search(_tail(before, 2)):
            continue  # progress conceded, not a strength
        if _NEGATED_GOOD.search(_tail(before, 5)):
            if _DESCRIBING.search(_clause(before)):
                positive = True  # "children who do not attend school are quickly seen": the negation describes
            else:
                negative = True
        elif not _AIM.search(_tail(before, 10)):
            positive = True
        if positive and negative:
            break
    return positive, negative


def _counts_as_shortfall(m: re.Match, sentence: str) -> bool:
    word = m.group(0)
    before = sentence[max(0, m.start() - 80):m.start()]
    after = sentence[m.end():m.end() + 50]
    if word in ("not", "n't", "never"):
        if _NOT_HARM_AFTER.search(after) or _DESCRIBING.search(_clause(before)):
            return False
    elif word in ("unmet", "failed") and _DESCRIBING.search(_clause(before)):
        return False
    elif _HARM_DENIED_BEFORE.search(_tail(before, 5)):
        return False
    if word.startswith("low") and (_NOT_A_SHORTFALL.search(before[-40:]) or _NOT_A_SHORTFALL.match(after.lstrip())):
        return False
    if word.startswith("serious") and (after.startswith(_SERIOUS_NAMES) or word == "seriously" and _TAK.search(before)):
        return False
    if word == "still" and not _STILL_SHORT.search(after[:40]):
        return False
    if word == "turnover" and (_LOW_NOW.match(after) or "low" in _tail(before, 2)):
        return False  # "turnover is low", "low turnover"
    return True


def sentence_polarity(sentence: str) -> tuple[bool, bool]:
    """(has a strength, has a weakness) for one sentence."""
    return _lowered_polarity(sentence.lower())


def _lowered_polarity(sentence: str) -> tuple[bool, bool]:
    positive, negative = _counted(sentence)
    if negative and positive and not _CONTRAST.search(sentence):
        positive = False  # "not effective", "not good enough": the negation wins
    return positive, negative


def _rule(verdicts: list[tuple[bool, bool]]) -> str:
    strength = any(pos for pos, _ in verdicts)
    weakness = any(neg for _, neg in verdicts)
    if strength and weakness:
        return "mixed"
    if weakness:
        return "weakness"
    if strength:
        return "strength"
    return "neutral"


def rule_polarity(sentences: list[str]) -> str:
    """The rules alone: mixed when any sentence has a strength and any a weakness."""
    return _rule([sentence_polarity(s) for s in sentences])


LABELS = ("strength", "weakness", "mixed", "neutral")
_DIGIT = re.compile(r"\d")
# words whose presence in a passage the model weighs: contrasts, quantities and news
# (one pass per sentence finds them and the contrasts of _CONTRAST)
_MARKERS = re.compile(r"\b(however|but|although|despite|while|whilst|most|majority|some|minority|few|not all|too|yet|"
                      r"recently|new)\b")


def polarity_features(sentences: list[str]) -> dict[str, float]:
    """What the polarity model weighs in one passage: the rules' verdict, how many and which
    sentences have a strength or a weakness (first, last, the share of each), whether a
    contrast joins them, and the presence of a few marker words."""
    lowered = [s.lower() for s in sentences]
    return _features(lowered, [_lowered_polarity(s) for s in lowered])


def _features(lowered: list[str], verdicts: list[tuple[bool, bool]]) -> dict[str, float]:
    """polarity_features of the lower-cased sentences and the rules' verdict on each."""
    verdicts = verdicts or [(False, False)]
    n = len(verdicts)
    pos = sum(p for p, _ in verdicts)
    neg = sum(q for _, q in verdicts)
    features = {"bias": 1.0, "rule=" + _rule(verdicts): 1.0,
                "strength sentences": min(pos, 6) / 6, "weakness sentences": min(neg, 6) / 6,
                "strength share": pos / n, "weakness share": neg / n,
                "one weakness among strengths": float(pos > 0 and neg == 1),
                "one strength among weaknesses": float(neg > 0 and pos == 1),
                "first strength": float(verdicts[0][0]), "first weakness": float(verdicts[0][1]),
                "last strength": float(verdicts[-1][0]), "last weakness": float(verdicts[-1][1]),
                "contrast": 0.0}
    for s in lowered:
        for m in _MARKERS.finditer(s):
            word = m.group(1)
            features["word " + word] = 1.0
            if word in ("although", "despite", "while", "whilst") or word in ("however", "but") and m.start():
                features["contrast"] = 1.0  # as _CONTRAST: "However" opening a sentence is not one
    return features


def sentence_features(probabilities: np.ndarray) -> dict[str, float]:
    """What the polarity model weighs of the sentence model's answers for one passage (rows:
    sentences; columns: the chance that the sentence states a strength, and a shortfall): the
    highest of each, the lower of those two highests (both sides present), how many and what
    share of sentences pass one half, the mean, and the verdict the sentences give when a
    passage with both is mixed."""
    return sentence_features_many(probabilities, [len(probabilities)])[0]


def sentence_features_many(probabilities: np.ndarray, sizes: list[int]) -> list[dict[str, float]]:
    """sentence_features of many passages at once: `probabilities` holds the rows of all their
    sentences, passage after passage, `sizes` how many each has (a passage without sentences
    counts as one sentence that states nothing)."""
    sizes = np.asarray(sizes, dtype=int)
    if (sizes == 0).any():  # a row of zeros for each passage without sentences
        rows = np.split(probabilities, np.cumsum(sizes)[:-1])
        probabilities = np.concatenate([r if len(r) else np.zeros((1, 2)) for r in rows] or [np.zeros((0, 2))])
        sizes = np.maximum(sizes, 1)
    if not len(sizes):
        return []
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    high = np.maximum.reduceat(probabilities, starts, axis=0)
    mean = np.add.reduceat(probabilities, starts, axis=0) / sizes[:, None]
    passing = np.add.reduceat((probabilities > 0.5).astype(float), starts, axis=0)
    out = []
    for (hs, hw), (ms, mw), (ns, nw), n in zip(high.tolist(), mean.tolist(), passing.tolist(), sizes.tolist()):
        verdict = "mixed" if ns and nw else "weakness" if nw else "strength" if ns else "neutral"
        out.append({"sentences' max strength": hs, "sentences' max weakness": hw, "sentences' both": min(hs, hw),
                    "sentences with a strength": min(ns, 6) / 6, "sentences with a weakness": min(nw, 6) / 6,
                    "sentences' strength share": ns / n, "sentences' weakness share": nw / n,
                    "sentences' mean strength": ms, "sentences' mean weakness": mw,
                    "sentences say " + verdict: 1.0})
    return out


class SentenceModel:
    """Whether a sentence states a strength, and whether it states a shortfall, as the sentence
    labels of the tuning findings mark them (tests/data/sentence_labels.json): two logistic
    outputs over the sentence's words, the words its negators govern and its pairs of
    neighbouring words (tf-idf, text_model.words and sentence_tokens) and the rules' verdict
    on it (a counted strength cue, a counted shortfall cue, a figure). Trained with the
    polarity model by tools/train_polarity_model.py and shipped inside
    extract/polarity_model.json."""

    INPUTS = ("rule strength", "rule weakness", "figure")

    def __init__(self, text: LinearText, rules: np.ndarray):
        self.text = text  # outputs ("strength", "weakness"), bias included
        self.rules = rules  # (INPUTS, outputs)

    def probabilities(self, sentences: list[str], verdicts: list[tuple[bool, bool]]) -> np.ndarray:
        """One row per sentence: the chance that it states a strength, and a shortfall."""
        if not sentences:
            return np.zeros((0, 2))
        inputs = np.array([(p, q, _DIGIT.search(s) is not None) for s, (p, q) in zip(sentences, verdicts)], dtype=float)
        scores = self.text.text_scores(sentences, [sentence_tokens(s) for s in sentences])
        return 1.0 / (1.0 + np.exp(-(scores + inputs @ self.rules)))

    def to_json(self) -> dict:
        return {"text": self.text.to_json(),
                "rules": {name: [round(float(w), 5) for w in row] for name, row in zip(self.INPUTS, self.rules)}}

    @classmethod
    def from_json(cls, data: dict) -> "SentenceModel":
        return cls(LinearText.from_json(data["text"]), np.array([data["rules"][name] for name in cls.INPUTS], dtype=float))


class PolarityModel:
    """A multinomial logistic regression over polarity_features, the passage's words and, where
    it has a sentence model, sentence_features, one weight per feature (or word) and label,
    trained by tools/train_polarity_model.py and shipped as extract/polarity_model.json."""

    def __init__(self, weights: dict[str, dict[str, float]], text: "LinearText | None" = None,
                 sentence: SentenceModel | None = None):
        self.weights = weights  # label -> feature -> weight
        self.text = text  # the words' weights, one output per label
        self.sentence = sentence

    def scores(self, features: dict[str, float], text_scores: list[float] | None = None) -> dict[str, float]:
        """Each label's score from the features and, where given, the passage's words' scores
        (text_row_scores, in the order of text.outputs)."""
        items = features.items()
        out = {label: sum([w.get(f, 0.0) * v for f, v in items]) for label, w in self.weights.items()}
        if self.text is not None and text_scores is not None:
            for label, z in zip(self.text.outputs, text_scores):
                out[label] = out.get(label, 0.0) + z
        return out

    def text_row_scores(self, passages: list[str]) -> list[list[float]] | None:
        """The words' scores of many passages, computed together (None without a text part)."""
        return self.text.text_scores(passages).tolist() if self.text is not None else None

    def predict(self, sentences: list[str]) -> str:
        """The label with the highest score (see _predict)."""
        return self.predict_many([sentences])[0]

    def predict_many(self, passages: list[list[str]]) -> list[str]:
        """predict for each passage (a list of sentences), with the words of all the passages, and
        all their sentences, scored together."""
        lowered = [[s.lower() for s in sents] for sents in passages]
        verdicts = [[_lowered_polarity(s) for s in low] for low in lowered]
        text_scores = self.text_row_scores([" ".join(sents) for sents in passages]) or [None] * len(passages)
        answers = [None] * len(passages)
        if self.sentence is not None:
            flat = self.sentence.probabilities([s for sents in passages for s in sents],
                                               [v for vs in verdicts for v in vs])
            answers = sentence_features_many(flat, [len(sents) for sents in passages])
        return [self._predict(*row) for row in zip(lowered, verdicts, text_scores, answers)]

    def _predict(self, lowered: list[str], verdicts: list[tuple[bool, bool]], text_scores,
                 answers: dict[str, float] | None) -> str:
        """The label with the highest score. Where the rules' verdict is neutral, no shortfall
        counted, so it is never a weakness or mixed; it stays neutral when the rules discounted
        a cue (an aim, a denied harm) or when it gives figures (a statistic is a fact), else it
        is a strength or neutral as the words decide (most findings without any cue word in the
        tuning part praise in words the cue lists lack)."""
        features = _features(lowered, verdicts)
        labels = LABELS
        if features.get("rule=neutral"):
            if any(_DIGIT.search(s) or _POSITIVE.search(s) or _NEGATIVE.search(s) for s in lowered):
                return "neutral"
            labels = ("strength", "neutral")
        if answers is not None:
            features.update(answers)
        scores = self.scores(features, text_scores)
        return max(labels, key=lambda label: scores.get(label, float("-inf")))

    def to_json(self) -> dict:
        out = {"weights": {label: {f: round(v, 5) for f, v in sorted(w.items()) if abs(v) >= 1e-5}
                           for label, w in self.weights.items()}}
        if self.text is not None:
            out["text"] = self.text.to_json()
        if self.sentence is not None:
            out["sentence"] = self.sentence.to_json()
        return out

    @classmethod
    def from_json(cls, data: dict) -> "PolarityModel":
        return cls(data["weights"], LinearText.from_json(data["text"]) if "text" in data else None,
                   SentenceModel.from_json(data["sentence"]) if "sentence" in data else None)


@lru_cache(maxsize=1)
def packaged_polarity_model() -> PolarityModel | None:
    """The model shipped with the package (extract/polarity_model.json), or None if there is none."""
    from .resources import data_file

    res = data_file("extract", "polarity_model.json")
    if not res.is_file():
        return None
    return PolarityModel.from_json(json.loads(res.read_text(encoding="utf-8")))


def passage_polarity(sentences: list[str], model: "PolarityModel | None | str" = "packaged") -> str:
    """The polarity of a passage from its sentences: the packaged model's choice, or the
    rules' when there is no model (`model=None`)."""
    if model == "packaged":
        model = packaged_polarity_model()
    return model.predict(sentences) if model is not None else rule_polarity(sentences)


def set_polarity(findings: list[Passage], sentences: list[list[str]] | None = None,
                 model: "PolarityModel | None | str" = "packaged") -> None:
    """Polarity of each finding, by sentence (ThemeTagger.tag gives the sentences of each)."""
    from .themes import sentences as split

    if model == "packaged":
        model = packaged_polarity_model()
    if sentences is None:
        sentences = [split(finding.text) for finding in findings]
    if model is None:
        for finding, sents in zip(findings, sentences):
            finding.polarity = rule_polarity(sents)
        return
    for finding, label in zip(findings, model.predict_many(sentences)):
        finding.polarity = label
