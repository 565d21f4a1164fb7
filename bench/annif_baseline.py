"""Annif's mllm backend as a baseline for the theme tagger, on the labelled set's tune and test splits.

Usage: python bench/annif_baseline.py [--shared ../shared] [--venv /work/annif-venv] [--work DIR]
                                      [--trials N] [--seeds N] [--metrics-file FILE]

Run it with the Python that has ofsted_kg installed (it reads each labelled passage with
ofsted-kg's own extraction, as `ofsted-kg eval` does). Annif runs in a separate venv,
built here if missing (python3.11 -m venv; pip install annif==1.4.3), never in this one.

Steps, all under a temporary folder outside the repository (the passages are report text):
1. the vocabulary: ontology/themes.ttl, plus each ofk:contextLabel restated as the
   skos:hiddenLabel it is a sub-property of (Annif reads only SKOS's own label properties),
   loaded with `annif load-vocab`;
2. the corpora: tune.tsv and test.tsv (Annif's short-text format, text<TAB><uri> <uri>);
3. NLTK's punkt_tab sentence model, which every Annif analyzer needs and would download at
   first use (no such download works here): trained instead with NLTK's own PunktTrainer
   on the normalised text of the tune split's reports;
4. choice, on the tune split only: analyzer (snowball, simplemma) x labels (pref+alt, or
   also hidden) x limit x threshold, by micro-F1 of two-fold cross-validation over the tune
   reports (train on one half with `annif train`, score the other with `annif index`);
   with --trials N, `annif hyperopt` (N trials per fold) proposes the forest's parameters
   for the chosen variant, kept only if they raise the cross-validated micro-F1;
5. the chosen variant trained on the whole tune split and scored on the test split with
   `annif eval` (Annif's own figures, per-subject results file), and the same suggestions
   scored the way `ofsted-kg eval` scores, beside ofsted-kg and the prefLabel baseline;
   the forest is random (seeded 0 here), so --seeds N retrains it N-1 more times on the
   same candidates and prints the spread of test micro-F1. Annif's candidate matching is not
   fully repeatable either (see SEEDED_CLI), so two whole runs differ by about 0.01.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANNIF = "annif==1.4.3"
THEME = "https://w3id.org/ofsted-kg/theme/"
VARIANTS = {  # name -> project settings
    "snowball": {"analyzer": "snowball(english)", "use_hidden_labels": "false"},
    "snowball-hidden": {"analyzer": "snowball(english)", "use_hidden_labels": "true"},
    "simplemma": {"analyzer": "simplemma(en)", "use_hidden_labels": "false"},
    "simplemma-hidden": {"analyzer": "simplemma(en)", "use_hidden_labels": "true"},
}
LIMITS = range(1, 11)
THRESHOLDS = [round(0.05 * i, 2) for i in range(20)]
FOCUS = ("cse", "missing", "neglect", "thresholds")

PUNKT = """
import sys
from nltk.tokenize.punkt import PunktTrainer, save_punkt_params
trainer = PunktTrainer()
trainer.INCLUDE_ALL_COLLOCS = True
trainer.train(open(sys.argv[1], encoding="utf-8").read(), finalize=True)
save_punkt_params(trainer.get_params(), dir=sys.argv[2])
"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_venv(venv: Path) -> None:
    """Install Annif into a new venv at `venv` when it has none."""
    if not (venv / "bin" / "annif").exists():
        log(f"building {venv} with {ANNIF} ...")
        subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", ANNIF], check=True)


def read_passages(labels, shared: Path):
    """(label, passage text, normalised text of its report) for each label whose passage is found."""
    from ofsted_kg.extract.labels import find_passage, labelled_extractions

    out, texts, missing = [], {}, []
    for file, group, ex in labelled_extractions(labels, shared, missing):
        texts[group[0].sha256] = ex.normalised.text
        for label in group:
            passage = find_passage(ex, label)
            if passage is None:
                missing.append(f"{label.id}: no passage of {file} fits the label")
            else:
                out.append((label, " ".join(passage.text.split())))
    return out, texts, missing


