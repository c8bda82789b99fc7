"""CSV statement exports: sniff encoding, delimiter, header row, decimal comma and date format,
then read rows through a layout profile. An unknown layout is an error naming the columns (pure)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from app.core.errors import CorruptDocumentError, EmptyDocumentError, UnsupportedFormatError
from ingest.money.amounts import (
    AmountError,
    DateFormatError,
    money,
    parse_amount,
    parse_date,
    sniff_date_format,
    sniff_decimal,
)
from ingest.money.csvprofiles import CsvOptions, CsvProfile
from ingest.money.text import clean, decode_bytes, strip_controls
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

DELIMITERS = (";", ",", "\t", "|")
_HEADER_SCAN = 30
_DATEISH = re.compile(r"\d")
_CURRENCY_IN_HEADER = re.compile(r"\((EUR|USD|GBP|CHF|€|\$|£)\)")
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP"}


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the most rows with the same (>1) number of columns."""
    lines = [ln for ln in text.splitlines()[:60] if ln.strip()]
    best, best_score = ",", -1
    for delim in DELIMITERS:
        counts = Counter(len(r) for r in csv.reader(lines, delimiter=delim))
        cols, rows = max(counts.items(), key=lambda kv: (kv[1], kv[0])) if counts else (0, 0)
        score = rows * cols if cols > 1 else 0
        if score > best_score:
            best, best_score = delim, score
    return best


