"""ISO 20022 CAMT.053 bank-to-customer statements (any version 001.02-001.13) with lxml.

CAMT.052 (intraday account report) and CAMT.054 (notifications) are refused by name: they are
not statements, and their entries would double count once the day's CAMT.053 arrives.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.errors import CorruptDocumentError, UnsupportedFormatError
from ingest.money.amounts import AmountError, money, parse_amount
from ingest.money.text import clean
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

_CAMT_NS = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.")
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD",)


def camt_kind(head: bytes) -> str | None:
    """'053', '052', '054' ... when the bytes are an ISO 20022 cash-management message."""
    m = _CAMT_NS.search(head[:4096])
    return m.group(1).decode() if m else None


def _ns(el: Any) -> str:
    tag = el.tag
    return tag[1:tag.index("}")] if isinstance(tag, str) and tag.startswith("{") else ""


@functools.lru_cache(maxsize=512)
def _qualified(path: str, ns: str) -> str:
    return "/".join(f"{{{ns}}}{p}" if ns else p for p in path.split("/"))


def _find(el: Any, path: str) -> Any:
    """find() for a slash path of local names in the element's own namespace (any version)."""
    if el is None:
        return None
    return el.find(_qualified(path, _ns(el)))


def _findall(el: Any, name: str) -> list[Any]:
    return list(el.findall(_qualified(name, _ns(el))))


def _text(el: Any, path: str) -> str | None:
    found = _find(el, path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _date(text: str | None, where: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError as exc:
        raise CorruptDocumentError(f"{where}: bad date {text!r}") from exc


def _amount(el: Any, where: str) -> tuple[Decimal, str | None]:
    amt = _find(el, "Amt")
    if amt is None or not (amt.text or "").strip():
        raise CorruptDocumentError(f"{where}: entry without amount")
    try:
        value = money(parse_amount(amt.text, decimal="."))
    except AmountError as exc:
        raise CorruptDocumentError(f"{where}: {exc}") from exc
    if _text(el, "CdtDbtInd") == "DBIT":
        value = -value
    ccy = amt.get("Ccy")
    return value, (ccy if ccy and ccy != "XXX" else None)


def parse_camt053(data: bytes, *, name: str = "statement") -> StatementFile:
    """Parse every <Stmt> of a CAMT.053 file.

    Raises:
        UnsupportedFormatError: not CAMT, or CAMT.052/054 (not a statement).
        CorruptDocumentError: malformed XML or statement.
    """
    from lxml import etree

    kind = camt_kind(data)
    if kind is None:
        raise UnsupportedFormatError(f"{name}: not an ISO 20022 CAMT file")
    if kind != "053":
        label = {"052": "an intraday account report (camt.052)",
                 "054": "a debit/credit notification (camt.054)"}.get(kind, f"camt.{kind}")
        raise UnsupportedFormatError(f"{name}: {label}, not a bank statement (camt.053)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptDocumentError(f"{name}: malformed XML ({exc})") from exc
    body = _find(root, "BkToCstmrStmt")
    if body is None:
        raise CorruptDocumentError(f"{name}: camt.053 without BkToCstmrStmt")
    statements = [_statement(s, name) for s in _findall(body, "Stmt")]
    if not statements:
        raise CorruptDocumentError(f"{name}: camt.053 holds no statement")
    return StatementFile(format="camt053", statements=tuple(statements))


def _balances(stmt: Any, name: str) -> dict[str, tuple[Decimal, date | None]]:
    out: dict[str, tuple[Decimal, date | None]] = {}
    for bal in _findall(stmt, "Bal"):
        code = _text(bal, "Tp/CdOrPrtry/Cd") or _text(bal, "Tp/CdOrPrtry/Prtry")
        if code and code not in out:
            value, _ = _amount(bal, f"{name} line {bal.sourceline}")
            out[code] = (value, _date(_text(bal, "Dt/Dt") or _text(bal, "Dt/DtTm"), name))
    return out


def _statement(stmt: Any, name: str) -> ParsedStatement:
    acct = _find(stmt, "Acct")
    ident = _text(acct, "Id/IBAN") or _text(acct, "Id/Othr/Id") if acct is not None else None
    if not ident:
        raise CorruptDocumentError(f"{name} line {stmt.sourceline}: statement without account id")
    currency = _text(acct, "Ccy")
    institution = _text(acct, "Svcr/FinInstnId/Nm") or _text(acct, "Svcr/FinInstnId/BICFI") or (
        _text(acct, "Svcr/FinInstnId/BIC")
    )
    bals = _balances(stmt, name)
    opening = next((bals[c] for c in _OPENING if c in bals), None)
    closing = next((bals[c] for c in _CLOSING if c in bals), None)
    txs = [_entry(e, name, currency) for e in _findall(stmt, "Ntry")]
    if currency is None:
        currency = next((t.currency for t in txs if t.currency != "XXX"), None)
    start = _date(_text(stmt, "FrToDt/FrDtTm"), name) or (opening[1] if opening else None)
    end = _date(_text(stmt, "FrToDt/ToDtTm"), name) or (closing[1] if closing else None)
    return ParsedStatement(
        account=AccountRef(identifier=ident, institution=institution, currency=currency),
        transactions=tuple(txs),
        currency=currency,
        period_start=start,
        period_end=end,
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        meta={k: v for k, v in (("id", _text(stmt, "Id")),
                                ("sequence", _text(stmt, "ElctrncSeqNb"))) if v},
    )


def _entry(ntry: Any, name: str, currency: str | None) -> ParsedTransaction:
    where = f"{name} line {ntry.sourceline}"
    amount, ccy = _amount(ntry, where)
    booked = _date(_text(ntry, "BookgDt/Dt") or _text(ntry, "BookgDt/DtTm"), where)
    valued = _date(_text(ntry, "ValDt/Dt") or _text(ntry, "ValDt/DtTm"), where)
    if booked is None and valued is None:
        raise CorruptDocumentError(f"{where}: entry without booking or value date")
    status = (_text(ntry, "Sts/Cd") or _text(ntry, "Sts") or "BOOK").upper()
    tx = _find(ntry, "NtryDtls/TxDtls")
    counterparty = description = None
    if tx is not None:
        # Money out: the creditor is who we paid; money in: the debtor is who paid us.
        side = "Cdtr" if amount < 0 else "Dbtr"
        counterparty = _text(tx, f"RltdPties/{side}/Nm") or _text(tx, f"RltdPties/{side}/Pty/Nm")
        rmt = _find(tx, "RmtInf")
        if rmt is not None:
            description = clean(" ".join((u.text or "") for u in _findall(rmt, "Ustrd")))
            if not description:
                description = _text(rmt, "Strd/CdtrRefInf/Ref")
        description = description or _text(tx, "AddtlTxInf")
    description = description or clean(_text(ntry, "AddtlNtryInf"))
    code = _text(ntry, "BkTxCd/Domn/Fmly/SubFmlyCd") or _text(ntry, "BkTxCd/Prtry/Cd")
    return ParsedTransaction(
        booking_date=booked or valued,  # type: ignore[arg-type]
        value_date=valued,
        amount=amount,
        currency=ccy or currency or "XXX",
        counterparty=clean(counterparty),
        description=description,
        bank_id=_text(ntry, "AcctSvcrRef") or _text(ntry, "NtryRef"),
        type=code,
        pending=status in ("PDNG", "INFO"),
        location=Location(line=ntry.sourceline),
    )
