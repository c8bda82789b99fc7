"""Categories of transactions: the rules in effect (the owner's HOMERAG_CATEGORY_RULES_FILE,
then the built-ins), re-applying them to stored transactions, LLM suggestions for what they
leave uncategorised (stored as suggestions, never as categories), and a category set by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.errors import ConfigError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from app.services.runtime import Runtime
    from ingest.money.categories import CategoryRule

MAX_CATEGORY_LENGTH = 100


def _rules(rt: Runtime) -> tuple[CategoryRule, ...]:
    from ingest.money.categories import BUILTIN_RULES, load_rules

    return load_rules(rt.settings.resolved_category_rules_file) + BUILTIN_RULES


def category_rules(rt: Runtime) -> list[dict[str, Any]]:
    """The rules in the order they are tried (the first match wins)."""
    out = []
    for r in _rules(rt):
        out.append({
            "label": r.label, "category": r.category,
            "source": "builtin" if r.label.startswith("builtin:") else "owner",
            "patterns": [p.pattern for p in r.patterns],  # as regular expressions
            "direction": r.direction,
            "min_amount": format(r.min_amount, "f") if r.min_amount is not None else None,
            "max_amount": format(r.max_amount, "f") if r.max_amount is not None else None,
        })
    return out


@dataclass
class CategorizeResult:
    changed: int = 0  # transactions whose category the rules changed
    suggested: dict[str, str] = field(default_factory=dict)  # merchant -> suggested category

    def to_json(self) -> dict[str, Any]:
        return {"changed": self.changed, "suggested": self.suggested}


def categorize(rt: Runtime, *, llm: bool = False) -> CategorizeResult:
    """Re-apply the rules to every transaction not categorised by hand; with `llm`, ask the
    extraction LLM about the payees still uncategorised (stored as suggestions)."""
    from app.money.categorize import apply_rules, suggest_categories

    rules = _rules(rt)
    chat = rt.chat_client("extract") if llm else None
    if llm and chat is None:
        raise ConfigError("no LLM configured for suggestions (HOMERAG_EXTRACT_LLM_BASE_URL or "
                          "HOMERAG_LLM_BASE_URL)")
    result = CategorizeResult()
    with rt.db.session() as s:
        result.changed = apply_rules(s, rules)
    if chat is not None:
        with rt.db.session() as s:
            result.suggested = suggest_categories(s, chat, rules=rules)
    return result


def set_category(rt: Runtime, transaction_id: int, category: str | None) -> dict[str, Any]:
    """Set a transaction's category by hand (blank clears it); returns the transaction as
    `get_transaction` shows it. Rules never change a category set by hand."""
    from app.money.categorize import set_manual_category
    from app.services.money import get_transaction

    name = (category or "").strip().lower() or None
    if name is not None and len(name) > MAX_CATEGORY_LENGTH:
        raise InvalidInputError(f"category: at most {MAX_CATEGORY_LENGTH} characters")
    with rt.db.session() as s:
        if not set_manual_category(s, transaction_id, name):
            raise NotFoundError(f"transaction {transaction_id} does not exist")
    return get_transaction(rt, transaction_id)
