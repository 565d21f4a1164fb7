"""Plain data records passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Paragraph:
    """One paragraph of the normalised text: [start, end) offsets and its page (PDFs)."""

    start: int
    end: int
    text: str
    page: int | None = None


@dataclass
class Normalised:
    """A document's text after cleaning; all offsets in the graph point into `text`."""

    text: str
    paragraphs: list[Paragraph]
    page_count: int | None = None


@dataclass
class Mention:
    theme: str  # theme id, e.g. "cse"
    start: int  # offsets into the normalised text
    end: int
    text: str
    weak: bool = False  # matched a context label (evidence only where it opens the passage or recurs)


@dataclass
class Passage:
    """A finding or a recommendation."""

    kind: str  # "finding" or "recommendation"
    text: str
    start: int
    end: int
    ordinal: int
    number: int | None = None  # the integer the report prints, if any
    label: str | None = None  # the printed paragraph label where it is not an integer ("4.1")
    section: str | None = None
    area: str | None = None  # area id
    page: int | None = None
    underpins_recommendation: bool = False
    themes: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    polarity: str | None = None  # findings only


@dataclass
class Judgement:
    area: str  # area id
    grade: str  # grade id
    text: str  # the words the grade was read from


@dataclass
class Evaluation:
    kind: str  # kind id
    authority: str  # DfE code
    authority_name: str
    title: str
    start: date | None = None
    end: date | None = None
    published: date | None = None
    judgements: list[Judgement] = field(default_factory=list)
    findings: list[Passage] = field(default_factory=list)
    recommendations: list[Passage] = field(default_factory=list)

    @property
    def is_self_evaluation(self) -> bool:
        return self.kind == "committee-report"


@dataclass
class Extraction:
    """Everything read from one source file."""

    path: str
    file_name: str
    sha256: str
    normalised: Normalised
    evaluations: list[Evaluation]
    title: str
    issued: date | None = None
