"""Recognise the kind of document from the words of its first page."""

from __future__ import annotations

import re

from .model import Normalised

# (kind id, pattern on the head of the document); the first that matches wins.
_KINDS: list[tuple[str, re.Pattern]] = [
    ("committee-report", re.compile(r"\bREPORT BY (?:THE )?(?:DIRECTOR|HEAD)\b|\bAGENDA ITEM\b|\bCOMMITTEE\b.{0,80}\bDATE:", re.I | re.S)),
    ("focused-visit", re.compile(r"\bfocused visit to\b", re.I)),
    ("monitoring-visit", re.compile(r"\bmonitoring visit (?:to|of)\b", re.I)),
    ("jtai", re.compile(r"^\W*joint targeted area inspection\b", re.I)),
    ("sif-reinspection", re.compile(r"\bre-?inspection of services for children in need of help and protection", re.I)),
    ("sif", re.compile(r"\binspection of services for children in need of help and protection", re.I)),
    ("lscb-review", re.compile(r"\breview of the effectiveness of the local safeguarding children board", re.I)),
    ("looked-after-children", re.compile(r"\binspection of (?:services for )?looked after children(?:'s)? services\b", re.I)),
    ("ilacs", re.compile(r"\binspection of (?:[\w,&'’ -]{2,80}? )?(?:local authority )?children's (?:social care )?services\b", re.I)),
    ("safeguarding-lac", re.compile(r"\binspection of safeguarding and looked after children services\b", re.I)),
    ("child-protection", re.compile(r"\binspection of local authority arrangements for the protection of children\b", re.I)),
]

HEAD_CHARS = 1500


def head_of(norm: Normalised, chars: int = HEAD_CHARS) -> str:
    """The first page's words with paragraph breaks folded, so a title cut over two lines reads whole."""
    return " ".join(p.text for p in norm.paragraphs[:25])[:chars]


def recognise_kind(norm: Normalised) -> str | None:
    """The kind id of the document, or None when it is not a report we know.

    ILACS inspections come back as "ilacs"; the structure stage decides between
    standard and short from the days on site.
    """
    head = head_of(norm)
    for kind, pattern in _KINDS:
        if pattern.search(head):
            return kind
    return None
