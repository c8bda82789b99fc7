"""PDF statement layouts: S/H and DR/CR markers, day-month-name dates, the owner's TOML profiles."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

import ingest.money.pdfprofiles as pdfprofiles
from app.core.errors import ConfigError, CorruptDocumentError, UnsupportedFormatError
from app.core.models import Statement, Transaction
from app.core.types import ParseInput, RawItem
from ingest.mediatypes import detect_media_type
from ingest.money.balance import check_balance
from ingest.money.csvprofiles import CsvOptions
from ingest.money.pdfparse import parse_pdf_text
from ingest.money.pdfprofiles import load_pdf_profiles
from ingest.parsers.statement import StatementParser

D = Decimal

# A Volksbank-style January statement: unsigned amounts with S/H, dates without a year, and the
# previous statement's closing date (2025) printed before this one's (2026).
SOLL_HABEN = [
    "Musterbank eG  Kontoauszug 1/2026  Blatt 1\nIBAN DE02 1203 0000 0000 2020 51  EUR\n"
    "Bu-Tag Wert Vorgang Betrag\n"
    "alter Kontostand vom 31.12.2025 1.000,00 H\n"
    "02.01. 02.01. Basislastschrift 45,10 S\nREWE Markt Berlin\n"
    "05.01. 05.01. Gehalt 2.500,00 H\nACME GmbH\n",
    "Musterbank eG  Kontoauszug 1/2026  Blatt 2\n"
    "07.01. 07.01. Dauerauftrag 1.200,00 S\nMiete Januar\n"
    "neuer Kontostand vom 31.01.2026 2.254,90 H\n",
]
DR_CR = [
    "Example Bank plc  Statement of account\nSort code 12-34-56  Account 12345678  GBP\n"
    "Statement period 01 Feb 2026 to 28 Feb 2026\n"
    "Balance brought forward 1,000.00 CR\n"
    "03 Feb Coffee House 4.50 DR 995.50 CR\nCard payment\n"
    "05 Feb Salary ACME Ltd 2,500.00 CR 3,495.50 CR\n",
    "10 Feb Rent 1,200.00 Dr 2,295.50 Cr\nStanding order\n"
    "Balance carried forward 2,295.50 CR\n",
]
DAY_MONTH = [
    "Account statement  USD\nOpening balance on 01 Feb 2026 100.00\n"
    "03 Feb 2026 Coffee -4.50 95.50\n15 Feb 2026 Refund 10.00 105.50\n"
    "Closing balance on 28 Feb 2026 105.50\n",
]


def _parse(pages: list[str], **kw):
    sf = parse_pdf_text(pages, name="s.pdf", **kw)
    assert len(sf.statements) == 1
    return sf, sf.statements[0]


def test_soll_haben_markers_sign_amounts_and_yearless_dates_take_the_statement_year() -> None:
    sf, stmt = _parse(SOLL_HABEN)
    assert sf.profile == "de-soll-haben"
    txs = stmt.transactions
    assert [t.amount for t in txs] == [D("-45.10"), D("2500.00"), D("-1200.00")]
    # January lines are 2026 although the first full date printed is 31.12.2025.
    assert [t.booking_date for t in txs] == [date(2026, 1, 2), date(2026, 1, 5), date(2026, 1, 7)]
    assert [t.value_date for t in txs] == [t.booking_date for t in txs]
    assert [(t.location.page, t.location.line) for t in txs] == [(1, 5), (1, 7), (2, 2)]
    assert (txs[0].counterparty, txs[0].description) == ("Basislastschrift", "REWE Markt Berlin")
    assert (stmt.opening_balance, stmt.closing_balance) == (D("1000.00"), D("2254.90"))
    assert check_balance(stmt).status == "ok"
    assert stmt.account.identifier == "DE02120300000000202051"


def test_soll_haben_overdrawn_balances_are_negative() -> None:
    pages = ["Kontoauszug 3/2026\nalter Kontostand vom 28.02.2026 500,00 S\n"
             "03.03.2026 Gutschrift Lohn 700,00 H\nneuer Kontostand vom 31.03.2026 200,00 H\n"]
    _, stmt = _parse(pages)
    assert (stmt.opening_balance, stmt.closing_balance) == (D("-500.00"), D("200.00"))
    assert stmt.transactions[0].amount == D("700.00")
    assert check_balance(stmt).status == "ok"


def test_yearless_dates_across_new_year_keep_each_their_year() -> None:
    pages = ["Kontoauszug 12/2025\nalter Kontostand vom 29.12.2025 100,00 H\n"
             "31.12. Silvester Feuerwerk 10,00 S\n02.01. Neujahr Brezel 20,00 S\n"
             "neuer Kontostand vom 02.01.2026 70,00 H\n"]
    _, stmt = _parse(pages)
    assert [t.booking_date for t in stmt.transactions] == [date(2025, 12, 31), date(2026, 1, 2)]
    assert check_balance(stmt).status == "ok"


def test_dr_cr_markers_and_day_month_dates() -> None:
    sf, stmt = _parse(DR_CR)
    assert sf.profile == "en-dr-cr"
    txs = stmt.transactions
    assert [t.amount for t in txs] == [D("-4.50"), D("2500.00"), D("-1200.00")]
    assert [t.booking_date for t in txs] == [date(2026, 2, 3), date(2026, 2, 5), date(2026, 2, 10)]
    assert [t.location.page for t in txs] == [1, 1, 2]
    assert txs[2].description == "Standing order"  # "Balance carried forward" is not taken
    assert stmt.currency == "GBP"
    assert (stmt.opening_balance, stmt.closing_balance) == (D("1000.00"), D("2295.50"))
    assert check_balance(stmt).status == "ok"


def test_dr_opening_balance_is_negative() -> None:
    pages = ["Account statement EUR\nOpening balance 50.00 DR\n2026-02-03 Deposit 80.00 CR\n"
             "Closing balance 30.00 CR\n"]
    sf, stmt = _parse(pages)
    assert sf.profile == "en-dr-cr"
    assert (stmt.opening_balance, stmt.transactions[0].amount) == (D("-50.00"), D("80.00"))
    assert check_balance(stmt).status == "ok"


def test_signed_amounts_with_day_month_name_dates() -> None:
    sf, stmt = _parse(DAY_MONTH)
    assert sf.profile == "en-day-month"
    assert [(t.booking_date, t.amount) for t in stmt.transactions] == [
        (date(2026, 2, 3), D("-4.50")), (date(2026, 2, 15), D("10.00"))]
    assert (stmt.opening_balance, stmt.closing_balance) == (D("100.00"), D("105.50"))
    assert check_balance(stmt).status == "ok"


def test_generic_statements_stay_with_the_generic_profiles() -> None:
    generic_de = [
        "Sparbank AG  Kontoauszug 2/2026\nAlter Kontostand 1.000,00 EUR\n"
        "03.02.2026 03.02.2026 REWE Markt Berlin -45,10\nEinkauf vom 02.02.\n"
        "05.02.2026 Stadtwerke Strom -85,00\n"
        "06.02.2026 Hinweis Zinssatz 1,00 S\n",  # one stray line the S/H layout would read
        "15.02.2026 ACME GmbH 2.500,00\nGehalt Februar\nNeuer Kontostand 3.369,90 EUR\n",
    ]
    sf, stmt = _parse(generic_de)
    assert sf.profile == "generic-de"
    assert [t.amount for t in stmt.transactions] == [D("-45.10"), D("-85.00"), D("2500.00")]
    generic_en = ["Account statement\nOpening balance 10.00\n2026-02-03 Coffee -4.50 5.50\n"
                  "02/10/2026 Refund 4.50 10.00\nClosing balance 10.00\n"]
    sf, stmt = _parse(generic_en)
    assert sf.profile == "generic-en"
    assert [t.booking_date for t in stmt.transactions] == [date(2026, 2, 3), date(2026, 2, 10)]


def test_a_stray_generic_line_does_not_claim_a_soll_haben_statement() -> None:
    # Balances printed without a marker: the generic profile reads every line too, as text
    # "Basislastschrift 45,10 S" with amount +954,90. The marker layout must win the tie.
    pages = ["Kontoauszug 1/2026\nalter Kontostand vom 31.12.2025 1.000,00 H\n"
             "02.01.2026 Basislastschrift 45,10 S 954,90\n"
             "05.01.2026 Gehalt 2.500,00 H 3.454,90\n"
             "31.01.2026 Rechnungsabschluss 0,00\n"  # read by the generic profile alone
             "neuer Kontostand vom 31.01.2026 3.454,90 H\n"]
    sf, stmt = _parse(pages)
    assert sf.profile == "de-soll-haben"
    assert [t.amount for t in stmt.transactions] == [D("-45.10"), D("2500.00")]
    assert check_balance(stmt).status == "ok"


def test_without_balances_a_tie_goes_to_the_marker_layout() -> None:
    pages = ["Kontoauszug 1/2026\n02.01.2026 Basislastschrift 45,10 S 954,90\n"
             "05.01.2026 Gehalt 2.500,00 H 3.454,90\n"]
    sf, stmt = _parse(pages)
    assert sf.profile == "de-soll-haben"
    assert [t.amount for t in stmt.transactions] == [D("-45.10"), D("2500.00")]


# --- the owner's profiles ------------------------------------------------------------------

OWNER_TOML = r"""
[[pdf_profile]]
name = "my-bank"
# only lines with a value date: the bank prints memo lines with a booking date alone
line = '(?P<date>\d{2}\.\d{2}\.\d{4})\s+(?P<value_date>\d{2}\.\d{2}\.\d{4})\s+(?P<text>.+?)\s+(?P<amount>[\d.]+,\d{2})\s+(?P<dc>[SH])$'
date_formats = ["%d.%m.%Y"]
decimal = ","
opening = 'Saldo alt\s+(?P<amount>[\d.]+,\d{2})\s*(?P<dc>[SH])'
closing = 'Saldo neu\s+(?P<amount>[\d.]+,\d{2})\s*(?P<dc>[SH])'
detect = "Musterbank Hinterwald"
currency = "EUR"
institution = "Musterbank Hinterwald"
debit_markers = ["S"]
credit_markers = ["h"]
"""
OWNER_PAGES = [
    "Musterbank Hinterwald  Umsatzuebersicht\nSaldo alt 100,00 H\n"
    "03.02.2026 03.02.2026 REWE Markt 45,10 S\n"
    "04.02.2026 Vormerkung Tankstelle 30,00 S\n"  # no value date: not booked yet
    "05.02.2026 Mitgliedsbeitrag 5,00 S\n",
    "10.02.2026 10.02.2026 Erstattung 50,00 H\nSaldo neu 104,90 H\n",
]


def _owner_profiles(tmp_path: Path, text: str = OWNER_TOML):
    path = tmp_path / "statement_profiles.toml"
    path.write_text(text, encoding="utf-8")
    return load_pdf_profiles(path)


def test_owner_profile_is_tried_before_the_builtin_ones(tmp_path: Path) -> None:
    owner = _owner_profiles(tmp_path)
    # The built-in S/H profile reads more lines here (the unbooked ones too) ...
    assert parse_pdf_text(OWNER_PAGES, name="s.pdf").profile == "de-soll-haben"
    sf, stmt = _parse(OWNER_PAGES, owner_profiles=owner)
    # ... but the owner's profile, which reads only the booked lines, comes first.
    assert sf.profile == "my-bank"
    assert [(t.amount, t.location.page) for t in stmt.transactions] == [
        (D("-45.10"), 1), (D("50.00"), 2)]
    assert (stmt.currency, stmt.account.institution) == ("EUR", "Musterbank Hinterwald")
    assert check_balance(stmt).status == "ok"


def test_owner_profile_detect_lets_a_statement_without_keywords_through(tmp_path: Path) -> None:
    owner = _owner_profiles(tmp_path)
    pages = [p.replace("Saldo", "Stand") for p in OWNER_PAGES]  # no statement keyword left
    with pytest.raises(UnsupportedFormatError, match="does not look like a bank statement"):
        parse_pdf_text(pages, name="s.pdf")
    assert parse_pdf_text(pages, name="s.pdf", owner_profiles=owner).profile == "my-bank"
    other_bank = [p.replace("Hinterwald", "Vorderwald") for p in OWNER_PAGES]
    assert parse_pdf_text(other_bank, name="s.pdf", owner_profiles=owner).profile != "my-bank"


def test_owner_marker_outside_the_profile_is_a_clear_error(tmp_path: Path) -> None:
    owner = _owner_profiles(tmp_path, OWNER_TOML.replace("(?P<dc>[SH])$", "(?P<dc>[SHX])$"))
    pages = [OWNER_PAGES[0].replace("45,10 S", "45,10 X"), OWNER_PAGES[1]]
    with pytest.raises(CorruptDocumentError,
                       match=r"s\.pdf page 1 line 3: debit/credit marker 'X'.*'my-bank'"):
        parse_pdf_text(pages, name="s.pdf", owner_profiles=owner)


def test_docstring_example_profile_loads_and_reads_its_layout(tmp_path: Path) -> None:
    doc = pdfprofiles.__doc__ or ""
    example = textwrap.dedent(doc.split("for example::\n", 1)[1].split("\n\n", 1)[0])
    owner = _owner_profiles(tmp_path, example)
    assert [p.name for p in owner] == ["my-volksbank"]
    pages = ["Volksbank Musterstadt\nalter Kontostand vom 31.01.2026 10,00 H\n"
             "03.02. REWE 45,10 S\nneuer Kontostand vom 28.02.2026 35,10 S\n"]
    sf, stmt = _parse(pages, owner_profiles=owner)
    assert (sf.profile, stmt.transactions[0].amount) == ("my-volksbank", D("-45.10"))
    assert stmt.transactions[0].booking_date == date(2026, 2, 3)
    assert (stmt.opening_balance, stmt.closing_balance) == (D("10.00"), D("-35.10"))
    assert check_balance(stmt).status == "ok"


def _replace(line_start: str, new: str) -> str:
    """OWNER_TOML with the line starting `line_start` replaced (or dropped when new is "")."""
    lines = [new if ln.startswith(line_start) else ln for ln in OWNER_TOML.splitlines()]
    return "\n".join(ln for ln in lines if ln)


@pytest.mark.parametrize(("toml", "field", "problem"), [
    (_replace("line =", "line = '(?P<date>\\d+'"), "line", "bad regular expression"),
    (_replace("line =", "line = '(?P<date>\\S+) (?P<amount>\\S+)$'"), "line",
     "needs the named group(s) (?P<text>...)"),
    (_replace("opening =", "opening = 'Saldo alt (\\S+)'"), "opening",
     "needs the named group(s) (?P<amount>...)"),
    (_replace("detect =", "detect = '[unclosed'"), "detect", "bad regular expression"),
    (_replace("decimal =", 'decimal = ";"'), "decimal", 'must be "," or "."'),
    (_replace("decimal =", ""), "decimal", "missing"),
    (_replace("date_formats =", 'date_formats = ["dd.mm.yyyy"]'), "date_formats",
     "strptime formats"),
    (_replace("currency =", 'currency = "euro"'), "currency", "three-letter code"),
    (_replace("institution", "colour = 'blue'"), "colour", "unknown key"),
    (_replace("debit_markers", "").replace('credit_markers = ["h"]', ""), "debit_markers",
     "(?P<dc>...) group"),
    (_replace("credit_markers", 'credit_markers = ["s"]'), "credit_markers",
     "both debit and credit"),
])
def test_bad_owner_profile_names_file_profile_and_field(tmp_path: Path, toml: str, field: str,
                                                        problem: str) -> None:
    path = tmp_path / "statement_profiles.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_pdf_profiles(path)
    message = str(err.value)
    assert message.startswith(f"{path}: pdf_profile #1 'my-bank': {field}: "), message
    assert problem in message and "\n" not in message


def test_owner_profile_without_a_name_is_named_by_position(tmp_path: Path) -> None:
    text = OWNER_TOML + '\n[[pdf_profile]]\nline = "(?P<date>x)(?P<text>y)(?P<amount>z)"\n'
    path = tmp_path / "statement_profiles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pdf_profile #2: name: missing$"):
        load_pdf_profiles(path)
    assert load_pdf_profiles(tmp_path / "absent.toml") == ()


def test_markers_without_a_dc_group_are_refused(tmp_path: Path) -> None:
    text = (_replace("line =", "line = '(?P<date>\\S+) (?P<text>.+) (?P<amount>\\S+)$'")
            .replace("(?P<dc>[SH])", "([SH])"))
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"'my-bank': line: has no \(\?P<dc>\.\.\.\) group"):
        load_pdf_profiles(path)


# --- real PDFs: pypdfium2's text layer, the statement parser, the database ---------------

def _pdf(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for text in pages:
        pdf.add_page()
        for line in text.splitlines():
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _inp(name: str, data: bytes) -> ParseInput:
    return ParseInput.of(RawItem(origin=f"/docs/{name}", name=name, data=data), data,
                         detect_media_type(name, data[:4096]))


def test_owner_profile_from_the_settings_file_reaches_the_statement_parser(settings, clean_db,
                                                                           data_dir: Path) -> None:
    from app.services.runtime import Runtime
    from app.services.sync import build_pipeline
    from ingest.embedders.lexical import LexicalHashEmbedder

    (data_dir / "statement_profiles.toml").write_text(OWNER_TOML, encoding="utf-8")
    item = _inp("umsaetze.pdf", _pdf(OWNER_PAGES))
    rt = Runtime(settings=settings, db=clean_db)
    rt.set_embedder(LexicalHashEmbedder())
    # The sync service wires the owner's profiles file into the statement parser.
    parser = next(p for p in build_pipeline(rt).parsers if isinstance(p, StatementParser))
    assert parser.score(item) == 30
    doc = parser.parse(item)
    assert doc.metadata["profile"] == "my-bank"
    assert doc.metadata["balance_checks"][0]["status"] == "ok"
    stmt = doc.extras["statement"].statements[0]
    assert [(t.amount, t.location.page) for t in stmt.transactions] == [
        (D("-45.10"), 1), (D("50.00"), 2)]
    # Without the owner's file the same PDF falls to a built-in layout.
    assert StatementParser(CsvOptions()).parse(item).metadata["profile"] == "de-soll-haben"


def test_soll_haben_pdf_lands_in_the_transactions_table(bank_run, folder: Path, clean_db) -> None:
    (folder / "kontoauszug-2026-01.pdf").write_bytes(_pdf(SOLL_HABEN))
    (folder / "statement-2026-02.pdf").write_bytes(_pdf(DR_CR))
    report = bank_run(folder)
    assert report.counts["indexed"] == 2, report.problems
    with clean_db.session() as s:
        rows = s.execute(select(Transaction.booking_date, Transaction.amount, Transaction.currency,
                                Transaction.page, Transaction.line)
                         .order_by(Transaction.booking_date)).all()
        statements = s.scalars(select(Statement).order_by(Statement.period_start)).all()
        assert [(st.format, st.balance_status) for st in statements] == [("pdf", "ok")] * 2
        assert [(st.opening_balance, st.closing_balance) for st in statements] == [
            (D("1000.00"), D("2254.90")), (D("1000.00"), D("2295.50"))]
    assert [tuple(r) for r in rows] == [
        (date(2026, 1, 2), D("-45.10"), "EUR", 1, 5),
        (date(2026, 1, 5), D("2500.00"), "EUR", 1, 7),
        (date(2026, 1, 7), D("-1200.00"), "EUR", 2, 2),
        (date(2026, 2, 3), D("-4.50"), "GBP", 1, 5),
        (date(2026, 2, 5), D("2500.00"), "GBP", 1, 7),
        (date(2026, 2, 10), D("-1200.00"), "GBP", 2, 1),
    ]
