"""Accuracy of the structure stage against facts recorded by reading corpus reports.

Usage: python bench/accuracy.py [--shared ../shared] [--jobs 2] [-v]

Reads tests/data/corpus_facts.json (facts read by hand from a stratified sample of
../shared/corpus/ofsted: kind, authority, dates, judgements, recommendation counts)
and prints, for each fact, the share the pipeline gets exactly right, then the
agreement of printed publication dates with manifest.csv for the whole corpus.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_STATE = {}


def _extract(path: str):
    from ofsted_kg.extract.errors import DocumentError
    from ofsted_kg.extract.pipeline import extract_file
    from ofsted_kg.extract.register import load_register
    from ofsted_kg.extract.themes import ThemeTagger

    if not _STATE:
        _STATE["tools"] = (load_register(), ThemeTagger())
    try:
        ex = extract_file(Path(path), *_STATE["tools"])
    except DocumentError as err:
        return {"error": err.reason}
    ev = ex.evaluations[0]
    return {
        "kind": ev.kind, "la_code": ev.authority,
        "start": ev.start.isoformat() if ev.start else None, "end": ev.end.isoformat() if ev.end else None,
        "published": ev.published.isoformat() if ev.published else None,
        "judgements": sorted([j.area, j.grade] for j in ev.judgements),
        "recommendations": len(ev.recommendations),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true", help="print every mismatch")
    args = ap.parse_args(argv)
    corpus = args.shared / "corpus" / "ofsted"
    facts = json.loads((ROOT / "tests" / "data" / "corpus_facts.json").read_text(encoding="utf-8"))
    manifest = list(csv.DictReader((corpus / "manifest.csv").open(encoding="utf-8")))
    paths = sorted({str(corpus / row["file"]) for row in manifest} | {str(corpus / f["file"]) for f in facts})
    with ProcessPoolExecutor(args.jobs) as pool:
        got = dict(zip(paths, pool.map(_extract, paths, chunksize=4)))

    tally: dict[str, list[int]] = {k: [0, 0] for k in ("kind", "authority", "inspection dates", "judgements", "recommendations")}
    extra_judgements = 0
    misses = []

    def score(name, ok, file, detail=""):
        tally[name][0] += bool(ok)
        tally[name][1] += 1
        if not ok:
            misses.append(f"{name}: {file}: {detail}")

    for f in facts:
        g = got[str(corpus / f["file"])]
        if f["kind"] == "not-a-report":
            score("kind", "error" in g, f["file"], f"expected a rejection, got {g.get('kind')}")
            continue
        if "error" in g:
            for name in tally:
                score(name, False, f["file"], g["error"])
            continue
        score("kind", g["kind"] == f["kind"], f["file"], f"{g['kind']} != {f['kind']}")
        score("authority", g["la_code"] == str(f["la_code"]), f["file"], f"{g['la_code']} != {f['la_code']}")
        score("inspection dates", (g["start"], g["end"]) == (f["start_date"], f["end_date"]), f["file"],
              f"{g['start']}..{g['end']} != {f['start_date']}..{f['end_date']}")
        want = {(j["area"], j["grade"]) for j in f["judgements"]}
        have = {tuple(j) for j in g["judgements"]}
        for j in sorted(want):
            score("judgements", j in have, f["file"], f"missing or wrong {j}; got {sorted(have)}")
        extra = have - want
        extra_judgements += len(extra)
        for j in sorted(extra):
            score("judgements", False, f["file"], f"extra {j}")
        expected = (f.get("recommendations") or 0) + (f.get("board_recommendations") or 0)
        score("recommendations", g["recommendations"] == expected, f["file"], f"{g['recommendations']} != {expected}")

    print(f"sample:\t{len(facts)} reports read by hand (tests/data/corpus_facts.json)")
    for name, (ok, n) in tally.items():
        print(f"{name}:\t{ok}/{n}\t{100 * ok / max(n, 1):.1f}%")
    print(f"extra judgements (counted as wrong above):\t{extra_judgements}")
    by_file = {row["file"]: row for row in manifest}
    printed = [(p, g) for p, g in got.items() if "error" not in g and g["published"]]
    agree = sum(g["published"] == by_file[str(Path(p).relative_to(corpus))]["listed_publication_date"] for p, g in printed)
    rejected = [(p, g["error"]) for p, g in got.items() if "error" in g]
    print(f"whole corpus:\t{len(paths)} files, {len(paths) - len(rejected)} read as reports, {len(rejected)} rejected")
    print(f"publication date printed and equal to manifest.csv:\t{agree}/{len(printed)}")
    for p, reason in rejected:
        print(f"  rejected: {Path(p).relative_to(corpus)}: {reason}")
    if args.verbose:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
