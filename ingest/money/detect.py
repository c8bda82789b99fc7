"""Which statement format a file is, and one entry point that parses any of them (pure).

Detection reads content first (an OFX body, a CAMT namespace, MT940 tags, a QIF header, a PDF
signature) and the name only to break ties; a CSV or a text export is a statement when its
rows or header say so (`csvsniff.looks_like_statement_csv`, `textexport.looks_like_text_export`).
"""

from __future__ import annotations

from dataclasses import replace

from app.core.errors import UnsupportedFormatError
from ingest.mediatypes import XLSX
from ingest.money.camt import camt_kind, parse_camt
from ingest.money.csvprofiles import CsvOptions
from ingest.money.mt940 import looks_like_mt940, parse_mt940
from ingest.money.ofx import looks_like_ofx, parse_ofx
from ingest.money.qif import looks_like_qif, parse_qif
from ingest.money.types import ParsedStatement, ParsedTransaction, StatementFile

_CSV_SUFFIXES = (".csv", ".tsv")
_TEXT_SUFFIXES = (".txt", ".dat", ".asc", ".prn", ".text", "")
_MT940_SUFFIXES = (".sta", ".mt940", ".940", ".swi", ".mta", ".942")


def detect_format(data: bytes, name: str = "", media_type: str = "") -> str | None:
    """'ofx', 'camt', 'mt940', 'qif', 'csv', 'xlsx', 'text', 'pdf' or None."""
    lower = name.lower()
    if data[:5] == b"%PDF-":
        return "pdf"
    if looks_like_ofx(data) or lower.endswith((".ofx", ".qfx", ".qbo")):
        return "ofx"
    if camt_kind(data) is not None:
        return "camt"
    head = data[:8192].decode("latin-1")
    if looks_like_mt940(head) or (lower.endswith(_MT940_SUFFIXES) and ":20:" in head):
        return "mt940"
    if looks_like_qif(head) or lower.endswith(".qif"):
        return "qif"
    if data[:2] == b"PK" and (lower.endswith((".xlsx", ".xlsm")) or media_type == XLSX):
        return "xlsx"
    if data[:2] == b"PK" or b"\x00" in data[:4096]:
        return None  # binary: an archive or another office file, never a text statement
    if lower.endswith(_CSV_SUFFIXES) or media_type in ("text/csv", "text/tab-separated-values"):
        return "csv"
    suffix = lower[lower.rfind("."):] if "." in lower.rsplit("/", 1)[-1] else ""
    if suffix in _TEXT_SUFFIXES or media_type.startswith("text/"):
        from ingest.money.csvsniff import is_delimited

        return "csv" if is_delimited(data) else "text"
    return None


def parse_statement_file(
    data: bytes, *, name: str = "statement", media_type: str = "",
    csv_options: CsvOptions | None = None,
) -> StatementFile:
    """Parse a statement file of any supported format.

    Raises:
        UnsupportedFormatError: not a statement format.
        CorruptDocumentError / EmptyDocumentError: a statement that cannot be read.
    """
    options = csv_options or CsvOptions()
    fmt = detect_format(data, name, media_type)
    if fmt == "ofx":
        sf = parse_ofx(data, name=name)
    elif fmt == "camt":
        sf = parse_camt(data, name=name)
    elif fmt == "mt940":
        sf = parse_mt940(data, name=name)
    elif fmt == "qif":
        sf = parse_qif(data, name=name)
    elif fmt == "csv":
        from ingest.money.csvparse import parse_csv

        sf = parse_csv(data, name=name, options=options)
    elif fmt == "text":
        from ingest.money.textexport import parse_text_export

        sf = parse_text_export(data, name=name, options=options)
    elif fmt == "xlsx":
        from ingest.money.xlsx import parse_xlsx

        sf = parse_xlsx(data, name=name, options=options)
    elif fmt == "pdf":
        from ingest.money.pdfparse import parse_pdf

        sf = parse_pdf(data, name=name, owner_profiles=options.pdf_profiles)
    else:
        raise UnsupportedFormatError(f"{name}: not a supported statement format")
    return with_default_currency(sf, options.default_currency)


def with_default_currency(sf: StatementFile, currency: str | None) -> StatementFile:
    """Formats without currencies (QIF, some CSV and text exports) take the configured default
    (HOMERAG_DEFAULT_CURRENCY); the file's warnings say so. Without a default they stay XXX."""
    if not any(t.currency == "XXX" for s in sf.statements for t in s.transactions) and not any(
            i.currency == "XXX" for s in sf.statements for i in s.investments):
        return sf
    if not currency:
        return sf if any("currency XXX" in w for w in sf.warnings) else replace(
            sf, warnings=(*sf.warnings, "no currency in the file and no default currency set; "
                          "amounts stored with currency XXX"))
    code = currency.upper()

    def fix_stmt(s: ParsedStatement) -> ParsedStatement:
        txs = tuple(_with_currency(t, code) for t in s.transactions)
        invs = tuple(i if i.currency != "XXX" else replace(i, currency=code)
                     for i in s.investments)
        return replace(s, transactions=txs, investments=invs,
                       currency=s.currency or (code if txs or invs else None),
                       account=replace(s.account, currency=s.account.currency or code))

    return replace(sf, statements=tuple(fix_stmt(s) for s in sf.statements),
                   warnings=(*[w for w in sf.warnings if "currency XXX" not in w],
                             f"no currency in the file; read as {code} (the default currency)"))


def _with_currency(t: ParsedTransaction, code: str) -> ParsedTransaction:
    return t if t.currency != "XXX" else replace(t, currency=code)