def _norm(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").strip().strip('"').lower().split())


@dataclass(frozen=True, slots=True)
class _Layout:
    profile: CsvProfile
    header_row: int  # index of the header record
    cols: dict[str, list[int]]  # role -> column indexes


def _resolve(profile: CsvProfile, header: list[str]) -> _Layout | None:
    names = [_norm(h) for h in header]
    if profile.required and not all(r in names for r in profile.required):
        return None
    cols: dict[str, list[int]] = {}
    amount_at = -1
    for role in ("date", "amount", "debit", "credit", "fee", "direction", "counterparty",
                 "counterparty_in", "counterparty_out", "description", "value_date", "currency",
                 "reference", "balance", "status", "account"):
        wanted = profile.columns(role)
        found: list[int] = []
        for w in wanted:
            idx = [i for i, n in enumerate(names) if n == w]
            if not idx:
                continue
            if role == "currency" and len(idx) > 1 and amount_at >= 0:
                # ING: "Saldo;Währung;Betrag;Währung" - the amount's currency follows it.
                idx = [next((i for i in idx if i > amount_at), idx[0])]
            found.append(idx[0])
            if role not in ("description",):
                break  # first matching alternative wins; descriptions are joined
        if found:
            cols[role] = found
            if role == "amount":
                amount_at = found[0]
    if "date" not in cols or not ("amount" in cols or "debit" in cols or "credit" in cols):
        return None
    return _Layout(profile=profile, header_row=-1, cols=cols)


def _find_layout(records: list[list[str]], options: CsvOptions) -> _Layout | None:
    for i, rec in enumerate(records[:_HEADER_SCAN]):
        if len(rec) < 2:
            continue
        for profile in options.all_profiles:
            layout = _resolve(profile, rec)
            if layout is not None:
                return _Layout(profile=layout.profile, header_row=i, cols=layout.cols)
    return None


def parse_csv(data: bytes, *, name: str = "statement.csv",
              options: CsvOptions | None = None) -> StatementFile:
    """Parse a CSV statement export.

    Raises:
        EmptyDocumentError: no rows.
        UnsupportedFormatError: no profile fits; the message lists the columns seen.
        CorruptDocumentError: a row with an invalid amount or date (names row and value).
    """
    options = options or CsvOptions()
    text, encoding = decode_bytes(data)
    text = strip_controls(text)
    if not text.strip():
        raise EmptyDocumentError(f"{name}: empty CSV file")
    delimiter = sniff_delimiter(text)
    records = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    layout = _find_layout(records, options)
    if layout is None:
        widest = max(records[:_HEADER_SCAN], key=len)
        seen = ", ".join(repr(c.strip()) for c in widest if c.strip()) or "none"
        where = f" (add a profile to {options.profiles_file})" if options.profiles_file else ""
        raise UnsupportedFormatError(
            f"{name}: unrecognised CSV statement layout; columns seen: {seen}{where}"
        )
    return _read(records, layout, name=name, options=options, encoding=encoding,
                 delimiter=delimiter)


def _cell(rec: list[str], idx: list[int] | None) -> str:
    if not idx:
        return ""
    return " ".join(rec[i].strip() for i in idx if i < len(rec) and rec[i].strip())


def _read(records: list[list[str]], layout: _Layout, *, name: str, options: CsvOptions,
          encoding: str, delimiter: str) -> StatementFile:
    p, cols = layout.profile, layout.cols
    warnings: list[str] = []
    if encoding not in ("utf-8", "utf-8-sig"):
        warnings.append(f"decoded as {encoding}")
    header = records[layout.header_row]
    body = [(i + 1, rec) for i, rec in enumerate(records) if i > layout.header_row]
    rows = [(no, rec) for no, rec in body if _DATEISH.search(_cell(rec, cols["date"][:1]))]
    if not rows:
        raise EmptyDocumentError(f"{name}: CSV statement without transaction rows")
    money_cells = [_cell(rec, cols.get(r)) for _, rec in rows
                   for r in ("amount", "debit", "credit", "balance")]
    decimal = p.decimal or sniff_decimal([c for c in money_cells if c][:2000])
    fmt = p.date_format
    if fmt is None:
        try:
            fmt, ambiguous = sniff_date_format(
                (_cell(rec, cols["date"][:1]) for _, rec in rows),
                prefer_day_first=decimal == "," or delimiter == ";",
            )
        except DateFormatError as exc:
            raise CorruptDocumentError(f"{name}: {exc}") from exc
        if ambiguous:
            warnings.append(f"date format ambiguous; read as {fmt}")
    currency_hint = _header_currency(header, cols) or p.default_currency or options.default_currency
    txs: list[ParsedTransaction] = []
    balances: list[tuple[int, Decimal]] = []
    account = None
    width = len(header)
    for no, rec in rows:
        if len(rec) > width and any(c.strip() for c in rec[width:]):
            raise CorruptDocumentError(
                f"{name} row {no}: {len(rec)} cells but the header has {width} "
                "(an unquoted delimiter inside a value?)")
        status = _cell(rec, cols.get("status")).lower()
        if status and any(status == v or status.startswith(v) for v in p.skip_values):
            continue
        try:
            day = parse_date(_cell(rec, cols["date"][:1]), fmt)
            vcell = _cell(rec, cols.get("value_date", [])[:1])
            vday = parse_date(vcell, fmt) if vcell and _DATEISH.search(vcell) else None
        except ValueError as exc:
            raise CorruptDocumentError(f"{name} row {no}: date does not match {fmt}: {exc}") from exc
        try:
            amount = _amount(rec, cols, p, decimal)
            bal = _cell(rec, cols.get("balance"))
            if bal:
                balances.append((len(txs), money(parse_amount(bal, decimal=decimal))))
        except AmountError as exc:
            raise CorruptDocumentError(f"{name} row {no}: {exc}") from exc
        if amount is None:
            continue  # a row without any amount (a note line)
        currency = (_cell(rec, cols.get("currency")) or currency_hint or "XXX").upper()[:3]
        counterparty = _cell(rec, cols.get("counterparty"))
        if not counterparty:
            side = "counterparty_out" if amount < 0 else "counterparty_in"
            counterparty = _cell(rec, cols.get(side))
        account = account or _cell(rec, cols.get("account")) or None
        txs.append(ParsedTransaction(
            booking_date=day,
            value_date=vday,
            amount=amount,
            currency=currency,
            counterparty=clean(counterparty),
            description=clean(_cell(rec, cols.get("description"))),
            bank_id=_cell(rec, cols.get("reference")) or None,
            pending=bool(status) and any(v in status for v in p.pending_values),
            location=Location(row=no),
        ))
    if not txs:
        raise EmptyDocumentError(f"{name}: CSV statement without transaction rows")
    if "XXX" in {t.currency for t in txs}:
        warnings.append("no currency in the file or profile; amounts stored with currency XXX")
    opening, closing = _balances(txs, balances)
    ident = p.account_id or account or f"csv:{p.name}"
    if not (p.account_id or account):
        warnings.append(f"no account number in the file; filed under account {ident!r}")
    currencies = {t.currency for t in txs}
    stmt = ParsedStatement(
        account=AccountRef(identifier=ident, institution=p.institution,
                           currency=next(iter(currencies)) if len(currencies) == 1 else None),
        transactions=tuple(txs),
        currency=next(iter(currencies)) if len(currencies) == 1 else None,
        period_start=min(t.booking_date for t in txs),
        period_end=max(t.booking_date for t in txs),
        opening_balance=opening,
        closing_balance=closing,
    )
    return StatementFile(format="csv", statements=(stmt,), profile=p.name,
                         warnings=tuple(warnings))


def _header_currency(header: list[str], cols: dict[str, list[int]]) -> str | None:
    for role in ("amount", "debit", "credit"):
        for i in cols.get(role, []):
            m = _CURRENCY_IN_HEADER.search(header[i])
            if m:
                return _SYMBOLS.get(m.group(1), m.group(1))
    return None


def _amount(rec: list[str], cols: dict[str, list[int]], p: CsvProfile,
            decimal: str) -> Decimal | None:
    raw = _cell(rec, cols.get("amount"))
    if raw:
        value = parse_amount(raw, decimal=decimal)
        direction = _cell(rec, cols.get("direction")).lower()
        if direction and direction in p.debit_values:
            value = -abs(value)
    else:
        debit, credit = _cell(rec, cols.get("debit")), _cell(rec, cols.get("credit"))
        if not debit and not credit:
            return None
        value = Decimal(0)
        if credit:
            value += parse_amount(credit, decimal=decimal)
        if debit:
            value -= abs(parse_amount(debit, decimal=decimal))
    fee = _cell(rec, cols.get("fee"))
    if fee:
        value -= abs(parse_amount(fee, decimal=decimal))
    if p.negate:
        value = -value
    return money(value)


def _balances(txs: list[ParsedTransaction],
              balances: list[tuple[int, Decimal]]) -> tuple[Decimal | None, Decimal | None]:
    """Opening and closing balance from a running-balance column (rows newest- or oldest-first)."""
    if len(balances) != len(txs) or not txs:
        return None, None
    newest_first = txs[0].booking_date > txs[-1].booking_date
    order = list(range(len(txs)))[::-1] if newest_first else list(range(len(txs)))
    first, last = order[0], order[-1]
    by_index = dict(balances)
    opening = by_index[first] - txs[first].amount
    return opening, by_index[last]
