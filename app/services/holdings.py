"""Investment use cases: the portfolio at a date, money invested, income received, investment
cash flows, and drafting a CSV layout profile for a statement file.

`homerag holdings ...`, `homerag tx profile`, /api/holdings and the money page call these and
show their `to_json()`, so every entry point gives the same shapes and figures.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import InvalidInputError

if TYPE_CHECKING:
    from app.money.holdings import InvestmentSummary, Portfolio
    from app.services.runtime import Runtime

VIEWS = ("invested", "income", "cash")


def parse_day(value: str | date | None, *, name: str) -> date | None:
    """A date option as typed (YYYY-MM-DD); InvalidInputError naming the option."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(f"{name} must be a date YYYY-MM-DD, not {value!r}") from exc


def portfolio(rt: Runtime, *, at: str | date | None = None, account: str | None = None,
              security: str | None = None) -> Portfolio:
    """Each account's positions from its latest statement on or before `at`, with totals."""
    from app.money.holdings import portfolio as query

    day = parse_day(at, name="--at")
    with rt.db.session() as s:
        return query(s, at=day, account=account, security=security)


def investments(rt: Runtime, view: str, *, security: str | None = None,
                date_from: str | date | None = None, date_to: str | date | None = None,
                account: str | None = None) -> InvestmentSummary:
    """`invested` (buys and reinvested income), `income` (dividends received) or `cash`
    (every investment transaction that moved cash), with totals per currency."""
    from app.money import holdings as q

    if view not in VIEWS:
        raise InvalidInputError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
    start, end = parse_day(date_from, name="--from"), parse_day(date_to, name="--to")
    with rt.db.session() as s:
        if view == "invested":
            return q.invested(s, security=security, date_from=start, date_to=end,
                              account=account)
        if view == "income":
            return q.income_received(s, security=security, date_from=start, date_to=end,
                                     account=account)
        return q.cash_flows(s, security=security, date_from=start, date_to=end,
                            account=account)


def draft_statement_profile(path: Path) -> str:
    """A `[[profile]]` stanza guessed from a CSV statement, for the owner to check and save in
    the statement profiles file. Raises an IngestError when the file gives nothing to name."""
    from ingest.money.csvguess import guess_profile

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return guess_profile(data, name=path.name)
