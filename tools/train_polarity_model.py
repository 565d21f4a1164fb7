"""Train the polarity model (extract/polarity_model.json) on the tuning part of the labelled set.

Usage: python tools/train_polarity_model.py [--labels tests/data/theme_labels.json]
       [--sentences tests/data/sentence_labels.json] [--shared ../shared]
       [--out extract/polarity_model.json] [--folds 5] [--sentence C SCALE] [--passage C SCALE]

Two models, both logistic regressions (scikit-learn's lbfgs, deterministic; install it with
`pip install -e .[train]`):
- The sentence model (polarity.SentenceModel) learns from the sentence labels which
  sentences of a finding state a strength and which a shortfall: one example per sentence
  of a labelled tuning finding, its inputs the tf-idf of the sentence's words, of the words
  its negators govern and of its pairs of neighbouring words (text_model.sentence_tokens),
  scaled by a factor, and the cue rules' verdict on it.
- The passage model (polarity.PolarityModel) learns each finding's labelled polarity from
  polarity.polarity_features of its sentences (the cue rules' verdict by sentence, where the
  strengths and weaknesses are, contrasts and a few marker words), the tf-idf of its words
  (scaled by a factor) and polarity.sentence_features of the sentence model's answers. The
  sentence model's answers on a training finding come from a sentence model fitted on other
  documents, so that they are weighed as they will be on new reports.
The inverse penalties C and the words' scales are chosen by cross-validation over whole
documents of the tuning part (accuracy), by turns: the sentence model's over its grid with
the passage model's fixed, then the passage model's with the sentence model's fixed, until
neither moves; --sentence and --passage fix a model's C and words' scale instead of searching
(its cross-validated accuracy is still printed). Then both are fitted on all of it and
written. The test part is never read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def examples(labels, shared: Path):
    """(document, label id, sentences, polarity) for each labelled tuning finding."""
    from ofsted_kg.extract.labels import find_passage, labelled_extractions
    from ofsted_kg.extract.themes import sentences

    missing: list[str] = []
    out = []
    for file, group, ex in labelled_extractions(labels, shared, missing):
        for lab in group:
            p = find_passage(ex, lab)
            if p is None:
                missing.append(f"{lab.id}: the passage is not found")
                continue
            out.append((file, lab.id, sentences(p.text), lab.polarity))
    for line in missing:
        print(f"not used: {line}", file=sys.stderr)
    return out


def load_sentence_labels(path: Path) -> dict[str, str]:
    """Label id -> one letter per sentence (S strength, W shortfall, B both, N neither)."""
    return json.loads(path.read_text())["sentences"]


def sentence_targets(data, marks: dict[str, str]) -> dict[str, list[tuple[bool, bool]]]:
    """(states a strength, states a shortfall) for each sentence of each finding with sentence
    labels that fit its sentences; a neutral finding's sentences state neither."""
    out = {}
    for _, pid, sents, gold in data:
        letters = marks.get(pid, "N" * len(sents) if gold == "neutral" else None)
        if letters is None:
            continue
        if len(letters) != len(sents):
            print(f"not used: {pid}: {len(letters)} sentence labels for {len(sents)} sentences", file=sys.stderr)
            continue
        out[pid] = [(c in "SB", c in "WB") for c in letters]
    return out


