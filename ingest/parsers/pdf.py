"""PDF parser: the text layer through pypdfium2, 1-based page numbers, metadata title and dates.

Pages without a text layer go to an optional OCR engine (the `PageOcr` seam); a page that has
text is never OCRed. pypdfium2 is imported inside `parse`, so importing this module is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from app.core.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    HomeragError,
)
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits, clip, clip_metadata
from ingest.mediatypes import PDF
from ingest.ocr import OcrPage, read_scored
from ingest.ocr import ocr_quality as ocr_quality_of
from ingest.parsers.common import display_name, guess_kind, parse_pdf_date
from ingest.pdftext import take
from ingest.titles import candidates, choose_title, running_lines

if TYPE_CHECKING:
    from PIL.Image import Image

_PDFIUM_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD


@runtime_checkable
class PageOcr(Protocol):
    """Reads the text of one rendered page image (used for pages without a text layer only).

    Attributes:
        languages: the OCR languages in engine terms, e.g. ("deu", "eng") for Tesseract.
        name: engine name stored in the document metadata ("tesseract").
    """

    # Read-only, so an engine may keep its languages as a tuple.
    @property
    def name(self) -> str: ...

    @property
    def languages(self) -> Sequence[str]: ...

    def ocr_page(self, image: Image) -> str:
        """Return the page's text ("" when nothing legible); raise only on engine failure."""
        ...


