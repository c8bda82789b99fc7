"""QIF investment sections (!Type:Invst): actions -> investment transactions with their cash
effect, and cash-only actions (XIn, XOut, Cash, ContribX ...) -> ordinary transactions.

An action ending in X moves its cash to or from another account (named in L/$): its effect on
this account's own cash is zero, and the description names the other account.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from app.core.errors import CorruptDocumentError
from ingest.money.qif import account_ref, qif_amount, qif_date
from ingest.money.text import clean
from ingest.money.types import (
    InvestmentTransaction,
    Location,
    ParsedStatement,
    ParsedTransaction,
    Security,
)

if TYPE_CHECKING:
    from ingest.money.qif import _Section

# action (lower case, X suffix removed) -> (kind, sign of the cash effect)
_ACTIONS = {
    "buy": ("buy", -1), "sell": ("sell", 1), "div": ("dividend", 1), "intinc": ("interest", 1),
    "cglong": ("capital_gain", 1), "cgmid": ("capital_gain", 1), "cgshort": ("capital_gain", 1),
    "reinvdiv": ("reinvest", 0), "reinvint": ("reinvest", 0), "reinvlg": ("reinvest", 0),
    "reinvmd": ("reinvest", 0), "reinvsh": ("reinvest", 0), "shrsin": ("transfer_in", 0),
    "shrsout": ("transfer_out", 0), "stksplit": ("split", 0), "miscexp": ("fee", -1),
    "miscinc": ("income", 1), "rtrncap": ("return_of_capital", 1), "margint": ("interest", -1),
    "buyopt": ("buy", -1), "sellopt": ("sell", 1), "exercise": ("other", 0),
    "expire": ("other", 0), "grant": ("other", 0), "vest": ("other", 0),
}
_CASH = {"xin": 1, "xout": -1, "contrib": 1, "withdrw": -1, "cash": 0}


def investment_section(section: _Section, *, name: str, order: str, decimal: str,
                       securities: dict[str, Security]) -> ParsedStatement:
    """One !Type:Invst section; the securities it names are added to `securities`."""
    account = account_ref(section, "investment", name)
    trades: list[InvestmentTransaction] = []
    cash: list[ParsedTransaction] = []
    for rec in section.records:
        where = f"{name} line {rec.line}"
        raw_date = rec.get("D")
        if raw_date is None:
            raise CorruptDocumentError(f"{where}: QIF record without a date (D line)")
        day = qif_date(raw_date, order, where)
        action = (rec.get("N") or "").strip()
        key = action.lower()
        transfer = key.endswith("x") and key[:-1] in _ACTIONS | _CASH
        base = key[:-1] if transfer else key
        total = qif_amount(rec.get("T") or rec.get("U"), decimal, where)
        memo = clean(" ".join(x for x in (rec.get("P"), rec.get("M")) if x))
        other = rec.get("L")
        if base in _CASH:
            amount = total if total is not None else qif_amount(rec.get("$"), decimal, where, "$")
            if amount is None:
                raise CorruptDocumentError(f"{where}: {action} without an amount")
            sign = _CASH[base]
            cash.append(ParsedTransaction(
                booking_date=day, amount=abs(amount) * sign if sign else amount,
                currency="XXX", counterparty=clean(other.strip("[]")) if other else None,
                description=memo or action, type=action, location=Location(line=rec.line)))
            continue
        if base not in _ACTIONS:
            raise CorruptDocumentError(f"{where}: unknown QIF investment action {action!r}")
        kind, sign = _ACTIONS[base]
        units = _number(rec.get("Q"), decimal, where, "Q")
        price = _number(rec.get("I"), decimal, where, "I")
        fee = qif_amount(rec.get("O"), decimal, where, "O")
        if total is None and units is not None and price is not None:
            # Quicken leaves T out of some buys: quantity x price + commission (- for sales).
            total = money_of(units * price + (fee or 0) * (1 if sign <= 0 else -1))
        if total is None and sign != 0:
            raise CorruptDocumentError(f"{where}: {action} without a total (T line)")
        security = clean(rec.get("Y"))
        sec_key = f"NAME:{security.upper()}" if security else None
        if sec_key and sec_key not in securities:
            securities[sec_key] = Security(key=sec_key, name=security)
        if (kind == "sell" and units is not None) or (kind == "transfer_out" and units is not None):
            units = -abs(units)
        effect = Decimal("0.00") if transfer or sign == 0 else abs(total) * sign  # type: ignore[arg-type]
        trades.append(InvestmentTransaction(
            trade_date=day, kind=kind, cash=effect, currency="XXX", security=sec_key,
            units=units, unit_price=price, amount=abs(total) if total is not None else None,
            fees=fee, description=" / ".join(x for x in (
                memo, f"cash via {other}" if transfer and other else None) if x) or action,
            location=Location(line=rec.line)))
    dates = [t.trade_date for t in trades] + [t.booking_date for t in cash]
    return ParsedStatement(
        account=account, transactions=tuple(cash), currency=None,
        period_start=min(dates, default=None), period_end=max(dates, default=None),
        investments=tuple(trades),
    )


def money_of(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01")) if value.as_tuple().exponent >= -2 else value  # type: ignore[operator]


def _number(raw: str | None, decimal: str, where: str, code: str) -> Decimal | None:
    value = qif_amount(raw, decimal, where, code)
    return value.normalize() + Decimal(0) if value is not None else None
