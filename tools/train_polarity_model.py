"""Train the polarity model (extract/polarity_model.json) on the tuning part of the labelled set.

Usage: python tools/train_polarity_model.py [--labels tests/data/theme_labels.json] [--shared ../shared]
       [--out extract/polarity_model.json] [--folds 5]

Each labelled tuning finding is one example: its features are polarity.polarity_features
of its sentences (the cue rules' verdict by sentence, where the strengths and weaknesses
are, contrasts and a few marker words), its class the labelled polarity. The model is a
multinomial logistic regression fitted by full-batch gradient descent (deterministic);
the L2 penalty is chosen by cross-validation over whole documents of the tuning part
(accuracy), then the model is fitted on all of it and written. The test part is never read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def examples(labels, shared: Path):
    """(document, features, polarity) for each labelled tuning finding."""
    from ofsted_kg.extract.labels import find_passage, labelled_extractions
    from ofsted_kg.extract.polarity import polarity_features
    from ofsted_kg.extract.themes import sentences

    missing: list[str] = []
    out = []
    for file, group, ex in labelled_extractions(labels, shared, missing):
        for lab in group:
            p = find_passage(ex, lab)
            if p is None:
                missing.append(f"{lab.id}: the passage is not found")
                continue
            out.append((file, polarity_features(sentences(p.text)), lab.polarity))
    for line in missing:
        print(f"not used: {line}", file=sys.stderr)
    return out


def train(rows: list[tuple[dict[str, float], str]], l2: float, epochs: int = 2000, rate: float = 0.5):
    """Weights (label -> feature -> weight) of a multinomial logistic regression with an L2
    penalty on every weight but the bias's. No random start, no shuffling."""
    import numpy as np
    from ofsted_kg.extract.polarity import LABELS

    names = sorted({f for feats, _ in rows for f in feats})
    index = {f: i for i, f in enumerate(names)}
    x = np.zeros((len(rows), len(names)))
    for i, (feats, _) in enumerate(rows):
        for f, v in feats.items():
            x[i, index[f]] = v
    y = np.eye(len(LABELS))[[LABELS.index(label) for _, label in rows]]
    penalised = np.array([[0.0 if name == "bias" else 1.0] for name in names])
    w = np.zeros((len(names), len(LABELS)))
    for _ in range(epochs):
        z = x @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        w -= rate * (x.T @ (p - y) + l2 * penalised * w) / len(rows)
    return {label: {name: float(w[i, j]) for name, i in index.items()} for j, label in enumerate(LABELS)}


def main(argv=None) -> int:
    from training import parse_args

    args = parse_args(__doc__, "polarity_model.json", argv)

    from ofsted_kg.extract.labels import load_labels
    from ofsted_kg.extract.polarity import PolarityModel

    tune = [lab for lab in load_labels(args.labels)
            if lab.split == "tune" and lab.passage == "finding" and lab.polarity]
    data = examples(tune, args.shared)
    docs = sorted({d for d, _, _ in data})
    fold_of = {d: i % args.folds for i, d in enumerate(docs)}
    rule_right = sum(feats.get("rule=" + gold, 0.0) for _, feats, gold in data)
    print(f"{len(data)} findings from {len(docs)} documents; the rules alone: accuracy {rule_right / len(data):.4f}",
          file=sys.stderr)
    results = {}
    for l2 in (1.0, 3.0, 10.0, 30.0):
        right = 0
        for k in range(args.folds):
            model = PolarityModel(train([(f, g) for d, f, g in data if fold_of[d] != k], l2))
            right += sum(model.predict_features(f) == g for d, f, g in data if fold_of[d] == k)
        results[l2] = right / len(data)
        print(f"l2 {l2}: cross-validated accuracy {results[l2]:.4f}", file=sys.stderr)
    l2 = max(results, key=results.get)
    model = PolarityModel(train([(f, g) for _, f, g in data], l2))
    doc = {"about": f"Polarity model trained by tools/train_polarity_model.py on the tuning part of "
                    f"{args.labels.name} ({len(data)} findings from {len(docs)} documents); L2 {l2} chosen by "
                    f"{args.folds}-fold cross-validation over documents (accuracy {results[l2]:.4f}; the rules "
                    f"alone {rule_right / len(data):.4f}).",
           "weights": model.to_json()}
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"chose l2 {l2}; wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