class PdfParser(WithLimits):
    """Text-layer PDF parser; `ocr` (optional) reads pages that have no text layer."""

    name = "pdf"
    version = "2"  # 2: titles chosen by ingest/titles.py; OCR quality per block

    def __init__(self, ocr: PageOcr | None = None, *, ocr_dpi: int = 300,
                 limits: Limits | None = None) -> None:
        self.ocr = ocr
        self.ocr_dpi = ocr_dpi
        self._limits = limits

    def score(self, inp: ParseInput) -> int | None:
        return 10 if inp.media_type == PDF else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        import pypdfium2 as pdfium

        name = display_name(inp)
        try:
            pdf = pdfium.PdfDocument(inp.data)
        except pdfium.PdfiumError as exc:
            if getattr(exc, "err_code", None) == _PDFIUM_PASSWORD_ERROR:
                raise EncryptedDocumentError(f"{name}: the PDF is protected by a password") from exc
            raise CorruptDocumentError(f"{name}: not a readable PDF ({_reason(exc)})") from exc
        try:
            return self._parse_open(pdf, name, self.limits,
                                    known=take(inp.data, key=inp.sha256))
        finally:
            pdf.close()

    def _parse_open(self, pdf: Any, name: str, limits: Limits, *,
                    known: tuple[str, ...] | None = None) -> ParsedDocument:
        """`known`: the pages' texts as the statement parser's score read them (the same file,
        just before): a page with text is not loaded again (speed: extraction is most of the
        cost of a PDF)."""
        import pypdfium2 as pdfium

        page_count = len(pdf)
        if page_count == 0:
            raise EmptyDocumentError(f"{name}: the PDF has no pages")
        blocks: list[TextBlock] = []
        ocr_pages: list[int] = []
        ocr_quality: dict[int, float] = {}
        textless: list[int] = []
        ocr_error: HomeragError | None = None
        headings = _HeadingPath()
        page_texts: list[str] = []
        for index in range(page_count):
            number = index + 1
            text = _clean_text(known[index]) if known and index < len(known) else ""
            try:
                # A page whose text the statement parser's score read is not loaded again.
                page = None if text.strip() else pdf[index]
                try:
                    if page is not None:
                        text = _page_text(page)
                    if not text.strip() and self.ocr is not None:
                        read = OcrPage("")
                        try:
                            read = self._ocr(page, limits)
                            text = read.text
                        except HomeragError as exc:
                            # Keep the typed pages; the failure is reported if nothing else is.
                            ocr_error = ocr_error or naming(exc, name)
                            text = ""
                        if text.strip():
                            ocr_pages.append(number)
                            ocr_quality[number] = ocr_quality_of(text, read.confidence)
                finally:
                    if page is not None:
                        page.close()
            except pdfium.PdfiumError as exc:
                raise CorruptDocumentError(
                    f"{name}: page {number} cannot be read ({_reason(exc)})") from exc
            if not text.strip():
                textless.append(number)
                continue
            page_texts.append(text)
            found = page_blocks(text, page=number, headings=headings)
            if number in ocr_quality:  # retrieval down-weights passages read badly
                found = [with_quality(b, ocr_quality[number]) for b in found]
            blocks.extend(found)
        if not blocks and ocr_error is not None:
            raise ocr_error
        if not blocks:
            hint = ("OCR found no text either" if self.ocr is not None
                    else "it looks scanned and OCR is not configured")
            raise EmptyDocumentError(
                f"{name}: no text layer on any of its {page_count} pages ({hint})")
        meta = _metadata(pdf)
        full_start = "\n".join(b.text for b in blocks[:40])
        # The printed lines of the first pages (a title is a line of its own; the blocks may
        # join it with the next line).
        printed = [TextBlock(text=t) for t in page_texts[:2]]
        title = clip(choose_title(properties=[meta.get("Title")], lines=candidates(printed),
                                  skip=running_lines(page_texts)), limits.max_title_chars) or None
        created = parse_pdf_date(meta.get("CreationDate"))
        modified = parse_pdf_date(meta.get("ModDate"))
        metadata: dict[str, Any] = {"page_count": page_count}
        for key, out in (("Author", "author"), ("Subject", "subject"), ("Keywords", "keywords"),
                         ("Creator", "creator"), ("Producer", "producer")):
            if meta.get(key):
                metadata[out] = meta[key]
        if created:
            metadata["created_at"] = created.isoformat()
        if modified:
            metadata["modified_at"] = modified.isoformat()
        if textless:
            metadata["pages_without_text"] = textless
        if ocr_error is not None:
            metadata["ocr_error"] = str(ocr_error)
        if ocr_pages and self.ocr is not None:
            metadata["ocr"] = {"engine": self.ocr.name, "languages": list(self.ocr.languages),
                               "pages": ocr_pages,
                               "quality": {str(n): q for n, q in ocr_quality.items()}}
        return ParsedDocument(
            blocks=blocks,
            title=title,
            kind=guess_kind(full_start),
            occurred_at=created or modified,
            metadata=clip_metadata(metadata, limits),
            page_count=page_count,
        )

    def _ocr(self, page: Any, limits: Limits) -> OcrPage:
        assert self.ocr is not None
        # A forged page size (200 x 200 inches) would render to gigabytes at the OCR resolution:
        # the scale is lowered until the bitmap stays within the image pixel limit.
        width, height = page.get_size()
        scale = self.ocr_dpi / 72
        area = max(width * height, 1.0)
        if area * scale * scale > limits.max_image_pixels:
            scale = (limits.max_image_pixels / area) ** 0.5
        bitmap = page.render(scale=scale)
        try:
            read = read_scored(self.ocr, bitmap.to_pil())
            return OcrPage(read.text.replace("\r\n", "\n"), read.confidence)
        finally:
            bitmap.close()


def with_quality(block: TextBlock, quality: float) -> TextBlock:
    """`block` carrying the OCR quality of its page (chunk metadata `ocr_quality`)."""
    return replace(block, meta={**block.meta, "ocr_quality": quality})


def _reason(exc: Exception) -> str:
    match = re.search(r"PDFium: ([^)]+)", str(exc))
    return match.group(1).lower() if match else type(exc).__name__


def _page_text(page: Any) -> str:
    textpage = page.get_textpage()
    try:
        text: str = textpage.get_text_range()
    finally:
        textpage.close()
    return _clean_text(text)


def _clean_text(text: str) -> str:
    # pdfium marks soft hyphens and some line ends with control characters.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "-").replace("\ufffe", "-")


