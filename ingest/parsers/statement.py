"""Bank, card and broker statement parser adapter: OFX/QFX/QBO, CAMT.052/053/054, MT940/MT942,
QIF, CSV and other delimited exports, fixed-width text exports and PDF statements.

Never silent: a file that is recognisably a statement (a statement format, a CSV whose header or
rows say so, a text export or PDF with statement wording and transaction lines) is claimed here
with a score above the generic text/PDF parsers, and either parses into transactions, trades or
positions, or fails with the reason in one line (an IngestError: the item is FAILED in the
ledger, `status` and the web UI). It is never left to be indexed as plain text.

The result carries the typed statement in `extras["statement"]` for the statement hook, and
readable blocks (a header per statement, then groups of transaction lines citing their rows).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

from app.core.errors import EmptyDocumentError, IngestError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.mediatypes import CAMT, MT940, OFX, PDF
from ingest.money.balance import check_balance
from ingest.money.conventions import UnreadableStatementError
from ingest.money.csvprofiles import CsvOptions
from ingest.money.detect import detect_format, parse_statement_file
from ingest.money.types import ParsedStatement, ParsedTransaction, StatementFile
from ingest.parsers.common import display_name

LINES_PER_BLOCK = 20


def owner_csv_options(profiles_file: Path, *, default_currency: str | None) -> CsvOptions:
    """The owner's CSV and PDF profiles (from `profiles_file`, if it exists) and default
    currency. A broken file raises ConfigError naming it, before any statement is parsed."""
    from ingest.money.csvprofiles import load_profiles
    from ingest.money.pdfprofiles import load_pdf_profiles

    return CsvOptions(profiles=load_profiles(profiles_file),
                      pdf_profiles=load_pdf_profiles(profiles_file),
                      default_currency=default_currency, profiles_file=str(profiles_file))


def csv_looks_like_statement(data: bytes) -> bool:
    """A header naming a date and an amount column, or rows of dates and amounts."""
    from ingest.money.csvsniff import looks_like_statement_csv

    return looks_like_statement_csv(data)


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
        fmt = detect_format(inp.data if inp.media_type == PDF else inp.data[:8192], name,
                            inp.media_type)
        if inp.media_type in (OFX, MT940, CAMT) or fmt in ("ofx", "mt940", "camt", "qif"):
            return 60
        if fmt == "csv":
            return 40 if hinted or csv_looks_like_statement(inp.data) else None
        if fmt == "xlsx":
            from ingest.money.xlsx import looks_like_statement_xlsx

            return 40 if hinted or looks_like_statement_xlsx(inp.data, name=name) else None
        if fmt == "text":
            from ingest.money.textexport import looks_like_text_export

            return 35 if hinted or looks_like_text_export(inp.data) else None
        if inp.media_type == PDF:
            pages = self._pdf_pages(inp) if fmt == "pdf" else None
            if pages is not None and not self._pdf_may_be_statement(pages):
                return None
            result = self._parsed(inp, pages)
            # A PDF that reads as a statement, or that is one (statement wording and lines of
            # dates and amounts) but no layout reads: claimed, so that it fails visibly.
            if isinstance(result, StatementFile | UnreadableStatementError):
                return 30
        return None

    @staticmethod
    def _pdf_pages(inp: ParseInput) -> list[str] | None:
        """The PDF's page texts as the statement reader sees them, read once for this file:
        the PDF parser takes the same texts when it parses the file next (ingest/pdftext.py).
        None when pdfium fails on the file (the full statement read then says why)."""
        from ingest.pdftext import page_texts

        texts = page_texts(inp.data, key=inp.sha256)
        if texts is None:
            return None
        return [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts]

    def _pdf_may_be_statement(self, pages: list[str]) -> bool:
        """The first test of `parse_pdf_text` on its own: statement wording, or an owner
        profile's `detect` naming its bank. Most PDFs fail it; they are not read further."""
        from ingest.money.pdfparse import looks_like_statement_text

        full = "\n".join(pages)
        return looks_like_statement_text(full) or any(
            p.detect is not None and p.detect.search(full)
            for p in self.csv_options().pdf_profiles)

    def _parsed(self, inp: ParseInput, pages: list[str] | None = None) -> StatementFile | IngestError:
        cached = self._cache.get(inp.sha256)
        if cached is not None:
            return cached
        try:
            result: StatementFile | IngestError
            if pages is not None:  # a PDF whose text was read for the score
                from ingest.money.detect import with_default_currency
                from ingest.money.pdfparse import parse_pdf_text

                options = self.csv_options()
                result = with_default_currency(
                    parse_pdf_text(pages, name=display_name(inp),
                                   owner_profiles=options.pdf_profiles),
                    options.default_currency)
            else:
                result = parse_statement_file(
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
    return "row" if fmt in ("csv", "xlsx") else "line"


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


def _investment_blocks(sf: StatementFile, stmt: ParsedStatement,
                       heading: str) -> list[TextBlock]:
    """Positions and investment transactions as readable lines, citing their place."""
    from ingest.money.invtext import investment_lines, position_lines

    unit = _unit(sf.format)
    names = {s.key: s for s in sf.securities}
    out = []
    for kind, lines in (("positions", position_lines(stmt, names)),
                        ("investments", investment_lines(stmt, names))):
        for start in range(0, len(lines), LINES_PER_BLOCK):
            group = lines[start:start + LINES_PER_BLOCK]
            text = "\n".join(f"[{unit} {n}] {t}" if n else t for n, t in group)
            nums = [n for n, _ in group if n]
            out.append(TextBlock(text=text, heading=f"{heading} {kind}", kind="table",
                                 meta={"rows": [min(nums), max(nums)]} if nums else {}))
    return out


def statement_document(sf: StatementFile, *, name: str) -> ParsedDocument:
    """The readable side of a statement file: header blocks and transaction-line blocks.

    Raises EmptyDocumentError when the file yields no transaction, trade or position: a
    statement that imports nothing is a failure, never an empty success."""
    if not sf.has_data:
        raise EmptyDocumentError(f"{name}: statement file without any transaction, trade or "
                                 "position")
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
        blocks.extend(_investment_blocks(sf, stmt, heading))
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
            "investments": sf.investment_count,
            "positions": sf.position_count,
            "statements": len(sf.statements),
            "balance_checks": checks,
            "warnings": list(sf.warnings),
            "location_unit": _unit(sf.format),
        },
        extras={"statement": sf},
    )
