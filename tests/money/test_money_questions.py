"""Money questions read into filters (pure): payee, purpose words, amounts, account, currency and
period; and figures in a model's answer checked against the computed results (app/money/figures)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.money.figures import figures, unverified_figures, values
from app.money.nlq import filter_phrases, parse_money_question, read_subject
from app.money.vocabulary import alternatives

TODAY = date(2026, 11, 25)
D = Decimal


def read(question: str, **kw) -> tuple[str, list[str]]:
    mq = parse_money_question(question, today=TODAY, **kw)
    assert mq is not None, question
    return mq.intent, filter_phrases(mq)


@pytest.mark.parametrize(("question", "intent", "filters"), [
    # the questions a new user asked (issue 11): each names what the money went to
    ("How much did I pay for the bike?", "sum", ["payee ~ bike", "money out"]),
    ("How much did I pay Joe's Bald Hairstyles?", "sum",
     ["payee ~ Joe's Bald Hairstyles", "money out"]),
    ("How much was paid to BAIN, J MATTHEW?", "sum", ["payee ~ BAIN, J MATTHEW", "money out"]),
    ("How much is the electricity back-payment?", "sum",
     ["payee ~ back-payment", "category utilities", "money out"]),
    # amounts, account, currency, period
    ("What was the 649 EUR payment?", "list", ["amount 649", "currency EUR", "money out"]),
    ("How much was the payment of 86,40?", "sum", ["amount 86.40", "money out"]),
    ("How much did I spend on the ING account in September 2026?", "sum",
     ["period 2026-09", "account ~ ING", "money out"]),
    ("How much did I spend in CAD?", "sum", ["currency CAD", "money out"]),
    ("How much did I spend in dollars at Trader Joe's?", "sum",
     ["payee ~ Trader Joe's", "currency USD", "money out"]),
    ("Wie viel habe ich am 15.11.2026 bei Rewe bezahlt?", "sum",
     ["payee ~ Rewe", "period 2026-11-15", "money out"]),
    ("How many payments over 100 EUR went to Elektro Blitz last month?", "count",
     ["payee ~ Elektro Blitz", "period 2026-10", "amount ≥ 100", "currency EUR", "money out"]),
    ("Wie hoch ist die Nachzahlung für Strom?", "sum",
     ["payee ~ Nachzahlung", "category utilities"]),
    # no subject: the question's words are all question, money, period or category words
    ("How much did I spend on groceries in March?", "sum",
     ["category groceries", "period 2026-03", "money out"]),
    ("How much did I spend in total last month, roughly?", "sum",
     ["period 2026-10", "money out"]),
    ("Zeige alle Ausgaben über 200 € im September", "list",
     ["period 2026-09", "amount ≥ 200", "currency EUR", "money out"]),
])
def test_question_becomes_filters(question: str, intent: str, filters: list[str]) -> None:
    assert read(question) == (intent, filters)


def test_known_merchant_wins_and_intents_without_a_subject() -> None:
    assert read("How much did I spend at REWE last month?", merchants=["rewe"]) == (
        "sum", ["payee ~ rewe", "period 2026-10", "money out"])
    mq = parse_money_question("Which subscription got more expensive?", today=TODAY)
    assert mq is not None and (mq.intent, mq.subject) == ("recurring", None)
    mq = parse_money_question("Show me unusual spending at Amazon last month", today=TODAY)
    assert mq is not None and mq.intent == "unusual" and mq.filter.counterparty == "Amazon"
    assert parse_money_question("What is the notice period of my gym contract?",
                                today=TODAY) is None


def test_subject_words_and_their_alternatives() -> None:
    s = read_subject("How much was paid to BAIN, J MATTHEW?")
    assert s is not None and (s.phrase, s.words, s.name) == (
        "BAIN, J MATTHEW", ("BAIN", "MATTHEW"), True)
    s = read_subject("what did I pay for the new bike roughly")
    assert s is not None and (s.phrase, s.words, s.name) == ("bike", ("bike",), False)
    assert read_subject("How much did I spend in total?") is None
    assert "nachzahlung" in alternatives("back-payment")
    assert "fahrrad" in alternatives("bikes") and "bike" in alternatives("bikes")
    assert alternatives("Joe's")[:2] == ("joe's", "joe")


def test_figures_in_every_format() -> None:
    assert values("1,234.50") == values("1.234,50") == values("1234.5") == {D("1234.5")}
    assert values("1,234") == {D("1234"), D("1.234")}  # thousands or three decimals
    text = ("You paid 1,234.50 EUR [1] on 15.11.2026 and €86,40 on 2026-11-15 in 3 "
            "transactions (23% more), EUR 1.234,50, 649 euros, -316.67 CAD, 1 234,50 EUR.")
    assert [shown for shown, _ in figures(text)] == [
        "1,234.50 EUR", "€86,40", "EUR 1.234,50", "649 euros", "316.67 CAD", "1 234,50 EUR"]


def test_unverified_figures_allow_formatting_but_flag_new_numbers() -> None:
    sources = ["2026-11-15 -1234.50 EUR Stadtwerke — Nachzahlung (account Giro)",
               "Spent 86.40 EUR in 1 transaction.", "Spent 649.00 EUR"]
    assert unverified_figures("You paid 1.234,50 € [1], 86,40 EUR [2] and 649 euros.",
                              sources) == []
    assert unverified_figures("Together 1,320.90 EUR; about 87 EUR; 3 rows on 2026-11-15.",
                              sources) == ["1,320.90 EUR", "87 EUR"]
