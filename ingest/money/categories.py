"""Categorisation rules: payee/text patterns from an editable TOML file, built-ins as fallback (pure).

    [[rule]]
    category = "groceries"
    match = ["rewe", "edeka", "re:\\baldi\\b"]   # substrings, or regexes after "re:"
    direction = "out"                            # optional: out | in
    min_amount = 0                               # optional, on the absolute amount
    max_amount = 500

Rules are tried in file order, the owner's before the built-ins; the first match wins and is
recorded with the transaction (category_rule), so a category can always be explained.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from app.core.errors import ConfigError
from app.core.toml_file import read_toml


@dataclass(frozen=True, slots=True)
class CategoryRule:
    category: str
    patterns: tuple[re.Pattern[str], ...]
    label: str
    direction: str | None = None  # "out" | "in"
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None

    def matches(self, text: str, amount: Decimal) -> bool:
        if (self.direction == "out" and amount >= 0) or (self.direction == "in" and amount < 0):
            return False
        size = abs(amount)
        if self.min_amount is not None and size < self.min_amount:
            return False
        if self.max_amount is not None and size > self.max_amount:
            return False
        return any(p.search(text) for p in self.patterns)


def _compile(pattern: str) -> re.Pattern[str]:
    if pattern.startswith("re:"):
        return re.compile(pattern[3:], re.IGNORECASE)
    return re.compile(re.escape(pattern.lower()), re.IGNORECASE)


def rule(category: str, *patterns: str, direction: str | None = "out",
         label: str | None = None) -> CategoryRule:
    return CategoryRule(
        category=category,
        patterns=tuple(_compile(p) for p in patterns),
        label=label or f"builtin:{category}",
        direction=direction,
    )


BUILTIN_RULES: tuple[CategoryRule, ...] = (
    rule("groceries", "rewe", "edeka", "re:\\baldi\\b", "lidl", "netto marken", "penny",
         "kaufland", "migros", "coop", "albert heijn", "tesco", "sainsbury", "whole foods",
         "trader joe", "safeway", "dm-drogerie", "rossmann", "spar "),
    rule("restaurants", "restaurant", "mcdonald", "mc donalds", "burger king", "starbucks",
         "coffee", "cafe ", "café", "pizza", "lieferando", "deliveroo", "uber eats", "wolt"),
    rule("subscriptions", "netflix", "spotify", "disney plus", "disney+", "amazon prime",
         "apple.com/bill", "youtube premium", "audible", "dazn", "icloud", "chatgpt"),
    rule("transport", "deutsche bahn", "db vertrieb", "bvg", "mvg", "uber", "bolt.eu",
         "shell", "aral", "esso", "total energies", "tankstelle", "ns-", "sbb", "lufthansa",
         "ryanair", "easyjet"),
    rule("utilities", "stadtwerke", "vattenfall", "e.on", "eon energie", "strom", "gas ",
         "wasser", "telekom", "vodafone", "o2 ", "kpn", "t-mobile", "1&1"),
    rule("insurance", "versicherung", "insurance", "allianz", "huk", "ergo", "axa"),
    rule("rent", "miete", "rent ", "hausverwaltung", "huur"),
    rule("fees", "entgelt", "gebühr", "gebuehr", "fee", "kontoführung", "kosten",
         "afrekening betalingsverkeer", "interest charge", "zinsen"),
    rule("cash", "geldautomat", "bargeld", "atm ", "cash withdrawal"),
    rule("shopping", "amazon", "zalando", "ikea", "mediamarkt", "saturn", "otto "),
    rule("salary", "gehalt", "lohn", "salary", "payroll", direction="in"),
)


def load_rules(path: Path | None) -> tuple[CategoryRule, ...]:
    """The owner's rules from TOML ([[rule]] tables); none if the file does not exist.

    Raises ConfigError naming the file and the rule.
    """
    data = read_toml(path)
    if data is None or path is None:  # read_toml gives None for no path too
        return ()
    rules = []
    for i, raw in enumerate(data.get("rule", []), start=1):
        category = raw.get("category")
        patterns = raw.get("match") or raw.get("payee")
        if not category or not patterns:
            raise ConfigError(f"{path}: rule {i} needs 'category' and 'match'")
        if isinstance(patterns, str):
            patterns = [patterns]
        direction = raw.get("direction")
        if direction not in (None, "in", "out"):
            raise ConfigError(f"{path}: rule {i} direction must be 'in' or 'out'")
        try:
            compiled = tuple(_compile(str(p)) for p in patterns)
        except re.error as exc:
            raise ConfigError(f"{path}: rule {i} has a bad regex ({exc})") from exc
        rules.append(CategoryRule(
            category=str(category),
            patterns=compiled,
            label=f"{path.name}#{i}",
            direction=direction,
            min_amount=Decimal(str(raw["min_amount"])) if "min_amount" in raw else None,
            max_amount=Decimal(str(raw["max_amount"])) if "max_amount" in raw else None,
        ))
    return tuple(rules)


def categorise(
    counterparty: str | None, description: str | None, amount: Decimal,
    rules: Sequence[CategoryRule] = BUILTIN_RULES,
) -> tuple[str, str] | None:
    """(category, rule label) of the first matching rule, or None."""
    text = f"{counterparty or ''} {description or ''}".lower()
    for r in rules:
        if r.matches(text, amount):
            return r.category, r.label
    return None


def known_categories(rules: Iterable[CategoryRule]) -> list[str]:
    return sorted({r.category for r in rules})
