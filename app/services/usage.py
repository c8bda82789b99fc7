"""Use case: tokens and cost of the language models, by model and month (`homerag status
--usage`, /metrics, the stats page), from the token counts stored with every answer.

Prices are the owner's, per million tokens, in a TOML file (HOMERAG_LLM_PRICES, default
`<data dir>/prices.toml`); a model without a price shows tokens only:

    currency = "EUR"
    [models."MiniMaxAI/MiniMax-M2.1"]
    input = 0.30      # per million prompt tokens
    output = 1.20     # per million completion tokens
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import ConfigError

if TYPE_CHECKING:
    from app.services.runtime import Runtime

__all__ = ["Price", "Prices", "load_prices", "usage_by_month"]


@dataclass(frozen=True, slots=True)
class Price:
    input: float  # per million prompt tokens
    output: float  # per million completion tokens

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6


@dataclass(frozen=True, slots=True)
class Prices:
    currency: str
    models: dict[str, Price]

    def cost(self, model: str | None, prompt_tokens: int, completion_tokens: int) -> float | None:
        price = self.models.get(model or "")
        return None if price is None else price.cost(prompt_tokens, completion_tokens)


def load_prices(path: Path) -> Prices:
    """The price table; an absent file is an empty table, a broken one a one-line ConfigError
    naming the file and the field."""
    from app.core.toml_file import read_toml

    data = read_toml(path)
    if data is None:
        return Prices("", {})
    currency = data.get("currency", "")
    if not isinstance(currency, str) or len(currency) > 10:
        raise ConfigError(f"{path}: currency must be a short text such as \"EUR\"")
    models: dict[str, Price] = {}
    table = data.get("models", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [models] must be a table of models")
    for name, entry in table.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: models.{name} must be a table with input and output")
        values = []
        for key in ("input", "output"):
            v = entry.get(key, 0)
            if (not isinstance(v, int | float) or isinstance(v, bool) or v < 0
                    or not math.isfinite(v)):
                raise ConfigError(f"{path}: models.\"{name}\".{key} must be a price per million "
                                  f"tokens (a number >= 0), not {v!r}")
            values.append(float(v))
        models[str(name)] = Price(*values)
    return Prices(currency, models)


def prices(rt: Runtime) -> Prices:
    return load_prices(rt.settings.resolved_llm_prices_file)


def usage_by_month(rt: Runtime, *, months: int = 12) -> dict[str, Any]:
    """Answers, prompt and completion tokens and cost per model and month (newest first), over
    the last `months` months, in the owner's time zone."""
    from sqlalchemy import text

    table = prices(rt)
    with rt.db.session() as s:
        rows = s.execute(text(
            "SELECT to_char(date_trunc('month', created_at AT TIME ZONE :tz), 'YYYY-MM') AS month, "
            "       coalesce(model, '') AS model, count(*) AS answers, "
            "       count(*) FILTER (WHERE prompt_tokens IS NOT NULL) AS counted, "
            "       coalesce(sum(prompt_tokens), 0) AS prompt, "
            "       coalesce(sum(completion_tokens), 0) AS completion "
            "FROM answers WHERE mode = 'llm' OR prompt_tokens IS NOT NULL "
            "GROUP BY 1, 2 "
            "HAVING max(created_at) > now() - make_interval(months => :months) "
            "ORDER BY 1 DESC, 2"), {"tz": rt.settings.timezone, "months": int(months)}).all()
    out = []
    for month, model, answers, counted, prompt, completion in rows:
        cost = table.cost(model, int(prompt), int(completion))
        out.append({"month": month, "model": model or None, "answers": int(answers),
                    "answers_with_usage": int(counted), "prompt_tokens": int(prompt),
                    "completion_tokens": int(completion),
                    "cost": None if cost is None else round(cost, 6)})
    return {"currency": table.currency or None, "prices_file": str(
        rt.settings.resolved_llm_prices_file), "priced_models": sorted(table.models),
        "months": out}
