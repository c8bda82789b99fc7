"""OFX 1.x (SGML), OFX 2.x (XML), QFX and QBO statements: bank, credit card and investment.

The body is read by our tolerant element reader (`ofxtree`), not by a strict schema: real
downloads carry vendor tags (INTU.*), headers that skip fields, comments and empty elements,
and none of that changes their numbers. Every STMTRS / CCSTMTRS / INVSTMTRS gives one statement;
every BANKTRANLIST inside one counts (some banks split a statement into several lists).
Investment statements (`ofxinvest`) give positions, trades and income as well as their plain
cash entries (INVBANKTRAN). A response that carries an error status instead of a statement
fails with the bank's own message.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from app.core.errors import CorruptDocumentError, EmptyDocumentError, UnsupportedFormatError
from ingest.money.amounts import AmountError, money, parse_amount
from ingest.money.balance import running_balances
from ingest.money.ofxtree import Element, decode_ofx, parse_tree
from ingest.money.text import clean
from ingest.money.types import (
    AccountRef,
    Location,
    ParsedStatement,
    ParsedTransaction,
    StatementFile,
)

_STMT_TAGS = ("STMTRS", "CCSTMTRS", "INVSTMTRS")
_OFX_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")


def looks_like_ofx(head: bytes) -> bool:
    h = head[:4096].upper()
    return b"OFXHEADER" in h or b"<OFX>" in h or b"<?OFX" in h


def ofx_date(text: str | None, where: str) -> date | None:
    if not text:
        return None
    m = _OFX_DATE.match(text.strip())
    if not m:
        raise CorruptDocumentError(f"{where}: date {text.strip()!r} is not an OFX date (YYYYMMDD)")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise CorruptDocumentError(f"{where}: date {text.strip()!r} does not exist") from exc


def ofx_amount(text: str | None, where: str, field: str = "TRNAMT") -> Decimal:
    if text is None:
        raise CorruptDocumentError(f"{where}: no {field}")
    raw = text.strip()
    decimal = "," if "," in raw and "." not in raw else "."
    try:
        return money(parse_amount(raw, decimal=decimal))
    except AmountError as exc:
        raise CorruptDocumentError(f"{where}: {field} {exc}") from exc


def ofx_number(text: str | None, where: str, field: str) -> Decimal | None:
    """Units and prices: exact, without the two-decimal padding of money."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    decimal = "," if "," in raw and "." not in raw else "."
    try:
        return parse_amount(raw, decimal=decimal).normalize() + Decimal(0)
    except AmountError as exc:
        raise CorruptDocumentError(f"{where}: {field} {exc}") from exc


def parse_ofx(data: bytes, *, name: str = "statement") -> StatementFile:
    """Parse every bank, card and investment statement in an OFX/QFX/QBO file.

    Raises:
        UnsupportedFormatError: not OFX.
        EmptyDocumentError: a valid response without any statement (or with the bank's error).
        CorruptDocumentError: truncated or malformed (names the file, line and what is wrong).
    """
    if not looks_like_ofx(data):
        raise UnsupportedFormatError(f"{name}: not an OFX file")
    text, encoding = decode_ofx(data)
    found: dict[str, list[Element]] = {t: [] for t in (*_STMT_TAGS, "SECLIST")}
    root = parse_tree(text, name=name, collect=found)
    from ingest.money.ofxinvest import investment_statement, securities_of  # (cycle)

    warnings: list[str] = []
    statements: list[ParsedStatement] = []
    securities = securities_of(found["SECLIST"], name)
    for el in sorted((e for t in _STMT_TAGS for e in found[t]), key=lambda e: e.line):
        if el.tag == "INVSTMTRS":
            statements.append(investment_statement(el, name, securities, warnings))
        else:
            statements.append(_statement(el, name))
    if not statements:
        raise EmptyDocumentError(f"{name}: {_no_statement_reason(root)}")
    return StatementFile(format="ofx", statements=tuple(statements), warnings=tuple(warnings),
                         securities=tuple(securities.values()),
                         profile=None if encoding in ("utf-8", "cp1252", "latin-1") else encoding)


def _no_statement_reason(root: Element) -> str:
    """Why an OFX response holds no statement, in the bank's words when it gave an error."""
    for status in root.iter("STATUS"):
        code = status.value("CODE")
        if code and code != "0":
            message = status.value("MESSAGE")
            return (f"the OFX response carries error {code}"
                    + (f" ({message})" if message else "") + " instead of a statement")
    if any(el.tag.endswith("ACCTINFO") or el.tag == "ACCTINFORS" for el in root.iter()):
        return "OFX account list, not a statement (no transactions in it)"
    return "OFX file holds no bank, card or investment statement"


