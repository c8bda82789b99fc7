"""Categories after import: re-apply the rule file to stored transactions, and an optional LLM
pass whose answers are stored as *suggestions* (`suggested_category`), never as categories."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, select, update

from app.core.errors import HomeragError
from app.core.models import Transaction
from ingest.money.categories import CategoryRule, categorise, known_categories

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.llm.client import ChatClient

PROMPT_VARIABLES = {"categorize": frozenset({"categories", "payees"})}
MANUAL = "manual"


def apply_rules(session: Session, rules: Sequence[CategoryRule]) -> int:
    """Re-categorise every transaction not set by hand; returns how many changed."""
    rows = session.execute(
        select(Transaction.id, Transaction.counterparty, Transaction.description,
               Transaction.amount, Transaction.category, Transaction.category_rule)
        .where(func.coalesce(Transaction.category_rule, "") != MANUAL)).all()
    changes = []
    for r in rows:
        found = categorise(r.counterparty, r.description, r.amount, rules)
        cat, rule = found if found else (None, None)
        if (cat, rule) != (r.category, r.category_rule):
            changes.append({"tid": r.id, "category": cat, "category_rule": rule})
    if changes:
        from sqlalchemy import bindparam

        # DeclarativeBase types __table__ as FromClause; a mapped class's is a Table.
        table = cast(Table, Transaction.__table__)
        stmt = (update(table)
                .where(table.c.id == bindparam("tid"))
                .values(category=bindparam("category"), category_rule=bindparam("category_rule")))
        session.connection().execute(stmt, changes)
    return len(changes)


def _payees(session: Session, limit: int) -> list[tuple[str, str]]:
    """Uncategorised merchants without a suggestion, most frequent first, with a sample text."""
    q = (select(Transaction.merchant, func.max(func.concat_ws(" — ", Transaction.counterparty,
                                                              Transaction.description)))
         .where(Transaction.category.is_(None), Transaction.suggested_category.is_(None),
                Transaction.merchant.is_not(None), Transaction.amount < 0)
         .group_by(Transaction.merchant).order_by(func.count().desc()).limit(limit))
    return [(m, sample or m) for m, sample in session.execute(q).all()]


def _json_object(text: str) -> dict[str, Any]:
    m = re.search(r"\{.*\}", text, re.DOTALL)
    if not m:
        return {}
    try:
        value = json.loads(m.group(0))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def suggest_categories(session: Session, chat: ChatClient, *, rules: Sequence[CategoryRule],
                       limit: int = 100, timeout: float = 60.0) -> dict[str, str]:
    """Ask the LLM for the uncategorised payees; store valid answers as suggestions.

    Returns {merchant: suggested category}. An unreachable LLM or an unusable answer stores
    nothing (raises nothing): categories stay as the rules left them.
    """
    from app.llm.prompts import load_prompt

    payees = _payees(session, limit)
    allowed = known_categories(rules)
    if not payees or not allowed:
        return {}
    prompt = load_prompt("categorize")
    listing = "\n".join(f"{i}. {sample[:160]}" for i, (_, sample) in enumerate(payees, start=1))
    messages = prompt.render(categories=", ".join(allowed), payees=listing)
    try:
        done = chat.complete(messages, max_tokens=1200, temperature=0.0, timeout=timeout)
    except HomeragError:
        return {}
    answer = _json_object(done.answer)
    out: dict[str, str] = {}
    for i, (merchant, _) in enumerate(payees, start=1):
        cat = str(answer.get(str(i), "")).strip().lower()
        if cat in allowed:
            out[merchant] = cat
            session.execute(update(Transaction).where(
                Transaction.merchant == merchant, Transaction.category.is_(None))
                .values(suggested_category=cat).execution_options(synchronize_session=False))
    return out


def set_manual_category(session: Session, transaction_id: int, category: str | None) -> bool:
    """Set a category by hand (None clears it); rules will not change it again. False when the
    transaction does not exist."""
    tx = session.get(Transaction, transaction_id)
    if tx is None:
        return False
    tx.category, tx.category_rule, tx.suggested_category = category, MANUAL, None
    session.flush()
    return True
