"""CSV statement exports: the owner's profiles and the named bank layouts first, else the
layout found from the file's structure (`csvlayout`); rows become transactions (pure).

Around the table: preamble lines (titles, "Currency: EUR", the account's IBAN, an opening
balance) and trailer lines ("Kontostand", "Transactions Total") are read for what they state and
never taken as transactions; a row without a date that continues the text of the row above is
joined to it; a row with an amount but no date fails the file (it would be a lost booking).
Files listing several accounts (an account column with several values) give one statement per
account. Signs follow `conventions`; the decisions taken (date order, card signs) are stated in
the file's warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, TypedDict

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from ingest.money import csvvocab as V
from ingest.money.amounts import AmountError, money, parse_amount
from ingest.money.balance import running_balances
from ingest.money.conventions import indicator_sign, signed
from ingest.money.csvlayout import Layout, MappingError, detect_layout
from ingest.money.csvprofiles import CsvOptions
from ingest.money.csvsniff import DATE_CELL, decode, read_records, sniff_delimiter
from ingest.money.dates import DateError, decide_format, read_date
from ingest.money.text import clean
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

__all__ = ["parse_csv", "sniff_delimiter"]

_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)\b")
_OPENING = ("opening balance", "anfangssaldo", "alter kontostand", "letzter kontostand",
            "saldo inicial", "saldo iniziale", "solde initial", "solde de debut", "beginsaldo",
            "startsaldo", "ingaende saldo", "saldo poczatkowe", "previous balance",
            "balance brought forward", "saldo anterior", "saldo alt", "start balance")
_CLOSING = ("closing balance", "endsaldo", "neuer kontostand", "kontostand", "saldo final",
            "saldo finale", "solde final", "eindsaldo", "slutsaldo", "utgaende saldo",
            "saldo koncowe", "new balance", "balance carried forward", "saldo neu",
            "end balance", "ending balance")
_TOTAL = re.compile(r"\b(total|totals|summe|gesamt|totaal|totale|suma|somme|sum|saldo|balance|"
                    r"kontostand|solde|ending|closing)\b", re.IGNORECASE)
_CARD_WORDS = re.compile(r"credit ?card|kreditkarte|mastercard|\bvisa\b|\bamex\b|american express"
                         r"|carte de cr[ée]dit|tarjeta de cr[ée]dito|creditcard|kredietkaart",
                         re.IGNORECASE)
_PENDING = ("pending", "vorgemerkt", "umsatz vorgemerkt", "ausstehend", "in behandeling",
            "en attente", "pendiente", "in sospeso", "authorised", "authorized")
_SKIP = ("reverted", "declined", "failed", "storniert", "cancelled", "canceled", "rejected")


@dataclass
class _Context:
    name: str
    decimal: str
    date_format: str
    currency_hint: str | None
    warnings: list[str] = field(default_factory=list)


def parse_csv(data: bytes, *, name: str = "statement.csv",
              options: CsvOptions | None = None) -> StatementFile:
    """Parse a CSV (or other delimited text) statement export.

    Raises:
        EmptyDocumentError: no rows (or a header alone).
        UnsupportedFormatError (MappingError): the columns cannot be mapped without a guess;
            the message lists the columns and a sample row.
        CorruptDocumentError: a row with an invalid amount or date (names the row and value).
    """
    options = options or CsvOptions()
    text, encoding = decode(data)
    if not text.strip():
        raise EmptyDocumentError(f"{name}: empty CSV file")
    delimiter = None
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        delimiter, text = first.strip()[4], rest  # Excel's "sep=;" line names the delimiter
    delimiter = delimiter or sniff_delimiter(text)
    warnings = [f"decoded as {encoding}"] if encoding not in ("utf-8", "utf-8-sig") else []
    return parse_records(read_records(text, delimiter), name=name, options=options,
                         warnings=warnings, delimiter=delimiter)


def parse_records(records: list[list[str]], *, name: str, options: CsvOptions,
                  warnings: list[str] | None = None, delimiter: str = ",",
                  fmt: str = "csv") -> StatementFile:
    """A statement from a table's rows (a CSV file's, or a spreadsheet's cells as text)."""
    from ingest.money.csvprofile_read import profile_layout

    layout = profile_layout(records, options)
    if layout is None:
        from ingest.money.brokercsv import is_broker_csv, parse_broker_csv

        if is_broker_csv(records):
            return parse_broker_csv(records, name=name, options=options)
        try:
            layout = detect_layout(records, name=name, card_hint=_card_hint(name, records))
        except EmptyDocumentError as exc:
            raise EmptyDocumentError(f"{name}: {exc}") from None
        except MappingError as exc:
            if options.profiles_file:
                raise MappingError(f"{exc} (add a [[profile]] to {options.profiles_file}; "
                                   "`homerag tx profile FILE` drafts one)") from None
            raise
    sf = read_statement(records, layout, name=name, options=options, warnings=warnings or [],
                        delimiter=delimiter)
    return sf if fmt == "csv" else replace(sf, format=fmt)


