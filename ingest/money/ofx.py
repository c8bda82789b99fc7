"""OFX 1.x (SGML), OFX 2.x (XML) and QFX statements via ofxtools' header check and tag parser.

We walk ofxtools' element tree ourselves rather than its strict model conversion: real bank
files carry vendor tags (QFX's INTU.*) and small spec violations that the owner still needs read.
Multi-account files (several STMTRS / CCSTMTRS) give one statement each.
"""

from __future__ import annotations

import io
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

_STMT_TAGS = ("STMTRS", "CCSTMTRS")
_OFX_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})")


def looks_like_ofx(head: bytes) -> bool:
    h = head[:2048].upper()
    return b"OFXHEADER" in h or b"<OFX>" in h or b"<?OFX" in h


def _date(text: str | None, where: str) -> date | None:
    if not text:
        return None
    m = _OFX_DATE.match(text.strip())
    if not m:
        raise CorruptDocumentError(f"{where}: bad OFX date {text!r}")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise CorruptDocumentError(f"{where}: impossible OFX date {text!r}") from exc


def _amount(text: str | None, where: str) -> Decimal:
    if text is None:
        raise CorruptDocumentError(f"{where}: transaction without TRNAMT")
    raw = text.strip()
    decimal = "," if "," in raw and "." not in raw else "."
    try:
        return money(parse_amount(raw, decimal=decimal))
    except AmountError as exc:
        raise CorruptDocumentError(f"{where}: {exc}") from exc


def _text(el: Any, path: str) -> str | None:
    found = el.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _trn_lines(text: str) -> list[int]:
    """1-based line number of every <STMTTRN> in document order (for citations)."""
    lines = []
    line = 1
    pos = 0
    for m in re.finditer(r"<STMTTRN>", text, flags=re.IGNORECASE):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        lines.append(line)
    return lines


def parse_ofx(data: bytes, *, name: str = "statement") -> StatementFile:
    """Parse every bank and credit-card statement in an OFX/QFX file.

    Raises:
        UnsupportedFormatError: not OFX.
        CorruptDocumentError: truncated or malformed (names the file and what is wrong).
    """
    from ofxtools.Parser import OFXTree

    if not looks_like_ofx(data):
        raise UnsupportedFormatError(f"{name}: not an OFX file")
    text = data.decode("latin-1")  # OFX 1 is ASCII/cp1252; offsets only need line counts
    if "</OFX>" not in text.upper():
        raise CorruptDocumentError(f"{name}: OFX file is truncated (no closing </OFX> tag)")
    tree = OFXTree()
    try:
        root = tree.parse(io.BytesIO(data), parser=_quiet_tree_builder())
    except Exception as exc:  # ofxtools raises ParseError, ValueError, AssertionError ...
        msg = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CorruptDocumentError(f"{name}: malformed OFX ({msg})") from exc
    encoding = _encoding(tree)
    statements = []
    lines = iter(_trn_lines(text))
    for el in root.iter():
        if el.tag in _STMT_TAGS:
            statements.append(_statement(el, name, lines, encoding))
    if not statements:
        raise CorruptDocumentError(f"{name}: OFX file holds no bank or card statement")
    return StatementFile(format="ofx", statements=tuple(statements))


def _quiet_tree_builder() -> Any:
    """ofxtools' TreeBuilder without its per-tag debug logging (a third of the parse time);
    same regex, same checks (tail text, mismatched tags), same tree."""
    from ofxtools.Parser import ParseError, TreeBuilder

    class QuietTreeBuilder(TreeBuilder):  # type: ignore[misc]
        def feed(self, data: str) -> None:
            groom = self._groomstring
            for match in self.regex.finditer(data):
                tag, cdata, text, closetag, tail = match.group(
                    "tag", "cdata", "text", "closetag", "tail")
                if tail and tail.strip():
                    raise ParseError(f"Tail text '{tail.strip()}' - position="
                                     f"[{match.start()}:{match.end()}]")
                text = cdata or groom(text)
                if closetag is not None and closetag != tag:
                    raise ParseError(f"Mismatched tags: open='{tag}', close='{closetag}'")
                if tag.startswith("/"):
                    if text:
                        raise ParseError(f"Tail text '{text}' after <{tag}>")
                    self.end(tag[1:])
                    continue
                self.start(tag, {})
                if text:
                    self.data(text)
                    self.end(tag)
                elif closetag:
                    self.end(tag)

    return QuietTreeBuilder()


