"""Reading a few pages of a stored PDF for the document page (app/services/documents.py): which
page of a passage holds its cited sentences, and the printed text of a statement's line. Bounded:
a handful of pages per request; pdfium is imported only when called.
"""

from __future__ import annotations

from pathlib import Path

# Pages read to find which one holds the cited sentences (a passage spans a few at most).
MAX_PAGES_SEARCHED = 4
PIECE = 40  # letters/digits of the sentences' start looked for when all of them are not found


def reduce_text(text: str) -> str:
    """Letters and digits only, NFKC, lower case: how the server's extracted text and a PDF's
    text layer are compared (static/pdfview.js reduces the same way)."""
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch.isalnum())


def page_holding(path: Path, text: str, first: int, last: int) -> int | None:
    """The first page of `first`..`last` (1-based, at most MAX_PAGES_SEARCHED) whose text layer
    holds `text` (else the first holding its first PIECE letters/digits); None when none does
    or the PDF cannot be read (the caller keeps the passage's first page)."""
    import pypdfium2 as pdfium

    needle = reduce_text(text)
    if not needle:
        return None
    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError):
        return None
    try:
        texts: list[tuple[int, str]] = []
        for number in range(first, min(last, first + MAX_PAGES_SEARCHED - 1, len(pdf)) + 1):
            pdf_page = pdf[number - 1]
            textpage = pdf_page.get_textpage()
            texts.append((number, reduce_text(textpage.get_text_range())))
            textpage.close()
            pdf_page.close()
    except pdfium.PdfiumError:
        return None
    finally:
        pdf.close()
    for probe in (needle, needle[:PIECE]):
        for number, hay in texts:
            if probe in hay:
                return number
    return None


def pdf_line(path: Path, page: int, line: int) -> str | None:
    """Line `line` (1-based) of page `page` of a PDF's text layer, read as the PDF statement
    parser reads it (ingest/money/pdfparse.py pdf_pages: pdfium's text, split at line ends);
    None when the PDF, the page or the line cannot be read."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError):
        return None
    try:
        if not 1 <= page <= len(pdf):
            return None
        pdf_page = pdf[page - 1]
        textpage = pdf_page.get_textpage()
        text = textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
        textpage.close()
        pdf_page.close()
    except pdfium.PdfiumError:
        return None
    finally:
        pdf.close()
    lines = text.splitlines()
    return (lines[line - 1].strip() or None) if 1 <= line <= len(lines) else None