def fit_sentences(rows: list[tuple[list[str], list[tuple[bool, bool]]]], c: float, scale: float):
    """A SentenceModel fitted on (sentences, their targets) rows; `scale` multiplies the words' tf-idf."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from ofsted_kg.extract.polarity import _DIGIT, SentenceModel, _lowered_polarity
    from ofsted_kg.extract.text_model import LinearText, sentence_tokens, words

    sents = [s for ss, _ in rows for s in ss]
    targets = np.array([t for _, ts in rows for t in ts], dtype=bool)
    inputs = csr_matrix(np.array([(*_lowered_polarity(s.lower()), _DIGIT.search(s) is not None) for s in sents],
                                 dtype=float))
    tfidf = TfidfVectorizer(analyzer=lambda tokens: tokens, min_df=2, sublinear_tf=True)
    x = hstack([inputs, scale * tfidf.fit_transform([words(s) + sentence_tokens(s) for s in sents])]).tocsr()
    fits = [LogisticRegression(C=c, max_iter=3000).fit(x, targets[:, j]) for j in range(2)]
    n = inputs.shape[1]
    terms = tfidf.get_feature_names_out()
    text = LinearText(("strength", "weakness"), {t: i for i, t in enumerate(terms)}, tfidf.idf_,
                      scale * np.array([lr.coef_[0][n:] for lr in fits]).T, np.array([lr.intercept_[0] for lr in fits]))
    return SentenceModel(text, np.array([lr.coef_[0][:n] for lr in fits]).T)


def sentence_answers(data, targets, docs: list[str], c: float, scale: float, folds: int) -> dict[str, object]:
    """Label id -> the sentence model's answers on each finding of `data` from documents `docs`,
    each from a sentence model fitted on the other folds of those documents."""
    from ofsted_kg.extract.polarity import _lowered_polarity

    fold_of = {d: i % folds for i, d in enumerate(sorted(docs))}
    out = {}
    for k in range(folds):
        model = fit_sentences([(sents, targets[pid]) for d, pid, sents, _ in data
                               if d in fold_of and fold_of[d] != k and pid in targets], c, scale)
        for d, pid, sents, _ in data:
            if fold_of.get(d) == k:
                out[pid] = model.probabilities(sents, [_lowered_polarity(s.lower()) for s in sents])
    return out


def fit(rows, c: float, scale: float, sentence=None):
    """A PolarityModel fitted on (sentences, polarity, sentence answers or None) rows; `scale`
    multiplies the words' tf-idf; `sentence` is the SentenceModel it ships with."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from ofsted_kg.extract.polarity import LABELS, PolarityModel, polarity_features, sentence_features
    from ofsted_kg.extract.text_model import LinearText, words

    rows = [({**polarity_features(sents), **(sentence_features(p) if p is not None else {})}, gold,
             words(" ".join(sents))) for sents, gold, p in rows]
    cues = DictVectorizer()
    tfidf = TfidfVectorizer(analyzer=lambda tokens: tokens, min_df=2, sublinear_tf=True)
    x = hstack([cues.fit_transform([f for f, _, _ in rows]), scale * tfidf.fit_transform([w for _, _, w in rows])]).tocsr()
    lr = LogisticRegression(C=c, max_iter=5000).fit(x, [g for _, g, _ in rows])
    coef = {label: lr.coef_[list(lr.classes_).index(label)] for label in LABELS}
    bias = {label: float(lr.intercept_[list(lr.classes_).index(label)]) for label in LABELS}
    names, n = cues.get_feature_names_out(), len(cues.vocabulary_)
    weights = {label: {name: float(coef[label][i]) + (bias[label] if name == "bias" else 0.0)
                       for i, name in enumerate(names)} for label in LABELS}
    terms = tfidf.get_feature_names_out()
    text = LinearText(LABELS, {t: i for i, t in enumerate(terms)}, tfidf.idf_,
                      scale * np.array([coef[label][n:] for label in LABELS]).T, np.zeros(len(LABELS)))
    return PolarityModel(weights, text, sentence)


def cross_validate(data, targets, folds: int, c: float, scale: float, sentence_c: float, sentence_scale: float,
                   answers_cache: dict) -> float:
    """Accuracy over the tuning findings, each predicted by models fitted on the other folds."""
    docs = sorted({d for d, _, _, _ in data})
    fold_of = {d: i % folds for i, d in enumerate(docs)}
    right = 0
    for k in range(folds):
        train_docs = [d for d in docs if fold_of[d] != k]
        key = (k, sentence_c, sentence_scale)
        if key not in answers_cache:  # the sentence models do not depend on the passage model's C and scale
            inner = sentence_answers(data, targets, train_docs, sentence_c, sentence_scale, folds - 1)
            outer = fit_sentences([(sents, targets[pid]) for d, pid, sents, _ in data
                                   if fold_of[d] != k and pid in targets], sentence_c, sentence_scale)
            answers_cache[key] = (inner, outer)
        inner, outer = answers_cache[key]
        model = fit([(sents, g, inner[pid]) for d, pid, sents, g in data if fold_of[d] != k], c, scale, outer)
        right += sum(model.predict(sents) == g for d, _, sents, g in data if fold_of[d] == k)
    return right / len(data)