def _metadata(pdf: Any) -> dict[str, str]:
    try:
        raw = pdf.get_metadata_dict(skip_empty=True)
    except Exception:  # broken info dictionaries are common and never fatal
        return {}
    return {k: " ".join(str(v).split()) for k, v in raw.items() if str(v).strip()}


# -- page text -> blocks --------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]]?$")
# "4. Term", "4.2 Notice", "§ 5 Mietzeit": numbered headings, the only ones a text layer shows.
_NUMBERED_HEADING = re.compile(
    r"^(§\s*\d{1,3}[a-z]?|[1-9]\d?\.(?:[1-9]\d?\.?){0,3}|[1-9]\d?(?:\.[1-9]\d?){1,3})\s+"
    r"[A-ZÄÖÜÀ-Þ][^\n]{1,100}$"
)
_LIST_START = re.compile(r"^(?:[-•▪◦*]\s|\(?[a-z0-9]{1,3}[.)]\s)")
_NO_DEHYPHEN_NEXT = frozenset({"und", "oder", "bzw", "and", "or", "sowie"})


class _HeadingPath:
    """Numbered headings ("4.", "4.2") seen so far, across pages."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []

    def open(self, level: int, title: str) -> str:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, title))
        return self.current() or title

    def current(self) -> str | None:
        return " > ".join(t for _, t in self.stack) or None


def page_blocks(text: str, *, page: int, headings: _HeadingPath | None = None) -> list[TextBlock]:
    """Rebuild paragraphs from a page's lines: wrapped lines join with a space (de-hyphenated),
    short lines keep their line breaks, a paragraph ends after a short line ending a sentence."""
    headings = headings or _HeadingPath()
    lines = [line.rstrip() for line in text.split("\n")]
    widths = sorted(len(line) for line in lines if line.strip())
    if not widths:
        return []
    width = max(40, widths[int(len(widths) * 0.9) - 1 if len(widths) > 1 else 0])
    blocks: list[TextBlock] = []
    current = ""

    def flush() -> None:
        nonlocal current
        if current.strip():
            blocks.append(TextBlock(text=current.strip(), page=page, heading=headings.current()))
        current = ""

    previous = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            previous = ""
            continue
        heading = _NUMBERED_HEADING.match(line)
        wrapped = len(previous) >= 0.7 * width and not _SENTENCE_END.search(previous)
        # A short numbered line is a heading even after a seemingly wrapped line; a long one
        # there is more likely a wrapped sentence that happens to start with "12. Mai".
        if heading and not _SENTENCE_END.search(line) and (not wrapped or len(line) < 0.6 * width):
            flush()
            number = heading.group(1)
            level = 1 if number.startswith("§") else len([p for p in number.split(".") if p])
            path = headings.open(level, line)
            blocks.append(TextBlock(text=line, page=page, heading=path, kind="heading"))
            previous = ""
            continue
        if not current:
            current = line
        elif wrapped and not _LIST_START.match(line):
            current = _join_wrapped(current, line)
        elif _SENTENCE_END.search(previous) and len(previous) < 0.85 * width and \
                not previous.endswith((":", ";")):
            flush()
            current = line
        else:
            current += "\n" + line
        previous = line
    flush()
    return blocks


def _join_wrapped(current: str, line: str) -> str:
    first_word = line.split(None, 1)[0].lower() if line.split() else ""
    if (current.endswith("-") and len(current) > 1 and current[-2].isalpha()
            and line[:1].islower() and first_word not in _NO_DEHYPHEN_NEXT):
        return current[:-1] + line
    return current + " " + line


def naming(exc: HomeragError, name: str) -> HomeragError:
    """`exc` with its message starting with the file's name (OCR errors do not know it)."""
    if exc.message.startswith(name):
        return exc
    named = type(exc)(f"{name}: {exc.message}", code=exc.code)
    named.transient = exc.transient
    return named
