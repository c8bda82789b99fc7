"""The text layer of a PDF's pages, read once per file in a process (pypdfium2).

Two parsers need every page's text of every PDF: the statement parser, to decide whether the
PDF is a bank statement (its score: statement wording anywhere in the file), and the PDF parser,
to index it. pdfium's text extraction is most of the cost of either, so the statement parser's
score reads the pages here and the PDF parser, which parses the same input next in the same
process (ingest/parsers/__init__.py scores every parser, then the winner parses), takes them
instead of reading them again. The texts are pdfium's own (`get_text_range`); each reader
applies its own clean-up. The last few files are kept, keyed by sha256 and checked against the
bytes themselves, so a text is never handed to another file.
"""

from __future__ import annotations

from collections import OrderedDict

_KEEP = 2  # files; the scorer reads, the parser takes right after
_cache: OrderedDict[str, tuple[bytes, tuple[str, ...]]] = OrderedDict()


def page_texts(data: bytes, *, key: str) -> tuple[str, ...] | None:
    """Every page's raw text, read now or earlier; None when pdfium cannot open the file or
    read one of its pages (the caller then takes its own path and reports its own error)."""
    found = _cache.get(key)
    if found is not None and found[0] == data:
        return found[1]
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        texts = []
        for page in pdf:
            textpage = page.get_textpage()
            try:
                texts.append(textpage.get_text_range())
            finally:
                textpage.close()
                page.close()
    except pdfium.PdfiumError:
        return None
    finally:
        pdf.close()
    _cache[key] = (data, tuple(texts))
    while len(_cache) > _KEEP:
        _cache.popitem(last=False)
    return _cache[key][1]


def take(data: bytes, *, key: str) -> tuple[str, ...] | None:
    """The page texts read earlier for exactly these bytes (forgotten now), else None."""
    found = _cache.pop(key, None)
    if found is None or found[0] != data:
        if found is not None:
            _cache[key] = found
        return None
    return found[1]


def clear() -> None:
    _cache.clear()
