"""Load a source file: read its bytes, check what it is, and return its normalised text."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import DocumentError
from .model import Normalised
from .normalise import normalise_text

TEXT_SUFFIXES = (".txt", ".md")
PDF_SUFFIXES = (".pdf",)
SUFFIXES = TEXT_SUFFIXES + PDF_SUFFIXES


def sniff(data: bytes) -> str:
    """What the bytes look like: 'empty', 'pdf', 'html', 'text' or 'binary'."""
    if not data.strip():
        return "empty"
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head[:512]:
        return "html"
    if b"\x00" in data[:8192]:
        return "binary"
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError as err:
        if err.start < 65530:  # a cut multi-byte character at the very end is fine
            return "binary"
    return "text"


def read_source(path: Path) -> tuple[bytes, str]:
    """The file's bytes and its sha256, or a DocumentError naming the reason."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(path, "no such file") from None
    except IsADirectoryError:
        raise DocumentError(path, "is a folder, not a file") from None
    except PermissionError:
        raise DocumentError(path, "permission denied") from None
    return data, hashlib.sha256(data).hexdigest()


def load_normalised(path: Path, data: bytes) -> Normalised:
    what = sniff(data)
    if what == "empty":
        raise DocumentError(path, "the file is empty")
    if what == "html":
        raise DocumentError(path, "not a report (it is an HTML page)")
    if what == "binary":
        if path.suffix.lower() == ".pdf":
            raise DocumentError(path, "not a PDF (no PDF header; binary content of another kind)")
        raise DocumentError(path, "not a text or PDF file (binary content)")
    if what == "pdf":
        from .pdf import pdf_normalised

        return pdf_normalised(path, data)
    if path.suffix.lower() == ".pdf":
        raise DocumentError(path, "not a PDF (the file has no PDF header)")
    text = data.decode("utf-8", errors="replace")
    norm = normalise_text(text)
    if len(norm.text.split()) < 50:
        raise DocumentError(path, f"too little text to be a report ({len(norm.text.split())} words)")
    return norm
