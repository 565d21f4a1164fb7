"""Cut a report into findings and recommendations, with their numbers, sections and areas."""

from __future__ import annotations

import re

from .model import Normalised, Paragraph, Passage

_NUMBERED = re.compile(r"^(\d{1,3})\.\s+(?=\S)")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\s+(?=\S)")
_REC_MARK = re.compile(r"\(\s*recommendations?\s*\)\.?\s*$", re.I)
_LEAD_IN = re.compile(r"^(?:immediately|(?:with)?in (?:the next )?(?:\w+ )?(?:weeks?|months?)|by \w+ \d{4})\s*:$", re.I)
_FOOTNOTE = re.compile(r"^[¹²³⁴⁵⁶⁷⁸⁹⁰]")
_GRADE_ONLY = re.compile(r"^(?:outstanding|good|adequate|inadequate|requires improvement(?: to be good)?)\.?$", re.I)

# heading text -> (mode, area); mode None keeps the mode, area None keeps the area
_AREA_HEADINGS = [
    (re.compile(r"experiences and progress of children who need help and protection", re.I), "help-and-protection"),
    (re.compile(r"experiences and progress of children in care and care leavers", re.I), "in-care-and-care-leavers"),
    (re.compile(r"children looked after and achieving permanence|experiences and progress of children in care", re.I), "in-care"),
    (re.compile(r"^(?:the graded judgement (?:for|about) )?adoption performance", re.I), "adoption"),
    (re.compile(r"^(?:the graded judgement (?:for|about) )?(?:the )?experiences? and progress of care leavers", re.I), "care-leavers"),
    (re.compile(r"^leadership, management and governance|^the impact of leaders", re.I), "leadership"),
    (re.compile(r"^(?:the )?local safeguarding children'?s? board|^inspection findings\s*[-–—]\s*the local safeguarding|"
                r"^(?:section \d+:\s*)?the effectiveness of the (?:local safeguarding children'?s? board|lscb)\b(?!.*\b(?:is|are) \w+$)",
                re.I), "lscb"),
]
_REC_HEADINGS = re.compile(
    r"^(?:recommendations?|what needs to improve|areas for (?:priority action|improvement)|priority and immediate action|"
    r"what does the (?:local authority|lscb|local safeguarding children board) need to improve)\b", re.I)
_FINDING_HEADINGS = re.compile(
    r"^(?:inspection findings|headline findings|main findings|findings|summary of (?:key )?findings|"
    r"the (?:local authority's|lscb's|board's) strengths|progress since the last inspection|key strengths and weaknesses)\b", re.I)
_OTHER_HEADINGS = re.compile(
    r"^(?:executive summary|summary|contents|the local authority|information about|summary for children|"
    r"previous ofsted|local leadership|children living in|child protection in this area|children looked after in this area|"
    r"the casework model|the inspection team|next steps|yours sincerely|inspection judgements? about|"
    r"what the inspection judgements? mean)", re.I)
_END = re.compile(r"^(?:yours sincerely|ofsted will take the findings|information about this inspection|the inspection team|"
                  r"ofsted produces this report|the office for standards in education|© crown copyright|"
                  r"if you would like a copy of this document)", re.I)
_SIF_ORDER = ["help-and-protection", "in-care", "leadership"]
_PARENT = {"adoption": "in-care", "care-leavers": "in-care"}


def is_heading(text: str) -> bool:
    """A short line with no closing full stop that starts with a capital."""
    if "\t" in text or text.startswith("- ") or _NUMBERED.match(text) or _DOTTED.match(text):
        return False
    words = text.split()
    limit = 26 if any(pat.search(text) for pat, _ in _AREA_HEADINGS) else 16
    if not words or len(words) > limit or not (text[0].isupper() or text[0].isdigit()):
        return False
    return not text.rstrip().endswith((".", ",", ";", ":")) or text.endswith("?")


def _section_heading(text: str) -> bool:
    """A heading that opens a section of its own (not a sub-heading inside a list)."""
    return bool(_REC_HEADINGS.match(text) or _FINDING_HEADINGS.match(text) or _OTHER_HEADINGS.match(text))


def _next_number(paras: list[Paragraph], i: int) -> int | None:
    for para in paras[i + 1:i + 4]:
        m = _NUMBERED.match(para.text)
        if m:
            return int(m.group(1))
        if is_heading(para.text):
            return None
    return None


