"""OpenAI-style tools over the investment tables for the LLM answer loop: portfolio value,
money invested in a security, dividends and other income received.

As with the transaction tools, the service computes every figure in SQL (`app.money.holdings`)
and hands back fact lines whose rows are numbered citables (the statement file and line/row the
position or trade comes from), so the model can only quote figures computed here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from app.answer.tools import FunctionTool, ToolResult
from app.answer.types import Citable
from app.core.errors import InvalidInputError
from app.money.holdings import (
    INCOME_KINDS,
    Cite,
    InvestmentSummary,
    Portfolio,
    income_received,
    invested,
    portfolio,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.answer.tools import Tool

_ARGS: dict[str, Any] = {
    "security": {"type": "string", "description": "Ticker, ISIN, CUSIP or part of the name."},
    "date_from": {"type": "string", "description": "First date, YYYY-MM-DD."},
    "date_to": {"type": "string", "description": "Last date, YYYY-MM-DD."},
    "at": {"type": "string", "description": "Value at this date, YYYY-MM-DD (default: latest)."},
    "account": {"type": "string", "description": "Part of the account number or name."},
    "kind": {"type": "string", "enum": list(INCOME_KINDS),
             "description": "Income kind (default dividend)."},
}


def _schema(*names: str) -> dict[str, Any]:
    return {"type": "object", "properties": {n: _ARGS[n] for n in names},
            "additionalProperties": False}


def _date(args: Mapping[str, Any], key: str) -> date | None:
    raw = args.get(key)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError as exc:
        raise InvalidInputError(f"{key} must be a date YYYY-MM-DD, not {raw!r}") from exc


def _citable(text: str, cite: Cite) -> Citable:
    location = {k: v for k, v in (("line", cite.line), ("row", cite.row)) if v}
    return Citable(text=text, path=cite.origin or "", page=cite.page,
                   document_id=cite.document_id, kind="investment", location=location)


def _result(lines: list[tuple[str, Citable | None]], data: Any) -> ToolResult:
    citables = [c for _, c in lines if c is not None]

    def render(numbers: Sequence[int]) -> str:
        it = iter(numbers)
        out = [text + (f" [{next(it)}]" if c is not None else "") for text, c in lines]
        out.append("(Figures computed by the service from the statements; quote them exactly "
                   "and cite the numbers given.)")
        return "\n".join(out)

    return ToolResult(data=json.loads(json.dumps(data, default=str)), citables=citables,
                      render=render)


def _portfolio_result(p: Portfolio) -> ToolResult:
    lines: list[tuple[str, Citable | None]] = []
    for row in p.positions:
        text = (f"{row.as_of} {row.security}{f' ({row.ticker})' if row.ticker else ''}: "
                f"{row.units} units" + (f", market value {row.market_value} {row.currency}"
                                        if row.market_value is not None else ", no price")
                + f" (account {row.account})")
        lines.append((text, _citable(text, row.cite)))
    totals = ", ".join(f"{v} {c}" for c, v in sorted(p.totals.items())) or "nothing"
    lines.append((f"Portfolio value: {totals}"
                  + (f" ({p.unpriced} position(s) without a price left out)" if p.unpriced
                     else ""), None))
    return _result(lines, {"totals": p.totals, "positions": len(p.positions),
                           "unpriced": p.unpriced})


def _summary_result(s: InvestmentSummary, what: str) -> ToolResult:
    lines: list[tuple[str, Citable | None]] = []
    for r in s.rows[:50]:
        text = (f"{r.trade_date} {r.kind.replace('_', ' ')} {r.security or ''}"
                f"{f' ({r.ticker})' if r.ticker else ''}: cash {r.cash:+} {r.currency}"
                + (f", amount {r.amount}" if r.amount is not None else "")
                + (f", {r.units} units" if r.units is not None else ""))
        lines.append((text, _citable(text, r.cite)))
    totals = ", ".join(f"{v} {c}" for c, v in sorted(s.totals.items())) or "nothing"
    lines.append((f"{what}: {totals} over {len(s.rows)} transaction(s)", None))
    return _result(lines, {"totals": s.totals, "rows": len(s.rows)})


def build_holdings_tools(session: Session, *, today: date) -> list[Tool]:
    def worth(args: Mapping[str, Any]) -> ToolResult:
        return _portfolio_result(portfolio(session, at=_date(args, "at") or today,
                                           account=args.get("account"),
                                           security=args.get("security")))

    def put_in(args: Mapping[str, Any]) -> ToolResult:
        return _summary_result(invested(session, security=args.get("security"),
                                        date_from=_date(args, "date_from"),
                                        date_to=_date(args, "date_to"),
                                        account=args.get("account")), "Invested")

    def income(args: Mapping[str, Any]) -> ToolResult:
        kind = str(args.get("kind") or "dividend")
        if kind not in INCOME_KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(INCOME_KINDS)}")
        return _summary_result(income_received(session, kinds=(kind,),
                                               security=args.get("security"),
                                               date_from=_date(args, "date_from"),
                                               date_to=_date(args, "date_to"),
                                               account=args.get("account")),
                               f"{kind.replace('_', ' ').capitalize()} received")

    return [
        FunctionTool("portfolio_value", "Market value of the holdings in the investment "
                     "statements, per currency, at a date. Use for 'what is my portfolio worth'.",
                     _schema("at", "account", "security"), worth),
        FunctionTool("invested_in_security", "Money put into a security (buys incl. fees, and "
                     "reinvested income) in a period. Use for 'how much did I invest in X'.",
                     _schema("security", "date_from", "date_to", "account"), put_in),
        FunctionTool("income_received", "Dividends (or interest, distributions) received, cash "
                     "and reinvested, in a period. Use for 'which dividends did I receive'.",
                     _schema("kind", "security", "date_from", "date_to", "account"), income),
    ]
