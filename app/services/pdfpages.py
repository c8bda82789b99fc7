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


def _page_texts(path: Path, first: int, last: int) -> dict[int, str] | None:
    """pdfium's text of pages `first`..`last` (1-based, clipped to the document); None when the
    PDF cannot be read."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError):
        return None
    try:
        texts: dict[int, str] = {}
        for number in range(max(first, 1), min(last, len(pdf)) + 1):
            pdf_page = pdf[number - 1]
            textpage = pdf_page.get_textpage()
            texts[number] = textpage.get_text_range()
            textpage.close()
            pdf_page.close()
        return texts
    except pdfium.PdfiumError:
        return None
    finally:
        pdf.close()


def page_holding(path: Path, text: str, first: int, last: int) -> int | None:
    """The first page of `first`..`last` (1-based, at most MAX_PAGES_SEARCHED) whose text layer
    holds `text` (else the first holding its first PIECE letters/digits); None when none does
    or the PDF cannot be read (the caller keeps the passage's first page)."""
    needle = reduce_text(text)
    if not needle:
        return None
    pages = _page_texts(path, first, min(last, first + MAX_PAGES_SEARCHED - 1))
    if pages is None:
        return None
    texts = [(number, reduce_text(page)) for number, page in pages.items()]
    for probe in (needle, needle[:PIECE]):
        for number, hay in texts:
            if probe in hay:
                return number
    return None


def pdf_line(path: Path, page: int, line: int) -> str | None:
    """Line `line` (1-based) of page `page` of a PDF's text layer, read as the PDF statement
    parser reads it (ingest/money/pdfparse.py pdf_pages: pdfium's text, split at line ends);
    None when the PDF, the page or the line cannot be read."""
    text = (_page_texts(path, page, page) or {}).get(page)
    if text is None:
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").splitlines()
    return (lines[line - 1].strip() or None) if 1 <= line <= len(lines) else None
