"""CSV statements read by their structure: headers in many languages, amounts and dates as
banks write them, preamble and trailer lines, indicator columns, card exports, several accounts
in one file, odd line ends; what cannot be mapped fails with the columns and a sample row."""

from __future__ import annotations

import tomllib
from decimal import Decimal as D

import pytest

from app.core.errors import CorruptDocumentError, EmptyDocumentError, UnsupportedFormatError
from ingest.money.balance import check_balance
from ingest.money.csvguess import guess_profile
from ingest.money.csvparse import parse_csv
from ingest.money.csvprofiles import CsvOptions, profile_from_dict

ROWS = [("05.03.2024", "Bakery", "-2,40"), ("06.03.2024", "Employer", "1.500,00"),
        ("07.03.2024", "Grocer", "-45,10")]
HEADERS = {
    "en": ("Date", "Payee", "Amount"), "de": ("Buchungstag", "Empfänger", "Betrag"),
    "nl": ("Datum", "Naam tegenpartij", "Bedrag"), "fr": ("Date opération", "Tiers", "Montant"),
    "es": ("Fecha", "Beneficiario", "Importe"), "it": ("Data operazione", "Beneficiario",
                                                       "Importo"),
    "pl": ("Data operacji", "Kontrahent", "Kwota"), "sv": ("Bokföringsdatum", "Mottagare",
                                                          "Belopp"),
    "da": ("Dato", "Modtager", "Beløb"), "fi": ("Kirjauspäivä", "Saaja", "Summa"),
}


def _csv(header: tuple[str, ...], rows: list[tuple[str, ...]], delim: str = ";") -> bytes:
    return "\n".join(delim.join(r) for r in [header, *rows]).encode() + b"\n"


def _amounts(data: bytes, **kw) -> list[D]:  # type: ignore[no-untyped-def]
    sf = parse_csv(data, name="s.csv", options=CsvOptions(**kw))
    return [t.amount for s in sf.statements for t in s.transactions]


@pytest.mark.parametrize("lang", sorted(HEADERS))
def test_headers_in_any_common_language(lang: str) -> None:
    sf = parse_csv(_csv(HEADERS[lang], ROWS), name=f"{lang}.csv", options=CsvOptions())
    txs = sf.statements[0].transactions
    assert [(t.booking_date.isoformat(), t.amount, t.counterparty) for t in txs] == [
        ("2024-03-05", D("-2.40"), "Bakery"), ("2024-03-06", D("1500.00"), "Employer"),
        ("2024-03-07", D("-45.10"), "Grocer")]


@pytest.mark.parametrize("raw, value", [
    ("-$7,971.39", "-7971.39"), ("$1,036.47", "1036.47"), ("(12.50)", "-12.50"),
    ("12.50-", "-12.50"), ("-10", "-10.00"), ("512.0", "512.00"), ("+50.00", "50.00"),
    ("USD -3.20", "-3.20"), ("-1,234", "-1234.00"),
])
def test_amounts_with_symbols_separators_parentheses_and_trailing_minus(raw: str,
                                                                        value: str) -> None:
    data = f'Date,Description,Amount\n2024-03-01,Opening,-1.11\n2024-03-02,Row,"{raw}"\n'.encode()
    assert _amounts(data)[1] == D(value)


@pytest.mark.parametrize("raw, iso", [("04 Nov 2009", "2009-11-04"), ("2012:03:01", "2012-03-01"),
                                      ("1.2.2026", "2026-02-01"), ("20230522", "2023-05-22"),
                                      ("2018-02-25 12:34:56 +0000", "2018-02-25"),
                                      ("Dec 31, 2015", "2015-12-31")])
def test_dates_as_exports_write_them(raw: str, iso: str) -> None:
    data = f'Date;Text;Amount\n"{raw}";A;-1,00\n"{raw}";B;-2,00\n'.encode()
    sf = parse_csv(data, name="d.csv", options=CsvOptions())
    assert sf.statements[0].transactions[0].booking_date.isoformat() == iso


