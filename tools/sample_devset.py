"""Draw the theme and polarity development set: random passages from 60+ corpus reports and the seeds.

Usage: python tools/sample_devset.py [--shared ../shared] [--out /tmp/devset] [--seed 2026]
       [--exclude tests/data/theme_labels.json] [--split alternate|tune|test] [--scale 1.0] [--no-seeds] [--batches 8]
       [--again] [--findings 7] [--recommendations 2]

Writes, for labelling by hand, batches of passages with their text to --out (outside
the project: no report text is kept in the repository), and prints the sample as JSON
facts (document sha256, passage kind, ordinal, paragraph number, offsets, a fingerprint
of the text) for tests/data/theme_labels.json. Reports are drawn at random within each
kind; within a report, up to 7 findings and 2 recommendations at random. Whole documents
go to the tuning or the test split, alternately in the shuffled order of each kind, so
that no report feeds both.

To add to the set later: --exclude the labels file (its reports are not drawn again),
--split tune to put every new report in the tuning part, --scale to draw fewer reports
per kind, --no-seeds (they are all labelled already). When every report has been drawn:
--again draws more passages from the reports of the --exclude file's tuning part, never
one already labelled (the seeds and the test part's reports are never drawn again); --findings and
--recommendations set how many per report.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# reports drawn per kind (the corpus has 122, 70, 111, 11, 4 and 1 of them)
PER_KIND = {"ilacs-standard": 18, "ilacs-short": 14, "sif": 18, "sif-reinspection": 6, "looked-after-children": 3,
            "lscb-review": 1}
FINDINGS, RECOMMENDATIONS = 7, 2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=Path("/tmp/devset"))
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--exclude", type=Path, default=None, help="a labels file whose reports are not drawn again")
    ap.add_argument("--split", choices=["alternate", "tune", "test"], default="alternate")
    ap.add_argument("--scale", type=float, default=1.0, help="draw this share of the reports per kind")
    ap.add_argument("--no-seeds", action="store_true", help="leave out the seed documents")
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--again", action="store_true",
                    help="more passages from the --exclude file's tuning reports, none already labelled")
    ap.add_argument("--findings", type=int, default=FINDINGS, help="findings drawn per report")
    ap.add_argument("--recommendations", type=int, default=RECOMMENDATIONS, help="recommendations drawn per report")
    args = ap.parse_args(argv)

    def split_of(i: int) -> str:
        return ("tune" if i % 2 == 0 else "test") if args.split == "alternate" else args.split

    from ofsted_kg.extract.errors import DocumentError
    from ofsted_kg.extract.labels import fingerprint, load_labels
    from ofsted_kg.extract.pipeline import extract_file
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.themes import ThemeTagger

    labelled = load_labels(args.exclude) if args.exclude else []
    if args.again and not labelled:
        ap.error("--again needs --exclude (the labels whose tuning reports are drawn again)")
    excluded = {lab.sha256 for lab in labelled}
    # --again: only the tuning reports, without the passages already labelled
    again = {lab.sha256 for lab in labelled if lab.split == "tune"} if args.again else set()
    taken = {(lab.sha256, lab.passage, lab.ordinal) for lab in labelled}
    rng = random.Random(args.seed)
    register, tagger = load_register(), ThemeTagger()
    by_kind: dict[str, list] = defaultdict(list)
    for path in sorted((args.shared / "corpus" / "ofsted").rglob("*.pdf")):
        try:
            ex = extract_file(path, register, tagger)
        except DocumentError:
            continue
        if (ex.sha256 in again) if args.again else (ex.sha256 not in excluded):
            by_kind[ex.evaluations[0].kind].append((path, ex))
    chosen = []
    for kind, n in PER_KIND.items():
        docs = by_kind[kind][:]
        rng.shuffle(docs)
        n = len(docs) if args.again else n
        chosen += [(kind, path, ex, "tune" if args.again else split_of(i))
                   for i, (path, ex) in enumerate(docs[:max(1, round(n * args.scale))])]
    for i, path in enumerate([] if args.no_seeds or args.again else sorted((args.shared / "corpus" / "seeds").iterdir())):
        ex = extract_file(path, register, tagger)
        chosen.append((ex.evaluations[0].kind, path, ex, split_of(i)))

    args.out.mkdir(parents=True, exist_ok=True)
    facts, texts = [], []
    for kind, path, ex, split in chosen:
        findings = [p for ev in ex.evaluations for p in ev.findings if (ex.sha256, p.kind, p.ordinal) not in taken]
        recs = [p for ev in ex.evaluations for p in ev.recommendations if (ex.sha256, p.kind, p.ordinal) not in taken]
        picked = (rng.sample(findings, min(args.findings, len(findings)))
                  + rng.sample(recs, min(args.recommendations, len(recs))))
        for p in sorted(picked, key=lambda p: p.start):
            item = {"id": f"{ex.sha256[:12]}-{p.kind[0]}{p.ordinal}", "sha256": ex.sha256,
                    "file": str(path.relative_to(args.shared)), "kind": kind, "passage": p.kind,
                    "ordinal": p.ordinal, "number": p.number, "start": p.start, "end": p.end,
                    "fingerprint": fingerprint(p.text), "split": split}
            facts.append(item)
            texts.append({"id": item["id"], "report_kind": kind, "passage": p.kind, "section": p.section,
                          "text": p.text})
    order = list(range(len(texts)))
    rng.shuffle(order)
    batches = args.batches
    for b in range(batches):
        with open(args.out / f"batch_{b + 1}.jsonl", "w") as f:
            for i in order[b::batches]:
                f.write(json.dumps(texts[i]) + "\n")
    json.dump(facts, sys.stdout, indent=1)
    print(f"\n{len(chosen)} reports, {sum(f['passage'] == 'finding' for f in facts)} findings, "
          f"{sum(f['passage'] == 'recommendation' for f in facts)} recommendations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
