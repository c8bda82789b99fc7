"""OFX investment statements (INVSTMTRS): securities, positions, trades, income, cash entries.

Each INVTRANLIST entry becomes an investment transaction with its cash effect (conventions:
buy/fee negative, sale/income positive, reinvestment/transfer/split zero); INVBANKTRAN entries
are plain cash movements and become ordinary transactions of the account; INVPOSLIST gives the
positions as of the statement date; SECLIST names the securities (ticker, name, type).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.core.errors import CorruptDocumentError
from ingest.money.ofx import account_of, ofx_amount, ofx_date, ofx_number, transaction
from ingest.money.ofxtree import Element
from ingest.money.text import clean
from ingest.money.types import (
    InvestmentTransaction,
    Location,
    ParsedStatement,
    ParsedTransaction,
    Position,
    Security,
)

_INFO_TYPES = {"MFINFO": "fund", "STOCKINFO": "stock", "DEBTINFO": "bond", "OPTINFO": "option",
               "OTHERINFO": "other"}
_INCOME_KINDS = {"DIV": "dividend", "INTEREST": "interest", "CGLONG": "capital_gain",
                 "CGSHORT": "capital_gain", "MISC": "income"}
_BUYS = ("BUYDEBT", "BUYMF", "BUYOPT", "BUYOTHER", "BUYSTOCK")
_SELLS = ("SELLDEBT", "SELLMF", "SELLOPT", "SELLOTHER", "SELLSTOCK")
_OTHER = ("JRNLFUND", "JRNLSEC", "CLOSUREOPT")


def security_key(secid: Element | None) -> str | None:
    """"ISIN:US0378331005", "CUSIP:315994103" ... from a SECID aggregate."""
    if secid is None:
        return None
    uid = secid.value("UNIQUEID")
    if not uid:
        return None
    kind = (secid.value("UNIQUEIDTYPE") or "ID").upper()
    return f"{kind}:{uid.strip().upper()}"


def securities_of(seclists: list[Element], name: str) -> dict[str, Security]:
    """Every security of the SECLIST(s), by key."""
    out: dict[str, Security] = {}
    for seclist in seclists:
        for info in seclist.children:
            sec = info.find("SECINFO")
            key = security_key(sec.find("SECID")) if sec is not None else None
            if sec is None or key is None:
                continue
            ident = key.split(":", 1)[1]
            out.setdefault(key, Security(
                key=key, name=clean(sec.value("SECNAME")), ticker=clean(sec.value("TICKER")),
                isin=ident if key.startswith("ISIN:") else None,
                cusip=ident if key.startswith("CUSIP:") else None,
                type=_INFO_TYPES.get(info.tag, "other"),
                currency=(sec.value("CURRENCY/CURSYM") or "").strip().upper() or None,
            ))
    return out


def investment_statement(el: Element, name: str, securities: dict[str, Security],
                         warnings: list[str]) -> ParsedStatement:
    account = account_of(el, name, tag="INVACCTFROM", kind="investment")
    currency = account.currency or "XXX"
    as_of = ofx_date(el.value("DTASOF"), f"{name} line {el.line}")
    cash: list[ParsedTransaction] = []
    trades: list[InvestmentTransaction] = []
    starts, ends = [], []
    for tranlist in el.findall("INVTRANLIST"):
        where = f"{name} line {tranlist.line}"
        starts += [d for d in (ofx_date(tranlist.value("DTSTART"), where),) if d]
        ends += [d for d in (ofx_date(tranlist.value("DTEND"), where),) if d]
        for entry in tranlist.children:
            if entry.tag in ("DTSTART", "DTEND"):
                continue
            if entry.tag == "INVBANKTRAN":
                trn = entry.find("STMTTRN")
                if trn is None:
                    raise CorruptDocumentError(f"{name} line {entry.line}: INVBANKTRAN without "
                                               "STMTTRN")
                cash.append(transaction(trn, name, currency))
                continue
            trades.append(_trade(entry, name, currency))
    positions = _positions(el, name, as_of, currency)
    for key in {t.security for t in trades if t.security} | {p.security for p in positions}:
        if key not in securities:
            securities[key] = Security(key=key)
            warnings.append(f"security {key} is not described in the file's SECLIST")
    avail = el.value("INVBAL/AVAILCASH")
    closing = ofx_amount(avail, f"{name} INVBAL", "AVAILCASH") if avail else None
    dates = [t.booking_date for t in cash] + [t.trade_date for t in trades]
    return ParsedStatement(
        account=account,
        transactions=tuple(cash),
        currency=account.currency,
        period_start=min(starts + dates, default=as_of),
        period_end=max(ends + dates + ([as_of] if as_of and not ends else []), default=None),
        opening_balance=None,
        closing_balance=closing,
        positions=tuple(positions),
        investments=tuple(trades),
        meta={"as_of": as_of.isoformat()} if as_of else {},
    )


def _currency(agg: Element, default: str) -> str:
    return (agg.value("CURRENCY/CURSYM") or agg.value("ORIGCURRENCY/CURSYM")
            or default).strip().upper()


def _trade(entry: Element, name: str, currency: str) -> InvestmentTransaction:
    where = f"{name} line {entry.line}"
    tag = entry.tag
    body = entry.find("INVBUY") or entry.find("INVSELL") or entry
    inv = body.find("INVTRAN") or entry.find("INVTRAN")
    if inv is None:
        raise CorruptDocumentError(f"{where}: investment transaction <{tag}> without INVTRAN")
    trade_date = ofx_date(inv.value("DTTRADE"), where)
    if trade_date is None:
        raise CorruptDocumentError(f"{where}: investment transaction without DTTRADE")

    def num(field: str) -> Decimal | None:
        return ofx_number(body.value(field), where, field)

    total_raw = body.value("TOTAL")
    total = ofx_amount(total_raw, where, "TOTAL") if total_raw else None
    units, price = num("UNITS"), num("UNITPRICE")
    fees = sum((v for v in (num("COMMISSION"), num("FEES"), num("LOAD"), num("TAXES")) if v),
               Decimal(0))
    gross = abs(total) if total is not None else (
        abs(units * price) if units is not None and price is not None else None)
    if tag in _BUYS:
        kind = "buy"
        cash = -gross if gross is not None else None
        units = abs(units) if units is not None else None
    elif tag in _SELLS:
        kind, cash = "sell", gross
        units = -abs(units) if units is not None else None
    elif tag == "INCOME":
        kind = _INCOME_KINDS.get((body.value("INCOMETYPE") or "").upper(), "income")
        cash = total
    elif tag == "REINVEST":
        kind, cash = "reinvest", Decimal("0.00")
    elif tag == "INVEXPENSE":
        kind, cash = "fee", -gross if gross is not None else None
    elif tag == "MARGININTEREST":
        kind, cash = "interest", -gross if gross is not None else None
    elif tag == "RETOFCAP":
        kind, cash = "return_of_capital", gross
    elif tag == "SPLIT":
        old, new = num("OLDUNITS"), num("NEWUNITS")
        kind, cash = "split", ofx_amount(body.value("FRACCASH"), where, "FRACCASH") \
            if body.value("FRACCASH") else Decimal("0.00")
        units = new - old if new is not None and old is not None else None
    elif tag == "TRANSFER":
        out = (body.value("TFERACTION") or "IN").upper() == "OUT"
        kind, cash = ("transfer_out" if out else "transfer_in"), Decimal("0.00")
        units = (-abs(units) if out else abs(units)) if units is not None else None
    elif tag in _OTHER:
        kind, cash = "other", Decimal("0.00")
    else:
        raise CorruptDocumentError(f"{where}: unknown investment transaction <{tag}>")
    if cash is None:
        raise CorruptDocumentError(f"{where}: <{tag}> without TOTAL (cannot tell its cash effect)")
    return InvestmentTransaction(
        trade_date=trade_date,
        kind=kind,
        cash=cash,
        currency=_currency(body, currency),
        security=security_key(body.find("SECID")),
        units=units,
        unit_price=price,
        amount=gross,
        fees=fees or None,
        settle_date=ofx_date(inv.value("DTSETTLE"), where),
        description=clean(inv.value("MEMO")),
        bank_id=inv.value("FITID"),
        location=Location(line=entry.line),
    )


def _positions(el: Element, name: str, as_of: date | None, currency: str) -> list[Position]:
    out: list[Position] = []
    for poslist in el.findall("INVPOSLIST"):
        for pos in poslist.children:
            inv = pos.find("INVPOS")
            where = f"{name} line {pos.line}"
            if inv is None:
                raise CorruptDocumentError(f"{where}: position <{pos.tag}> without INVPOS")
            key = security_key(inv.find("SECID"))
            if key is None:
                raise CorruptDocumentError(f"{where}: position without security id")
            units = ofx_number(inv.value("UNITS"), where, "UNITS")
            if units is None:
                raise CorruptDocumentError(f"{where}: position without UNITS")
            if (inv.value("POSTYPE") or "").upper() == "SHORT":
                units = -abs(units)
            day = as_of or ofx_date(inv.value("DTPRICEASOF"), where)
            if day is None:
                raise CorruptDocumentError(f"{where}: position without a date")
            mkt = inv.value("MKTVAL")
            out.append(Position(
                security=key, as_of=day, units=units, currency=_currency(inv, currency),
                unit_price=ofx_number(inv.value("UNITPRICE"), where, "UNITPRICE"),
                market_value=ofx_amount(mkt, where, "MKTVAL") if mkt else None,
                location=Location(line=pos.line),
            ))
    return out
