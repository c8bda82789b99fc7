"""Generated statement files that reproduce quirks seen in real files we may not copy (GPL/AGPL
fixtures, banks' own downloads): each function names the real file whose quirk it copies.

Nothing here is real data: payees, accounts and amounts are made up.
"""

from __future__ import annotations

import io
import zipfile

OFX_BODY = (
    "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
    "<DTSERVER>20240402<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>"
    "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>"
    "<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>5550001111<ACCTTYPE>CHECKING"
    "</BANKACCTFROM><BANKTRANLIST><DTSTART>20240301<DTEND>20240331"
    "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240305<TRNAMT>-42.40<FITID>A1<NAME>Grocer</STMTTRN>"
    "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240306<TRNAMT>1500.00<FITID>A2<NAME>Payroll</STMTTRN>"
    "</BANKTRANLIST><LEDGERBAL><BALAMT>1457.60<DTASOF>20240331</LEDGERBAL></STMTRS>"
    "</STMTTRNRS></BANKMSGSRSV1></OFX>\n"
)
SGML_HEADER = ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
               "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n")


def ofx_variants() -> dict[str, bytes]:
    """The same two-transaction statement in the header and body variants real downloads use."""
    body = OFX_BODY
    return {
        "full_header": (SGML_HEADER + body).encode(),
        # Quicken/QFX downloads of large US banks: the body alone, no header at all.
        "no_header": body.encode(),
        # OFX 2 processing instruction without an <?xml?> line (beangulp, bcimport fixtures).
        "pi_without_xml": ('<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" '
                           'OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n' + body).encode(),
        # SGML header that stops after CHARSET (no COMPRESSION/OLDFILEUID/NEWFILEUID).
        "short_header": ("OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\n"
                         "ENCODING:USASCII\nCHARSET:1252\n\n" + body).encode(),
        # XML comments (ledger-autosync's comments.ofx) and an XML declaration with an SGML body.
        "comments": ('<?xml version="1.0" encoding="utf-8"?>\n<!-- exported -->\n'
                     + body.replace("<STMTTRN>", "<!-- a row --><STMTTRN>", 1)).encode(),
        # Empty elements, both styles (<MEMO></MEMO> and <NAME> followed by the next tag).
        "empty_tags": (SGML_HEADER + body.replace("<NAME>Grocer", "<NAME></NAME><MEMO>")
                       .replace("<FITID>A2", "<FITID>A2<CHECKNUM>")).encode(),
        # BANKTRANLIST left open before LEDGERBAL (Nubank BR, ofxtools fixture).
        "unclosed_tranlist": (SGML_HEADER + body.replace("</BANKTRANLIST>", "")).encode(),
        # Every element closed and nested by an HTML tidier (AMEX, beancount-import fixture).
        "tidy_nested": (SGML_HEADER + body.replace(
            "<CODE>0<SEVERITY>INFO</STATUS>",
            "<CODE>0\n <SEVERITY>INFO\n </SEVERITY>\n</CODE>\n</STATUS>")).encode(),
    }


def ofx_two_tranlists() -> bytes:
    """One statement whose transactions come in two BANKTRANLIST blocks."""
    body = OFX_BODY.replace(
        "</STMTTRN><STMTTRN><TRNTYPE>CREDIT",
        "</STMTTRN></BANKTRANLIST><BANKTRANLIST><DTSTART>20240306<DTEND>20240331"
        "<STMTTRN><TRNTYPE>CREDIT")
    return (SGML_HEADER + body).encode()


