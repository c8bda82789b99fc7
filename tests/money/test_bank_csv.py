"""CSV statements: sniffing, profiles (built-in and the owner's TOML), sign conventions, errors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.errors import ConfigError, CorruptDocumentError, UnsupportedFormatError
from ingest.money.balance import check_balance
from ingest.money.csvparse import parse_csv, sniff_delimiter
from ingest.money.csvprofiles import CsvOptions, load_profiles
from tests.support.statements_synth import Tx, csv_debit_credit, csv_signed

D = Decimal
TXS = [
    Tx(date(2026, 3, 2), D("-1234.56"), "REWE Markt", "Einkauf; Wocheneinkauf"),
    Tx(date(2026, 3, 3), D("2500.00"), "ACME GmbH", "Gehalt"),
    Tx(date(2026, 3, 13), D("-4.50"), "Café Olé", "Kaffee"),
]


def test_german_export_decimal_comma_cp1252_and_running_balance() -> None:
    data = csv_signed(TXS, german=True, balance_from=D("100.00"), encoding="cp1252")
    sf = parse_csv(data, name="umsatz.csv")
    stmt = sf.statements[0]
    assert [t.amount for t in stmt.transactions] == [t.amount for t in TXS]
    assert stmt.transactions[2].counterparty == "Café Olé"
    assert stmt.transactions[0].description == "Einkauf; Wocheneinkauf"
    assert [t.location.row for t in stmt.transactions] == [2, 3, 4]
    assert stmt.opening_balance == D("100.00")
    assert check_balance(stmt).status == "ok"
    assert stmt.currency == "EUR"
    assert any("cp1252" in w for w in sf.warnings)


def test_english_export_and_debit_credit_columns() -> None:
    signed = parse_csv(csv_signed(TXS), name="export.csv").statements[0]
    assert [t.amount for t in signed.transactions] == [t.amount for t in TXS]
    assert signed.transactions[0].currency == "USD"
    split = parse_csv(csv_debit_credit(TXS), name="bank.csv",
                      options=CsvOptions(default_currency="USD")).statements[0]
    assert [t.amount for t in split.transactions] == [t.amount for t in TXS]
    assert split.transactions[0].booking_date == date(2026, 3, 2)  # %m/%d/%Y sniffed


def test_newest_first_balance_column_gives_opening_and_closing() -> None:
    text = ("Date;Description;Amount;Balance\n"
            "13.03.2026;Coffee;-4,50;1.261,00\n"
            "03.03.2026;Salary;2.500,00;1.265,50\n"
            "02.03.2026;Rent;-1.234,50;-1.234,50\n")
    stmt = parse_csv(text.encode(), name="n.csv", options=CsvOptions(default_currency="EUR")
                     ).statements[0]
    assert stmt.opening_balance == D("0.00")
    assert stmt.closing_balance == D("1261.00")
    assert check_balance(stmt).status == "ok"


def test_ing_de_profile_with_preamble_and_duplicate_currency_column() -> None:
    text = ("Umsatzanzeige;Datei erstellt am: 01.03.2026\nIBAN;DE12 5001 0517 0000 0000 00\n\n"
            "Buchung;Valuta;Auftraggeber/Empfänger;Buchungstext;Verwendungszweck;Saldo;Währung;"
            "Betrag;Währung\n"
            "28.02.2026;28.02.2026;REWE Markt GmbH;Lastschrift;Einkauf;1.234,56;EUR;-45,10;USD\n")
    sf = parse_csv(text.encode("utf-8"), name="ing.csv")
    assert sf.profile == "ing-de"
    tx = sf.statements[0].transactions[0]
    assert (tx.amount, tx.currency, tx.location.row) == (D("-45.10"), "USD", 5)


def test_revolut_profile_skips_reverted_and_flags_pending() -> None:
    text = ("Type,Product,Started Date,Completed Date,Description,Amount,Fee,Currency,State,"
            "Balance\n"
            "CARD_PAYMENT,Current,2026-03-01 10:00:00,2026-03-02 09:00:00,Spotify,-10.99,0.00,"
            "EUR,COMPLETED,89.01\n"
            "CARD_PAYMENT,Current,2026-03-03 10:00:00,,Tesco,-20.00,0.00,EUR,REVERTED,\n"
            "TRANSFER,Current,2026-03-04 10:00:00,2026-03-04 10:00:00,Bob,-5.00,0.50,EUR,"
            "PENDING,\n")
    sf = parse_csv(text.encode(), name="revolut.csv")
    assert sf.profile == "revolut"
    txs = sf.statements[0].transactions
    assert [(t.counterparty, t.amount, t.pending) for t in txs] == [
        ("Spotify", D("-10.99"), False), ("Bob", D("-5.50"), True)]


def test_unknown_layout_error_lists_the_columns_seen() -> None:
    text = "Foo;Bar;Baz\n1;2;3\n4;5;6\n"
    with pytest.raises(UnsupportedFormatError) as err:
        parse_csv(text.encode(), name="mystery.csv",
                  options=CsvOptions(profiles_file="/home/me/profiles.toml"))
    msg = str(err.value)
    assert "mystery.csv" in msg and "'Foo', 'Bar', 'Baz'" in msg
    assert "/home/me/profiles.toml" in msg


def test_invalid_amount_names_row_and_value() -> None:
    text = "Date,Description,Amount,Currency\n2026-03-01,A,-1.00,EUR\n2026-03-02,B,12.3.4x,EUR\n"
    with pytest.raises(CorruptDocumentError, match=r"bad\.csv row 3: not an amount: '12\.3\.4x'"):
        parse_csv(text.encode(), name="bad.csv")


def test_owner_profile_from_toml_is_used_first(tmp_path: Path) -> None:
    toml = tmp_path / "profiles.toml"
    toml.write_text(
        '[[profile]]\nname = "credit-union"\ndate = "Posted On"\namount = "Charge"\n'
        'description = ["Where", "Note"]\ncurrency = []\ndefault_currency = "USD"\n'
        'account_id = "cu-visa"\nnegate = true\ndate_format = "%d/%m/%Y"\n',
        encoding="utf-8")
    profiles = load_profiles(toml)
    text = "Posted On|Where|Note|Charge\n01/02/2026|Corner Shop|snacks|12.50\n"
    sf = parse_csv(text.encode(), name="cu.csv", options=CsvOptions(profiles=profiles))
    tx = sf.statements[0].transactions[0]
    assert sf.profile == "credit-union"
    assert (tx.amount, tx.currency, tx.booking_date) == (D("-12.50"), "USD", date(2026, 2, 1))
    assert tx.description == "Corner Shop snacks"
    assert sf.statements[0].account.identifier == "cu-visa"


def test_bad_owner_profile_file_is_a_config_error(tmp_path: Path) -> None:
    toml = tmp_path / "p.toml"
    toml.write_text('[[profile]]\nname = "x"\ndate = "D"\nshoe = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown profile key"):
        load_profiles(toml)
    toml.write_text("not = [toml", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profiles(toml)
    assert load_profiles(tmp_path / "absent.toml") == ()


@pytest.mark.parametrize("delim", [";", ",", "\t", "|"])
def test_sniff_delimiter(delim: str) -> None:
    rows = ["Date", "Payee", "Amount"], ["2026-01-01", "A", "1.00"], ["2026-01-02", "B", "2.00"]
    assert sniff_delimiter("\n".join(delim.join(r) for r in rows)) == delim


def test_row_with_more_cells_than_the_header_is_an_error() -> None:
    text = "Date,Description,Amount\n2026-01-05,Bakery,-2.40\n2026-01-06,Bakery,-2,40\n"
    with pytest.raises(CorruptDocumentError, match="row 3: 4 cells but the header has 3"):
        parse_csv(text.encode(), name="shifted.csv", options=CsvOptions(default_currency="EUR"))
