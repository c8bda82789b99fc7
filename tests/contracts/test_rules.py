"""Rule-based key terms in English and German, with citations; dates, periods and money parsing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.contracts.rules import ChunkSpan, extract_rules, sentence
from app.contracts.terms import Period, add_months, parse_amount, parse_date_text
from tests.contracts.samples import ENGLISH_FIXED, ENGLISH_SERVICE, GERMAN_GYM, GERMAN_LEASE


def _halves(text: str) -> list[ChunkSpan]:
    mid = len(text) // 2
    return [ChunkSpan(101, 0, mid, 1), ChunkSpan(102, mid, len(text), 2)]


@pytest.mark.parametrize(("text", "expected"), [
    ("1. März 2024", date(2024, 3, 1)), ("March 1, 2024", date(2024, 3, 1)),
    ("1 March 2024", date(2024, 3, 1)), ("01.03.2024", date(2024, 3, 1)),
    ("2024-03-01", date(2024, 3, 1)), ("31/12/2025", date(2025, 12, 31)),
    ("1.3.24", date(2024, 3, 1)), ("30.02.2024", None), ("1. Foo 2024", None),
    ("01.01.1900", None),
])
def test_parse_date_text(text: str, expected: date | None) -> None:
    assert parse_date_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1.234,56", Decimal("1234.56")), ("1,234.56", Decimal("1234.56")),
    ("850,00", Decimal("850.00")), ("19.99", Decimal("19.99")), ("1 200", Decimal("1200")),
    ("1.234", Decimal("1234")), ("12,5", Decimal("12.5")), ("0", None), ("abc", None),
])
def test_parse_amount(text: str, expected: Decimal | None) -> None:
    assert parse_amount(text) == expected


def test_periods_validate_and_do_calendar_arithmetic() -> None:
    with pytest.raises(ValueError):
        Period(0, "months")
    with pytest.raises(ValueError):
        Period(3, "fortnights")
    assert Period(2, "years").months == 24 and Period(3, "weeks").months is None
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert Period(3, "months").before(date(2026, 3, 1)) == date(2025, 12, 1)
    assert Period(3, "months").iso() == "P3M" and Period(1, "years").label() == "1 year"


def test_german_lease_by_rules_with_citations() -> None:
    terms = extract_rules(GERMAN_LEASE, _halves(GERMAN_LEASE))
    assert terms.method == "rules"
    assert terms.parties == ("Erika Mustermann", "Max Müller")
    assert terms.start_date == date(2024, 3, 1)
    assert terms.term == Period(2, "years")
    assert terms.renewal == Period(1, "years") and terms.after_term == "renews"
    assert terms.notice == Period(3, "months") and not terms.notice_to_month_end
    assert [(a.value, a.currency, a.rhythm) for a in terms.amounts] == [
        (Decimal("850.00"), "EUR", "monthly"), (Decimal("180.00"), "EUR", "monthly")]
    assert terms.payment_rhythm == "monthly"
    assert terms.citations["start_date"].quote == "Das Mietverhältnis beginnt am 1. März 2024."
    assert terms.citations["start_date"].chunk_id == 101
    assert "Kaltmiete beträgt 850,00 €" in terms.citations["amounts"].quote
    assert terms.citations["amounts"].chunk_id == 102 and terms.citations["amounts"].page == 2
    assert terms.warnings == ()


def test_english_service_agreement_by_rules() -> None:
    terms = extract_rules(ENGLISH_SERVICE, _halves(ENGLISH_SERVICE))
    assert terms.parties == ("Acme Storage Ltd", "Jane Doe")
    assert terms.start_date == date(2024, 3, 1)
    assert terms.term == Period(12, "months") and terms.renewal == Period(12, "months")
    assert terms.notice == Period(30, "days")
    assert [(a.value, a.currency, a.rhythm) for a in terms.amounts] == [
        (Decimal("19.99"), "USD", "monthly"), (Decimal("49.00"), "USD", "once")]
    assert "30 days' written notice" in terms.citations["notice"].quote


def test_german_gym_open_ended_after_term_with_month_end_notice() -> None:
    terms = extract_rules(GERMAN_GYM, _halves(GERMAN_GYM))
    assert terms.parties == ("Sportwelt GmbH", "Max Müller")
    assert terms.start_date == date(2023, 1, 15)
    assert terms.term == Period(12, "months") and terms.renewal is None
    assert terms.after_term == "open_ended"
    assert terms.notice == Period(1, "months") and terms.notice_to_month_end is True
    assert terms.amounts[0].value == Decimal("39.90") and terms.payment_rhythm == "monthly"


def test_english_fixed_lease_that_ends_by_itself() -> None:
    terms = extract_rules(ENGLISH_FIXED, _halves(ENGLISH_FIXED))
    assert terms.parties == ("Bright Rentals Inc", "John Smith")
    assert (terms.start_date, terms.end_date) == (date(2025, 1, 1), date(2025, 6, 30))
    assert terms.after_term == "ends" and terms.notice is None
    assert "no notice period found" in terms.warnings


def test_non_contract_text_finds_nothing_and_placeholders_are_not_parties() -> None:
    terms = extract_rules("PARTY 1: {company_name} | PARTY 2: {company_name}\nHello.", [])
    assert terms.parties == () and terms.found == []
    assert terms.citations == {}


def test_sentence_window() -> None:
    text = "First one. The rent is 5 EUR. Last."
    start = text.index("5 EUR")
    assert sentence(text, start, start + 5) == "The rent is 5 EUR."