SENTENCE_GRID = [(c, scale) for c in (0.01, 0.03, 0.1) for scale in (16.0, 32.0, 64.0)]
PASSAGE_GRID = [(c, scale) for c in (0.03, 0.1, 0.3, 1.0) for scale in (1.0, 2.0, 4.0)]


def main(argv=None) -> int:
    from training import parse_args

    args = parse_args(__doc__, "polarity_model.json", argv, sentences=True, settings=("sentence", "passage"))

    from ofsted_kg.extract.labels import load_labels
    from ofsted_kg.extract.polarity import rule_polarity

    tune = [lab for lab in load_labels(args.labels)
            if lab.split == "tune" and lab.passage == "finding" and lab.polarity]
    data = examples(tune, args.shared)
    targets = sentence_targets(data, load_sentence_labels(args.sentences))
    docs = sorted({d for d, _, _, _ in data})
    rule_right = sum(rule_polarity(sents) == gold for _, _, sents, gold in data)
    print(f"{len(data)} findings from {len(docs)} documents, {len(targets)} with sentence targets "
          f"({sum(map(len, targets.values()))} sentences; a neutral finding's state nothing); "
          f"the rules alone: accuracy {rule_right / len(data):.4f}", file=sys.stderr)
    cache: dict = {}
    results: dict = {}

    def score(sentence: tuple[float, float], passage: tuple[float, float]) -> float:
        if (sentence, passage) not in results:
            results[(sentence, passage)] = cross_validate(data, targets, args.folds, *passage, *sentence, cache)
            print(f"sentence model C {sentence[0]}, words x{sentence[1]}; passage model C {passage[0]}, words "
                  f"x{passage[1]}: cross-validated accuracy {results[(sentence, passage)]:.4f}", file=sys.stderr)
        return results[(sentence, passage)]

    # coordinate search: the sentence model's grid at the passage model's choice, then the
    # passage model's at the sentence model's, until neither choice moves
    sentence, passage = tuple(args.sentence or (0.03, 32.0)), tuple(args.passage or (0.3, 2.0))
    for _ in range(4):
        before = (sentence, passage)
        if not args.sentence:
            sentence = max(SENTENCE_GRID, key=lambda g: score(g, passage))
        if not args.passage:
            passage = max(PASSAGE_GRID, key=lambda g: score(sentence, g))
        if (sentence, passage) == before:
            break
    score(sentence, passage)
    how = ("fixed by the command line, scored" if args.sentence and args.passage
           else "fixed by the command line where given, the rest chosen" if args.sentence or args.passage
           else "chosen")
    (sc, ss), (c, scale) = sentence, passage
    answers = sentence_answers(data, targets, docs, sc, ss, args.folds)
    sentence_model = fit_sentences([(sents, targets[pid]) for _, pid, sents, _ in data if pid in targets], sc, ss)
    model = fit([(sents, g, answers[pid]) for _, pid, sents, g in data], c, scale, sentence_model)
    doc = {"about": f"Polarity model trained by tools/train_polarity_model.py on the tuning part of "
                    f"{args.labels.name} ({len(data)} findings from {len(docs)} documents) and the sentence "
                    f"labels of {args.sentences.name} ({len(targets)} findings); sentence model C {sc}, words x{ss}; "
                    f"passage model C {c}, words x{scale}; {how} by {args.folds}-fold cross-validation over "
                    f"documents (accuracy {results[(sentence, passage)]:.4f}; the rules alone {rule_right / len(data):.4f}).",
           **model.to_json()}
    args.out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"chose sentence model C {sc}, words x{ss}; passage model C {c}, words x{scale}; wrote {args.out}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