def ofx_investment_xml() -> bytes:
    """OFX 2 investment statement: a stock buy with commission, dividend, reinvestment, a
    position list, cash entry and SECLIST (the shapes of ofxtools' v2 INVSTMTRS fixture)."""
    return (b"""<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>1</TRNUID>
<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<INVSTMTRS><DTASOF>20240331</DTASOF><CURDEF>USD</CURDEF>
<INVACCTFROM><BROKERID>broker.example</BROKERID><ACCTID>INV-42</ACCTID></INVACCTFROM>
<INVTRANLIST><DTSTART>20240301</DTSTART><DTEND>20240331</DTEND>
<BUYSTOCK><INVBUY><INVTRAN><FITID>B1</FITID><DTTRADE>20240304</DTTRADE><MEMO>Buy ACME</MEMO>
</INVTRAN><SECID><UNIQUEID>US0000000001</UNIQUEID><UNIQUEIDTYPE>ISIN</UNIQUEIDTYPE></SECID>
<UNITS>100</UNITS><UNITPRICE>50.00</UNITPRICE><COMMISSION>25.00</COMMISSION>
<TOTAL>-5025.00</TOTAL><SUBACCTSEC>CASH</SUBACCTSEC><SUBACCTFUND>CASH</SUBACCTFUND></INVBUY>
<BUYTYPE>BUY</BUYTYPE></BUYSTOCK>
<INCOME><INVTRAN><FITID>D1</FITID><DTTRADE>20240315</DTTRADE><MEMO>Dividend ACME</MEMO>
</INVTRAN><SECID><UNIQUEID>US0000000001</UNIQUEID><UNIQUEIDTYPE>ISIN</UNIQUEIDTYPE></SECID>
<INCOMETYPE>DIV</INCOMETYPE><TOTAL>42.00</TOTAL><SUBACCTSEC>CASH</SUBACCTSEC>
<SUBACCTFUND>CASH</SUBACCTFUND></INCOME>
<REINVEST><INVTRAN><FITID>R1</FITID><DTTRADE>20240320</DTTRADE></INVTRAN>
<SECID><UNIQUEID>US0000000002</UNIQUEID><UNIQUEIDTYPE>ISIN</UNIQUEIDTYPE></SECID>
<INCOMETYPE>DIV</INCOMETYPE><TOTAL>-12.50</TOTAL><SUBACCTSEC>CASH</SUBACCTSEC>
<UNITS>0.5</UNITS><UNITPRICE>25.00</UNITPRICE></REINVEST>
<INVBANKTRAN><STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20240301</DTPOSTED>
<TRNAMT>6000.00</TRNAMT><FITID>C1</FITID><NAME>Deposit</NAME></STMTTRN>
<SUBACCTFUND>CASH</SUBACCTFUND></INVBANKTRAN>
</INVTRANLIST>
<INVPOSLIST><POSSTOCK><INVPOS><SECID><UNIQUEID>US0000000001</UNIQUEID>
<UNIQUEIDTYPE>ISIN</UNIQUEIDTYPE></SECID><HELDINACCT>CASH</HELDINACCT><POSTYPE>LONG</POSTYPE>
<UNITS>200</UNITS><UNITPRICE>49.50</UNITPRICE><MKTVAL>9900.00</MKTVAL>
<DTPRICEASOF>20240331</DTPRICEASOF></INVPOS></POSSTOCK>
<POSMF><INVPOS><SECID><UNIQUEID>US0000000002</UNIQUEID><UNIQUEIDTYPE>ISIN</UNIQUEIDTYPE>
</SECID><HELDINACCT>CASH</HELDINACCT><POSTYPE>LONG</POSTYPE><UNITS>10.5</UNITS>
<UNITPRICE>25.00</UNITPRICE><MKTVAL>262.50</MKTVAL><DTPRICEASOF>20240331</DTPRICEASOF>
</INVPOS></POSMF></INVPOSLIST>
<INVBAL><AVAILCASH>1017.00</AVAILCASH><MARGINBALANCE>0</MARGINBALANCE>
<SHORTBALANCE>0</SHORTBALANCE></INVBAL>
</INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1>
<SECLISTMSGSRSV1><SECLIST>
<STOCKINFO><SECINFO><SECID><UNIQUEID>US0000000001</UNIQUEID><UNIQUEIDTYPE>ISIN</UNIQUEIDTYPE>
</SECID><SECNAME>Acme Corp</SECNAME><TICKER>ACME</TICKER></SECINFO></STOCKINFO>
<MFINFO><SECINFO><SECID><UNIQUEID>US0000000002</UNIQUEID><UNIQUEIDTYPE>ISIN</UNIQUEIDTYPE>
</SECID><SECNAME>World Index Fund</SECNAME><TICKER>WIDX</TICKER></SECINFO></MFINFO>
</SECLIST></SECLISTMSGSRSV1></OFX>
""")


