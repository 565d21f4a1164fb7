"""What the model-training scripts share: their command line."""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(doc: str, out_name: str, argv=None, sentences: bool = False,
               settings: tuple[str, ...] = ()) -> argparse.Namespace:
    """--labels, --shared, --out (extract/OUT_NAME by default) and --folds, described by `doc`'s first
    line; with `sentences`, --sentences too (the sentence labels, tests/data/sentence_labels.json);
    for each name in `settings`, --NAME C SCALE (a model's inverse penalty and words' scale, fixed
    instead of searched; None when not given)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    if sentences:
        ap.add_argument("--sentences", type=Path, default=ROOT / "tests" / "data" / "sentence_labels.json")
    ap.add_argument("--labels", type=Path, default=ROOT / "tests" / "data" / "theme_labels.json")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=ROOT / "extract" / out_name)
    ap.add_argument("--folds", type=int, default=5)
    for name in settings:
        ap.add_argument(f"--{name}", type=float, nargs=2, metavar=("C", "SCALE"),
                        help=f"fix the {name} model's inverse penalty and words' scale instead of searching")
    return ap.parse_args(argv)
