"""Bank statement parser adapter: OFX/QFX, CAMT.053, MT940, CSV exports and PDF statements.

Scores above the generic text/PDF parsers only when the content really is a statement (a known
format, a CSV whose rows hold dates and amounts, a PDF whose text layer a layout profile reads).
The result carries the typed statement in `extras["statement"]` for the statement hook, and
readable blocks (a header per statement, then groups of transaction lines citing their rows).
"""

from __future__ import annotations

import csv
import io
import re
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

from app.core.errors import IngestError, UnsupportedFormatError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.mediatypes import CAMT, CSV, MT940, OFX, PDF
from ingest.money.balance import check_balance
from ingest.money.camt import camt_kind
from ingest.money.csvprofiles import CsvOptions
from ingest.money.detect import detect_format, parse_statement_file
from ingest.money.types import ParsedStatement, ParsedTransaction, StatementFile
from ingest.parsers.common import display_name

LINES_PER_BLOCK = 20
_DATE_CELL = re.compile(r"^\s*\"?(\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\.\d{1,2}\.)")
_MONEY_CELL = re.compile(r"^\s*\"?[-+(]?\s*[\d.,' ]*\d[.,]\d{1,2}\)?-?\s*\"?\s*$")


def owner_csv_options(profiles_file: Path, *, default_currency: str | None) -> CsvOptions:
    """The owner's CSV and PDF profiles (from `profiles_file`, if it exists) and default
    currency. A broken file raises ConfigError naming it, before any statement is parsed."""
    from ingest.money.csvprofiles import load_profiles
    from ingest.money.pdfprofiles import load_pdf_profiles

    return CsvOptions(profiles=load_profiles(profiles_file),
                      pdf_profiles=load_pdf_profiles(profiles_file),
                      default_currency=default_currency, profiles_file=str(profiles_file))


