"""OpenAI-style tools over the transactions table for the LLM answer loop (app/answer/tools.py).

The model picks a tool and filters; the service runs the SQL and hands back fact lines whose
transactions are numbered citables, so the model can only quote figures computed here and cite
the statement rows behind them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from app.answer.tools import FunctionTool, ToolResult
from app.core.errors import InvalidInputError
from app.money.facts import (
    MoneyAnswer,
    run_list,
    run_recurring,
    run_sum,
    run_top,
    run_unusual,
    tx_citable,
)
from app.money.filters import GROUP_BYS, TransactionFilterInput
from app.money.queries import TxFilter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.answer.tools import Tool

_FILTERS: dict[str, Any] = {
    "period": {"type": "string", "description": "Period in words or ISO: 'last month', "
               "'2026-03', 'letzte Woche', 'last 90 days'. Overrides date_from/date_to."},
    "date_from": {"type": "string", "description": "First booking date, YYYY-MM-DD."},
    "date_to": {"type": "string", "description": "Last booking date, YYYY-MM-DD."},
    "counterparty": {"type": "string", "description": "Text in payee, description or merchant."},
    "category": {"type": "string", "description": "Category, e.g. groceries, restaurants, "
                 "subscriptions, transport, utilities, insurance, rent, fees, cash, shopping."},
    "min_amount": {"type": "string", "description": "Minimum absolute amount, e.g. '100'."},
    "max_amount": {"type": "string", "description": "Maximum absolute amount."},
    "amount": {"type": "string", "description": "Exactly this absolute amount, e.g. '86.40'."},
    "currency": {"type": "string", "description": "ISO currency code, e.g. EUR."},
    "direction": {"type": "string", "enum": ["out", "in"],
                  "description": "'out' = money spent, 'in' = money received."},
    "account": {"type": "string", "description": "Part of the account number, name or bank."},
}


def _schema(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": {**_FILTERS, **(extra or {})},
            "additionalProperties": False}


def filter_from_args(args: Mapping[str, Any], *, today: date) -> TxFilter:
    """A TxFilter from tool arguments (as models send them: strings, sometimes numbers or
    datetimes), read like CLI options and query parameters (`app.money.filters`)."""
    unknown = set(args) - set(_FILTERS) - {"by", "limit", "question"}
    if unknown:
        raise InvalidInputError(f"unknown argument(s): {', '.join(sorted(unknown))}")

    def arg(key: str, *, size: int | None = None) -> str | None:
        raw = args.get(key)
        return None if raw is None else str(raw)[:size]

    return TransactionFilterInput(
        date_from=arg("date_from", size=10), date_to=arg("date_to", size=10),
        period=arg("period"), account=arg("account"), payee=arg("counterparty"),
        category=arg("category"), min_amount=arg("min_amount"), max_amount=arg("max_amount"),
        currency=arg("currency"), direction=arg("direction"), amount=arg("amount"),
    ).resolve(today=today)


def to_tool_result(answer: MoneyAnswer) -> ToolResult:
    order = answer.cited_ids()
    citables = [tx_citable(answer.rows[i]) for i in order]

    def render(numbers: Sequence[int]) -> str:
        from app.money.ask import markers

        by_id = dict(zip(order, numbers, strict=True))
        lines = []
        for fact in answer.lines:
            cited = [by_id[i] for i in fact.ids if i in by_id]
            lines.append(fact.text + (" " + markers(cited) if cited else ""))
        lines.append("(Figures computed by the service from the statements; quote them "
                     "exactly and cite the numbers given.)")
        return "\n".join(lines)

    return ToolResult(data=json.loads(json.dumps(answer.data, default=str)), citables=citables,
                      render=render)


def build_tools(session: Session, *, today: date) -> list[Tool]:
    def sum_tx(args: Mapping[str, Any]) -> ToolResult:
        return to_tool_result(run_sum(session, filter_from_args(args, today=today)))

    def count_tx(args: Mapping[str, Any]) -> ToolResult:
        return to_tool_result(run_sum(session, filter_from_args(args, today=today),
                                      count_only=True))

    def list_tx(args: Mapping[str, Any]) -> ToolResult:
        limit = int(args.get("limit") or 20)
        return to_tool_result(run_list(session, filter_from_args(args, today=today),
                                       limit=max(1, min(limit, 50))))

    def group_tx(args: Mapping[str, Any]) -> ToolResult:
        by = args.get("by") or "merchant"
        if by not in GROUP_BYS:
            raise InvalidInputError(f"by must be one of {', '.join(GROUP_BYS)}")
        return to_tool_result(run_top(session, filter_from_args(args, today=today), by=by))

    def unusual(args: Mapping[str, Any]) -> ToolResult:
        return to_tool_result(run_unusual(session, filter_from_args(args, today=today),
                                          today=today))

    def recurring(args: Mapping[str, Any]) -> ToolResult:
        question = str(args.get("question") or "price changed")
        clean = {k: v for k, v in args.items() if k != "question"}
        return to_tool_result(run_recurring(session, filter_from_args(clean, today=today),
                                            today=today, question=question))

    by = {"by": {"type": "string", "enum": list(GROUP_BYS), "description": "Group key."}}
    limit = {"limit": {"type": "integer", "description": "At most this many rows (<= 50)."}}
    question = {"question": {"type": "string", "description": "Mention 'price' to get only "
                             "price changes; otherwise all recurring charges are listed."}}
    return [
        FunctionTool("sum_transactions", "Total amount of matching transactions per currency "
                     "(signed: spending negative). Use for 'how much'.", _schema(), sum_tx),
        FunctionTool("count_transactions", "Number of matching transactions per currency.",
                     _schema(), count_tx),
        FunctionTool("list_transactions", "The matching transactions, newest first.",
                     _schema(limit), list_tx),
        FunctionTool("group_transactions", "Totals per category, merchant, month, week, account "
                     "or currency, largest first. Use for 'where did I spend most'.",
                     _schema(by), group_tx),
        FunctionTool("unusual_spending", "Flagged unusual spending in a period (new merchants, "
                     "outliers, double charges, subscription changes, category spikes).",
                     _schema(), unusual),
        FunctionTool("recurring_charges", "Subscriptions and other recurring charges, with price "
                     "changes.", _schema(question), recurring),
    ]
