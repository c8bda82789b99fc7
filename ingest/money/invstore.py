"""Store the investment side of a statement: securities, holdings, investment transactions.

Called by the statement hook inside the document's transaction. Dedup mirrors the cash side:
one investment transaction per (account, dedup key), every file listing it adds an occurrence,
and removing a file keeps what another file still lists. Holdings belong to their file.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert

from app.core.models.money import (
    Holding,
    InvestmentOccurrence,
    InvestmentTransaction,
    Security,
)
from ingest.money.types import InvestmentTransaction as ParsedInvestment
from ingest.money.types import ParsedStatement
from ingest.money.types import Security as ParsedSecurity

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def upsert_securities(session: Session, securities: Sequence[ParsedSecurity]) -> dict[str, int]:
    """Security id by key; names, tickers and types fill in what earlier files left empty."""
    if not securities:
        return {}
    rows = [{"key": s.key, "name": s.name, "ticker": s.ticker, "isin": s.isin, "cusip": s.cusip,
             "type": s.type, "currency": s.currency} for s in {s.key: s for s in securities}.values()]
    ins = insert(Security).values(rows)
    upsert = ins.on_conflict_do_update(
        index_elements=[Security.key],
        set_={c: func.coalesce(getattr(Security, c), ins.excluded[c])
              for c in ("name", "ticker", "isin", "cusip", "type", "currency")},
    ).returning(Security.key, Security.id)
    return {key: int(i) for key, i in session.execute(upsert).all()}


def _norm(value: object) -> str:
    return " ".join(str(value if value is not None else "").lower().split())


def investment_keys(items: Sequence[ParsedInvestment]) -> list[str]:
    """A bank id unique in the statement, else a content hash with an occurrence counter."""
    ids = Counter(i.bank_id for i in items if i.bank_id)
    seen: Counter[str] = Counter()
    keys = []
    for inv in items:
        if inv.bank_id and ids[inv.bank_id] == 1:
            keys.append(f"id:{inv.bank_id}")
            continue
        parts = (inv.trade_date.isoformat(), inv.kind, _norm(inv.security),
                 _norm(inv.units and inv.units.normalize()), format(inv.cash.normalize(), "f"),
                 inv.currency, _norm(inv.description))
        base = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
        keys.append(f"c:{base}:{seen[base]}")
        seen[base] += 1
    return keys


def store_investments(session: Session, *, account_id: int, document_id: int,
                      statement_id: int, stmt: ParsedStatement,
                      security_ids: dict[str, int]) -> int:
    """Holdings and investment transactions of one statement; returns how many were new."""
    if stmt.positions:
        session.execute(insert(Holding), [{
            "account_id": account_id, "security_id": security_ids[p.security],
            "document_id": document_id, "statement_id": statement_id, "as_of": p.as_of,
            "units": p.units, "unit_price": p.unit_price, "market_value": p.market_value,
            "currency": p.currency, "page": p.location.page, "line": p.location.line,
            "row": p.location.row} for p in stmt.positions])
    if not stmt.investments:
        return 0
    rows: list[dict[str, Any]] = [{
        "account_id": account_id, "document_id": document_id, "statement_id": statement_id,
        "security_id": security_ids.get(i.security) if i.security else None,
        "trade_date": i.trade_date, "settle_date": i.settle_date, "kind": i.kind,
        "units": i.units, "unit_price": i.unit_price, "amount": i.amount, "fees": i.fees,
        "cash_amount": i.cash, "currency": i.currency, "description": i.description,
        "bank_ref": i.bank_id, "dedup_key": key, "page": i.location.page,
        "line": i.location.line, "row": i.location.row,
    } for i, key in zip(stmt.investments, investment_keys(stmt.investments), strict=True)]
    ins = insert(InvestmentTransaction).values(rows)
    # DO UPDATE of one column (to itself) so RETURNING gives the id of existing rows too.
    upsert = ins.on_conflict_do_update(
        constraint="uq_investment_transactions_account_dedup",
        set_={"dedup_key": ins.excluded.dedup_key},
    ).returning(InvestmentTransaction.id, InvestmentTransaction.dedup_key,
                InvestmentTransaction.document_id)
    new = 0
    occurrences = []
    by_key = {r["dedup_key"]: r for r in rows}
    for inv_id, key, doc in session.execute(upsert).all():
        new += doc == document_id
        r = by_key[key]
        occurrences.append({"investment_id": inv_id, "document_id": document_id,
                            "statement_id": statement_id, "page": r["page"], "line": r["line"],
                            "row": r["row"]})
    session.execute(insert(InvestmentOccurrence).on_conflict_do_nothing(), occurrences)
    return new


def remove_investments(session: Session, document_id: int) -> None:
    """Forget a file's investment transactions unless another file still lists them (holdings
    go with the document by CASCADE)."""
    affected = list(session.scalars(select(InvestmentOccurrence.investment_id)
                                    .where(InvestmentOccurrence.document_id == document_id)))
    if not affected:
        return
    session.execute(delete(InvestmentOccurrence)
                    .where(InvestmentOccurrence.document_id == document_id))
    remaining = select(InvestmentOccurrence.id).where(
        InvestmentOccurrence.investment_id == InvestmentTransaction.id).exists()
    session.execute(delete(InvestmentTransaction)
                    .where(InvestmentTransaction.id.in_(affected), ~remaining)
                    .execution_options(synchronize_session=False))
    first = (select(InvestmentOccurrence)
             .ext(distinct_on(InvestmentOccurrence.investment_id))
             .where(InvestmentOccurrence.investment_id.in_(affected))
             .order_by(InvestmentOccurrence.investment_id, InvestmentOccurrence.id).subquery())
    session.execute(
        update(InvestmentTransaction)
        .where(InvestmentTransaction.id == first.c.investment_id,
               InvestmentTransaction.document_id == document_id)
        .values(document_id=first.c.document_id, statement_id=first.c.statement_id,
                page=first.c.page, line=first.c.line, row=first.c.row)
        .execution_options(synchronize_session=False))