def write_tsv(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for label, text in rows:
            f.write(text + "\t" + " ".join(f"<{THEME}{t}>" for t in label.themes) + "\n")


def write_docs(folder: Path, rows) -> None:
    """One .txt per passage, for `annif index`."""
    folder.mkdir(parents=True)
    for label, text in rows:
        (folder / f"{label.id}.txt").write_text(text + "\n", encoding="utf-8")


def write_vocab(path: Path) -> int:
    """themes.ttl with every ofk:contextLabel also stated as skos:hiddenLabel; the number added."""
    from ofsted_kg.extract.resources import data_file, parse_turtle
    from rdflib import Graph, Namespace
    from rdflib.namespace import SKOS

    g = parse_turtle(data_file("ontology", "themes.ttl"), Graph())
    ofk = Namespace("https://w3id.org/ofsted-kg/ont#")
    added = list(g.subject_objects(ofk.contextLabel))
    for s, o in added:
        g.add((s, SKOS.hiddenLabel, o))
    g.serialize(path, format="turtle")
    return len(added)


# Annif's mllm forest (sklearn BaggingClassifier) takes no random_state, so it draws from numpy's
# global generator: seed that before the CLI starts, and fix Python's string hashing. Runs still
# differ a little: mllm's label index keeps its token sets in sets ordered by object id, so which of
# a theme's labels is matched, and the order of candidates, can change from one process to the next.
SEEDED_CLI = "import sys, numpy; numpy.random.seed(int(sys.argv.pop(1))); sys.argv[0] = 'annif'; " \
             "from annif.cli import cli; sys.exit(cli())"


class Annif:
    """The annif command (seeded) with this run's projects file, data folder and NLTK data."""

    def __init__(self, venv: Path, work: Path):
        self.python = venv / "bin" / "python"
        self.env = dict(os.environ, ANNIF_PROJECTS=str(work / "projects.cfg"), ANNIF_DATADIR=str(work / "data"),
                        NLTK_DATA=str(work / "nltk_data"), PYTHONHASHSEED="0")

    def __call__(self, *args: str, seed: int = 0) -> str:
        done = subprocess.run([str(self.python), "-c", SEEDED_CLI, str(seed), *args], env=self.env, check=False,
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"annif {' '.join(args)} failed:\n{done.stderr.strip()[-2000:]}")
        return done.stdout


def write_projects(path: Path, projects: dict[str, dict]) -> None:
    lines = []
    for pid, settings in projects.items():
        lines += [f"[{pid}]", f"name={pid}", "language=en", "backend=mllm", "vocab=themes"]
        lines += [f"{k}={v}" for k, v in settings.items()] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def read_index(folder: Path) -> dict[str, list[tuple[float, str]]]:
    """label id -> [(score, theme id)] best first, from `annif index` output files."""
    out = {}
    for f in folder.glob("*.annif"):
        rows = []
        for line in f.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")  # <uri>, label, notation, score
            rows.append((float(fields[-1]), fields[0].strip("<>").removeprefix(THEME)))
        out[f.name.removesuffix(".annif")] = sorted(rows, reverse=True)
    return out


def read_results(path: Path, passages: int):
    """Per-theme counts of an `annif eval --results-file`, as ofsted-kg's Scores."""
    from ofsted_kg.extract.evaluate import Scores

    sc = Scores(passages=passages)
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:  # URI, Label, Support, True_positives, False_positives, False_negatives, ...
        uri, _, _, tp, fp, fn = line.split("\t")[:6]
        t = uri.removeprefix(THEME)
        for counter, n in ((sc.tp, tp), (sc.fp, fp), (sc.fn, fn)):
            if int(n):
                counter[t] = int(n)
    return sc


def chosen(ranked: list[tuple[float, str]], limit: int, threshold: float) -> set[str]:
    """Annif's filter: the `limit` best suggestions whose score is at least `threshold` (and above 0)."""
    return {t for score, t in ranked[:limit] if score >= threshold and score > 0}


def counts(rows, index, limit, threshold) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for label, _ in rows:
        gold, pred = set(label.themes), chosen(index.get(label.id, []), limit, threshold)
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    return tp, fp, fn


def f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def cross_validate(annif: Annif, work: Path, folds, variant: str):
    """Micro-F1 of each (limit, threshold) summed over the two folds, and the suggestions per fold."""
    grid = defaultdict(lambda: [0, 0, 0])
    for k, (train_rows, held_rows) in enumerate(folds):
        pid = f"{variant}-f{k}"
        train_tsv, held_dir = work / f"fold{k}-train.tsv", work / f"fold{k}-held"
        annif("train", pid, str(train_tsv), "-j", "1")
        out_dir = work / f"index-{pid}"
        shutil.copytree(held_dir, out_dir)
        annif("index", pid, str(out_dir), "--limit", "42", "--threshold", "0", "--force")
        index = read_index(out_dir)
        for limit in LIMITS:
            for th in THRESHOLDS:
                c = counts(held_rows, index, limit, th)
                grid[(limit, th)] = [a + b for a, b in zip(grid[(limit, th)], c)]
    return {key: f1(*c) for key, c in grid.items()}


def hyperopt(annif: Annif, work: Path, pid: str, k: int, trials: int) -> dict[str, str]:
    """`annif hyperopt` on fold k's held-out half (the model trained on the other half); its proposal."""
    out = annif("hyperopt", pid, str(work / f"fold{k}-held.tsv"), "--trials", str(trials),
                "--metric", "NDCG", "-j", "1")
    return dict(re.findall(r"^(min_samples_leaf|max_leaf_nodes|max_samples)=(\S+)$", out, re.MULTILINE))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--labels", type=Path, default=ROOT / "tests" / "data" / "theme_labels.json")
    ap.add_argument("--venv", type=Path, default=Path("/work/annif-venv"))
    ap.add_argument("--work", type=Path, help="folder for corpora, models and results (default: a new temporary one)")
    ap.add_argument("--trials", type=int, default=0, help="annif hyperopt trials per fold (0: keep the defaults)")
    ap.add_argument("--seeds", type=int, default=5, help="forests trained on the tune split, for the spread of test micro-F1")
    ap.add_argument("--metrics-file", type=Path, help="write the figures as JSON")
    args = ap.parse_args(argv)

    from ofsted_kg.extract.evaluate import Scores, evaluate
    from ofsted_kg.extract.labels import load_labels

    ensure_venv(args.venv)
    work = args.work or Path(tempfile.mkdtemp(prefix="annif-baseline-"))
    if work.resolve().is_relative_to(ROOT.resolve()):
        raise SystemExit(f"{work}: the work folder must be outside the repository (it holds report text)")
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work}: not empty; give a new or empty folder")
    work.mkdir(parents=True, exist_ok=True)
    log(f"work folder: {work}")
    annif = Annif(args.venv, work)

    labels = load_labels(args.labels)
    rows, texts, missing = read_passages(labels, args.shared)
    for line in missing:
        log(f"Error: {line}")
    tune = [r for r in rows if r[0].split == "tune"]
    test = [r for r in rows if r[0].split == "test"]
    write_tsv(work / "tune.tsv", tune)
    write_tsv(work / "test.tsv", test)

    # two folds of the tune split, by report (a report's passages stay together)
    docs = sorted({lab.sha256 for lab, _ in tune})
    half = [set(docs[0::2]), set(docs[1::2])]
    folds = []
    for k in (0, 1):
        train_rows = [r for r in tune if r[0].sha256 not in half[k]]
        held_rows = [r for r in tune if r[0].sha256 in half[k]]
        write_tsv(work / f"fold{k}-train.tsv", train_rows)
        write_tsv(work / f"fold{k}-held.tsv", held_rows)
        write_docs(work / f"fold{k}-held", held_rows)
        folds.append((train_rows, held_rows))

    punkt_dir = work / "nltk_data" / "tokenizers" / "punkt_tab" / "english"
    punkt_dir.mkdir(parents=True)
    punkt_text = work / "punkt-train.txt"
    punkt_text.write_text("\n\n".join(texts[d] for d in docs), encoding="utf-8")
    subprocess.run([str(args.venv / "bin" / "python"), "-c", PUNKT, str(punkt_text), str(punkt_dir)], check=True)

    added = write_vocab(work / "themes-annif.ttl")
    projects = {}
    for variant, settings in VARIANTS.items():
        for pid in (variant, f"{variant}-f0", f"{variant}-f1"):
            projects[pid] = dict(settings)
    write_projects(work / "projects.cfg", projects)
    annif("load-vocab", "themes", str(work / "themes-annif.ttl"))
    log(f"vocabulary loaded ({added} context labels restated as hidden labels); "
        f"{len(tune)} tune and {len(test)} test passages; tune folds of {len(folds[0][1])} and {len(folds[1][1])}")

    # choose on the tune split only
    best = None
    cv = {}
    for variant, settings in VARIANTS.items():
        grid = cross_validate(annif, work, folds, variant)
        key = max(grid, key=lambda k: (grid[k], -k[0], k[1]))
        cv[variant] = {"limit": key[0], "threshold": key[1], "micro-F1": grid[key]}
        log(f"tune CV {variant}: micro-F1 {grid[key]:.4f} at limit {key[0]}, threshold {key[1]:.2f}")
        if best is None or grid[key] > best[2]:
            best = (variant, key, grid[key])
    variant, (limit, threshold), cv_f1 = best
    forest = {}
    if args.trials:
        proposals = [hyperopt(annif, work, f"{variant}-f{k}", k, args.trials) for k in (0, 1)]
        for k, proposal in enumerate(proposals):
            if not proposal:
                continue
            settings = dict(VARIANTS[variant], **proposal)
            projects.update({f"{variant}-hp{k}{s}": settings for s in ("", "-f0", "-f1")})
            write_projects(work / "projects.cfg", projects)
            grid = cross_validate(annif, work, folds, f"{variant}-hp{k}")
            key = max(grid, key=lambda k: (grid[k], -k[0], k[1]))
            log(f"tune CV {variant} with hyperopt proposal {proposal}: micro-F1 {grid[key]:.4f} "
                f"at limit {key[0]}, threshold {key[1]:.2f}")
            cv[f"{variant}-hp{k}"] = {"limit": key[0], "threshold": key[1], "micro-F1": grid[key], **proposal}
            if grid[key] > cv_f1:
                forest, (limit, threshold), cv_f1 = proposal, key, grid[key]
        if forest:
            projects[variant] = dict(VARIANTS[variant], **forest)
            write_projects(work / "projects.cfg", projects)
    log(f"chosen on tune: {variant} {forest or '(default forest)'}, limit {limit}, threshold {threshold:.2f}")

    # train on all of tune, score test with `annif eval`; its per-subject counts give the comparable figures
    def annif_eval(seed: int) -> tuple[str, Scores]:
        results_file = work / f"annif-test-per-subject-seed{seed}.tsv"
        out = annif("eval", variant, str(work / "test.tsv"), "--limit", str(limit), "--threshold", str(threshold),
                    "--results-file", str(results_file), "-j", "1")
        return out, read_results(results_file, len(test))

    annif("train", variant, str(work / "tune.tsv"), "-j", "1")
    official, annif_scores = annif_eval(0)
    spread = [annif_scores.metrics()["F1 score (micro avg)"]]
    for seed in range(1, args.seeds):  # the same candidates and features, another forest
        annif("train", variant, "--cached", seed=seed)
        spread.append(annif_eval(seed)[1].metrics()["F1 score (micro avg)"])

    test_labels = [lab for lab in labels if lab.split == "test"]
    scores, _ = evaluate(test_labels, args.shared)
    scores = {"preflabel": scores["preflabel"], "annif-mllm": annif_scores, "ofsted-kg": scores["ofsted-kg"]}

    print(f"# annif eval {variant} test.tsv --limit {limit} --threshold {threshold:.2f}  (Annif's own figures)")
    print(official.strip())
    print("# the same test passages, as `ofsted-kg eval` computes its figures (annif-mllm: the counts of the "
          "annif eval above; macro over the themes labelled or predicted)")
    names = list(scores)
    print("metric\t" + "\t".join(names))
    rows_out = {n: scores[n].metrics() for n in names}
    for key in ("passages", "Precision (micro avg)", "Recall (micro avg)", "F1 score (micro avg)",
                "Precision (macro avg)", "Recall (macro avg)", "F1 score (macro avg)"):
        print(key + ":\t" + "\t".join(_fmt(rows_out[n][key]) for n in names))
    print(f"annif-mllm F1 score (micro avg), forest seeds 0-{len(spread) - 1}:\tmin {min(spread):.4f}\t"
          f"mean {sum(spread) / len(spread):.4f}\tmax {max(spread):.4f}")
    print("# per-theme F1")
    print("theme\tsupport\t" + "\t".join(names))
    for t in FOCUS:
        print(f"{t}\t{scores['ofsted-kg'].theme(t)['support']}\t" + "\t".join(f"{scores[n].theme(t)['f1']:.2f}" for n in names))
    if args.metrics_file:
        args.metrics_file.write_text(json.dumps({
            "annif": ANNIF, "variant": variant, "forest": forest, "limit": limit, "threshold": threshold,
            "tune cross-validation": cv, "annif eval": official,
            "test micro-F1 by seed": spread,
            "systems": {n: {"metrics": rows_out[n], "themes": {t: scores[n].theme(t) for t in scores[n].themes()}}
                        for n in names},
        }, indent=1))
    log(f"corpora, models and results left in {work} (report text: delete it when done)")
    return 0


def _fmt(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4f}"


if __name__ == "__main__":
    sys.exit(main())