def _encoding(tree: Any) -> str:
    header = getattr(tree, "header", None)
    charset = str(getattr(header, "charset", "") or "")
    enc = str(getattr(header, "encoding", "") or "").upper()
    if enc in ("UTF-8", "UNICODE") or charset.upper() in ("UTF-8",):
        return "utf-8"
    if charset in ("1252", "ISO-8859-1", "8859-1"):
        return "cp1252"
    return "cp1252" if enc == "USASCII" else "utf-8"


def _fix(value: str | None, encoding: str) -> str | None:
    """ofxtools decodes bodies as latin-1 for v1; re-decode UTF-8 payloads the bank declared."""
    if value is None or encoding != "utf-8":
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _statement(el: Any, name: str, lines: Any, encoding: str) -> ParsedStatement:
    card = el.tag == "CCSTMTRS"
    acct = el.find("CCACCTFROM" if card else "BANKACCTFROM")
    if acct is None:
        raise CorruptDocumentError(f"{name}: statement without account (BANKACCTFROM)")
    acct_id = _text(acct, "ACCTID")
    if not acct_id:
        raise CorruptDocumentError(f"{name}: statement without ACCTID")
    currency = (_text(el, "CURDEF") or "").upper() or None
    institution = _text(acct, "BANKID")
    account = AccountRef(
        identifier=f"{institution}/{acct_id}" if institution else acct_id,
        institution=institution,
        currency=currency,
        type="credit" if card else (_text(acct, "ACCTTYPE") or "checking").lower(),
    )
    tranlist = el.find("BANKTRANLIST")
    txs: list[ParsedTransaction] = []
    start = end = None
    if tranlist is not None:
        start = _date(_text(tranlist, "DTSTART"), name)
        end = _date(_text(tranlist, "DTEND"), name)
        for trn in tranlist.findall("STMTTRN"):
            txs.append(_transaction(trn, name, next(lines, None), currency, encoding))
    closing = None
    ledger = el.find("LEDGERBAL")
    if ledger is not None and _text(ledger, "BALAMT"):
        closing = _amount(_text(ledger, "BALAMT"), f"{name} LEDGERBAL")
        # A ledger balance dated after the period says nothing about the period's end.
        asof = _date(_text(ledger, "DTASOF"), name)
        if end is not None and asof is not None and asof > end and txs:
            closing = None
    return ParsedStatement(
        account=account,
        transactions=tuple(txs),
        currency=currency,
        period_start=start,
        period_end=end,
        # OFX gives no opening balance; derived from the closing one it would prove nothing.
        opening_balance=None,
        closing_balance=closing,
    )


def _transaction(
    trn: Any, name: str, line: int | None, currency: str | None, encoding: str
) -> ParsedTransaction:
    where = f"{name} line {line}" if line else name
    posted = _date(_text(trn, "DTPOSTED"), where)
    if posted is None:
        raise CorruptDocumentError(f"{where}: transaction without DTPOSTED")
    payee = _text(trn, "NAME") or _text(trn, "PAYEE/NAME")
    memo = _text(trn, "MEMO")
    # CURRENCY means the amounts are in that currency; ORIGCURRENCY means already converted.
    cur = _text(trn, "CURRENCY/CURSYM") or currency or ""
    return ParsedTransaction(
        booking_date=posted,
        value_date=_date(_text(trn, "DTAVAIL"), where) or _date(_text(trn, "DTUSER"), where),
        amount=_amount(_text(trn, "TRNAMT"), where),
        currency=cur.upper() or "XXX",
        counterparty=clean(_fix(payee, encoding)),
        description=clean(_fix(memo, encoding)),
        bank_id=_text(trn, "FITID"),
        type=_text(trn, "TRNTYPE"),
        location=Location(line=line),
    )
