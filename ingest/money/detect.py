"""Which statement format a file is, and one entry point that parses any of them (pure)."""

from __future__ import annotations

from app.core.errors import UnsupportedFormatError
from ingest.money.camt import camt_kind, parse_camt053
from ingest.money.csvparse import parse_csv
from ingest.money.csvprofiles import CsvOptions
from ingest.money.mt940 import looks_like_mt940, parse_mt940
from ingest.money.ofx import looks_like_ofx, parse_ofx
from ingest.money.types import StatementFile

_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_MT940_SUFFIXES = (".sta", ".mt940", ".940", ".swi")


def detect_format(data: bytes, name: str = "", media_type: str = "") -> str | None:
    """'ofx', 'camt053', 'camt' (another CAMT message), 'mt940', 'csv', 'pdf' or None."""
    lower = name.lower()
    if data[:5] == b"%PDF-":
        return "pdf"
    if looks_like_ofx(data) or lower.endswith((".ofx", ".qfx", ".qbo")):
        return "ofx"
    kind = camt_kind(data)
    if kind is not None:
        return "camt053" if kind == "053" else "camt"
    head = data[:8192].decode("latin-1")
    if looks_like_mt940(head) or (lower.endswith(_MT940_SUFFIXES) and ":20:" in head):
        return "mt940"
    if lower.endswith(_CSV_SUFFIXES) or media_type in ("text/csv", "text/tab-separated-values"):
        return "csv"
    return None


def parse_statement_file(
    data: bytes, *, name: str = "statement", media_type: str = "",
    csv_options: CsvOptions | None = None,
) -> StatementFile:
    """Parse a statement file of any supported format.

    Raises:
        UnsupportedFormatError: not a statement format (or a CAMT message that is no statement).
        CorruptDocumentError / EmptyDocumentError: a statement that cannot be read.
    """
    fmt = detect_format(data, name, media_type)
    if fmt == "ofx":
        return parse_ofx(data, name=name)
    if fmt in ("camt053", "camt"):
        return parse_camt053(data, name=name)
    if fmt == "mt940":
        return parse_mt940(data, name=name)
    if fmt == "csv":
        return parse_csv(data, name=name, options=csv_options)
    if fmt == "pdf":
        from ingest.money.pdfparse import parse_pdf

        owner = csv_options.pdf_profiles if csv_options is not None else ()
        return parse_pdf(data, name=name, owner_profiles=owner)
    raise UnsupportedFormatError(f"{name}: not a supported statement format")
