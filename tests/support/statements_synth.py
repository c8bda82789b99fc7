"""Synthetic statement files in every supported format, for tests, benchmarks and the demo (pure).

Nothing here is real data: payees, IBANs and amounts are made up.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Tx:
    day: date
    amount: Decimal
    payee: str
    memo: str = ""
    ref: str | None = None  # bank id (FITID / AcctSvcrRef / MT940 bank ref)
    pending: bool = False


@dataclass
class Acct:
    number: str
    txs: list[Tx]
    opening: Decimal = Decimal("1000.00")
    currency: str = "EUR"
    bank_id: str = "10020030"
    card: bool = False
    closing: Decimal | None = None  # default: opening + sum (a consistent statement)
    start: date | None = None
    end: date | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def closing_balance(self) -> Decimal:
        if self.closing is not None:
            return self.closing
        return self.opening + sum((t.amount for t in self.txs if not t.pending), Decimal(0))

    @property
    def period(self) -> tuple[date, date]:
        days = [t.day for t in self.txs] or [date(2026, 1, 1)]
        return self.start or min(days), self.end or max(days)


def _d(day: date) -> str:
    return day.strftime("%Y%m%d")


def ofx_sgml(accounts: Sequence[Acct]) -> bytes:
    """OFX 1.0.2 SGML with bank and credit-card statements (no closing tags on elements)."""
    head = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
            "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n")
    bank = [a for a in accounts if not a.card]
    cards = [a for a in accounts if a.card]
    out = [head, "<OFX>\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
                 "<DTSERVER>20260301000000<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\n"]
    if bank:
        out.append("<BANKMSGSRSV1>\n")
        for i, a in enumerate(bank):
            out.append(_ofx_stmt(a, i, sgml=True))
        out.append("</BANKMSGSRSV1>\n")
    if cards:
        out.append("<CREDITCARDMSGSRSV1>\n")
        for i, a in enumerate(cards):
            out.append(_ofx_stmt(a, i, sgml=True))
        out.append("</CREDITCARDMSGSRSV1>\n")
    out.append("</OFX>\n")
    return "".join(out).encode("ascii", errors="replace")


def ofx_xml(accounts: Sequence[Acct]) -> bytes:
    """OFX 2.1.1 XML (every element closed)."""
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" '
            'NEWFILEUID="NONE"?>\n')
    body = ["<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY>"
            "</STATUS><DTSERVER>20260301000000</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS>"
            "</SIGNONMSGSRSV1>\n<BANKMSGSRSV1>\n"]
    for i, a in enumerate(accounts):
        body.append(_ofx_stmt(a, i, sgml=False))
    body.append("</BANKMSGSRSV1></OFX>\n")
    return (head + "".join(body)).encode("utf-8")


def _ofx_stmt(a: Acct, i: int, *, sgml: bool) -> str:
    def el(tag: str, value: str) -> str:
        return f"<{tag}>{escape(value)}" + ("" if sgml else f"</{tag}>")

    start, end = a.period
    rs, trnrs = ("CCSTMTRS", "CCSTMTTRNRS") if a.card else ("STMTRS", "STMTTRNRS")
    acct = (f"<CCACCTFROM>{el('ACCTID', a.number)}</CCACCTFROM>" if a.card else
            f"<BANKACCTFROM>{el('BANKID', a.bank_id)}{el('ACCTID', a.number)}"
            f"{el('ACCTTYPE', 'CHECKING')}</BANKACCTFROM>")
    lines = [f"<{trnrs}>{el('TRNUID', str(i + 1))}<STATUS>{el('CODE', '0')}"
             f"{el('SEVERITY', 'INFO')}</STATUS>\n<{rs}>{el('CURDEF', a.currency)}\n{acct}\n"
             f"<BANKTRANLIST>{el('DTSTART', _d(start))}{el('DTEND', _d(end))}\n"]
    for n, t in enumerate(a.txs):
        lines.append(
            f"<STMTTRN>{el('TRNTYPE', 'DEBIT' if t.amount < 0 else 'CREDIT')}"
            f"{el('DTPOSTED', _d(t.day) + '120000')}{el('TRNAMT', str(t.amount))}"
            f"{el('FITID', t.ref or f'{a.number}-{n}')}{el('NAME', t.payee[:32])}"
            + (el("MEMO", t.memo) if t.memo else "") + "</STMTTRN>\n")
    lines.append(f"</BANKTRANLIST>\n<LEDGERBAL>{el('BALAMT', str(a.closing_balance))}"
                 f"{el('DTASOF', _d(end))}</LEDGERBAL>\n</{rs}></{trnrs}>\n")
    return "".join(lines)


def _swift_amount(value: Decimal) -> str:
    return f"{abs(value):.2f}".replace(".", ",")


def mt940(accounts: Sequence[Acct]) -> bytes:
    """MT940 with one statement per account (German ?20 style :86: details)."""
    out = []
    for n, a in enumerate(accounts, start=1):
        start, end = a.period
        sign = "C" if a.opening >= 0 else "D"
        out += [":20:STARTUMS", f":25:{a.bank_id}/{a.number}", f":28C:{n:05d}/001",
                f":60F:{sign}{start:%y%m%d}{a.currency}{_swift_amount(a.opening)}"]
        for t in a.txs:
            mark = "C" if t.amount >= 0 else "D"
            ref = f"//{t.ref}" if t.ref else ""
            out.append(f":61:{t.day:%y%m%d}{t.day:%m%d}{mark}{_swift_amount(t.amount)}"
                       f"NTRFNONREF{ref}")
            purpose = t.memo or "Zahlung"
            out.append(f":86:166?00UEBERWEISUNG?20{purpose[:27]}?32{t.payee[:27]}")
        close = a.closing_balance
        out.append(f":62F:{'C' if close >= 0 else 'D'}{end:%y%m%d}{a.currency}"
                   f"{_swift_amount(close)}")
        out.append("-")
    return ("\r\n".join(out) + "\r\n").encode("cp1252", errors="replace")


def camt053(accounts: Sequence[Acct]) -> bytes:
    """camt.053.001.08 with one <Stmt> per account."""
    stmts = []
    for a in accounts:
        start, end = a.period
        entries = []
        for n, t in enumerate(a.txs):
            side, other = ("DBIT", "Cdtr") if t.amount < 0 else ("CRDT", "Dbtr")
            entries.append(
                f"<Ntry><NtryRef>{n}</NtryRef><Amt Ccy=\"{a.currency}\">{abs(t.amount):.2f}</Amt>"
                f"<CdtDbtInd>{side}</CdtDbtInd><Sts><Cd>{'PDNG' if t.pending else 'BOOK'}</Cd>"
                f"</Sts><BookgDt><Dt>{t.day.isoformat()}</Dt></BookgDt><ValDt><Dt>"
                f"{t.day.isoformat()}</Dt></ValDt>"
                + (f"<AcctSvcrRef>{escape(t.ref)}</AcctSvcrRef>" if t.ref else "")
                + f"<NtryDtls><TxDtls><RltdPties><{other}><Nm>{escape(t.payee)}</Nm></{other}>"
                f"</RltdPties><RmtInf><Ustrd>{escape(t.memo)}</Ustrd></RmtInf></TxDtls>"
                "</NtryDtls></Ntry>\n")
        stmts.append(
            f"<Stmt><Id>S-{a.number}</Id><FrToDt><FrDtTm>{start.isoformat()}T00:00:00</FrDtTm>"
            f"<ToDtTm>{end.isoformat()}T23:59:59</ToDtTm></FrToDt><Acct><Id><IBAN>{a.number}"
            f"</IBAN></Id><Ccy>{a.currency}</Ccy></Acct>"
            f"{_camt_bal('OPBD', a.opening, a.currency, start)}"
            f"{_camt_bal('CLBD', a.closing_balance, a.currency, end)}\n" + "".join(entries)
            + "</Stmt>\n")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:'
            'tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>\n'
            + "".join(stmts) + "</BkToCstmrStmt></Document>\n").encode("utf-8")


def _camt_bal(code: str, value: Decimal, ccy: str, day: date) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{ccy}\">"
            f"{abs(value):.2f}</Amt><CdtDbtInd>{'CRDT' if value >= 0 else 'DBIT'}</CdtDbtInd>"
            f"<Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")


def csv_signed(txs: Sequence[Tx], *, german: bool = False, balance_from: Decimal | None = None,
               encoding: str = "utf-8") -> bytes:
    """A generic signed-amount export: English (comma, ISO dates) or German (semicolon,
    decimal comma, dd.mm.yyyy, cp1252)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if german else ",", lineterminator="\n")
    if german:
        header = ["Buchungstag", "Empfänger", "Verwendungszweck", "Betrag", "Währung"]
    else:
        header = ["Date", "Payee", "Description", "Amount", "Currency"]
    writer.writerow(header + ([("Saldo" if german else "Balance")] if balance_from is not None
                              else []))
    bal = balance_from
    for t in txs:
        if bal is not None:
            bal += t.amount
        def fmt(v: Decimal) -> str:
            return f"{v:.2f}".replace(".", ",") if german else f"{v:.2f}"
        day = t.day.strftime("%d.%m.%Y") if german else t.day.isoformat()
        cells = [day, t.payee, t.memo, fmt(t.amount), "EUR" if german else "USD"]
        if bal is not None:
            cells.append(fmt(bal))
        writer.writerow(cells)
    return buf.getvalue().encode(encoding, errors="replace")


