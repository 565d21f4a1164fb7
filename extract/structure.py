"""Read the header facts of a report: authority, dates and the judgement table."""

from __future__ import annotations

import re
from datetime import date

from .errors import DocumentError
from .model import Judgement, Normalised

MONTHS = {m[:3]: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], start=1)}
_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december|"
          r"jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?")
_DATE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\s+(\d{{4}})\b", re.I)
_RANGE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+({_MONTH}))?(?:\s+(\d{{4}}))?\s*(?:to|-|–|—|─|and|until)\s*"
    rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\s+(\d{{4}})\b",
    re.I,
)
GRADE_WORDS = r"(outstanding|good|adequate|inadequate|requires improvement(?: to be good)?)"
_GRADE = re.compile(rf"^\W*{GRADE_WORDS}\W*$", re.I)


def grade_id(words: str) -> str:
    words = words.lower().strip()
    if words.startswith("requires improvement"):
        return "requires-improvement"
    return words


def _make_date(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), MONTHS[month.lower().rstrip(".")[:3]], int(day))
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """The first 'd Month yyyy' date in `text`."""
    m = _DATE.search(text)
    return _make_date(*m.groups()) if m else None


def parse_range(text: str) -> tuple[date | None, date | None]:
    """A date range such as '23 May to 15 June 2016' or '16 and 17 February 2022'."""
    m = _RANGE.search(text)
    if m:
        d1, m1, y1, d2, m2, y2 = m.groups()
        end = _make_date(d2, m2, y2)
        start = _make_date(d1, m1 or m2, y1 or y2)
        if start and end and start > end and not y1:  # '28 December to 8 January 2016'
            start = _make_date(d1, m1 or m2, str(int(y2) - 1))
        return start, end
    single = parse_date(text)
    return single, single


_INSPECTION_DATE = re.compile(r"\b(?:inspection|visit) dates?:?\s*(.{0,160})", re.I)
_VISIT_ON = re.compile(r"\bvisit to .{0,80}? on ((?:\d{1,2}\D{0,20}){1,3}\d{4})", re.I | re.S)
_PUBLISHED = re.compile(r"\b(?:report )?published:?\s*(.{0,40})", re.I)
_COMMITTEE_DATE = re.compile(r"\bDATE:\s*(.{0,40})", re.I)


def inspection_periods(head: str) -> list[tuple[date, date]]:
    """Every period on site that the 'Inspection dates:' line prints (some inspections had two)."""
    m = _INSPECTION_DATE.search(head)
    if not m:
        return []
    line = head[m.start(1):m.start(1) + 160].split("\n")[0]
    periods = []
    for part in re.split(r"\s+and\s+(?=\d{1,2}\s*(?:-|–|to)\s*\d)", line):
        start, end = parse_range(part)
        if start and end:
            periods.append((start, end))
    return periods


def inspection_dates(head: str, kind: str) -> tuple[date | None, date | None]:
    if kind == "committee-report":
        return None, None
    periods = inspection_periods(head)
    if periods:
        return periods[0][0], periods[-1][1]
    m = _INSPECTION_DATE.search(head)
    if m:
        start, end = parse_range(m.group(1))
        if start:
            return start, end
    m = _VISIT_ON.search(head)
    if m:
        return parse_range(m.group(1))
    return None, None


def published_date(norm: Normalised, kind: str) -> date | None:
    head = norm.text[:4000]
    if kind == "committee-report":
        m = _COMMITTEE_DATE.search(head)
        return parse_date(m.group(1)) if m else None
    m = _PUBLISHED.search(head)
    if m:
        found = parse_date(m.group(1))
        if found:
            return found
    if kind in ("focused-visit", "monitoring-visit"):
        # a letter: the first paragraph that is only a date is the date of the letter
        for para in norm.paragraphs[:30]:
            if _DATE.fullmatch(para.text.strip()):
                return parse_date(para.text)
    return None


# ---------------------------------------------------------------- authority

_AUTHORITY_PATTERNS = [
    re.compile(r"\b(?:focused|monitoring) visit to (.{2,80}?)(?:'s)? children's services\b", re.I),
    re.compile(r"\binspection of (.{2,80}?) local authority children's services\b", re.I),
    re.compile(r"\bchildren's services in (.{2,80}?) (?:are|is|were|require)\b", re.I),
    re.compile(r"\b(?:review of|effectiveness of) (?:the )?(.{2,80}?) (?:local )?safeguarding children board\b", re.I),
]


def authority_candidates(norm: Normalised) -> list[str]:
    """Names that may name the authority, most trusted first."""
    head = norm.text[:3000]
    out: list[str] = []
    for para in norm.paragraphs[:3]:
        if len(para.text.split()) <= 8 and "\t" not in para.text:
            out.append(para.text)
    for pattern in _AUTHORITY_PATTERNS:
        out.extend(m.group(1) for m in pattern.finditer(head))
    return out


