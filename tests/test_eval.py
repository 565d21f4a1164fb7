"""The labelled development set and `ofsted-kg eval`."""

import json
from pathlib import Path

from click.testing import CliRunner

from conftest import SHARED
from ofsted_kg.cli import cli
from ofsted_kg.extract.evaluate import Scores
from ofsted_kg.extract.labels import load_labels
from ofsted_kg.extract.themes import theme_labels

LABELS = Path(__file__).parent / "data" / "theme_labels.json"


def test_labelled_set_is_what_the_issue_asks_for():
    labels = load_labels(LABELS)
    findings = [lab for lab in labels if lab.passage == "finding"]
    recs = [lab for lab in labels if lab.passage == "recommendation"]
    assert len(findings) >= 400 and len(recs) >= 100
    corpus_reports = {lab.sha256 for lab in labels if lab.file.startswith("corpus/ofsted/")}
    assert len(corpus_reports) >= 60
    assert {lab.kind for lab in labels} >= {"ilacs-standard", "ilacs-short", "sif", "sif-reinspection",
                                             "looked-after-children", "lscb-review"}
    themes = set(theme_labels().labels)
    assert all(set(lab.themes) <= themes for lab in labels)
    assert all(lab.polarity in {"strength", "weakness", "mixed", "neutral"} for lab in findings)
    assert all(lab.polarity is None for lab in recs)
    # whole documents go to one split, so nothing tuned on leaks into the test
    tune = {lab.sha256 for lab in labels if lab.split == "tune"}
    test = {lab.sha256 for lab in labels if lab.split == "test"}
    assert tune and test and not (tune & test)
    assert all(lab.file and (SHARED / lab.file).exists() for lab in labels)


def test_scores_micro_macro_and_polarity():
    sc = Scores()
    sc.add({"cse", "missing"}, {"cse"})           # 1 tp, 1 fn
    sc.add({"neglect"}, {"neglect", "missing"})    # 1 tp, 1 fp
    sc.polarity[("strength", "strength")] += 3
    sc.polarity[("weakness", "mixed")] += 1
    m = sc.metrics()
    assert (m["True positives"], m["False positives"], m["False negatives"]) == (2, 1, 1)
    assert m["Precision (micro avg)"] == 2 / 3 and m["Recall (micro avg)"] == 2 / 3
    assert sc.theme("missing") == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert abs(m["F1 score (macro avg)"] - (1 + 0 + 1) / 3) < 1e-9
    assert m["Polarity accuracy"] == 0.75


def test_eval_command_on_the_seed_labels(tmp_path):
    rows = json.loads(LABELS.read_text())["labels"]
    seeds = [r for r in rows if r["file"].startswith("corpus/seeds/")]
    assert seeds
    path = tmp_path / "seed_labels.json"
    path.write_text(json.dumps(seeds))
    metrics = tmp_path / "metrics.json"
    result = CliRunner().invoke(cli, ["eval", str(path), "--shared", str(SHARED), "--split", "all",
                                      "--metrics-file", str(metrics)])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("F1 score (micro avg):\t") == 2
    assert f"passages:\t{len(seeds)}" in result.stdout
    report = json.loads(metrics.read_text())
    assert set(report["systems"]) == {"preflabel", "ofsted-kg"} and report["not found"] == 0
    best, base = (report["systems"][s]["metrics"] for s in ("ofsted-kg", "preflabel"))
    assert best["F1 score (micro avg)"] > base["F1 score (micro avg)"]


def test_eval_rejects_a_broken_labels_file(tmp_path):
    bad = tmp_path / "labels.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(cli, ["eval", str(bad)])
    assert result.exit_code == 2 and "cannot read the labelled set" in result.stderr


def test_sentence_labels_fit_their_passages():
    """Every sentence label names a tuning finding, gives one letter per sentence of it (as
    tools/train_polarity_model.py cuts them) and agrees with its polarity, unless the reader
    listed it as read otherwise."""
    from ofsted_kg.extract.labels import find_passage, labelled_extractions
    from ofsted_kg.extract.themes import sentences

    doc = json.loads((LABELS.parent / "sentence_labels.json").read_text())
    marks = doc["sentences"]
    findings = {lab.id: lab for lab in load_labels(LABELS) if lab.passage == "finding"}
    assert set(marks) <= {i for i, lab in findings.items() if lab.split == "tune"}
    assert set(doc["read_otherwise"]) <= set(marks)
    tune = [lab for lab in findings.values() if lab.split == "tune" and lab.polarity != "neutral"]
    assert {lab.id for lab in tune} == set(marks)  # every tuning finding but the neutral ones
    allowed = {"strength": lambda t: set(t) <= set("SN") and "S" in t,
               "weakness": lambda t: set(t) <= set("WN") and "W" in t,
               "mixed": lambda t: "B" in t or "S" in t and "W" in t}
    missing: list[str] = []
    checked = 0
    for _, group, ex in labelled_extractions(tune, SHARED, missing):
        for lab in group:
            letters = marks[lab.id]
            assert len(letters) == len(sentences(find_passage(ex, lab).text)), lab.id
            assert set(letters) <= set("SWBN")
            assert allowed[lab.polarity](letters) or lab.id in doc["read_otherwise"], lab.id
            checked += 1
    assert not missing and checked == len(marks)
    # one passage as read: a finding on visits (labelled mixed) praises, concedes a shortfall, twice
    lab = findings["932e2394165d-f7"]
    ex = next(ex for _, _, ex in labelled_extractions([lab], SHARED, missing))
    sents = sentences(find_passage(ex, lab).text)
    assert sents[0].startswith("Social workers visit children regularly")
    assert sents[1].startswith("This work is not always as focused")
    assert (lab.polarity, marks[lab.id]) == ("mixed", "SWSW")