def _card_hint(name: str, records: list[list[str]]) -> bool:
    head = " ".join(" ".join(r) for r in records[:8])
    return bool(_CARD_WORDS.search(name) or _CARD_WORDS.search(head))


def _cell(rec: list[str], idx: list[int] | None) -> str:
    if not idx:
        return ""
    return " ".join(rec[i].strip() for i in idx if i < len(rec) and rec[i].strip())


def _decide_dates(records: list[list[str]], layout: Layout, name: str,
                  hint: bool | None) -> tuple[str, str | None]:
    if layout.date_format:
        return layout.date_format, None
    values = [c for r in records[layout.first_row:] if re.search(r"\d", c := _date_cell(r, layout))]
    try:
        return decide_format(values, day_first_hint=hint)
    except DateError as exc:
        raise CorruptDocumentError(f"{name}: {exc}") from None


def read_statement(records: list[list[str]], layout: Layout, *, name: str, options: CsvOptions,
                   warnings: list[str], delimiter: str) -> StatementFile:
    meta = _surroundings(records, layout)
    symbol = _symbol_currency(records, layout)
    currency_hint = (_header_currency(layout) or meta.get("currency")
                     or layout.default_currency or symbol or options.default_currency)
    hint = _day_first_hint(layout.decimal, delimiter,
                           currency_hint or _column_currency(records, layout))
    fmt, note = _decide_dates(records, layout, name, hint)
    ctx = _Context(name=name, decimal=layout.decimal, date_format=fmt,
                   currency_hint=currency_hint, warnings=warnings + layout.notes)
    if note:
        ctx.warnings.append(note)
    if symbol and currency_hint == symbol and layout.col("currency") is None:
        ctx.warnings.append(f"currency read from the amounts' symbol as {symbol}")
    rows = _rows(records, layout, ctx)
    if not rows:
        raise EmptyDocumentError(f"{name}: CSV statement without transaction rows")
    by_account: dict[str, list[tuple[ParsedTransaction, Decimal | None]]] = {}
    for account, tx, bal in rows:
        by_account.setdefault(account, []).append((tx, bal))
    statements = []
    for account, items in by_account.items():
        statements.append(_statement(account, items, layout, meta, ctx,
                                     single=len(by_account) == 1))
    if any(t.currency == "XXX" for s in statements for t in s.transactions):
        ctx.warnings.append("no currency in the file or profile; amounts stored with currency "
                            "XXX")
    return StatementFile(format="csv", statements=tuple(statements),
                         profile=layout.profile_name, warnings=tuple(ctx.warnings))


def _day_first_hint(decimal: str, delimiter: str, currency: str | None) -> bool | None:
    if decimal == "," or delimiter == ";":
        return True
    if currency in ("USD",):
        return False
    if currency and currency not in ("CAD",):
        return True
    return None


def _symbol_currency(records: list[list[str]], layout: Layout) -> str | None:
    """One currency symbol on the amounts ("$20.00", "12,50 €"): that currency."""
    cols = [i for r in ("amount", "debit", "credit", "balance") for i in layout.roles.get(r, [])]
    seen = {s for r in records[layout.first_row:layout.first_row + 500] for i in cols
            if i < len(r) for s in ("€", "£", "$") if s in r[i]}
    return {"€": "EUR", "£": "GBP", "$": "USD"}[seen.pop()] if len(seen) == 1 else None


def _column_currency(records: list[list[str]], layout: Layout) -> str | None:
    col = layout.col("currency")
    if col is None:
        return None
    codes = {r[col].strip().upper() for r in records[layout.first_row:] if len(r) > col
             and r[col].strip()}
    return codes.pop() if len(codes) == 1 else None


def _header_currency(layout: Layout) -> str | None:
    for role in ("amount", "debit", "credit"):
        for i in layout.roles.get(role, []):
            ccy = V.header_currency(layout.header[i]) if i < len(layout.header) else None
            if ccy:
                return ccy
    return None