def resolve_authority(norm: Normalised, register, path) -> tuple[str, str]:
    """(la_code, name) of the one authority the report is about."""
    from .register import AuthorityError

    problems: list[str] = []
    for name in authority_candidates(norm):
        try:
            auth = register.resolve(name)
        except AuthorityError as err:
            problems.append(str(err))
            continue
        return auth.la_code, auth.name
    found = {a.la_code: a for a in register.find_in(norm.text[:1500])}
    if len(found) == 1:
        auth = next(iter(found.values()))
        return auth.la_code, auth.name
    if len(found) > 1:
        names = ", ".join(f"{a.name} ({a.la_code})" for a in found.values())
        raise DocumentError(path, f"the first page names several authorities ({names}); cannot tell which the report is about")
    raise DocumentError(path, "no authority in the register matches the report's title or first page"
                        + (f" ({problems[0]})" if problems else ""))


# ---------------------------------------------------------------- judgements

_SIF_NUMBERED_AREAS = {"1": "help-and-protection", "2": "in-care", "2.1": "adoption", "2.2": "care-leavers", "3": "leadership"}
AREA_WORDS = [
    ("in-care-and-care-leavers", re.compile(r"children in care and care leavers", re.I)),
    ("care-leavers", re.compile(r"care leavers", re.I)),
    ("adoption", re.compile(r"adoption", re.I)),
    ("help-and-protection", re.compile(r"help and protection", re.I)),
    ("in-care", re.compile(r"looked after|children in care", re.I)),
    ("leadership", re.compile(r"leadership|impact of leaders", re.I)),
    ("lscb", re.compile(r"safeguarding children board|\bLSCB\b", re.I)),
    ("overall", re.compile(r"overall effectiveness|overall judgement", re.I)),
]
_OVERALL = re.compile(
    rf"^(?:children's services in .{{2,80}}? (?:are |is |(?=requires? improvement))(?:judged (?:to be )?)?|"
    rf"the overall judgement is (?:that children's services (?:are |is |(?=requires? improvement)))?|overall effectiveness:? )(?:{GRADE_WORDS}|require (improvement(?: to be good)?))\.?$", re.I)
_BOARD = re.compile(
    rf"^the (?:local safeguarding children'?s? board|lscb)(?: \(\w+\))?(?: is(?: judged(?: to be)?)?)? {GRADE_WORDS}\.?$", re.I
)
_ROW = re.compile(rf"^(.*?)[\s:]*\b{GRADE_WORDS}\.?$", re.I)
_HEADER_END = re.compile(r"^(?:executive summary|contents|summary|headline findings|information about|"
                         r"what needs to improve|recommendations)", re.I)


def area_of(label: str, kind: str) -> str | None:
    num = re.match(r"^(\d(?:\.\d)?)\.?\s", label)
    if num and kind in ("sif", "sif-reinspection"):
        return _SIF_NUMBERED_AREAS.get(num.group(1))
    return next((a for a, pat in AREA_WORDS if pat.search(label)), None)


_OLDER_KINDS = ("looked-after-children", "safeguarding-lac", "child-protection")
_TABLE_ROW_START = re.compile(r"\s(?=(?:[123]\.|[12]\.[12])\s+[A-Z])|\s(?=Children's services in )")
_GRADE_N = re.compile(r"^grade [1-4] \((outstanding|good|adequate|inadequate)\)\.?$", re.I)


def _rows(norm: Normalised):
    """Paragraphs, with judgement-table rows that a PDF ran together cut apart again."""
    for para in norm.paragraphs:
        text = para.text.replace("\t", " ").strip()
        if len(text.split()) <= 80 and _ROW.match(text):
            yield from (part.strip() for part in _TABLE_ROW_START.split(text) if part.strip())
        else:
            yield text


def _older_judgements(norm: Normalised) -> list[Judgement]:
    """Inspections of 2012-2013 grade 'overall effectiveness' on a line of its own, as 'Grade 3 (Adequate)'."""
    previous = ""
    for para in norm.paragraphs:
        text = para.text.strip()
        grade = _GRADE_N.match(text)
        if grade and previous.lower().startswith("overall effectiveness"):
            return [Judgement("overall", grade_id(grade.group(1)), f"{previous}: {text}")]
        previous = text
    return []


def judgements(norm: Normalised, kind: str) -> list[Judgement]:
    """The graded judgements printed in the report's judgement table, and the board's judgement."""
    if kind in _OLDER_KINDS:
        return _older_judgements(norm)
    found: dict[str, Judgement] = {}
    in_header = True
    previous = ""
    for text in _rows(norm):
        if in_header and _HEADER_END.match(text):
            in_header = False
        board = _BOARD.match(text)
        if board and "lscb" not in found:
            found["lscb"] = Judgement("lscb", grade_id(board.group(1)), text)
            continue
        if not in_header:
            continue
        overall = _OVERALL.match(text)
        row = _ROW.match(text) if len(text.split()) <= 24 else None
        if overall:
            words = overall.group(1) or "requires " + overall.group(2)
            found.setdefault("overall", Judgement("overall", grade_id(words), text))
        elif row:
            label = row.group(1).strip() or previous  # a grade alone on its line belongs to the label above
            area = area_of(label, kind) if label and len(label.split()) <= 20 else None
            if area and area not in found:
                found[area] = Judgement(area, grade_id(row.group(2)), text)
        previous = text if len(text.split()) <= 20 else ""
    return list(found.values())