def broker_csv_signed() -> bytes:
    """A Schwab-style transactions export: '$' amounts, buys negative, reinvest pairs, a
    corporate action without amount, dates "as of", and a 'Transactions Total' trailer
    (ghostfolio's schwab fixture, AGPL-adjacent, reproduced)."""
    return (b"Date,Action,Symbol,Description,Quantity,Price,Fees & Comm,Amount\n"
            b"03/04/2024,Buy,ACME,ACME CORP,10,$50.00,$1.00,\"-$501.00\"\n"
            b"03/15/2024,Cash Dividend,ACME,ACME CORP,,,,$4.20\n"
            b"03/20/2024 as of 03/19/2024,Reinvest Dividend,WIDX,WORLD INDEX,,,,$12.50\n"
            b"03/20/2024,Reinvest Shares,WIDX,WORLD INDEX,0.5,$25.00,,-$12.50\n"
            b"03/25/2024,Stock Split,ACME,ACME CORP,10,,,\n"
            b"03/28/2024,Credit Interest,,SCHWAB1 INT,,,,$0.37\n"
            b"03/29/2024,Sell,ACME,ACME CORP,5,$60.00,$1.00,\"$299.00\"\n"
            b"03/30/2024,Wire Sent,,WIRE OUT,,,,\"-$1,000.00\"\n"
            b"Transactions Total,,,,,,,\"-$1,197.43\"\n")


def broker_csv_unsigned() -> bytes:
    """A Revolut/Trading 212 style export: totals printed positive, the sign in the action."""
    return ("Date,Ticker,Type,Quantity,Price per share,Total Amount,Currency,FX Rate\n"
            "2024-03-01T09:00:00.000Z,,CASH TOP-UP,,,€500.00,EUR,1\n"
            "2024-03-02T14:30:00.123Z,ACME,BUY - MARKET,2,€100.00,€200.00,EUR,1\n"
            "2024-03-10T08:00:00Z,ACME,DIVIDEND,,,€1.50,EUR,1\n"
            "2024-03-12T13:30:00Z,ACME,SELL - MARKET,1,€120.00,€120.00,EUR,1\n"
            "2024-03-31T00:00:00Z,,CUSTODY FEE,,,-€0.50,EUR,1\n"
            "2024-03-31T10:00:00Z,,CASH WITHDRAWAL,,,-€100.00,EUR,1\n").encode()


def qif_investment() -> bytes:
    """QIF with a bank account and an investment account (!Account blocks), splits, the
    opening-balance record, day-first dates decided by a day over 12."""
    return (b"!Account\nNChecking\nTBank\n^\n!Type:Bank\n"
            b"D01/03/2024\nT1000.00\nPOpening Balance\nL[Checking]\n^\n"
            b"D05/03/2024\nT-80.00\nPSupermarket\nLFood\nSFood:Groceries\n$-60.00\n"
            b"SHousehold\n$-20.00\n^\n"
            b"D25/03/2024\nT2500.00\nPEmployer\nLSalary\n^\n"
            b"!Account\nNBroker\nTInvst\n^\n!Type:Invst\n"
            b"D04/03/2024\nNBuy\nYAcme Corp\nI50.00\nQ10\nO1.00\nT501.00\n^\n"
            b"D15/03/2024\nNDiv\nYAcme Corp\nT4.20\n^\n"
            b"D20/03/2024\nNReinvDiv\nYWorld Index\nI25.00\nQ0.5\nT12.50\n^\n"
            b"D29/03/2024\nNSellX\nYAcme Corp\nI60.00\nQ5\nT299.00\nL[Checking]\n$299.00\n^\n"
            b"D30/03/2024\nNXOut\nT100.00\nL[Checking]\n$100.00\n^\n")


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()
