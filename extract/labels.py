"""The labelled development set of themes and polarity: load it and find its passages again.

The labels are facts (tests/data/theme_labels.json): each names a document by sha256, a
passage by its kind, ordinal, paragraph number and offsets into the normalised text,
and a fingerprint of the passage's words, never the text itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError


def fingerprint(text: str) -> str:
    """A short hash of a passage's words (spacing ignored), to check a label still fits its passage."""
    return hashlib.sha1(" ".join(text.split()).lower().encode()).hexdigest()[:12]


@dataclass
class Label:
    id: str
    sha256: str
    file: str
    kind: str
    passage: str  # finding or recommendation
    ordinal: int
    number: int | None
    start: int
    end: int
    fingerprint: str
    split: str  # tune or test
    themes: list[str] = field(default_factory=list)
    polarity: str | None = None


def load_labels(path: Path) -> list[Label]:
    try:
        rows = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read the labelled set ({err})") from err
    fields = set(Label.__dataclass_fields__)
    out = []
    for i, row in enumerate(rows.get("labels", rows) if isinstance(rows, dict) else rows):
        try:
            out.append(Label(**{k: v for k, v in row.items() if k in fields}))
        except TypeError as err:
            raise InputError(f"{path}: label {i + 1} is incomplete ({err})") from err
    return out


def find_passage(extraction, label: Label):
    """The passage of `extraction` that `label` names, or None when none fits its fingerprint."""
    passages = [p for ev in extraction.evaluations for p in (ev.findings if label.passage == "finding" else ev.recommendations)]
    for p in passages:
        if p.start == label.start and p.end == label.end and fingerprint(p.text) == label.fingerprint:
            return p
    for p in passages:  # the offsets moved (normalisation changed): the same words elsewhere
        if fingerprint(p.text) == label.fingerprint:
            return p
    return None


def labelled_extractions(labels: list[Label], shared: Path, missing: list[str], progress=None):
    """(file, its labels, its extraction) for each labelled file, read from `shared`.

    A file that cannot be read, or is not the one labelled (its sha256 differs), is
    skipped: each of its labels goes into `missing` with the reason. `progress`, if
    given, is called with "[n/N] file" before each file.
    """
    from collections import defaultdict

    from .errors import DocumentError
    from .load import load_normalised, read_source
    from .pipeline import read_structure
    from .register import load_register

    register = load_register()
    by_file: dict[str, list[Label]] = defaultdict(list)
    for label in labels:
        by_file[label.file].append(label)
    for n, (file, group) in enumerate(sorted(by_file.items()), start=1):
        path = shared / file
        if progress:
            progress(f"[{n}/{len(by_file)}] {file}")
        try:
            data, sha256 = read_source(path)
            if sha256 != group[0].sha256:
                raise DocumentError(path, "the file is not the one labelled (sha256 differs)")
            ex = read_structure(path, sha256, load_normalised(path, data), register)
        except DocumentError as err:
            missing += [f"{lab.id}: {err}" for lab in group]
            continue
        yield file, group, ex
