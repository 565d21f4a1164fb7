"""Normalise text: strip conversion noise and cut the text into paragraphs with offsets."""

from __future__ import annotations

import html
import re
import unicodedata

from .model import Normalised, Paragraph

_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
_CHARS = {
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "“": '"', "”": '"', "„": '"', "″": '"',
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u202f": " ", "\u200b": "",
    "\u00ad": "", "\ufeff": "", "…": "...", "\u2010": "-", "\u2011": "-", "\u2212": "-",
}
_TRANSLATE = str.maketrans({**_LIGATURES, **_CHARS})
_SUPERSCRIPTS = re.compile(r"(?<=[A-Za-z\)\.,])[¹²³⁴⁵⁶⁷⁸⁹⁰]+")
_LATEX = re.compile(r"\$([^$\n]{0,300})\$")
_LATEX_CMD = re.compile(r"\\[A-Za-z]+\*?")
_SUP = re.compile(r"<sup>.*?</sup>", re.I | re.S)
_MANGLED_ENTITY = re.compile(r"&(?:</?sup>)+(lt|gt|amp);")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:https?://|mailto:|www\.)[^)\s]*\)")
_MD_EMPH = re.compile(r"(\*\*|__)(.+?)\1")
_HEADING = re.compile(r"^#{1,6}\s*")
_BULLET = re.compile(r"^(?:[-*•■▪●◦◆►➢✓]|\uf0b7|\uf0a7)\s+")
_NUMBERED = re.compile(r"^\(?\d{1,3}(?:\.\d{1,2})?[.)]?\s")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?$", re.I)
_SPACES = re.compile(r"[ ]{2,}")
_TABS = re.compile(r"[ \t]*\t[ \t]*")


def _latex(match: re.Match) -> str:
    body = _LATEX_CMD.sub("", match.group(1))
    body = re.sub(r"\^\{?\d+\}?", "", body)  # footnote marks such as ^1
    return body.replace("{", "").replace("}", "").strip()


def clean_inline(line: str) -> str:
    """Remove character-level noise from one line of converted text."""
    if not line.isascii():
        line = unicodedata.normalize("NFC", line).translate(_TRANSLATE)
    # each rewrite only where its trigger character occurs: most lines have none
    if "$" in line:
        line = _LATEX.sub(_latex, line)
    if "&" in line:
        line = _MANGLED_ENTITY.sub(r"&\1;", line)
        line = html.unescape(line)
    if "<" in line:
        line = _SUP.sub("", line)
        line = _TAG.sub("", line)
    if "](" in line:
        line = _MD_LINK.sub(r"\1", line)
    if "**" in line or "__" in line:
        line = _MD_EMPH.sub(r"\2", line)
    if not line.isascii():
        line = _SUPERSCRIPTS.sub("", line)
    if "\t" in line:
        line = _TABS.sub("\t", line)
    if "  " in line:
        line = _SPACES.sub(" ", line)
    return line.strip()


def _is_table_row(line: str) -> bool:
    return "\t" in line


def _blocks(pages: list[str]) -> list[tuple[str, int, bool]]:
    """Cut pages into blocks: (text, page number, starts-with-marker)."""
    blocks: list[list] = []  # [lines, page, marker, closed]
    for page_no, page in enumerate(pages, start=1):
        current = None
        for raw in page.splitlines():
            line = clean_inline(_HEADING.sub("", raw.strip()))
            if not line or _PAGE_NUMBER.match(line):
                current = None
                continue
            marker = False
            bullet = _BULLET.match(line)
            if bullet:
                rest = line[bullet.end():]
                if _NUMBERED.match(rest):
                    line, marker = rest, True
                else:
                    line, marker = "- " + rest, True
            elif _NUMBERED.match(line):
                marker = True
            if marker or _is_table_row(line) or current is None or _is_table_row(current[0][-1]):
                current = [[line], page_no, marker]
                blocks.append(current)
            else:
                current[0].append(line)
    out = []
    for lines, page_no, marker in blocks:
        text = lines[0]
        for nxt in lines[1:]:
            if re.search(r"[A-Za-z]-$", text) and nxt[:1].islower():
                text += nxt  # word broken over two lines: keep the hyphen, drop the break
            else:
                text += " " + nxt
        out.append((text, page_no, marker))
    return out


def _cut_mid_sentence(text: str) -> bool:
    """A long paragraph that stops without closing punctuation: a page break cut it."""
    return len(text.split()) >= 12 and not text.rstrip().endswith((".", ":", ";", "!", "?", ")"))


def _merge_continuations(blocks: list[tuple[str, int, bool]], paged: bool = False) -> list[tuple[str, int]]:
    """Join a paragraph that a page break or blank line cut in two."""
    merged: list[list] = []
    for text, page_no, marker in blocks:
        if (merged and not marker and page_no != merged[-1][1] and _cut_mid_sentence(merged[-1][0])
                and len(text.split()) >= 8):
            merged[-1][0] += " " + text  # a paragraph that runs on over a page break
            continue
        # in a text conversion a list marker may have been put on the rest of a cut paragraph;
        # in a PDF a bullet glyph is always a list item
        lowercase_bullet = not paged and marker and text.startswith("- ") and text[2:3].islower()
        if (
            merged
            and (not marker or lowercase_bullet and _cut_mid_sentence(merged[-1][0]))
            and (text[:1].islower() or lowercase_bullet)
            and not _is_table_row(merged[-1][0])
        ):
            if lowercase_bullet:
                text = text[2:]
            prev = merged[-1][0]
            joiner = "" if re.search(r"[A-Za-z]-$", prev) else " "
            merged[-1][0] = prev + joiner + text
        else:
            merged.append([text, page_no])
    return [(t, p) for t, p in merged]