def account_of(el: Element, name: str, *, tag: str, kind: str) -> AccountRef:
    acct = el.find(tag)
    if acct is None:
        raise CorruptDocumentError(f"{name} line {el.line}: statement without account ({tag})")
    acct_id = acct.value("ACCTID")
    if not acct_id:
        raise CorruptDocumentError(f"{name} line {acct.line}: statement without ACCTID")
    institution = acct.value("BANKID") or acct.value("BROKERID")
    return AccountRef(
        identifier=f"{institution}/{acct_id}" if institution else acct_id,
        institution=institution,
        currency=(el.value("CURDEF") or "").upper() or None,
        type=kind if kind != "checking" else (acct.value("ACCTTYPE") or "checking").lower(),
    )


def _statement(el: Element, name: str) -> ParsedStatement:
    card = el.tag == "CCSTMTRS"
    account = account_of(el, name, tag="CCACCTFROM" if card else "BANKACCTFROM",
                         kind="credit" if card else "checking")
    currency = account.currency
    txs: list[ParsedTransaction] = []
    starts: list[date] = []
    ends: list[date] = []
    for tranlist in el.findall("BANKTRANLIST"):
        start = ofx_date(tranlist.value("DTSTART"), f"{name} line {tranlist.line}")
        end = ofx_date(tranlist.value("DTEND"), f"{name} line {tranlist.line}")
        starts += [start] if start else []
        ends += [end] if end else []
        txs += [transaction(t, name, currency) for t in tranlist.findall("STMTTRN")]
    opening = closing = None
    # iter, not find: a BANKTRANLIST left open (Nubank) swallows the LEDGERBAL after it
    ledger = next(el.iter("LEDGERBAL"), None)
    if ledger is not None and ledger.value("BALAMT"):
        closing = ofx_amount(ledger.value("BALAMT"), f"{name} line {ledger.line}", "BALAMT")
    # Some banks (CBA) give each STMTTRN its running balance (ACCTBAL): then the statement
    # checks itself, and the ledger balance, if any, must agree with the chain's end.
    running = [t.value("ACCTBAL") for tl in el.findall("BANKTRANLIST")
               for t in tl.findall("STMTTRN")]
    if txs and all(running):
        chain = running_balances(
            [t.amount for t in txs],
            [ofx_amount(r, f"{name} line {t.location.line}", "ACCTBAL")
             for r, t in zip(running, txs, strict=True)])
        if chain is not None and (closing is None or closing == chain[1]):
            opening, closing = chain
    if currency is None and len({t.currency for t in txs}) == 1:
        currency = txs[0].currency if txs[0].currency != "XXX" else None
    return ParsedStatement(
        account=account,
        transactions=tuple(txs),
        currency=currency,
        period_start=min(starts + [t.booking_date for t in txs], default=None),
        period_end=max(ends + [t.booking_date for t in txs], default=None),
        # OFX gives no opening balance; derived from the closing one it would prove nothing.
        opening_balance=opening,
        closing_balance=closing,
    )


def transaction(trn: Element, name: str, currency: str | None) -> ParsedTransaction:
    """One STMTTRN (also the cash entries of investment statements)."""
    where = f"{name} line {trn.line}"
    leaf = {c.tag: c.text for c in reversed(trn.children) if c.text}  # one pass, not ten finds
    posted = ofx_date(leaf.get("DTPOSTED"), where)
    if posted is None:
        raise CorruptDocumentError(f"{where}: transaction without DTPOSTED")
    payee = leaf.get("NAME") or trn.value("PAYEE/NAME")
    # CURRENCY means the amount is in that currency; ORIGCURRENCY means already converted.
    cur = (trn.value("CURRENCY/CURSYM") if "CURRENCY" in leaf or trn.child("CURRENCY")
           else None) or currency or ""
    avail, user = leaf.get("DTAVAIL"), leaf.get("DTUSER")
    return ParsedTransaction(
        booking_date=posted,
        value_date=(ofx_date(avail, where) if avail else None) or (
            ofx_date(user, where) if user else None),
        amount=ofx_amount(leaf.get("TRNAMT"), where),
        currency=cur.strip().upper() or "XXX",
        counterparty=clean(payee),
        description=clean(leaf.get("MEMO")),
        bank_id=leaf.get("FITID"),
        type=leaf.get("TRNTYPE"),
        location=Location(line=trn.line),
    )
