"""Train the polarity model (extract/polarity_model.json) on the tuning part of the labelled set.

Usage: python tools/train_polarity_model.py [--labels tests/data/theme_labels.json] [--shared ../shared]
       [--out extract/polarity_model.json] [--folds 5]

Each labelled tuning finding is one example: its features are polarity.polarity_features
of its sentences (the cue rules' verdict by sentence, where the strengths and weaknesses
are, contrasts and a few marker words) and the tf-idf weights of its words
(text_model.words), scaled by a factor; its class is the labelled polarity. The model is a
multinomial logistic regression (scikit-learn's lbfgs, deterministic; install it with
`pip install -e .[train]`). The inverse penalty C and the words' scale are chosen by
cross-validation over whole documents of the tuning part (accuracy), then the model is
fitted on all of it and written. The test part is never read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def examples(labels, shared: Path):
    """(document, sentences, polarity) for each labelled tuning finding."""
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
            out.append((file, sentences(p.text), lab.polarity))
    for line in missing:
        print(f"not used: {line}", file=sys.stderr)
    return out


def fit(rows: list[tuple[list[str], str]], c: float, scale: float):
    """A PolarityModel fitted on (sentences, polarity) rows; `scale` multiplies the words' tf-idf."""
    import numpy as np
    from scipy.sparse import hstack
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from ofsted_kg.extract.polarity import LABELS, PolarityModel, polarity_features
    from ofsted_kg.extract.text_model import LinearText, words

    rows = [(polarity_features(sents), gold, words(" ".join(sents))) for sents, gold in rows]
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
    return PolarityModel(weights, text)


def main(argv=None) -> int:
    from training import parse_args

    args = parse_args(__doc__, "polarity_model.json", argv)

    from ofsted_kg.extract.labels import load_labels
    from ofsted_kg.extract.polarity import rule_polarity

    tune = [lab for lab in load_labels(args.labels)
            if lab.split == "tune" and lab.passage == "finding" and lab.polarity]
    data = examples(tune, args.shared)
    docs = sorted({d for d, _, _ in data})
    fold_of = {d: i % args.folds for i, d in enumerate(docs)}
    rule_right = sum(rule_polarity(sents) == gold for _, sents, gold in data)
    print(f"{len(data)} findings from {len(docs)} documents; the rules alone: accuracy {rule_right / len(data):.4f}",
          file=sys.stderr)
    results = {}
    for c, scale in [(c, scale) for c in (0.3, 1.0, 3.0) for scale in (2.0, 4.0, 8.0)]:
        right = 0
        for k in range(args.folds):
            model = fit([(sents, g) for d, sents, g in data if fold_of[d] != k], c, scale)
            right += sum(model.predict(sents) == g for d, sents, g in data if fold_of[d] == k)
        results[(c, scale)] = right / len(data)
        print(f"C {c}, words x{scale}: cross-validated accuracy {results[(c, scale)]:.4f}", file=sys.stderr)
    c, scale = max(results, key=results.get)
    model = fit([(sents, g) for _, sents, g in data], c, scale)
    doc = {"about": f"Polarity model trained by tools/train_polarity_model.py on the tuning part of "
                    f"{args.labels.name} ({len(data)} findings from {len(docs)} documents); C {c} and words x{scale} "
                    f"chosen by {args.folds}-fold cross-validation over documents (accuracy "
                    f"{results[(c, scale)]:.4f}; the rules alone {rule_right / len(data):.4f}).",
           **model.to_json()}
    args.out.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"chose C {c}, words x{scale}; wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