def test_preamble_metadata_and_trailer_rows() -> None:
    data = (b"Account statement\nIBAN: DE89370400440532013000\nCurrency: EUR\n"
            b"Opening balance;;100,00\n\nDate;Description;Amount\n"
            b"01.03.2024;Bakery;-2,40\n02.03.2024;Salary;10,00\n03.03.2024;Fee;-0,60\n"
            b"Transactions Total;;7,00\nClosing balance;;107,00\n")
    sf = parse_csv(data, name="p.csv", options=CsvOptions())
    stmt = sf.statements[0]
    assert len(stmt.transactions) == 3 and {t.currency for t in stmt.transactions} == {"EUR"}
    assert stmt.account.identifier == "DE89370400440532013000"
    assert (stmt.opening_balance, stmt.closing_balance) == (D("100.00"), D("107.00"))
    assert check_balance(stmt).status == "ok"


@pytest.mark.parametrize("debit, credit", [("D", "K"), ("D", "C"), ("S", "H"), ("Debit", "Credit"),
                                           ("Af", "Bij"), ("DR", "CR"), ("Soll", "Haben"),
                                           ("Débit", "Crédit"), ("Cargo", "Abono")])
def test_indicator_columns_give_the_sign_never_inverted(debit: str, credit: str) -> None:
    data = (f"Datum;Omschrijving;Bedrag;D/C\n01.03.2024;Winkel;2,40;{debit}\n"
            f"02.03.2024;Salaris;100,00;{credit}\n03.03.2024;Huur;50,00;{debit}\n").encode()
    assert _amounts(data) == [D("-2.40"), D("100.00"), D("-50.00")]


def test_an_unknown_indicator_value_fails_naming_it() -> None:
    data = (b"Datum;Omschrijving;Bedrag;D/C\n01.03.2024;Winkel;2,40;D\n02.03.2024;Salaris;100,00;C\n"
            b"03.03.2024;Huur;50,00;D\n04.03.2024;Raar;9,00;EUR\n")
    with pytest.raises(CorruptDocumentError, match="row 5: debit/credit indicator 'EUR'"):
        parse_csv(data, name="i.csv")


def test_card_export_printing_purchases_positive_is_money_out() -> None:
    data = (b'"Merchant Name","Card Used For Transaction","Date","Amount"\n'
            b'"Mobil","**** 1234","01/10/2019","36.33"\n"APPLE","**** 1234","12/15/2018","13.98"\n'
            b'"PAYMENT THANK YOU","**** 1234","12/20/2018","-50.00"\n')
    sf = parse_csv(data, name="card.csv", options=CsvOptions())
    assert [t.amount for t in sf.statements[0].transactions] == [D("-36.33"), D("-13.98"),
                                                                 D("50.00")]
    assert sf.statements[0].account.type == "credit"
    assert any("card export" in w for w in sf.warnings)


def test_multi_account_file_is_split_by_its_account_column() -> None:
    data = (b"Account,Date,Description,Amount\nNL91ABNA0417164300,2024-03-01,A,-1.00\n"
            b"NL20INGB0001234567,2024-03-01,B,-2.00\nNL91ABNA0417164300,2024-03-02,C,3.00\n"
            b"NL20INGB0001234567,2024-03-03,D,-4.00\nNL91ABNA0417164300,2024-03-04,E,-5.00\n"
            b"NL20INGB0001234567,2024-03-05,F,6.00\n")
    sf = parse_csv(data, name="multi.csv", options=CsvOptions(default_currency="EUR"))
    by = {s.account.identifier: [t.amount for t in s.transactions] for s in sf.statements}
    assert by == {"NL91ABNA0417164300": [D("-1.00"), D("3.00"), D("-5.00")],
                  "NL20INGB0001234567": [D("-2.00"), D("-4.00"), D("6.00")]}


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\r\r\n", "\n"])
def test_any_line_ends(newline: str) -> None:
    data = newline.join(["Date,Description,Amount", "2/8/15,A,-5.00", "2/24/15,B,7.00"]).encode()
    assert _amounts(data) == [D("-5.00"), D("7.00")]


def test_running_balance_checks_in_any_row_order() -> None:
    data = (b"Date,Description,Amount,Balance\n2024-03-03,C,-5.00,110.00\n"
            b"2024-03-01,A,10.00,110.00\n2024-03-02,B,5.00,115.00\n")
    stmt = parse_csv(data, name="b.csv", options=CsvOptions()).statements[0]
    assert (stmt.opening_balance, stmt.closing_balance) == (D("100.00"), D("110.00"))
    assert check_balance(stmt).status == "ok"


