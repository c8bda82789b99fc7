"""Broker CSV exports (Schwab, Revolut, Trading 212, Interactive Brokers and alike): trades,
income, fees and cash movements of an investment account, by their action words.

Every row becomes an investment transaction (buy, sell, dividend, interest, fee, tax, split,
transfer ...) with its cash effect, or, for deposits and withdrawals, a plain cash transaction.
The cash effect: files that print buys negative are read as printed; files that print every
total positive (the sign is in the action) take the sign of the action's kind
(`conventions`); an action we do not know keeps its printed sign in a signed file and fails
the file otherwise. The file's own "Transactions Total" line is compared with the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from ingest.money import csvvocab as V
from ingest.money.amounts import AmountError, money, parse_amount, sniff_decimal
from ingest.money.csvprofiles import CsvOptions
from ingest.money.dates import DateError, decide_format, read_date
from ingest.money.text import clean
from ingest.money.types import (
    AccountRef,
    InvestmentTransaction,
    Location,
    ParsedStatement,
    ParsedTransaction,
    Security,
    StatementFile,
)

_ROLE_WORDS = {
    "date": ("date", "tradedate", "trade date", "time", "datum", "transaction date", "settle date",
             "data", "fecha"),
    "action": ("action", "type", "buy/sell", "transaction type", "activity", "transaktionstyp",
               "typ", "art", "actie", "tipo", "operation"),
    "symbol": ("symbol", "ticker", "instrument", "code"),
    "isin": ("isin", "wkn", "cusip", "security id"),
    "name": ("name", "description", "security", "security name", "product", "bezeichnung",
             "wertpapier", "produit", "instrument name"),
    "quantity": ("quantity", "shares", "no. of shares", "units", "stuck", "stueck", "anzahl",
                 "aantal", "qty", "cantidad", "quantite", "nombre"),
    "price": ("price", "price / share", "price per share", "unit price", "tradeprice", "kurs",
              "koers", "prix", "precio"),
    "fees": ("fees & comm", "fees", "fee", "commission", "ibcommission", "gebuhren", "kosten",
             "frais", "comision"),
    "amount": ("amount", "total amount", "total", "trademoney", "net amount", "betrag", "bedrag",
               "montant", "importe", "value", "netamount", "proceeds"),
    "currency": ("currency", "currencyprimary", "currency (total)", "wahrung", "ccy", "devise"),
}
_KINDS = (  # (pattern on the folded action, kind); first match wins
    (r"cap(ital)? gains?", "capital_gain"),
    (r"stock div(idend)? dist|stock distribution", "other"),
    (r"reinvest(ed)? (dividend|div)|div(idend)? reinvest", "dividend"),
    (r"reinvest(ed)? shares|reinvestment", "buy"),
    (r"stock split|reverse split|\bsplit\b", "split"),
    (r"withholding|tax|quellensteuer|belasting", "tax"),
    (r"dividend|\bdiv\b|dividende|dividendo|distribution(?! of stock)", "dividend"),
    (r"interest|zinsen|rente|interes", "interest"),
    (r"\bbuy\b|bought|purchase|kauf|koop|compra|achat|acquisto", "buy"),
    (r"\bsell\b|sold|verkauf|verkoop|venta|vente|vendita", "sell"),
    (r"fee|commission|gebuhr|kosten|frais|adr mgmt", "fee"),
    (r"deposit|top-?up|einzahlung|storting|wire (received|in)|contribution", "cash_in"),
    (r"withdrawal|auszahlung|opname|wire (sent|out)", "cash_out"),
    (r"moneylink|internal transfer|cash transfer|journal(ed)? (cash|funds)|umbuchung",
     "cash_move"),
    (r"stock distribution|spin-?off|journal(ed)? shares|name change|conversion|merger|transfer",
     "other"),
)
_DIRECTION = {"buy": -1, "sell": 1, "dividend": 1, "interest": 1, "fee": -1, "tax": -1,
              "capital_gain": 1, "cash_in": 1, "cash_out": -1, "cash_move": 0, "split": 0,
              "other": 0}
_AS_OF = re.compile(r"\s+as of\s+.*$", re.IGNORECASE)


@dataclass
class _Cols:
    header_row: int
    roles: dict[str, int]


def _find(records: list[list[str]]) -> _Cols | None:
    for i, rec in enumerate(records[:20]):
        roles: dict[str, int] = {}
        for j, cell in enumerate(rec):
            name = V.fold(cell)
            for role, words in _ROLE_WORDS.items():
                if role not in roles and name in words:
                    roles[role] = j
                    break
        has_security = "symbol" in roles or "isin" in roles
        if "date" in roles and has_security and ("quantity" in roles or "action" in roles) \
                and ("amount" in roles or "price" in roles):
            return _Cols(i, roles)
    return None


def is_broker_csv(records: list[list[str]]) -> bool:
    return _find(records) is not None


def _kind(action: str) -> str | None:
    folded = V.fold(action)
    for pattern, kind in _KINDS:
        if re.search(pattern, folded):
            return kind
    return None


def parse_broker_csv(records: list[list[str]], *, name: str,
                     options: CsvOptions) -> StatementFile:
    cols = _find(records)
    assert cols is not None
    r = cols.roles
    body = [(i, rec) for i, rec in enumerate(records) if i > cols.header_row
            and any(c.strip() for c in rec)]
    rows = [(i, rec) for i, rec in body if len(rec) > r["date"]
            and re.search(r"\d", rec[r["date"]]) and not _total_row(rec)]
    if not rows:
        raise EmptyDocumentError(f"{name}: broker export without rows")
    dates = [_AS_OF.sub("", rec[r["date"]]) for _, rec in rows]
    try:
        fmt, note = decide_format(dates, day_first_hint=False)
    except DateError as exc:
        raise CorruptDocumentError(f"{name}: {exc}") from None
    money_cells = [rec[j] for _, rec in rows for k in ("amount", "price", "fees")
                   if (j := r.get(k)) is not None and j < len(rec) and rec[j].strip()]
    decimal = sniff_decimal(money_cells[:2000])
    warnings = [note] if note else []

    def cell(rec: list[str], role: str) -> str:
        j = r.get(role)
        return rec[j].strip() if j is not None and j < len(rec) else ""

    def num(rec: list[str], role: str, where: str) -> Decimal | None:
        raw = cell(rec, role)
        if not raw:
            return None
        try:
            return parse_amount(raw, decimal=decimal)
        except AmountError as exc:
            raise CorruptDocumentError(f"{where}: {role} {exc}") from None

    parsed = []
    for i, rec in rows:
        where = f"{name} row {i + 1}"
        action = cell(rec, "action")
        kind = _kind(action) if action else None
        amount = num(rec, "amount", where)
        quantity = num(rec, "quantity", where)
        if kind is None:
            kind = "buy" if quantity and quantity > 0 else ("sell" if quantity else None)
        parsed.append((i, rec, where, action, kind, amount, quantity))
    signed_file = any(k == "buy" and a is not None and a < 0 for *_, k, a, _q in parsed)
    symbol_ccy = _symbol_currency(money_cells)
    default_ccy = symbol_ccy or options.default_currency or "XXX"
    if symbol_ccy:
        warnings.append(f"currency read from the amounts' symbol as {symbol_ccy}")
    securities: dict[str, Security] = {}
    trades: list[InvestmentTransaction] = []
    cash: list[ParsedTransaction] = []
    for i, rec, where, action, kind, amount, quantity in parsed:
        try:
            day = read_date(_AS_OF.sub("", cell(rec, "date")), fmt)
        except ValueError as exc:
            raise CorruptDocumentError(f"{where}: date {cell(rec, 'date')!r}: {exc}") from None
        currency = (cell(rec, "currency") or default_ccy).upper()[:3]
        if kind is None:
            raise CorruptDocumentError(f"{where}: action {action!r} is not one we know "
                                       "(buy, sell, dividend, interest, fee ...)")
        value = money(amount) if amount is not None else Decimal("0.00")
        direction = 0 if signed_file else _DIRECTION[kind]
        effect = abs(value) * direction if direction else value
        description = clean(" ".join(x for x in (action, cell(rec, "name")) if x))
        if kind in ("cash_in", "cash_out", "cash_move"):
            cash.append(ParsedTransaction(
                booking_date=day, amount=effect, currency=currency, counterparty=None,
                description=description, type=action or None, location=Location(row=i + 1)))
            continue
        key = _security(rec, cell, securities)
        if kind in ("buy", "sell") and key is None:
            kind = "other"  # a currency exchange: two currencies, not a security
        units = quantity
        if units is not None and kind == "sell":
            units = -abs(units)
        elif units is not None and kind == "buy":
            units = abs(units)
        elif units and kind == "other" and re.search(r"distribution|journal|transfer",
                                                     V.fold(action)):
            kind = "transfer_in" if units > 0 else "transfer_out"
        trades.append(InvestmentTransaction(
            trade_date=day, kind=kind,
            cash=effect, currency=currency, security=key, units=units,
            unit_price=num(rec, "price", where), amount=abs(value) if amount is not None else None,
            fees=abs(money(f)) if (f := num(rec, "fees", where)) else None,
            description=description, location=Location(row=i + 1)))
    dates_all = [t.trade_date for t in trades] + [t.booking_date for t in cash]
    stmt = ParsedStatement(
        account=AccountRef(identifier="broker:csv", type="investment"),
        transactions=tuple(cash), currency=default_ccy if default_ccy != "XXX" else None,
        period_start=min(dates_all), period_end=max(dates_all), investments=tuple(trades))
    warnings.append("no account number in the file; filed under account 'broker:csv'")
    _check_total(records, rows, trades, cash, decimal, warnings, name)
    return StatementFile(format="csv", statements=(stmt,), profile="broker",
                         warnings=tuple(warnings), securities=tuple(securities.values()))


def _security(rec: list[str], cell, securities: dict[str, Security]) -> str | None:  # type: ignore[no-untyped-def]
    isin = cell(rec, "isin").upper()
    symbol = cell(rec, "symbol").upper()
    name = clean(cell(rec, "name"))
    if isin and re.fullmatch(r"[A-Z]{2}[A-Z0-9]{9}\d", isin):
        key = f"ISIN:{isin}"
    elif symbol:
        key = f"TICKER:{symbol}"
    else:
        return None
    known = securities.get(key)
    securities[key] = Security(key=key, name=(known.name if known else None) or name,
                               ticker=symbol or (known.ticker if known else None),
                               isin=isin if key.startswith("ISIN:") else None)
    return key


def _total_row(rec: list[str]) -> bool:
    first = V.fold(next((c for c in rec if c.strip()), ""))
    return first.startswith(("transactions total", "total", "summe", "totaal"))


def _check_total(records: list[list[str]], rows: list, trades: list, cash: list,  # type: ignore[type-arg]
                 decimal: str, warnings: list[str], name: str) -> None:
    """A "Transactions Total" trailer is the file's own sum: say when the rows disagree."""
    for rec in records:
        if _total_row(rec):
            amounts = [c for c in rec[1:] if c.strip()]
            if not amounts:
                return
            try:
                stated = money(parse_amount(amounts[-1], decimal=decimal))
            except AmountError:
                return
            got = sum((t.cash for t in trades), Decimal(0)) + sum((t.amount for t in cash),
                                                                  Decimal(0))
            if got != stated:
                warnings.append(f"the file's 'Transactions Total' {stated} differs from its "
                                f"rows' sum {got}")
            return


def _symbol_currency(cells: list[str]) -> str | None:
    symbols = {s for c in cells for s in ("€", "£", "$") if s in c}
    return {"€": "EUR", "£": "GBP", "$": "USD"}[symbols.pop()] if len(symbols) == 1 else None