def csv_debit_credit(txs: Sequence[Tx]) -> bytes:
    rows = ["Posted,Details,Withdrawals,Deposits"]
    for t in txs:
        out, inn = (f"{-t.amount:.2f}", "") if t.amount < 0 else ("", f"{t.amount:.2f}")
        rows.append(f"{t.day:%m/%d/%Y},{t.payee},{out},{inn}")
    return ("\n".join(rows) + "\n").encode()


PAYEES_OUT = (
    ("REWE Markt", "groceries", 20, 90), ("EDEKA Center", "groceries", 10, 70),
    ("Lidl", "groceries", 8, 50), ("Starbucks", "restaurants", 3, 9),
    ("Pizza Roma", "restaurants", 15, 45), ("Shell Tankstelle", "transport", 40, 90),
    ("Deutsche Bahn", "transport", 20, 140), ("Amazon", "shopping", 10, 120),
    ("IKEA", "shopping", 30, 300), ("Apotheke am Markt", None, 5, 40),
)
SUBSCRIPTIONS = (("Netflix", Decimal("12.99")), ("Spotify", Decimal("10.99")),
                 ("Stadtwerke Strom", Decimal("85.00")))


def random_history(*, start: date, days: int, seed: int = 1, per_day: float = 2.0,
                   account: str = "DE00") -> list[Tx]:
    """Plausible household spending: groceries, coffee, fuel, monthly salary/rent/subscriptions."""
    rng = random.Random(seed)
    out: list[Tx] = []
    n = 0
    for d in range(days):
        day = start + timedelta(days=d)
        if day.day == 1:
            out.append(Tx(day, Decimal("3200.00"), "ACME GmbH", "Gehalt", ref=f"{account}-{n}"))
            out.append(Tx(day, Decimal("-1100.00"), "Hausverwaltung Meier", "Miete",
                          ref=f"{account}-{n + 1}"))
            n += 2
        if day.day == 5:
            for payee, price in SUBSCRIPTIONS:
                out.append(Tx(day, -price, payee, "Abo", ref=f"{account}-{n}"))
                n += 1
        for _ in range(rng.randint(0, int(per_day * 2))):
            payee, _cat, lo, hi = PAYEES_OUT[rng.randrange(len(PAYEES_OUT))]
            cents = rng.randint(lo * 100, hi * 100)
            out.append(Tx(day, -Decimal(cents) / 100, payee, "Kartenzahlung",
                          ref=f"{account}-{n}"))
            n += 1
    return out


def qif(accounts: Sequence[Acct]) -> bytes:
    """QIF with one !Account block and !Type:Bank section per account (M/D/Y dates)."""
    out = []
    for a in accounts:
        out += ["!Account", f"N{a.number}", "TBank", "^", "!Type:Bank"]
        for t in a.txs:
            out += [f"D{t.day:%m/%d/%Y}", f"T{t.amount:.2f}", f"P{t.payee}"]
            if t.memo:
                out.append(f"M{t.memo}")
            out.append("^")
    return ("\n".join(out) + "\n").encode("utf-8")
