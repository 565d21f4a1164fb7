"""Train the theme model (extract/theme_model.json) on the tuning part of the labelled set.

Usage: python tools/train_theme_model.py [--labels tests/data/theme_labels.json] [--shared ../shared]
       [--out extract/theme_model.json] [--folds 5]

Runs the tagger, without a model, over every tuning passage; each candidate theme is
one example (its features from theme_model.candidate_features; positive when the
passage is labelled with the theme). The L2 penalty and the threshold are chosen by
cross-validation over whole documents of the tuning part (micro-F1, counting the
labelled themes that no candidate reached as misses); the model is then fitted on
all of the tuning part and written. The test part is never read.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def examples(labels, shared: Path):
    """(document, [(features, gold?)], themes labelled but never a candidate) per tuning passage."""
    from ofsted_kg.extract.labels import find_passage
    from ofsted_kg.extract.load import load_normalised, read_source
    from ofsted_kg.extract.pipeline import read_structure
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.theme_model import candidate_features
    from ofsted_kg.extract.themes import ThemeTagger

    tagger, register = ThemeTagger(model=None), load_register()
    by_file = defaultdict(list)
    for lab in labels:
        by_file[lab.file].append(lab)
    out = []
    for file, group in sorted(by_file.items()):
        path = shared / file
        data, sha = read_source(path)
        ex = read_structure(path, sha, load_normalised(path, data), register)
        for lab in group:
            p = find_passage(ex, lab)
            if p is None:
                print(f"not found: {lab.id}", file=sys.stderr)
                continue
            (found, first_end, _), = tagger.candidates(ex.normalised.text, [p])
            by_theme = defaultdict(list)
            for m in sorted(found, key=lambda m: m.start):
                by_theme[m.theme].append(m)
            rows = [(candidate_features(t, g, p.kind, first_end, len(by_theme), ex.normalised.text, p.section or ""),
                     int(t in lab.themes))
                    for t, g in by_theme.items()]
            out.append((file, rows, len(set(lab.themes) - set(by_theme))))
    return out


def score(passages, weights, bias, threshold):
    """Micro (tp, fp, fn) of the model's decisions over `passages`."""
    from ofsted_kg.extract.theme_model import ThemeModel

    model = ThemeModel(weights, bias, threshold)
    tp = fp = fn = 0
    for _, rows, unreached in passages:
        fn += unreached
        for feats, gold in rows:
            keep = model.keep(feats)
            tp += keep and gold
            fp += keep and not gold
            fn += gold and not keep
    return tp, fp, fn


def f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main(argv=None) -> int:
    from training import parse_args

    args = parse_args(__doc__, "theme_model.json", argv)

    from ofsted_kg.extract.labels import load_labels
    from ofsted_kg.extract.theme_model import ThemeModel, train

    tune = [lab for lab in load_labels(args.labels) if lab.split == "tune"]
    data = examples(tune, args.shared)
    docs = sorted({d for d, _, _ in data})
    fold_of = {d: i % args.folds for i, d in enumerate(docs)}
    thresholds = [round(0.30 + 0.05 * i, 2) for i in range(9)]
    results = {}
    for l2 in (0.3, 1.0, 3.0, 10.0):
        totals = {t: [0, 0, 0] for t in thresholds}
        for k in range(args.folds):
            fit = [row for d, rows, _ in data if fold_of[d] != k for row in rows]
            held = [p for p in data if fold_of[p[0]] == k]
            weights, bias = train(fit, l2=l2)
            for t in thresholds:
                for i, v in enumerate(score(held, weights, bias, t)):
                    totals[t][i] += v
        for t in thresholds:
            results[(l2, t)] = f1(*totals[t])
        best_t = max(thresholds, key=lambda t: results[(l2, t)])
        print(f"l2 {l2}: cross-validated micro-F1 {results[(l2, best_t)]:.4f} at threshold {best_t}", file=sys.stderr)
    keep_all = [0, 0, 0]
    for _, rows, unreached in data:
        keep_all[0] += sum(g for _, g in rows)
        keep_all[1] += sum(1 - g for _, g in rows)
        keep_all[2] += unreached
    print(f"every candidate kept: micro-F1 {f1(*keep_all):.4f}", file=sys.stderr)
    l2, threshold = max(results, key=results.get)
    weights, bias = train([row for _, rows, _ in data for row in rows], l2=l2)
    model = ThemeModel(weights, bias, threshold)
    doc = {"about": f"Theme model trained by tools/train_theme_model.py on the tuning part of {args.labels.name} "
                    f"({len(data)} passages, {sum(len(r) for _, r, _ in data)} candidate themes); L2 {l2} and "
                    f"threshold {threshold} chosen by {args.folds}-fold cross-validation over documents "
                    f"(micro-F1 {results[(l2, threshold)]:.4f}).", **model.to_json()}
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"chose l2 {l2}, threshold {threshold}; wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
