"""Categories of transactions: the rules in effect (the owner's HOMERAG_CATEGORY_RULES_FILE,
then the built-ins), re-applying them to stored transactions, LLM suggestions for what they
leave uncategorised (stored as suggestions, never as categories), a category set by hand, and
editing the owner's rules file (add, remove, "always this category for this payee").
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


# -- the owner's rules file (categories.toml), edited from the web ---------------------------------
MAX_RULES = 1000
MAX_PATTERNS = 50
MAX_PATTERN_LENGTH = 200
RULES_HEADER = ("# homerag category rules: the first matching rule wins; the owner's rules are\n"
                "# tried before the built-in ones. Written by homerag (the version before the\n"
                "# last edit is kept as categories.toml.bak).\n\n")


def _owner_file(rt: Runtime) -> Any:
    return rt.settings.resolved_category_rules_file


def _raw_rules(rt: Runtime) -> list[dict[str, Any]]:
    from app.core.toml_file import read_toml

    data = read_toml(_owner_file(rt)) or {}
    rules = data.get("rule", [])
    if not isinstance(rules, list):
        raise ConfigError(f"{_owner_file(rt)}: 'rule' must be an array of tables")
    return [dict(r) for r in rules]


def owner_rules(rt: Runtime) -> list[dict[str, Any]]:
    """The owner's rules as written (1-based `n`, the label the transactions record)."""
    path = _owner_file(rt)
    out = []
    for n, raw in enumerate(_raw_rules(rt), start=1):
        patterns = raw.get("match") or raw.get("payee") or []
        out.append({"n": n, "label": f"{path.name}#{n}", "category": raw.get("category"),
                    "match": [patterns] if isinstance(patterns, str) else list(patterns),
                    "direction": raw.get("direction"), "min_amount": raw.get("min_amount"),
                    "max_amount": raw.get("max_amount")})
    return out


def _write_rules(rt: Runtime, rules: list[dict[str, Any]]) -> None:
    """Write the rules (checked by the loader first; the previous file kept as .bak)."""
    import shutil

    from app.services.toml_write import tables_toml, write_checked
    from ingest.money.categories import load_rules

    path = _owner_file(rt)
    if len(rules) > MAX_RULES:
        raise InvalidInputError(f"at most {MAX_RULES} rules")

    def check(tmp: Any) -> None:
        try:
            load_rules(tmp)
        except ConfigError as exc:
            raise InvalidInputError(str(exc).replace(str(tmp), str(path))) from exc

    if path.exists():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    write_checked(path, tables_toml("rule", rules, header=RULES_HEADER), check)


def _amount(name: str, value: Any) -> Any:
    from decimal import Decimal, InvalidOperation

    if value is None or str(value).strip() == "":
        return None
    try:
        amount = abs(Decimal(str(value).strip().replace(",", ".")))
    except InvalidOperation as exc:
        raise InvalidInputError(f"{name}: {value!r} is not a number") from exc
    return int(amount) if amount == amount.to_integral() else float(amount)


def make_rule(*, category: str, match: list[str], direction: str | None = None,
              min_amount: Any = None, max_amount: Any = None) -> dict[str, Any]:
    """A rule table from what was typed; each mistake is one line naming the field."""
    import re

    name = (category or "").strip().lower()
    if not name:
        raise InvalidInputError("category: give the category the rule sets")
    if len(name) > MAX_CATEGORY_LENGTH:
        raise InvalidInputError(f"category: at most {MAX_CATEGORY_LENGTH} characters")
    patterns = [p.strip() for p in match if p and p.strip()]
    if not patterns:
        raise InvalidInputError("match: give at least one payee text (or re:regex)")
    if len(patterns) > MAX_PATTERNS:
        raise InvalidInputError(f"match: at most {MAX_PATTERNS} patterns")
    for p in patterns:
        if len(p) > MAX_PATTERN_LENGTH:
            raise InvalidInputError(f"match: {p[:30]!r}… is longer than {MAX_PATTERN_LENGTH}")
        if p.startswith("re:"):
            try:
                re.compile(p[3:])
            except re.error as exc:
                raise InvalidInputError(f"match: {p!r} is not a valid regex ({exc})") from exc
    direction = (direction or "").strip() or None
    if direction not in (None, "in", "out"):
        raise InvalidInputError(f"direction must be 'in' or 'out', not {direction!r}")
    low, high = _amount("min_amount", min_amount), _amount("max_amount", max_amount)
    if low is not None and high is not None and low > high:
        raise InvalidInputError("min_amount is larger than max_amount")
    return {"category": name, "match": patterns, "direction": direction,
            "min_amount": low, "max_amount": high}


def add_rule(rt: Runtime, rule: dict[str, Any], *, first: bool = True,
             apply: bool = True) -> dict[str, Any]:
    """Add a rule (first: it wins over the owner's older rules), then re-apply the rules to
    every transaction not categorised by hand. Returns the rule and how many changed."""
    rules = _raw_rules(rt)
    rules = [rule, *rules] if first else [*rules, rule]
    _write_rules(rt, rules)
    changed = categorize(rt).changed if apply else 0
    n = 1 if first else len(rules)
    return {"rule": {**rule, "n": n, "label": f"{_owner_file(rt).name}#{n}"}, "changed": changed}


def remove_rule(rt: Runtime, n: int, *, apply: bool = True) -> dict[str, Any]:
    """Remove the owner's rule number `n` (1-based), then re-apply the rules."""
    rules = _raw_rules(rt)
    if not 1 <= n <= len(rules):
        raise NotFoundError(f"rule {n} does not exist ({len(rules)} rules in "
                            f"{_owner_file(rt).name})")
    removed = rules.pop(n - 1)
    _write_rules(rt, rules)
    changed = categorize(rt).changed if apply else 0
    return {"removed": removed, "changed": changed}


def payee_pattern(counterparty: str | None, description: str | None,
                  merchant: str | None) -> str:
    """The text a rule for this payee matches: its grouping key when that appears in the
    payee as written (so "REWE Markt Fil. 12" and "REWE Markt Fil. 40" both match), else the
    payee's own name."""
    text = f"{counterparty or ''} {description or ''}".lower()
    if merchant and merchant in text:
        return merchant
    name = " ".join((counterparty or description or "").split()).lower()
    if not name:
        raise InvalidInputError("this transaction names no payee to make a rule for")
    return name[:MAX_PATTERN_LENGTH]


def always_for_payee(rt: Runtime, transaction_id: int, category: str) -> dict[str, Any]:
    """Set this transaction's category and add a rule giving every transaction of its payee
    (in the same direction) that category; re-categorises the others at once."""
    from app.core.models import Transaction

    with rt.db.session() as s:
        tx = s.get(Transaction, transaction_id)
        if tx is None:
            raise NotFoundError(f"transaction {transaction_id} does not exist")
        pattern = payee_pattern(tx.counterparty, tx.description, tx.merchant)
        direction = "out" if tx.amount < 0 else "in"
    rule = make_rule(category=category, match=[pattern], direction=direction)
    transaction = set_category(rt, transaction_id, rule["category"])
    result = add_rule(rt, rule)
    return {**result, "transaction": transaction}