def csv_looks_like_statement(data: bytes) -> bool:
    """Most data rows have a date cell and an amount cell (cheap check on the first lines)."""
    text = data[:16384].decode("utf-8", errors="replace")
    lines = [ln for ln in text.splitlines()[:40] if ln.strip()]
    if len(lines) < 2:
        return False
    from ingest.money.csvparse import sniff_delimiter

    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sniff_delimiter(text)))
    hits = sum(
        1 for r in rows
        if any(_DATE_CELL.match(c) for c in r) and any(_MONEY_CELL.match(c) for c in r)
    )
    return hits >= max(1, (len(rows) - 1) // 2)


class StatementParser:
    """Statements in any supported format -> kind "statement" with typed extras."""

    name = "statement"
    version = "1"

    def __init__(self, csv_options: CsvOptions | Callable[[], CsvOptions] | None = None) -> None:
        # Without options: the built-in layouts only (the sync service passes the owner's). A
        # callable is resolved on first use.
        self._csv_options = csv_options if csv_options is not None else CsvOptions()
        self._cache: OrderedDict[str, StatementFile | IngestError] = OrderedDict()

    def csv_options(self) -> CsvOptions:
        if callable(self._csv_options):
            self._csv_options = self._csv_options()
        return self._csv_options

    def score(self, inp: ParseInput) -> int | None:
        hinted = inp.item.hints.get("kind") == "statement"
        name = inp.item.name or inp.item.origin
        fmt = detect_format(inp.data[:8192] if inp.media_type != PDF else inp.data, name,
                            inp.media_type)
        if inp.media_type in (OFX, MT940) or fmt in ("ofx", "mt940", "camt053"):
            return 60
        if inp.media_type == CAMT or fmt == "camt":
            # camt.052/054 are claimed to say clearly why they are not imported.
            return 60 if camt_kind(inp.data) else None
        if inp.media_type == CSV or fmt == "csv":
            return 40 if hinted or csv_looks_like_statement(inp.data) else None
        if inp.media_type == PDF:
            result = self._parsed(inp)
            return 30 if isinstance(result, StatementFile) else None
        return None

    def _parsed(self, inp: ParseInput) -> StatementFile | IngestError:
        cached = self._cache.get(inp.sha256)
        if cached is not None:
            return cached
        try:
            result: StatementFile | IngestError = parse_statement_file(
                inp.data, name=display_name(inp), media_type=inp.media_type,
                csv_options=self.csv_options(),
            )
        except IngestError as exc:
            result = exc
        self._cache[inp.sha256] = result
        while len(self._cache) > 8:
            self._cache.popitem(last=False)
        return result

    def parse(self, inp: ParseInput) -> ParsedDocument:
        result = self._parsed(inp)
        self._cache.pop(inp.sha256, None)
        if isinstance(result, IngestError):
            raise result
        return statement_document(result, name=display_name(inp))


def _period(stmt: ParsedStatement) -> str:
    if stmt.period_start and stmt.period_end:
        return f"{stmt.period_start.isoformat()} to {stmt.period_end.isoformat()}"
    return "period unknown"


def _unit(fmt: str) -> str:
    return "row" if fmt == "csv" else "line"


def tx_line(tx: ParsedTransaction) -> str:
    parts = [tx.booking_date.isoformat(), f"{tx.amount:+} {tx.currency}"]
    if tx.pending:
        parts.append("(pending)")
    parts.extend(p for p in (tx.counterparty, tx.description) if p)
    return "  ".join(parts)


def _groups(txs: tuple[ParsedTransaction, ...]) -> list[tuple[ParsedTransaction, ...]]:
    """Runs of at most LINES_PER_BLOCK transactions, never across a page break (a chunk cites
    one page)."""
    out: list[tuple[ParsedTransaction, ...]] = []
    current: list[ParsedTransaction] = []
    for tx in txs:
        if current and (len(current) >= LINES_PER_BLOCK
                        or tx.location.page != current[-1].location.page):
            out.append(tuple(current))
            current = []
        current.append(tx)
    if current:
        out.append(tuple(current))
    return out


def statement_document(sf: StatementFile, *, name: str) -> ParsedDocument:
    """The readable side of a statement file: header blocks and transaction-line blocks."""
    if sf.transaction_count == 0 and all(
        s.opening_balance is None and s.closing_balance is None for s in sf.statements
    ):
        raise UnsupportedFormatError(f"{name}: statement file without transactions or balances")
    blocks: list[TextBlock] = []
    checks = []
    for i, stmt in enumerate(sf.statements, start=1):
        check = check_balance(stmt)
        checks.append({"statement": i, "status": check.status,
                       "difference": str(check.difference) if check.difference is not None
                       else None})
        acct = stmt.account
        heading = f"Statement {acct.masked} {_period(stmt)}"
        lines = [
            f"Bank statement ({sf.format.upper()}) for account {acct.masked}"
            + (f" at {acct.institution}" if acct.institution else "")
            + (f", currency {stmt.currency}" if stmt.currency else ""),
            f"Period: {_period(stmt)}; {len(stmt.transactions)} transactions.",
        ]
        if stmt.opening_balance is not None:
            lines.append(f"Opening balance: {stmt.opening_balance}")
        if stmt.closing_balance is not None:
            lines.append(f"Closing balance: {stmt.closing_balance}")
        if check.status == "mismatch":
            lines.append(f"BALANCE MISMATCH: {check.message}.")
        blocks.append(TextBlock(text="\n".join(lines), heading=heading, kind="heading"))
        for group in _groups(stmt.transactions):
            locs = [t.location.row or t.location.line for t in group]
            nums = [n for n in locs if n]
            pages = {t.location.page for t in group if t.location.page}
            unit = _unit(sf.format)
            text = "\n".join(
                f"[{unit} {n}] {tx_line(t)}" if n else tx_line(t) for n, t in zip(locs, group,
                                                                                   strict=True)
            )
            blocks.append(TextBlock(
                text=text, heading=heading, kind="table",
                page=min(pages) if pages else None,
                meta={"rows": [min(nums), max(nums)]} if nums else {},
            ))
    ends = [s.period_end for s in sf.statements if s.period_end]
    occurred = datetime.combine(max(ends), time(), tzinfo=UTC) if ends else None
    first = sf.statements[0]
    title = f"{first.account.institution + ' ' if first.account.institution else ''}statement " \
            f"{first.account.masked} {_period(first)}"
    if len(sf.statements) > 1:
        title += f" (+{len(sf.statements) - 1} more)"
    return ParsedDocument(
        blocks=blocks,
        title=title,
        kind="statement",
        occurred_at=occurred,
        metadata={
            "format": sf.format,
            "profile": sf.profile,
            "accounts": sorted({s.account.masked for s in sf.statements}),
            "transactions": sf.transaction_count,
            "statements": len(sf.statements),
            "balance_checks": checks,
            "warnings": list(sf.warnings),
            "location_unit": _unit(sf.format),
        },
        extras={"statement": sf},
    )