def test_day_month_order_is_decided_and_stated_or_the_file_fails() -> None:
    decided = b"Date,Description,Amount\n03/04/2024,A,-1.00\n13/04/2024,B,-2.00\n"
    sf = parse_csv(decided, name="a.csv", options=CsvOptions())
    assert sf.statements[0].transactions[0].booking_date.isoformat() == "2024-04-03"
    undecidable = b"Date,Description,Amount\n03/04/2024,A,-1.00\n03/04/2024,B,-2.00\n"
    with pytest.raises(CorruptDocumentError, match="day/month or month/day"):
        parse_csv(undecidable, name="u.csv", options=CsvOptions())
    dollars = "Date,Description,Amount,Currency\n03/04/2024,A,-1.00,USD\n03/04/2024,B,-2.00,USD\n"
    sf = parse_csv(dollars.encode(), name="us.csv", options=CsvOptions())
    assert sf.statements[0].transactions[0].booking_date.isoformat() == "2024-03-04"
    assert any("month/day" in w for w in sf.warnings)


def test_what_cannot_be_mapped_fails_with_columns_and_a_sample_row() -> None:
    data = b"Tag;Wer;Wieviel;Noch\n05.01.2026;Bakery;2,40;\n06.01.2026;Bakery;;3,10\n"
    with pytest.raises(UnsupportedFormatError) as err:
        parse_csv(data, name="weird.csv", options=CsvOptions(profiles_file="/p.toml"))
    msg = str(err.value)
    assert msg.startswith("weird.csv: ") and "Wieviel (amount)" in msg
    assert "sample row: '05.01.2026;Bakery;2,40;'" in msg and "/p.toml" in msg
    assert "\n" not in msg


def test_a_header_without_rows_is_a_failure_not_an_empty_import() -> None:
    with pytest.raises(EmptyDocumentError, match=r"header .* but no transaction rows"):
        parse_csv(b"Date,Description,Debit Amount,Credit Amount,Balance\r\n", name="h.csv")


def test_drafted_profile_reads_the_file_it_was_drafted_from() -> None:
    data = ("Transaktionsdatum;Text;Summa;Typ\n01.03.2024;Butik;2,40;D\n"
            "02.03.2024;Lön;100,00;K\n03.03.2024;Hyra;50,00;D\n").encode()
    stanza = guess_profile(data, name="mybank.csv")
    assert "[[profile]]" in stanza and 'date = ["Transaktionsdatum"]' in stanza
    raw = tomllib.loads(stanza)["profile"][0]
    raw["debit_values"] = ["d"]  # what the owner confirms for the # CHECK line
    profile = profile_from_dict(raw, where="test")
    sf = parse_csv(data, name="mybank.csv", options=CsvOptions(profiles=(profile,)))
    assert sf.profile == "mybank"
    assert [t.amount for t in sf.statements[0].transactions] == [D("-2.40"), D("100.00"),
                                                                 D("-50.00")]


def test_excel_sep_line_names_the_delimiter() -> None:
    data = b"sep=,\nDatum,Omschrijving,Bedrag\n01-03-2024,Winkel,\"-2,40\"\n02-03-2024,Loon,\"100,00\"\n"
    assert _amounts(data) == [D("-2.40"), D("100.00")]


def test_xlsx_statement_goes_through_the_same_reader() -> None:
    import datetime
    import io

    from openpyxl import Workbook

    from ingest.money import parse_statement_file

    wb = Workbook()
    ws = wb.active
    ws.append(["Kontoauszug", None, None, None])
    ws.append([])
    ws.append(["Buchungstag", "Empfänger", "Verwendungszweck", "Betrag", "Währung"])
    ws.append([datetime.datetime(2024, 3, 5), "Bäckerei", "Brot", -2.4, "EUR"])
    ws.append([datetime.datetime(2024, 3, 6), "Arbeitgeber", "Gehalt", 1500, "EUR"])
    ws.append([datetime.datetime(2024, 3, 7), "Supermarkt", None, -45.1, "EUR"])
    buf = io.BytesIO()
    wb.save(buf)
    sf = parse_statement_file(buf.getvalue(), name="umsaetze.xlsx")
    assert sf.format == "xlsx"
    assert [(t.booking_date.isoformat(), t.amount, t.currency, t.location.row)
            for t in sf.statements[0].transactions] == [
        ("2024-03-05", D("-2.40"), "EUR", 4), ("2024-03-06", D("1500.00"), "EUR", 5),
        ("2024-03-07", D("-45.10"), "EUR", 6)]