_RUNNING_DIGITS = re.compile(r"\d+")
_BULLET_GLYPH = re.compile(r"^(?:[◼■▪●•◦◆►➢✓\uf000-\uf0ff]|-(?=\s))\s*")
_MID_BULLET = re.compile(r"\s+(?=[◼■▪●•\uf000-\uf0ff]\s)")
_FOOTNOTE_MARK = re.compile(r"(?<=[a-z]{3})\d{1,2}$")
_SECTION_WORDS = re.compile(r"^(?:executive summary|summary|contents|recommendations|inspection findings|"
                            r"local leadership|introduction)\b", re.I)
_TERMINAL = (".", "?", "!", ":", ";")


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Header and footer lines that repeat on many pages (page numbers and dates folded)."""
    if len(pages) < 3:
        return set()
    counts: dict[str, int] = {}
    for lines in pages:
        edge = lines[:3] + lines[-3:]
        for key in {_RUNNING_DIGITS.sub("#", line) for line in edge}:
            counts[key] = counts.get(key, 0) + 1
    need = max(3, int(0.4 * len(pages)))
    return {key for key, n in counts.items() if n >= need and key.strip("# ")}


_AREA_HEADING_START = re.compile(r"^(?:The experiences and progress of|The impact of leaders on|What needs to improve)")


def _heading_line(line: str, nxt: str, width: int) -> bool:
    """A short capitalised line with no full stop, followed by a list item or a new sentence."""
    if _AREA_HEADING_START.match(line):
        return True
    if len(line) >= 0.75 * width or not line[:1].isupper() or line.rstrip().endswith((".", ",", ";", ":")):
        return False
    return bool(_BULLET_GLYPH.match(nxt) or _NUMBERED.match(nxt) or nxt[:1].isupper() or not nxt)


def _pdf_blocks(pages: list[str]) -> list[tuple[str, int, bool]]:
    """Cut PDF pages, whose lines are wrapped, into paragraphs.

    A paragraph ends where a line stops short of the page's width after closing
    punctuation, or before a numbered paragraph, a bullet, or a short line (a heading).
    """
    split = [[clean_inline(line) for line in _MID_BULLET.sub("\n", page).split("\n")] for page in pages]
    split = [[line for line in lines if line] for lines in split]
    running = _running_lines(split)
    blocks: list[list] = []
    for page_no, lines in enumerate(split, start=1):
        # the first page keeps its lines: the running header repeats its title
        lines = [ln for ln in lines if (page_no == 1 or _RUNNING_DIGITS.sub("#", ln) not in running)
                 and not _PAGE_NUMBER.match(ln)]
        width = max((len(ln) for ln in lines), default=0)
        current = None
        prev = ""
        for k, line in enumerate(lines):
            line = _FOOTNOTE_MARK.sub("", line)
            marker = False
            bullet = _BULLET_GLYPH.match(line)
            if bullet and len(line) > bullet.end():
                rest = line[bullet.end():]
                line, marker = (rest, True) if _NUMBERED.match(rest) else ("- " + rest, True)
            elif _NUMBERED.match(line) and (current is None or prev.rstrip().endswith(_TERMINAL + (")",))
                                            or len(prev) < 0.8 * width):
                marker = True
            # inside a wrapped paragraph every line but the last runs to the page's width: a short
            # line ends the paragraph, unless what follows continues it in lower case (a wrapped
            # title or table cell) or is a lone word or two (a wrapped grade or name)
            short_prev = len(prev) < 0.75 * width
            ends_prev = prev.rstrip().endswith(_TERMINAL)
            tail = len(line.split()) <= 2 and not line.rstrip().endswith(_TERMINAL) and not _SECTION_WORDS.match(line)
            ends_block = short_prev and (ends_prev or not (line[:1].islower() or tail))
            if ends_prev and not ends_block and _heading_line(line, lines[k + 1] if k + 1 < len(lines) else "", width):
                ends_block = True  # a heading after a paragraph that ran to the page's width
            if marker or current is None or ends_block:
                current = [[line], page_no, marker]
                blocks.append(current)
            else:
                current[0].append(line)
            prev = line
    out = []
    for lines, page_no, marker in blocks:
        text = lines[0]
        for nxt in lines[1:]:
            if re.search(r"[A-Za-z]-$", text) and nxt[:1].islower():
                text += nxt
            else:
                text += " " + nxt
        out.append((text, page_no, marker))
    return out


def normalise_pages(pages: list[str], *, paged: bool) -> Normalised:
    """Normalise a document given as pages (a text file is one page with paged=False)."""
    parts = _merge_continuations(_pdf_blocks(pages) if paged else _blocks(pages), paged)
    paragraphs: list[Paragraph] = []
    chunks: list[str] = []
    offset = 0
    for text, page_no in parts:
        paragraphs.append(Paragraph(offset, offset + len(text), text, page_no if paged else None))
        chunks.append(text)
        offset += len(text) + 2
    return Normalised("\n\n".join(chunks), paragraphs, len(pages) if paged else None)


def normalise_text(text: str) -> Normalised:
    """Normalise the text of a .txt or .md conversion of a report."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    return normalise_pages([text], paged=False)
