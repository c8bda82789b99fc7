"""Spreadsheet statement exports (.xlsx): the first sheet with a table becomes rows of text and
goes through the CSV statement reader (`csvparse.parse_records`), so the same structure
detection, signs and failures apply. openpyxl reads it in read-only mode; cell values are
written as a CSV export would hold them (dates ISO, numbers with a decimal point)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from ingest.money.csvprofiles import CsvOptions
from ingest.money.types import StatementFile

MAX_ROWS = 200_000  # a bound on what one sheet may expand to


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return str(value).strip()


def sheet_records(data: bytes, *, name: str, limit: int | None = None) -> list[list[str]]:
    """Rows of the first sheet that holds two or more filled rows (all rows, or `limit`)."""
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors
        raise CorruptDocumentError(f"{name}: unreadable spreadsheet ({type(exc).__name__})") \
            from None
    try:
        for sheet in book.worksheets:
            rows: list[list[str]] = []
            for row in sheet.iter_rows(values_only=True):
                rows.append([_text(v) for v in row])
                if len(rows) > (limit or MAX_ROWS):
                    if limit:
                        break
                    raise CorruptDocumentError(f"{name}: sheet {sheet.title!r} has more than "
                                               f"{MAX_ROWS} rows")
            while rows and not any(rows[-1]):
                rows.pop()
            if sum(1 for r in rows if any(r)) >= 2:
                return rows
        return []
    finally:
        book.close()


def _filled_sheets(data: bytes) -> int:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return sum(1 for sheet in book.worksheets
                   if sum(1 for row in sheet.iter_rows(max_row=5, values_only=True)
                          if any(v is not None for v in row)) >= 1)
    finally:
        book.close()


def looks_like_statement_xlsx(data: bytes, *, name: str) -> bool:
    """A workbook whose only filled sheet is a statement table (banks export one sheet; a
    household workbook with several sheets stays a spreadsheet for search)."""
    from ingest.money.csvlayout import _statement_header, data_rows

    try:
        if _filled_sheets(data) != 1:
            return False
        rows = sheet_records(data, name=name, limit=60)
    except Exception:  # an unreadable workbook is the office parser's to report
        return False
    return any(_statement_header(r) for r in rows[:30]) or len(data_rows(rows)) >= 2


def parse_xlsx(data: bytes, *, name: str, options: CsvOptions) -> StatementFile:
    from ingest.money.csvparse import parse_records

    rows = sheet_records(data, name=name)
    if not rows:
        raise EmptyDocumentError(f"{name}: spreadsheet without a table")
    return parse_records(rows, name=name, options=options, fmt="xlsx")