class _Surroundings(TypedDict, total=False):
    """What the lines around the table state (each key only when stated)."""

    currency: str
    account: str
    opening: Decimal
    closing: Decimal


def _surroundings(records: list[list[str]], layout: Layout) -> _Surroundings:
    """Currency, account and balances stated in the lines before and after the table."""
    top = layout.header_row if layout.header_row is not None else layout.first_row
    pre = records[:top]
    out: _Surroundings = {}
    cells = [c.strip() for r in pre for c in r if c.strip()]
    codes = {c.upper() for c in cells if c.upper() in V.ISO_CURRENCIES}
    for c in cells:
        m = re.match(r"^(currency|w[äa]hrung|devise|valuta|moneda|munt)\s*[:=]\s*([A-Z]{3})$",
                     c, re.IGNORECASE)
        if m:
            codes.add(m.group(2).upper())
    if len(codes) == 1:
        out["currency"] = codes.pop()
    ibans = {m.group(1).replace(" ", "") for c in cells for m in [_IBAN.search(c)] if m}
    if len(ibans) == 1:
        out["account"] = ibans.pop()
    for rec in pre:
        _balance_line(rec, layout, out, _OPENING, "opening")
    for rec in records[layout.first_row:]:
        if rec and not _row_has_date(rec, layout):
            _balance_line(rec, layout, out, _CLOSING, "closing")
    return out


def _balance_line(rec: list[str], layout: Layout, out: _Surroundings,
                  words: tuple[str, ...], key: Literal["opening", "closing"]) -> None:
    cells = [c.strip() for c in rec if c.strip()]
    if not cells:
        return
    label = V.fold(cells[0]).rstrip(":")
    if not any(label == w or label.startswith(w + " ") for w in words):
        return
    for c in cells[1:]:
        if DATE_CELL.match(c):
            continue
        try:
            out[key] = money(parse_amount(c, decimal=layout.decimal))
            return
        except AmountError:
            continue


def _date_cell(rec: list[str], layout: Layout) -> str:
    """The first non-empty of the date columns (a profile may name alternatives)."""
    for col in layout.roles.get("date", []):
        if col < len(rec) and rec[col].strip():
            return rec[col].strip()
    return ""


def _row_has_date(rec: list[str], layout: Layout) -> bool:
    return bool(re.search(r"\d", _date_cell(rec, layout))) and len(rec) >= layout.width - 1


def _rows(records: list[list[str]], layout: Layout,
          ctx: _Context) -> list[tuple[str, ParsedTransaction, Decimal | None]]:
    out: list[tuple[str, ParsedTransaction, Decimal | None]] = []
    roles = layout.roles
    skipped = 0
    for i in range(layout.first_row, len(records)):
        rec = records[i]
        no = i + 1
        if not any(c.strip() for c in rec):
            continue
        where = f"{ctx.name} row {no}"
        status = V.fold(_cell(rec, roles.get("status")))
        if status and any(status == v or status.startswith(v)
                          for v in layout.skip_values or _SKIP):
            skipped += 1
            continue
        if not _row_has_date(rec, layout):
            _no_date_row(rec, layout, out, where)
            continue
        if len(rec) > layout.width and any(c.strip() for c in rec[layout.width:]):
            what = "header" if layout.header_row is not None else "table"
            raise CorruptDocumentError(f"{where}: {len(rec)} cells but the {what} has "
                                       f"{layout.width} (an unquoted delimiter inside a value?)")
        try:
            day = read_date(_date_cell(rec, layout), ctx.date_format)
            vcell = _cell(rec, roles.get("value_date"))
            vday = read_date(vcell, ctx.date_format) if re.search(r"\d", vcell) else None
        except (ValueError, DateError) as exc:
            raise CorruptDocumentError(f"{where}: date {_date_cell(rec, layout)!r} does not "
                                       f"match {ctx.date_format} ({exc})") from None
        if day.year < 1950:
            raise CorruptDocumentError(f"{where}: date {_date_cell(rec, layout)!r} is not a "
                                       "plausible statement date")
        amount = _amount(rec, layout, where)
        if amount is None:
            skipped += 1
            continue
        bal_raw = _cell(rec, roles.get("balance"))
        bal = _money(bal_raw, layout.decimal, where) if bal_raw else None
        currency = (_cell(rec, roles.get("currency")) or ctx.currency_hint or "XXX").upper()[:3]
        counterparty = clean(_cell(rec, roles.get("counterparty")))
        account = _cell(rec, roles.get("account")) or ""
        out.append((account, ParsedTransaction(
            booking_date=day, value_date=vday, amount=amount, currency=currency,
            counterparty=counterparty,
            description=clean(_cell(rec, roles.get("description"))),
            bank_id=_cell(rec, roles.get("reference")) or None,
            pending=bool(status) and any(status.startswith(v) or v in status
                                         for v in layout.pending_values or _PENDING),
            location=Location(row=no)), bal))
    if skipped:
        ctx.warnings.append(f"{skipped} row(s) without an amount or marked cancelled were left out")
    return out