class _Builder:
    def __init__(self, norm: Normalised):
        self.norm = norm
        self.findings: list[Passage] = []
        self.recommendations: list[Passage] = []

    def add(self, kind: str, para: Paragraph, skip: int, *, number=None, label=None, section=None, area=None):
        start = para.start + skip
        text = para.text[skip:].strip()
        target = self.findings if kind == "finding" else self.recommendations
        passage = Passage(
            kind=kind, text=text, start=start, end=para.end, ordinal=len(target) + 1,
            number=number, label=label, section=section, area=area, page=para.page,
            underpins_recommendation=bool(kind == "finding" and _REC_MARK.search(text)),
        )
        target.append(passage)
        return passage

    def extend(self, passage: Passage, para: Paragraph):
        """A bullet list or table that belongs to the passage before it."""
        passage.end = para.end
        passage.text = " ".join(self.norm.text[passage.start:passage.end].split())
        passage.underpins_recommendation = passage.kind == "finding" and bool(_REC_MARK.search(passage.text))


def _after_heading(text: str, state: dict) -> None:
    """Update the parser state for a heading."""
    low = text.lower()
    mode, area = state["mode"], state["area"]
    new_area = next((a for pat, a in _AREA_HEADINGS if pat.search(text)), None)
    if new_area:
        if new_area == "lscb":
            state["board"] = True
        state["area"], state["section"] = new_area, text
        if _FINDING_HEADINGS.match(text) or low.startswith("the graded judgement"):
            state["mode"] = "findings"
        elif not (new_area in ("adoption", "care-leavers") and mode == "findings"):
            state["mode"] = "area"
    elif _REC_HEADINGS.match(text):
        state["mode"] = "recs"
    elif _FINDING_HEADINGS.match(text):
        state["mode"] = "findings"
    elif low.startswith("summary") and not low.startswith("summary for") and mode == "findings" and area and not state["board"]:
        # a judgement area whose heading was lost in conversion: SIF areas come in a fixed order
        parent = _PARENT.get(area, area)
        if parent in _SIF_ORDER and _SIF_ORDER.index(parent) + 1 < len(_SIF_ORDER):
            state["area"] = _SIF_ORDER[_SIF_ORDER.index(parent) + 1]
            state["section"] = None
        state["mode"] = "area"
    elif _OTHER_HEADINGS.match(text):
        state["mode"] = "area" if low.startswith("summary") and not low.startswith("summary for") else "other"
    elif mode == "recs":
        state["mode"] = "other"


