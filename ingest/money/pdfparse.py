"""PDF bank statements from the text layer (pypdfium2), best effort through layout profiles.

A profile (ingest/money/pdfprofiles.py) says how a transaction line looks (date, text,
amount signed or with a debit/credit marker, optional balance) and where the account and balances
are. The built-in profiles read lines such as "03.02.2026  REWE Markt Berlin  -45,10",
"2026-02-03 Coffee -4.50 1,234.00", "03.02. REWE Markt 45,10 S" or "03 Feb Coffee 4.50 DR";
the owner adds more in statement_profiles.toml. Lines that do not fit stay in the document's text
for search; they are never turned into transactions by guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.core.errors import (
    CorruptDocumentError,
    EmptyDocumentError,
    EncryptedDocumentError,
    UnsupportedFormatError,
)
from app.core.months import MONTHS
from ingest.money.amounts import AmountError, money, parse_amount, parse_date
from ingest.money.balance import check_balance
from ingest.money.conventions import UnreadableStatementError
from ingest.money.pdfprofiles import BUILTIN_PDF_PROFILES, PdfProfile
from ingest.money.text import clean
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,4})?)\b")
_KEYWORDS = re.compile(
    r"kontoauszug|account statement|bank statement|statement of account|kontostand|"
    r"opening balance|closing balance|saldo|relevé de compte|estratto conto|"
    r"balance brought forward|balance carried forward|previous balance|new balance|"
    r"last month'?s balance|statement balance|minimum payment|payment due|credit limit|"
    r"card statement|kreditkartenabrechnung|umsatzaufstellung|extracto|rekeningafschrift|"
    r"afschrift|relevé|выписка|отчет по счету",
)


def looks_like_statement_text(text: str) -> bool:
    # Searched in the lowered text, not with re.IGNORECASE (speed: 7x; every PDF is asked,
    # ~1 ms for 6,000 characters case-insensitively). The long s is the one letter that
    # re.IGNORECASE takes for an "s" and lower() does not.
    return bool(_KEYWORDS.search(text.lower().replace("ſ", "s")))


def parse_pdf_text(pages: list[str], *, name: str = "statement.pdf",
                   owner_profiles: tuple[PdfProfile, ...] = (),
                   profiles: tuple[PdfProfile, ...] = BUILTIN_PDF_PROFILES) -> StatementFile:
    """Read transactions from page texts with the owner's profiles, then the built-in ones.

    The first owner profile that reads at least one line is used: the owner wrote it for this
    bank. Of the built-in profiles the one whose lines add up (opening balance + amounts =
    closing balance) is used, else the one that reads the most lines (ties: the earlier one):
    a stray line that another layout happens to fit must not claim the whole statement, and a
    generic profile that misreads "45,10 S 954,90" as text "45,10 S" and amount +954,90 reads
    as many lines as the S/H profile, but its lines do not add up.
    Raises UnsupportedFormatError when the text is not a statement any profile can read.
    """
    full = "\n".join(pages)
    # An owner profile whose `detect` names this bank vouches for it being a statement.
    vouched = any(p.detect is not None and p.detect.search(full) for p in owner_profiles)
    if not vouched and not looks_like_statement_text(full):
        raise UnsupportedFormatError(f"{name}: PDF does not look like a bank statement")
    years = _statement_years(full)
    for profile in owner_profiles:
        if profile.detect is not None and not profile.detect.search(full):
            continue
        txs = _lines(pages, profile, name, years)
        if txs:
            return _file(full, txs, profile, name)
    best: tuple[tuple[bool, int, int], StatementFile] | None = None
    for order, profile in enumerate(profiles):
        if profile.detect is not None and not profile.detect.search(full):
            continue
        txs = _lines(pages, profile, name, years)
        if not txs:
            continue
        sf = _file(full, txs, profile, name)
        ok = check_balance(sf.statements[0]).status == "ok"
        if not ok and len(txs) > 1 and "dc" not in profile.line.groupindex \
                and all(t.amount > 0 for t in sf.statements[0].transactions):
            continue  # every amount unsigned and nothing proves the signs: not a reading
        rank = (ok, len(txs), -order)
        if best is None or rank > best[0]:
            best = (rank, sf)
    if best is not None:
        return best[1]
    return _by_line_shape(pages, name)


def _by_line_shape(pages: list[str], name: str) -> StatementFile:
    """No profile reads the PDF: the generic reader of transaction-shaped lines
    (`textexport`), whose result counts only when its signs are certain. A statement whose
    lines nothing reads fails visibly (UnreadableStatementError), never as plain text."""
    from dataclasses import replace

    from ingest.money.textexport import parse_statement_text

    starts: list[int] = []
    text_lines: list[str] = []
    for page in pages:
        starts.append(len(text_lines))
        text_lines.extend(page.splitlines())
    try:
        sf = parse_statement_text("\n".join(text_lines), name=name)
    except (UnreadableStatementError, CorruptDocumentError) as exc:
        raise UnreadableStatementError(str(exc)) from None
    except EmptyDocumentError:
        raise UnsupportedFormatError(f"{name}: no transaction lines found by any PDF layout "
                                     "profile") from None

    def place(line: int | None) -> Location:
        if line is None:
            return Location()
        page = max(i for i, st in enumerate(starts) if st < line)
        return Location(page=page + 1, line=line - starts[page])

    stmts = tuple(replace(st, transactions=tuple(replace(t, location=place(t.location.line))
                                                 for t in st.transactions))
                  for st in sf.statements)
    return replace(sf, format="pdf", profile="text-lines", statements=stmts)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
# "Feb", "Feb." or "February" (not "Market": the rest of the name or nothing)
_MONTH = "|".join(f"{m[:3]}(?:{m[3:]}|\\.)?" for m in _MONTHS)
_MONTH_YEAR = re.compile(rf"\b(?:{_MONTH})(?:\s+\d{{1,2}},)?\s+(\d{{4}})\b")
_FULL_DATES = re.compile(
    rf"\b(?P<d1>\d{{2}})\.(?P<m1>\d{{2}})\.(?P<y1>\d{{4}})\b"
    rf"|\b(?P<y2>\d{{4}})-(?P<m2>\d{{2}})-(?P<d2>\d{{2}})\b"
    rf"|\b(?P<d3>\d{{1,2}})[ -](?P<m3>{_MONTH})[ -](?P<y3>\d{{4}})\b"
)


@dataclass(frozen=True, slots=True)
class _Years:
    """What a date printed without a year ("03.02.", "03 Feb") is completed with."""

    year: int | None  # the year of the first full date in the text
    first: date | None = None  # earliest and latest full date in the text (balances, period)
    last: date | None = None


def _statement_years(text: str) -> _Years:
    m = re.search(r"\b\d{2}\.\d{2}\.(\d{4})\b|\b(\d{4})-\d{2}-\d{2}\b|\b\d{2}/\d{2}/(\d{4})\b", text)
    if not m:
        # Only when no numeric date is found, so the numeric layouts keep the year they had.
        m = _MONTH_YEAR.search(text)
        if not m:
            return _Years(None)
    year = int(next(g for g in m.groups() if g))
    seen: list[date] = []
    for fm in _FULL_DATES.finditer(text):
        g = {k[0]: v for k, v in fm.groupdict().items() if v}
        raw_month = g["m"]
        month = int(raw_month) if raw_month.isdigit() else MONTHS[raw_month.rstrip(".").lower()]
        try:
            seen.append(date(int(g["y"]), month, int(g["d"])))
        except ValueError:
            continue
    return _Years(year, min(seen, default=None), max(seen, default=None))


def _date(raw: str, profile: PdfProfile, years: _Years) -> date | None:
    for fmt in profile.date_formats:
        try:
            if "%Y" not in fmt and "%y" not in fmt:  # "03.02." or "03 Feb" takes the year
                if years.year is None:
                    continue
                return _yearless(raw, fmt, years, years.year)
            return parse_date(raw, fmt)
        except ValueError:
            continue
    return None


def _yearless(raw: str, fmt: str, years: _Years, year: int) -> date:
    """The statement year; the year before or after only when that, unlike the statement year,
    falls between the first and last full dates printed: a January statement whose header
    reads "alter Kontostand vom 31.12.2025 ... neuer Kontostand vom 31.01.2026" books "02.01."
    in 2026, not 2025."""
    day = parse_date(f"{raw} {year}", f"{fmt} %Y")
    lo, hi = years.first, years.last
    if lo is None or hi is None or lo <= day <= hi:
        return day
    for other in (year - 1, year + 1):
        try:
            alt = parse_date(f"{raw} {other}", f"{fmt} %Y")
        except ValueError:  # 29 Feb
            continue
        if lo <= alt <= hi:
            return alt
    return day


def _signed(value: Decimal, m: re.Match[str], profile: PdfProfile, where: str) -> Decimal:
    """Apply a debit/credit marker (group `dc`) to an amount printed without a sign."""
    marker = m.groupdict().get("dc")
    if marker is None:
        return value
    key = marker.strip().upper()
    if key in profile.debit_markers:
        return -abs(value)
    if key in profile.credit_markers:
        return abs(value)
    raise CorruptDocumentError(
        f"{where}: debit/credit marker {marker!r} is neither debit "
        f"{list(profile.debit_markers)} nor credit {list(profile.credit_markers)} "
        f"in PDF profile {profile.name!r}")


def _lines(pages: list[str], profile: PdfProfile, name: str,
           years: _Years) -> list[ParsedTransaction]:
    currency = profile.account_currency
    if currency is None:
        currency_m = profile.currency.search("\n".join(pages))
        currency = currency_m.group(1) if currency_m else "XXX"
    txs: list[ParsedTransaction] = []
    for page_no, page in enumerate(pages, start=1):
        lines = page.splitlines()
        for line_no, line in enumerate(lines, start=1):
            m = profile.line.match(line.strip())
            if not m:
                continue
            day = _date(m.group("date"), profile, years)
            if day is None:
                continue
            vd = m.groupdict().get("value_date")
            where = f"{name} page {page_no} line {line_no}"
            try:
                amount = money(parse_amount(m.group("amount"), decimal=profile.decimal))
            except AmountError as exc:
                raise CorruptDocumentError(f"{where}: {exc}") from exc
            amount = _signed(amount, m, profile, where)
            text = clean(m.group("text")) or ""
            # The next line often continues the purpose; take it when it is not a transaction.
            if line_no < len(lines):
                nxt = lines[line_no].strip()
                if nxt and not profile.line.match(nxt) and not _is_balance(nxt, profile):
                    text = f"{text} / {clean(nxt)}"
            counterparty, _, description = text.partition(" / ")
            txs.append(ParsedTransaction(
                booking_date=day,
                value_date=_date(vd, profile, years) if vd else None,
                amount=amount,
                currency=currency,
                counterparty=clean(counterparty),
                description=clean(description) or None,
                location=Location(page=page_no, line=line_no),
            ))
    return txs


def _is_balance(line: str, profile: PdfProfile) -> bool:
    return any(p is not None and p.search(line) for p in (profile.opening, profile.closing))


def _file(full: str, txs: list[ParsedTransaction], profile: PdfProfile,
          name: str) -> StatementFile:
    def bal(pattern: re.Pattern[str] | None, which: str) -> Decimal | None:
        m = pattern.search(full) if pattern is not None else None
        if m is None:
            return None
        try:
            value = money(parse_amount(m.group("amount"), decimal=profile.decimal))
        except AmountError as exc:  # an owner's balance pattern may catch more than a number
            raise CorruptDocumentError(f"{name}: {which} balance: {exc}") from exc
        return _signed(value, m, profile, f"{name}: {which} balance")

    from dataclasses import replace

    from ingest.money.textexport import card_owed

    iban = _IBAN.search(full)
    ident = iban.group(1).replace(" ", "") if iban else f"pdf:{profile.name}"
    warnings = [] if iban else [f"no IBAN found; filed under account {ident!r}"]
    opening, closing = bal(profile.opening, "opening"), bal(profile.closing, "closing")
    card = profile.line.groupindex.get("dc") is None and card_owed(full, txs, [])
    if card:  # a card statement printing what is owed: the holder's view is its negative
        txs = [replace(t, amount=-t.amount) for t in txs]
        opening = -opening if opening is not None else None
        closing = -closing if closing is not None else None
        warnings.append("card statement printing purchases positive: read as money out, and "
                        "its balances as amounts owed")
    stmt = ParsedStatement(
        account=AccountRef(identifier=ident, institution=profile.institution,
                           currency=txs[0].currency, type="credit" if card else None),
        transactions=tuple(txs),
        currency=txs[0].currency,
        period_start=min(t.booking_date for t in txs),
        period_end=max(t.booking_date for t in txs),
        opening_balance=opening,
        closing_balance=closing,
    )
    return StatementFile(format="pdf", statements=(stmt,), profile=profile.name,
                         warnings=tuple(warnings))


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


def parse_pdf(data: bytes, *, name: str = "statement.pdf",
              owner_profiles: tuple[PdfProfile, ...] = ()) -> StatementFile:
    return parse_pdf_text(pdf_pages(data, name=name), name=name, owner_profiles=owner_profiles)
