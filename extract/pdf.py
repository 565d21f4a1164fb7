"""Read the text of a PDF page by page with pypdfium2."""

from __future__ import annotations

from pathlib import Path

from .errors import DocumentError
from .model import Normalised
from .normalise import normalise_pages


def pdf_pages(path: Path, data: bytes) -> list[str]:
    try:
        import pypdfium2 as pdfium
    except ImportError:  # pragma: no cover - pypdfium2 is a dependency
        raise DocumentError(path, "reading PDFs needs pypdfium2 (pip install pypdfium2)") from None
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        reason = str(err).lower()
        if "password" in reason:
            raise DocumentError(path, "the PDF is encrypted (needs a password)") from None
        raise DocumentError(path, f"not a readable PDF ({err})") from None
    try:
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return pages
    finally:
        pdf.close()


def pdf_normalised(path: Path, data: bytes) -> Normalised:
    pages = pdf_pages(path, data)
    if not "".join(pages).strip():
        raise DocumentError(path, "the PDF has no text layer (scanned images only)")
    return normalise_pages([p.replace("\r\n", "\n").replace("\r", "\n") for p in pages], paged=True)
