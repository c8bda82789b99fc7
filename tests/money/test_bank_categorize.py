"""Category rules from the owner's TOML, re-applied after import, LLM suggestions kept apart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import ConfigError
from app.core.models import Transaction
from app.money.categorize import apply_rules, suggest_categories
from ingest.money.categories import BUILTIN_RULES, categorise, load_rules
from ingest.money.mt940 import parse_mt940
from tests.support.statements_seed import store_file
from tests.support.statements_synth import Acct, Tx, mt940

D = Decimal


def test_owner_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "categories.toml"
    path.write_text('[[rule]]\ncategory = "kids"\nmatch = ["kita", "re:\\\\bschule\\\\b"]\n'
                    'max_amount = 500\n\n[[rule]]\ncategory = "groceries"\nmatch = "hofladen"\n',
                    encoding="utf-8")
    rules = load_rules(path) + BUILTIN_RULES
    assert categorise("Kita Sonnenschein", None, D("-320.00"), rules) == ("kids",
                                                                          "categories.toml#1")
    assert categorise("Kita Sonnenschein", None, D("-900.00"), rules) is None  # over max
    assert categorise("Hofladen Meyer", "Eier", D("-8.00"), rules)[0] == "groceries"
    assert categorise("REWE Markt", None, D("-8.00"), rules) == ("groceries",
                                                                  "builtin:groceries")
    assert categorise("ACME GmbH", "Gehalt", D("3000.00"), rules)[0] == "salary"
    path.write_text('[[rule]]\ncategory = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="rule 1 needs"):
        load_rules(path)
    path.write_text('[[rule]]\ncategory = "x"\nmatch = "re:("\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="bad regex"):
        load_rules(path)


@pytest.fixture
def stored(clean_db):
    txs = [Tx(date(2026, 3, 2), D("-12.00"), "Hofladen Meyer", "Eier"),
           Tx(date(2026, 3, 3), D("-30.00"), "Zoo Fachmarkt", "Futter"),
           Tx(date(2026, 3, 4), D("-45.00"), "REWE Markt", "Einkauf")]
    with clean_db.session() as s:
        store_file(s, parse_mt940(mt940([Acct("DE1234567890", txs)]), name="m.sta"),
                   origin="/m.sta")
    return clean_db


def _cats(db) -> dict[str, tuple]:
    with db.session() as s:
        return {m: (c, r, sg) for m, c, r, sg in s.execute(select(
            Transaction.merchant, Transaction.category, Transaction.category_rule,
            Transaction.suggested_category))}


def test_apply_rules_then_llm_suggestions(stored, tmp_path: Path, openai_stub) -> None:
    from app.core.config import LLMEndpoint
    from app.llm.client import OpenAIChatClient
    from tests.openai_stub import Reply

    assert _cats(stored)["hofladen meyer"][0] is None
    path = tmp_path / "c.toml"
    path.write_text('[[rule]]\ncategory = "groceries"\nmatch = "hofladen"\n', encoding="utf-8")
    rules = load_rules(path) + BUILTIN_RULES
    with stored.session() as s:
        assert apply_rules(s, rules) == 1
        assert apply_rules(s, rules) == 0  # idempotent
    assert _cats(stored)["hofladen meyer"][:2] == ("groceries", "c.toml#1")
    openai_stub.queue(Reply('Sure: {"1": "Shopping", "2": "teleportation"}'))
    client = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="m",
                                          api_key=None, timeout=10))
    with stored.session() as s:
        got = suggest_categories(s, client, rules=rules)
    assert got == {"zoo fachmarkt": "shopping"}
    zoo = _cats(stored)["zoo fachmarkt"]
    assert zoo == (None, None, "shopping")  # a suggestion, not a category
    sent = openai_stub.chat_requests[0]["messages"]
    assert "UNTRUSTED DATA" in sent[0]["content"] and "Zoo Fachmarkt" in sent[1]["content"]


def test_category_by_hand_survives_the_rules(stored, settings) -> None:
    from app.core.errors import InvalidInputError, NotFoundError
    from app.services.money_rules import categorize, set_category
    from app.services.runtime import Runtime

    rt = Runtime(settings=settings, db=stored)
    settings.resolved_category_rules_file.write_text(
        '[[rule]]\ncategory = "garden"\nmatch = "zoo"\n\n'
        '[[rule]]\ncategory = "groceries"\nmatch = "hofladen"\n', encoding="utf-8")
    with stored.session() as s:
        zoo = s.scalar(select(Transaction.id).where(Transaction.merchant == "zoo fachmarkt"))
    shown = set_category(rt, zoo, "  Pets ")
    assert shown["category"] == "pets" and shown["occurrences"][0]["path"] == "/m.sta"
    assert categorize(rt).changed == 1  # Hofladen; the Zoo stays as set by hand
    assert _cats(stored)["zoo fachmarkt"] == ("pets", "manual", None)
    assert _cats(stored)["hofladen meyer"][:2] == ("groceries", "categories.toml#2")
    with pytest.raises(NotFoundError):
        set_category(rt, 999999, "pets")
    with pytest.raises(InvalidInputError, match="at most 100"):
        set_category(rt, zoo, "x" * 101)
    assert set_category(rt, zoo, "")["category"] is None
