"""The parsers: make_parsers() and pick_parser() (highest score wins, ties by order).

A parser module imports nothing heavy at import time (pypdfium2, docx, unstructured are imported
inside `parse`), so building the tuple is cheap. Add a parser with one line in make_parsers().
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.core.errors import (
    EmptyDocumentError,
    ErrorCode,
    ExpansionLimitError,
    IngestError,
    TooLargeError,
    UnsupportedFormatError,
)
from app.core.protocols import Parser
from app.core.types import ParseInput
from ingest.limits import REJECTED_HINT, Limits
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

log = logging.getLogger(__name__)


def make_parsers(*, statement_options: CsvOptions | None = None,
                 limits: Limits | None = None) -> tuple[Parser, ...]:
    """Every parser, in tie-break order; statements with the owner's layouts and default
    currency when given (else the built-in layouts only); every expansion bounded by `limits`
    (else the defaults of ingest/limits.py)."""
    return (
        TextParser(limits=limits),
        OdtParser(limits=limits),
        PdfParser(ocr=TesseractOcr(), limits=limits),
        DocxParser(limits=limits),
        HtmlParser(limits=limits),
        OfficeParser(limits=limits),
        EmailParser(limits=limits),
        ImageParser(limits=limits),
        ChatParser(limits=limits),
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
    rejected = inp.item.hints.get(REJECTED_HINT)
    if rejected:  # a limit kept the item from being read (an attachment past the count ...)
        raise _rejection(rejected, display_name(inp))
    if not inp.data:
        raise EmptyDocumentError(f"{display_name(inp)}: the file is empty")
    best: Parser | None = None
    best_score = 0
    for parser in parsers:
        score = _score(parser, inp)
        if score is not None and score > best_score:
            best, best_score = parser, score
    if best is None:
        raise UnsupportedFormatError(
            f"{display_name(inp)}: no parser for media type {inp.media_type}"
        )
    return best


def _score(parser: Parser, inp: ParseInput) -> int | None:
    """A parser's score; one whose check breaks on this input declines it (with a warning
    line, no traceback), so another parser can still read the file or say why it cannot."""
    try:
        return parser.score(inp)
    except IngestError:
        return None
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        log.warning("%s: the %s parser could not check the file (%s: %s)", display_name(inp),
                    parser.name, type(exc).__name__, lines[0][:200] if lines else "")
        return None


def _rejection(rejected: Any, name: str) -> IngestError:
    """The failure a limit recorded on a child item, as the error the pipeline records."""
    try:
        code = ErrorCode(rejected.get("code"))
    except (ValueError, AttributeError):
        code = ErrorCode.ingest_failed
    message = str(rejected.get("message") or f"{name}: not read (a limit was reached)")
    if code is ErrorCode.too_large:
        return TooLargeError(message)
    return ExpansionLimitError(message, code=code)
