"""PDF bank statements from the text layer (pypdfium2), best effort through layout profiles.

A profile says how a transaction line looks (date, text, signed amount, optional balance) and
where the account and balances are. The generic profiles read lines such as
"03.02.2026  REWE Markt Berlin  -45,10" or "2026-02-03 Coffee -4.50 1,234.00". Lines that do not
fit stay in the document's text for search; they are never turned into transactions by guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.errors import CorruptDocumentError, EncryptedDocumentError, UnsupportedFormatError
from ingest.statements.amounts import AmountError, money, parse_amount, parse_date
from ingest.statements.text import clean
from ingest.statements.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

_AMT_COMMA = r"[-+]?\d{1,3}(?:\.\d{3})*,\d{2}[-+]?"
_AMT_DOT = r"[-+]?\d{1,3}(?:,\d{3})*\.\d{2}[-+]?"
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?)\b")
_KEYWORDS = re.compile(
    r"kontoauszug|account statement|bank statement|statement of account|kontostand|"
    r"opening balance|closing balance|saldo|relevé de compte|estratto conto",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PdfProfile:
    """How one bank's statement PDF reads. `line` has groups date, text, amount[, balance]."""

    name: str
    line: re.Pattern[str]
    date_formats: tuple[str, ...]
    decimal: str
    opening: re.Pattern[str]
    closing: re.Pattern[str]
    currency: re.Pattern[str] = re.compile(r"\b(EUR|USD|GBP|CHF)\b")
    detect: re.Pattern[str] | None = None  # text that identifies the bank (None: generic)
    institution: str | None = None


_DE_DATE = r"\d{2}\.\d{2}\.(?:\d{4}|\d{2})?"
GENERIC_DE = PdfProfile(
    name="generic-de",
    line=re.compile(
        rf"^(?P<date>{_DE_DATE})\s+(?:(?P<value_date>{_DE_DATE})\s+)?(?P<text>.+?)\s+"
        rf"(?P<amount>{_AMT_COMMA})(?:\s*(?:EUR|€))?(?:\s+(?P<balance>{_AMT_COMMA}))?\s*$"
    ),
    date_formats=("%d.%m.%Y", "%d.%m.%y", "%d.%m."),
    decimal=",",
    opening=re.compile(rf"(?:alter kontostand|anfangssaldo|saldo alt)\D*?(?P<amount>{_AMT_COMMA})",
                       re.IGNORECASE),
    closing=re.compile(rf"(?:neuer kontostand|endsaldo|saldo neu)\D*?(?P<amount>{_AMT_COMMA})",
                       re.IGNORECASE),
)
_EN_DATE = r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}"
GENERIC_EN = PdfProfile(
    name="generic-en",
    line=re.compile(
        rf"^(?P<date>{_EN_DATE})\s+(?P<text>.+?)\s+(?P<amount>{_AMT_DOT})"
        rf"(?:\s+(?P<balance>{_AMT_DOT}))?\s*$"
    ),
    date_formats=("%Y-%m-%d", "%m/%d/%Y"),
    decimal=".",
    opening=re.compile(rf"(?:opening|previous|starting) balance\D*?(?P<amount>{_AMT_DOT})",
                       re.IGNORECASE),
    closing=re.compile(rf"(?:closing|new|ending) balance\D*?(?P<amount>{_AMT_DOT})",
                       re.IGNORECASE),
)
BUILTIN_PDF_PROFILES = (GENERIC_DE, GENERIC_EN)


def looks_like_statement_text(text: str) -> bool:
    return bool(_KEYWORDS.search(text))


def parse_pdf_text(pages: list[str], *, name: str = "statement.pdf",
                   profiles: tuple[PdfProfile, ...] = BUILTIN_PDF_PROFILES) -> StatementFile:
    """Read transactions from page texts with the first profile that finds at least one line.

    Raises UnsupportedFormatError when the text is not a statement any profile can read.
    """
    full = "\n".join(pages)
    if not looks_like_statement_text(full):
        raise UnsupportedFormatError(f"{name}: PDF does not look like a bank statement")
    year = _statement_year(full)
    for profile in profiles:
        if profile.detect is not None and not profile.detect.search(full):
            continue
        txs = _lines(pages, profile, name, year)
        if txs:
            return _file(full, txs, profile)
    raise UnsupportedFormatError(f"{name}: no transaction lines found by any PDF layout profile")


