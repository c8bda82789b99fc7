"""ISO 20022 cash-management messages with lxml, any schema version (001.01 to 001.13):
CAMT.053 statements (Stmt), CAMT.052 intraday account reports (Rpt) and CAMT.054 debit/credit
notifications (Ntfctn).

- Booked vs pending: an entry whose status is BOOK (text in older versions, <Sts><Cd> from v08)
  is booked; PDNG, INFO and FUTR entries are kept and marked pending (conventions).
- The three message types describe the same bookings: a 054 notification followed by the 053
  statement that repeats it must be one transaction. Entries carry the bank's AcctSvcrRef,
  which the dedup key uses, so the 053 occurrence joins the 054 one (see `dedup.py`).
- A batch entry (Btch, several TxDtls) is split into its transactions when every TxDtls has its
  own amount and they add up exactly to the entry; otherwise the entry stays one transaction.
- A file without the ISO namespace is recognised by its message element.
"""

from __future__ import annotations

import functools
import re
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.errors import CorruptDocumentError, EmptyDocumentError, UnsupportedFormatError
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
_MESSAGES = {"052": ("BkToCstmrAcctRpt", "Rpt"), "053": ("BkToCstmrStmt", "Stmt"),
             "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
_BY_ELEMENT = {body.encode(): kind for kind, (body, _) in _MESSAGES.items()}
_OPENING = ("OPBD", "PRCD")
_CLOSING = ("CLBD", "ITBD")
_BOOKED = ("BOOK", "")


def camt_kind(head: bytes) -> str | None:
    """'053', '052', '054' ... when the bytes are an ISO 20022 cash-management message."""
    m = _CAMT_NS.search(head[:4096])
    if m:
        return m.group(1).decode()
    for element, kind in _BY_ELEMENT.items():
        if b"<" + element + b">" in head[:4096]:
            return kind
    return None


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
        raise CorruptDocumentError(f"{where}: bad date {text.strip()!r}") from exc


def _money(amt: Any, where: str) -> Decimal:
    try:
        return money(parse_amount(amt.text or "", decimal="."))
    except AmountError as exc:
        raise CorruptDocumentError(f"{where}: {exc}") from exc


def _amount(el: Any, where: str, path: str = "Amt") -> tuple[Decimal, str | None]:
    amt = _find(el, path)
    if amt is None or not (amt.text or "").strip():
        raise CorruptDocumentError(f"{where}: entry without amount")
    value = _money(amt, where)
    if _text(el, "CdtDbtInd") == "DBIT":
        value = -value
    ccy = amt.get("Ccy")
    return value, (ccy if ccy and ccy != "XXX" else None)


def parse_camt(data: bytes, *, name: str = "statement") -> StatementFile:
    """Parse every statement, report or notification of a CAMT.052/053/054 file.

    Raises:
        UnsupportedFormatError: not CAMT, or another CAMT message (e.g. camt.056).
        EmptyDocumentError: a message without any account section.
        CorruptDocumentError: malformed XML or entry (names the line).
    """
    from lxml import etree

    kind = camt_kind(data)
    if kind is None:
        raise UnsupportedFormatError(f"{name}: not an ISO 20022 CAMT file")
    if kind not in _MESSAGES:
        raise UnsupportedFormatError(f"{name}: camt.{kind} is not an account statement, report "
                                     "or notification (camt.052/053/054)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise CorruptDocumentError(f"{name}: malformed XML ({exc})") from exc
    body_tag, item_tag = _MESSAGES[kind]
    body = root if _local(root) == body_tag else _find(root, body_tag)
    if body is None:
        raise CorruptDocumentError(f"{name}: camt.{kind} without {body_tag}")
    statements = [_statement(s, name) for s in _findall(body, item_tag)]
    if not statements:
        raise EmptyDocumentError(f"{name}: camt.{kind} holds no {item_tag}")
    return StatementFile(format=f"camt{kind}", statements=tuple(statements))


parse_camt053 = parse_camt  # the old name


def _local(el: Any) -> str:
    return str(el.tag).rsplit("}", 1)[-1]


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
    ident = (_text(acct, "Id/IBAN") or _text(acct, "Id/Othr/Id")) if acct is not None else None
    if not ident:
        raise CorruptDocumentError(f"{name} line {stmt.sourceline}: statement without account id")
    currency = _text(acct, "Ccy")
    institution = (_text(acct, "Svcr/FinInstnId/Nm") or _text(acct, "Svcr/FinInstnId/BICFI")
                   or _text(acct, "Svcr/FinInstnId/BIC"))
    bals = _balances(stmt, name)
    opening = next((bals[c] for c in _OPENING if c in bals), None)
    closing = next((bals[c] for c in _CLOSING if c in bals), None)
    txs = [t for e in _findall(stmt, "Ntry") for t in _entry(e, name, currency)]
    if currency is None:
        currency = next((t.currency for t in txs if t.currency != "XXX"), None)
    start = _date(_text(stmt, "FrToDt/FrDtTm"), name) or (opening[1] if opening else None)
    end = _date(_text(stmt, "FrToDt/ToDtTm"), name) or (closing[1] if closing else None)
    dates = [t.booking_date for t in txs]
    return ParsedStatement(
        account=AccountRef(identifier=ident, institution=institution, currency=currency),
        transactions=tuple(txs),
        currency=currency,
        period_start=min([d for d in (start,) if d] + dates, default=None),
        period_end=max([d for d in (end,) if d] + dates, default=None),
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        meta={k: v for k, v in (("id", _text(stmt, "Id")),
                                ("sequence", _text(stmt, "ElctrncSeqNb"))) if v},
    )


def _status(ntry: Any) -> str:
    sts = _find(ntry, "Sts")
    if sts is None:
        return "BOOK"
    return ((sts.text or "").strip() or (_text(ntry, "Sts/Cd") or _text(ntry, "Sts/Prtry")
                                         or "")).upper()


def _entry(ntry: Any, name: str, currency: str | None) -> list[ParsedTransaction]:
    where = f"{name} line {ntry.sourceline}"
    amount, ccy = _amount(ntry, where)
    booked = _date(_text(ntry, "BookgDt/Dt") or _text(ntry, "BookgDt/DtTm"), where)
    valued = _date(_text(ntry, "ValDt/Dt") or _text(ntry, "ValDt/DtTm"), where)
    if booked is None and valued is None:
        raise CorruptDocumentError(f"{where}: entry without booking or value date")
    pending = _status(ntry) not in _BOOKED
    ref = _text(ntry, "AcctSvcrRef")
    code = _text(ntry, "BkTxCd/Domn/Fmly/SubFmlyCd") or _text(ntry, "BkTxCd/Prtry/Cd")
    details = [d for nd in _findall(ntry, "NtryDtls") for d in _findall(nd, "TxDtls")]
    parts = _split(details, amount, ccy, where)
    out = []
    for i, (detail, part_amount) in enumerate(parts):
        counterparty, description = _party_and_text(detail, part_amount)
        description = description or clean(_text(ntry, "AddtlNtryInf"))
        bank_id = ref if len(parts) == 1 else (
            _text(detail, "Refs/AcctSvcrRef") or (f"{ref}/{i + 1}" if ref else None))
        out.append(ParsedTransaction(
            booking_date=booked or valued,  # type: ignore[arg-type]
            value_date=valued,
            amount=part_amount,
            currency=ccy or currency or "XXX",
            counterparty=clean(counterparty),
            description=description,
            bank_id=bank_id,
            type=code,
            pending=pending,
            location=Location(line=detail.sourceline if len(parts) > 1 else ntry.sourceline),
        ))
    return out


def _split(details: list[Any], amount: Decimal, ccy: str | None,
           where: str) -> list[tuple[Any, Decimal]]:
    """(TxDtls, amount) per transaction: the batch's parts when they add up, else the entry."""
    if len(details) > 1:
        parts = []
        for d in details:
            amt = _find(d, "AmtDtls/TxAmt/Amt")
            if amt is None:
                amt = _find(d, "Amt")
            if amt is None or not (amt.text or "").strip():
                break
            if (amt.get("Ccy") or ccy) != ccy:
                break
            value = _money(amt, where)
            indicator = _text(d, "CdtDbtInd")
            sign = -1 if (indicator == "DBIT" if indicator else amount < 0) else 1
            parts.append((d, value * sign))
        if len(parts) == len(details) and sum(v for _, v in parts) == amount:
            return parts
    return [(details[0] if details else None, amount)]


def _party_and_text(tx: Any, amount: Decimal) -> tuple[str | None, str | None]:
    if tx is None:
        return None, None
    # Money out: the creditor is who we paid; money in: the debtor is who paid us.
    side = "Cdtr" if amount < 0 else "Dbtr"
    counterparty = (_text(tx, f"RltdPties/{side}/Nm") or _text(tx, f"RltdPties/{side}/Pty/Nm")
                    or _text(tx, f"RltdPties/Ultmt{side}/Nm"))
    description = None
    rmt = _find(tx, "RmtInf")
    if rmt is not None:
        description = clean(" ".join((u.text or "") for u in _findall(rmt, "Ustrd")))
        if not description:
            description = _text(rmt, "Strd/CdtrRefInf/Ref")
    return counterparty, description or clean(_text(tx, "AddtlTxInf"))
