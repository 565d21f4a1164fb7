"""Run the extraction stages on one file: load, normalise, kind, structure, passages, themes, polarity."""

from __future__ import annotations

import logging
from pathlib import Path

from .errors import DocumentError
from .kind import recognise_kind
from .load import load_normalised, read_source
from .model import Evaluation, Extraction, Normalised
from .passages import committee_passages, inspection_passages
from .polarity import set_polarity
from .structure import inspection_dates, inspection_periods, judgements, published_date, resolve_authority
from .themes import ThemeTagger

log = logging.getLogger(__name__)

SHORT_ILACS_MAX_DAYS = 5


def _working_days(start, end) -> int:
    from datetime import timedelta

    days, d = 0, start
    while d <= end:
        days += d.weekday() < 5
        d += timedelta(days=1)
    return days


def ilacs_kind(head: str, start, end) -> str:
    """Short or standard ILACS inspection, from the working days on site (five or fewer is short)."""
    periods = inspection_periods(head) or ([(start, end)] if start and end else [])
    days = sum(_working_days(a, b) for a, b in periods)
    return "ilacs-short" if periods and days <= SHORT_ILACS_MAX_DAYS else "ilacs-standard"


def title_of(norm: Normalised) -> str:
    for para in norm.paragraphs[:12]:
        low = para.text.lower()
        if any(w in low for w in ("inspection of", "focused visit", "monitoring visit", "review of", "report by")):
            return para.text[:300]
    return norm.paragraphs[0].text[:300] if norm.paragraphs else ""


def read_structure(path: Path, sha256: str, norm: Normalised, register) -> Extraction:
    """The structure stage: kind, authority, dates, judgements, findings and recommendations."""
    kind = recognise_kind(norm)
    if kind is None:
        raise DocumentError(path, "not an Ofsted report or committee report on a local authority's children's services "
                                  "(no known title on its first page)")
    la_code, la_name = resolve_authority(norm, register, path)
    start, end = inspection_dates(norm.text[:4000], kind)
    published = published_date(norm, kind)
    if kind == "ilacs":
        kind = ilacs_kind(norm.text[:4000], start, end)
    if kind == "committee-report":
        findings, recs = committee_passages(norm)
    else:
        findings, recs = inspection_passages(norm, kind)
    evaluation = Evaluation(
        kind=kind, authority=la_code, authority_name=la_name, title=title_of(norm),
        start=start, end=end, published=published, judgements=judgements(norm, kind),
        findings=findings, recommendations=recs,
    )
    return Extraction(path=str(path), file_name=path.name, sha256=sha256, normalised=norm,
                      evaluations=[evaluation], title=evaluation.title, issued=published)


def tag_extraction(ex: Extraction, tagger: ThemeTagger) -> None:
    """The NLP stage: themes on every passage, polarity on every finding."""
    for ev in ex.evaluations:
        passages = ev.findings + ev.recommendations
        sentences = tagger.tag(ex.normalised.text, passages)
        set_polarity(ev.findings, sentences[:len(ev.findings)])


def extract_normalised(path: Path, sha256: str, norm: Normalised, register, tagger: ThemeTagger) -> Extraction:
    ex = read_structure(path, sha256, norm, register)
    tag_extraction(ex, tagger)
    return ex


def extract_file(path: Path, register, tagger: ThemeTagger) -> Extraction:
    """Everything ofsted-kg reads from one file, or a DocumentError naming the reason."""
    data, sha256 = read_source(path)
    norm = load_normalised(path, data)
    return extract_normalised(path, sha256, norm, register, tagger)
