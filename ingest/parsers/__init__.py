"""The parsers: make_parsers() and pick_parser() (highest score wins, ties by order).

A parser module imports nothing heavy at import time (pypdfium2, docx, unstructured are imported
inside `parse`), so building the tuple is cheap. Add a parser with one line in make_parsers().
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.core.errors import EmptyDocumentError, UnsupportedFormatError
from app.core.protocols import Parser
from app.core.types import ParseInput
from ingest.ocr import TesseractOcr
from ingest.parsers.archive import ArchiveParser
from ingest.parsers.chat import ChatParser
from ingest.parsers.common import display_name
from ingest.parsers.docx import DocxParser
from ingest.parsers.email import EmailParser
from ingest.parsers.html import HtmlParser
from ingest.parsers.image import ImageParser
from ingest.parsers.odf import OdtParser
from ingest.parsers.office import OfficeParser
from ingest.parsers.pdf import PdfParser
from ingest.parsers.statement import StatementParser
from ingest.parsers.text import TextParser

if TYPE_CHECKING:
    from ingest.money.csvprofiles import CsvOptions



def make_parsers(*, statement_options: CsvOptions | None = None) -> tuple[Parser, ...]:
    """Every parser, in tie-break order; statements with the owner's layouts and default
    currency when given (else the built-in layouts only)."""
    return (
        TextParser(),
        OdtParser(),
        PdfParser(ocr=TesseractOcr()),
        DocxParser(),
        HtmlParser(),
        OfficeParser(),
        EmailParser(),
        ImageParser(),
        ChatParser(),
        StatementParser(statement_options),
        ArchiveParser(),
    )


DEFAULT_PARSERS: tuple[Parser, ...] = make_parsers()


def pick_parser(inp: ParseInput, parsers: Sequence[Parser] = DEFAULT_PARSERS) -> Parser:
    """The parser with the highest score for `inp` (None or 0 declines); the earliest on a tie.

    Raises:
        EmptyDocumentError: the item has no bytes at all.
        UnsupportedFormatError: no parser accepts the item's media type.
    """
    if not inp.data:
        raise EmptyDocumentError(f"{display_name(inp)}: the file is empty")
    best: Parser | None = None
    best_score = 0
    for parser in parsers:
        score = parser.score(inp)
        if score is not None and score > best_score:
            best, best_score = parser, score
    if best is None:
        raise UnsupportedFormatError(
            f"{display_name(inp)}: no parser for media type {inp.media_type}"
        )
    return best