def _statement_year(text: str) -> int | None:
    m = re.search(r"\b\d{2}\.\d{2}\.(\d{4})\b|\b(\d{4})-\d{2}-\d{2}\b|\b\d{2}/\d{2}/(\d{4})\b", text)
    if not m:
        return None
    return int(next(g for g in m.groups() if g))


def _date(raw: str, profile: PdfProfile, year: int | None) -> date | None:
    for fmt in profile.date_formats:
        try:
            if fmt.endswith(".") and fmt.count("%") == 2:  # "03.02." takes the statement year
                if year is None:
                    continue
                return parse_date(f"{raw}{year}", fmt + "%Y")
            return parse_date(raw, fmt)
        except ValueError:
            continue
    return None


def _lines(pages: list[str], profile: PdfProfile, name: str,
           year: int | None) -> list[ParsedTransaction]:
    currency_m = profile.currency.search("\n".join(pages))
    currency = currency_m.group(1) if currency_m else "XXX"
    txs: list[ParsedTransaction] = []
    for page_no, page in enumerate(pages, start=1):
        lines = page.splitlines()
        for line_no, line in enumerate(lines, start=1):
            m = profile.line.match(line.strip())
            if not m:
                continue
            day = _date(m.group("date"), profile, year)
            if day is None:
                continue
            vd = m.groupdict().get("value_date")
            try:
                amount = money(parse_amount(m.group("amount"), decimal=profile.decimal))
            except AmountError as exc:
                raise CorruptDocumentError(f"{name} page {page_no} line {line_no}: {exc}") from exc
            text = clean(m.group("text")) or ""
            # The next line often continues the purpose; take it when it is not a transaction.
            if line_no < len(lines):
                nxt = lines[line_no].strip()
                if nxt and not profile.line.match(nxt) and not _is_balance(nxt, profile):
                    text = f"{text} / {clean(nxt)}"
            counterparty, _, description = text.partition(" / ")
            txs.append(ParsedTransaction(
                booking_date=day,
                value_date=_date(vd, profile, year) if vd else None,
                amount=amount,
                currency=currency,
                counterparty=clean(counterparty),
                description=clean(description) or None,
                location=Location(page=page_no, line=line_no),
            ))
    return txs


def _is_balance(line: str, profile: PdfProfile) -> bool:
    return bool(profile.opening.search(line) or profile.closing.search(line))


def _file(full: str, txs: list[ParsedTransaction], profile: PdfProfile) -> StatementFile:
    def bal(pattern: re.Pattern[str]) -> Decimal | None:
        m = pattern.search(full)
        return money(parse_amount(m.group("amount"), decimal=profile.decimal)) if m else None

    iban = _IBAN.search(full)
    ident = iban.group(1).replace(" ", "") if iban else f"pdf:{profile.name}"
    warnings = () if iban else (f"no IBAN found; filed under account {ident!r}",)
    stmt = ParsedStatement(
        account=AccountRef(identifier=ident, institution=profile.institution,
                           currency=txs[0].currency),
        transactions=tuple(txs),
        currency=txs[0].currency,
        period_start=min(t.booking_date for t in txs),
        period_end=max(t.booking_date for t in txs),
        opening_balance=bal(profile.opening),
        closing_balance=bal(profile.closing),
    )
    return StatementFile(format="pdf", statements=(stmt,), profile=profile.name, warnings=warnings)


def pdf_pages(data: bytes, *, name: str = "statement.pdf") -> list[str]:
    """The text layer of every page (thin I/O shell over pypdfium2)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise EncryptedDocumentError(f"{name}: PDF is password-protected") from exc
        raise CorruptDocumentError(f"{name}: unreadable PDF ({msg})") from exc
    try:
        pages = []
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            textpage.close()
            page.close()
        return pages
    finally:
        pdf.close()


def parse_pdf(data: bytes, *, name: str = "statement.pdf") -> StatementFile:
    return parse_pdf_text(pdf_pages(data, name=name), name=name)