def inspection_passages(norm: Normalised, kind: str) -> tuple[list[Passage], list[Passage]]:
    """Findings and recommendations of an Ofsted report (inspection, visit, board review)."""
    b = _Builder(norm)
    paras = norm.paragraphs
    state = {"mode": "header", "area": None, "section": None, "board": False}
    last_number = 0
    numbered_doc = kind not in ("focused-visit", "monitoring-visit")
    last: Passage | None = None
    pending: str | None = None
    bullet_list = False  # the recommendations of this section are bullet points, not numbered
    sub_points = False  # the last numbered recommendation ends with a colon: bullets after it are its own
    for i, para in enumerate(paras):
        text = para.text.strip()
        if _END.match(text) and state["mode"] not in ("header", "contents") and "\t" not in text:
            state["mode"], last = "end", None
            continue
        if state["mode"] == "end" and not (
                is_heading(text) and (_section_heading(text) or any(pat.search(text) for pat, _ in _AREA_HEADINGS))):
            continue  # boilerplate after a report's end, until a section of the board's review opens
        if _GRADE_ONLY.match(text):
            continue
        if state["mode"] == "contents":
            # the table of contents repeats the headings; it ends at the first paragraph of body
            # text, and the last heading before that paragraph opens the section it belongs to
            contents_entry = "\t" in text or bool(re.search(r"\s\d{1,3}$", text))
            if contents_entry or is_heading(text):
                if not contents_entry:
                    pending = text
                continue
            state["mode"] = "other"
            if pending is not None:
                _after_heading(pending, state)
        if is_heading(text):
            last = None
            if text.lower().startswith("contents"):
                state["mode"], pending = "contents", None
            elif (state["mode"] == "recs" and not _section_heading(text) and not bullet_list
                  and _next_number(paras, i) == last_number + 1):
                pass  # a sub-heading inside a numbered list of recommendations
            else:
                bullet_list = False
                if re.match(r"what does the (?:lscb|local safeguarding)", text, re.I):
                    state["board"] = True
                _after_heading(text, state)
            continue
        m = _NUMBERED.match(text)
        if state["mode"] == "area" and m and int(m.group(1)) == last_number + 1:
            state["mode"] = "findings"  # the 'Inspection findings' heading was lost in conversion
        mode, area, section = state["mode"], state["area"], state["section"]
        if m and mode not in ("recs", "findings", "header"):
            last_number = int(m.group(1))  # the report numbers its paragraphs in one sequence
        if mode == "recs" and m and last is not None and last.kind == "recommendation" and last.number is None:
            mode = state["mode"] = "findings"  # numbered paragraphs after a list of bullet points are findings
        if mode == "recs":
            m = _NUMBERED.match(text)
            rec_area = "lscb" if state["board"] else None
            if m:
                number = int(m.group(1))
                last = b.add("recommendation", para, m.end(), number=number, section=section, area=rec_area)
                last_number = number
                sub_points = last.text.rstrip().endswith(":")
            elif _LEAD_IN.match(text):
                # "Within three months:" - the bullets after it are recommendations of their own, and a
                # numbered sentence that only introduces the timed lists is not one
                if (last is not None and re.search(r"(?::|following actions?\.?)\s*$", last.text)
                        and b.recommendations and b.recommendations[-1] is last):
                    b.recommendations.pop()
                last, sub_points = None, False
            elif text.startswith("- ") and last is not None and (
                    sub_points or last.number is not None and text[2:3].islower()):
                b.extend(last, para)  # the sub-points of one recommendation that ends with a colon
            elif text.startswith("- "):
                # an item of a numbered list whose number was lost keeps the list's count
                number = last.number + 1 if last is not None and last.number is not None else None
                last = b.add("recommendation", para, 2, number=number, section=section, area=rec_area)
                bullet_list = bullet_list or number is None
                last_number = number or last_number
            elif last is not None and last.number is not None and _next_number(paras, i) == last.number + 2:
                last = b.add("recommendation", para, 0, number=last.number + 1, section=section, area=rec_area)
                last_number = last.number
            continue
        if mode == "findings":
            m = _NUMBERED.match(text)
            if m and numbered_doc:
                number = int(m.group(1))
                last = b.add("finding", para, m.end(), number=number, section=section, area=area)
                last_number = number
            elif numbered_doc:
                nxt = _next_number(paras, i)
                if nxt is not None and nxt == last_number + 2:
                    last = b.add("finding", para, 0, number=last_number + 1, section=section, area=area)
                    last_number += 1
                elif last is not None and not _FOOTNOTE.match(text):
                    b.extend(last, para)  # a list, or the rest of a numbered paragraph cut by a page break
            elif text.startswith("- ") and last is not None:
                b.extend(last, para)
            else:
                last = b.add("finding", para, 0, section=section, area=area)
    return b.findings, b.recommendations


_COMMITTEE_HEADING = re.compile(r"^(\d{1,2})\.?0?\s+([A-Z][A-Z0-9 ,/&'()\-:]+)$")
# the standard closing sections of a council report say nothing about services
_COMMITTEE_SKIP = re.compile(
    r"recommended action|recommendation|contribution to (?:the )?strategic aims|community engagement|equality impact|"
    r"legal implications|financial implications|background papers|contact|appendi", re.I)


def committee_passages(norm: Normalised) -> tuple[list[Passage], list[Passage]]:
    """A committee report's numbered paragraphs ("4.1") are its findings; it makes no recommendations on services."""
    b = _Builder(norm)
    section = None
    skip_section = False
    for para in norm.paragraphs:
        text = para.text.strip()
        head = _COMMITTEE_HEADING.match(text)
        if head:
            section = head.group(2).strip(" :").capitalize()
            skip_section = bool(_COMMITTEE_SKIP.match(head.group(2)))
            continue
        m = _DOTTED.match(text)
        if m and not skip_section and section is not None:
            b.add("finding", para, m.end(), label=f"{m.group(1)}.{m.group(2)}", section=section)
    return b.findings, []
