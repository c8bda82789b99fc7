"""Readable lines for the investment side of a statement (positions, trades, income), each
with the line/row number it cites (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from ingest.money.types import ParsedStatement, Security


def _label(key: str | None, names: Mapping[str, Security]) -> str:
    if key is None:
        return "cash"
    sec = names.get(key)
    if sec is None:
        return key
    parts = [p for p in (sec.name, sec.ticker and f"({sec.ticker})") if p]
    return " ".join(parts) or key


def position_lines(stmt: ParsedStatement,
                   names: Mapping[str, Security]) -> list[tuple[int | None, str]]:
    out = []
    for p in stmt.positions:
        text = f"{p.as_of.isoformat()} holding {_label(p.security, names)}: {p.units} units"
        if p.unit_price is not None:
            text += f" at {p.unit_price}"
        if p.market_value is not None:
            text += f", market value {p.market_value} {p.currency}"
        out.append((p.location.row or p.location.line, text))
    return out


def investment_lines(stmt: ParsedStatement,
                     names: Mapping[str, Security]) -> list[tuple[int | None, str]]:
    out = []
    for i in stmt.investments:
        text = f"{i.trade_date.isoformat()} {i.kind.replace('_', ' ')} {_label(i.security, names)}"
        if i.units is not None:
            text += f" {i.units} units"
        if i.unit_price is not None:
            text += f" at {i.unit_price}"
        text += f"; cash {i.cash:+} {i.currency}"
        if i.description:
            text += f"  {i.description}"
        out.append((i.location.row or i.location.line, text))
    return out
