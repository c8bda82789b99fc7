"""Holdings JSON API: the portfolio at a date, money invested, income received, investment cash
flows. Thin: query parameters in, `app.services.holdings` JSON out — the same shapes as
`homerag holdings ... --json`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from app.http.deps import RuntimeDep
from app.services import holdings

router = APIRouter(prefix="/api", tags=["money"])
View = Literal[holdings.VIEWS]  # type: ignore[valid-type]


@router.get("/holdings", summary="Positions of the latest investment statements, with totals")
def get_portfolio(rt: RuntimeDep,
                  at: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
                  account: Annotated[str | None, Query()] = None,
                  security: Annotated[str | None, Query(description="Ticker, ISIN, name")] = None,
                  ) -> dict[str, Any]:
    return holdings.portfolio(rt, at=at, account=account, security=security).to_json()


@router.get("/holdings/{view}", summary="Invested, income received, or investment cash flows")
def get_investments(rt: RuntimeDep, view: View,
                    security: Annotated[str | None, Query()] = None,
                    date_from: Annotated[str | None, Query(alias="from")] = None,
                    date_to: Annotated[str | None, Query(alias="to")] = None,
                    account: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    return holdings.investments(rt, view, security=security, date_from=date_from,
                                date_to=date_to, account=account).to_json()