def _no_date_row(rec: list[str], layout: Layout,
                 out: list[tuple[str, ParsedTransaction, Decimal | None]], where: str) -> None:
    """A continuation of the previous row's text, a total/balance line, or an error."""
    cells = [c.strip() for c in rec if c.strip()]
    joined = " ".join(cells)
    money_cells = [c for j, c in enumerate(rec) if j in _money_cols(layout) and c.strip()]
    if _TOTAL.search(joined) or not cells:
        return
    if not money_cells:
        if out:  # the text of the row above goes on (OCBC, DEGIRO)
            account, tx, bal = out[-1]
            text = " ".join(x for x in (tx.description, clean(joined)) if x)

            out[-1] = (account, replace(tx, description=text), bal)
        return
    raise CorruptDocumentError(f"{where}: an amount but no date ({joined[:80]!r}): a row with "
                               "missing cells?")


def _money_cols(layout: Layout) -> set[int]:
    return {i for r in ("amount", "debit", "credit") for i in layout.roles.get(r, [])}


def _money(raw: str, decimal: str, where: str) -> Decimal:
    try:
        return money(parse_amount(raw, decimal=decimal, flexible=True))
    except AmountError as exc:
        raise CorruptDocumentError(f"{where}: {exc}") from None


def _amount(rec: list[str], layout: Layout, where: str) -> Decimal | None:
    roles, dec = layout.roles, layout.decimal
    raw = _cell(rec, roles.get("amount"))
    if layout.sign == "pair" or (not raw and ("debit" in roles or "credit" in roles)):
        debit, credit = _cell(rec, roles.get("debit")), _cell(rec, roles.get("credit"))
        if not debit and not credit:
            return None
        value = Decimal("0.00")
        if credit:
            value += _money(credit, dec, where)
        if debit:
            value -= abs(_money(debit, dec, where))
        return value
    if not raw:
        return None
    value = _money(raw, dec, where)
    if layout.sign == "indicator":
        mark = _cell(rec, roles.get("indicator"))
        value = signed(value, indicator_sign(mark, where=where))
    elif layout.sign == "card_positive":
        value = -value
    elif layout.sign == "direction" and V.fold(  # an owner profile's own debit words
            _cell(rec, roles.get("indicator"))) in layout.debit_values:
        value = -abs(value)
    fee = _cell(rec, roles.get("fee"))
    if fee:
        value -= abs(_money(fee, dec, where))
    if layout.negate:
        value = -value
    return value


def _statement(account: str, items: list[tuple[ParsedTransaction, Decimal | None]],
               layout: Layout, meta: _Surroundings, ctx: _Context,
               single: bool) -> ParsedStatement:
    txs = [t for t, _ in items]
    chain = running_balances([t.amount for t in txs], [b for _, b in items]) \
        if layout.roles.get("balance") else None
    opening = closing = None
    if chain is not None:
        opening, closing = chain
    elif layout.roles.get("balance") and any(b is not None for _, b in items):
        ctx.warnings.append("the running balances do not link the rows into one chain; "
                            "balance unverified")
    if single and chain is None:
        opening = meta.get("opening")
        closing = meta.get("closing")
        if opening is None or closing is None:
            opening = closing = None
    ident = account or layout.account_id or str(meta.get("account") or "") or f"csv:{layout.profile_name}"
    if not (account or layout.account_id or meta.get("account")):
        ctx.warnings.append(f"no account number in the file; filed under account {ident!r}")
    currencies = {t.currency for t in txs}
    ccy = next(iter(currencies)) if len(currencies) == 1 else None
    return ParsedStatement(
        account=AccountRef(identifier=ident, institution=layout.institution, currency=ccy,
                           type="credit" if layout.card else None),
        transactions=tuple(txs), currency=ccy,
        period_start=min(t.booking_date for t in txs),
        period_end=max(t.booking_date for t in txs),
        opening_balance=opening, closing_balance=closing,
    )
