"""Statement hook: inside the document's transaction, upsert accounts, statements, transactions.

Investments (securities, holdings, investment transactions) are stored by `invstore.py`.

Dedup (see `dedup.py`): one row per (account, dedup key); every file that lists a transaction
adds an occurrence (statement + page/line/row). Removing a file removes its occurrences and
statements; a transaction goes only with its last occurrence, otherwise it is re-pointed to a
remaining file. Pending rows are merged into their posted twin (same account, currency, amount
and merchant, posted 0-10 days later); the pending row's occurrences move to the posted row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on, insert

from app.core.models.money import (
    Account,
    InvestmentOccurrence,
    Statement,
    Transaction,
    TransactionOccurrence,
)
from ingest.money.balance import check_balance
from ingest.money.categories import BUILTIN_RULES, CategoryRule, categorise
from ingest.money.dedup import dedup_keys
from ingest.money.invstore import remove_investments, store_investments, upsert_securities
from ingest.money.text import merchant_key
from ingest.money.types import ParsedStatement, StatementFile

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.types import ParsedDocument

PENDING_WINDOW = timedelta(days=10)
MANUAL = "manual"  # category_rule of a category the owner set by hand
_KEPT = "homerag.manual_categories"  # session.info key: hand-set categories of removed rows


def owner_category_rules(rules_file: Path) -> tuple[CategoryRule, ...]:
    """The owner's category rules (from `rules_file`, if it exists) before the built-ins."""
    from ingest.money.categories import load_rules

    return load_rules(rules_file) + BUILTIN_RULES


def account_key(identifier: str) -> str:
    return hashlib.sha256("".join(identifier.split()).upper().encode()).hexdigest()


class StatementHook:
    """DocumentHook storing `extras["statement"]` of statement documents as transactions."""

    def __init__(
        self,
        rules: Sequence[CategoryRule] | Callable[[], Sequence[CategoryRule]] | None = None,
    ) -> None:
        # Without rules: the built-in ones (the sync service passes the owner's).
        self._rules = rules if rules is not None else BUILTIN_RULES

    def rules(self) -> Sequence[CategoryRule]:
        if callable(self._rules):
            self._rules = tuple(self._rules())
        return self._rules

    def on_stored(self, session: Session, document_id: int, parsed: ParsedDocument) -> None:
        sf = parsed.extras.get("statement") if parsed.extras else None
        if isinstance(sf, StatementFile):
            store_statement_file(session, document_id, sf, rules=self.rules())

    def on_removed(self, session: Session, document_id: int) -> None:
        remove_statement_document(session, document_id)

    def on_removed_many(self, session: Session, document_ids: Sequence[int]) -> None:
        """Only the documents that contributed anything are removed one by one (a re-sync
        rewrites mostly documents that never held a statement: one query for all of them)."""
        held = set(session.scalars(
            select(TransactionOccurrence.document_id)
            .where(TransactionOccurrence.document_id.in_(list(document_ids)))
            .union(select(InvestmentOccurrence.document_id)
                   .where(InvestmentOccurrence.document_id.in_(list(document_ids))))))
        for document_id in document_ids:
            if document_id in held:
                remove_statement_document(session, document_id)


def upsert_account(session: Session, stmt: ParsedStatement) -> int:
    acct = stmt.account
    ins = insert(Account).values(
        key=account_key(acct.identifier), institution=acct.institution,
        number_masked=acct.masked, currency=acct.currency or stmt.currency, type=acct.type,
    )
    upsert = ins.on_conflict_do_update(
        index_elements=[Account.key],
        set_={
            "institution": func.coalesce(Account.institution, ins.excluded.institution),
            "currency": func.coalesce(Account.currency, ins.excluded.currency),
            "type": func.coalesce(Account.type, ins.excluded.type),
        },
    ).returning(Account.id)
    return int(session.execute(upsert).scalar_one())


def store_statement_file(
    session: Session, document_id: int, sf: StatementFile, *,
    rules: Sequence[CategoryRule] = BUILTIN_RULES,
) -> dict[str, int]:
    """Store every statement of a parsed file for `document_id`; returns counts."""
    counts = {"statements": 0, "transactions": 0, "new": 0, "merged_pending": 0,
              "investments": 0, "new_investments": 0, "positions": 0}
    security_ids = upsert_securities(session, sf.securities)
    for ordinal, stmt in enumerate(sf.statements):
        if not (stmt.transactions or stmt.investments or stmt.positions) and \
                stmt.opening_balance is None and stmt.closing_balance is None:
            continue  # nothing to show: it would list as "None..None 0 tx"
        start, end = stmt.period_start, stmt.period_end
        if start and end and start > end:  # a bank's DTSTART after DTEND: the period, ordered
            start, end = end, start
        account_id = upsert_account(session, stmt)
        check = check_balance(stmt)
        meta: dict[str, Any] = dict(stmt.meta)
        if sf.profile:
            meta["profile"] = sf.profile
        if check.status == "mismatch":
            meta["balance_message"] = check.message
        ins = insert(Statement).values(
            document_id=document_id, account_id=account_id, ordinal=ordinal, format=sf.format,
            period_start=start, period_end=end, currency=stmt.currency,
            opening_balance=stmt.opening_balance, closing_balance=stmt.closing_balance,
            transaction_count=len(stmt.transactions), balance_status=check.status,
            balance_difference=check.difference, meta=meta,
        )
        upsert = ins.on_conflict_do_update(
            constraint="uq_statements_document_ordinal",
            set_={c: ins.excluded[c] for c in (
                "account_id", "format", "period_start", "period_end", "currency",
                "opening_balance", "closing_balance", "transaction_count", "balance_status",
                "balance_difference", "metadata")},
        ).returning(Statement.id)
        statement_id = int(session.execute(upsert).scalar_one())
        new, merged = _store_transactions(session, account_id, document_id, statement_id, stmt,
                                          rules)
        if stmt.investments or stmt.positions:
            counts["new_investments"] += store_investments(
                session, account_id=account_id, document_id=document_id,
                statement_id=statement_id, stmt=stmt, security_ids=security_ids)
            counts["investments"] += len(stmt.investments)
            counts["positions"] += len(stmt.positions)
        counts["statements"] += 1
        counts["transactions"] += len(stmt.transactions)
        counts["new"] += new
        counts["merged_pending"] += merged
    return counts


def _rows(account_id: int, document_id: int, statement_id: int, stmt: ParsedStatement,
          rules: Sequence[CategoryRule]) -> list[dict[str, Any]]:
    rows = []
    for tx, key in zip(stmt.transactions, dedup_keys(stmt.transactions), strict=True):
        cat = categorise(tx.counterparty, tx.description, tx.amount, rules)
        rows.append({
            "account_id": account_id, "document_id": document_id, "statement_id": statement_id,
            "booking_date": tx.booking_date, "value_date": tx.value_date, "amount": tx.amount,
            "currency": tx.currency, "counterparty": tx.counterparty,
            "description": tx.description,
            "merchant": merchant_key(tx.counterparty, tx.description), "bank_ref": tx.bank_id,
            "type": tx.type, "status": "pending" if tx.pending else "booked", "dedup_key": key,
            "category": cat[0] if cat else None, "category_rule": cat[1] if cat else None,
            "page": tx.location.page, "line": tx.location.line, "row": tx.location.row,
        })
    return rows


def _store_transactions(session: Session, account_id: int, document_id: int, statement_id: int,
                        stmt: ParsedStatement, rules: Sequence[CategoryRule]) -> tuple[int, int]:
    rows = _rows(account_id, document_id, statement_id, stmt, rules)
    if not rows:
        return 0, 0
    # COPY into a session-local staging table, then one INSERT ... SELECT ... ON CONFLICT:
    # an order of magnitude faster than multi-row VALUES or executemany with RETURNING.
    _stage(session, rows)
    by_key: dict[str, int] = {}
    new = 0
    for tx_id, key, fresh in session.execute(_UPSERT).all():
        by_key[key] = int(tx_id)
        new += bool(fresh)
    ids = [by_key[r["dedup_key"]] for r in rows]
    kept = session.info.get(_KEPT) or {}
    for r, tx_id in zip(rows, ids, strict=True):
        if (account_id, r["dedup_key"]) in kept:
            session.execute(update(Transaction).where(Transaction.id == tx_id).values(
                category=kept.pop((account_id, r["dedup_key"])), category_rule=MANUAL)
                .execution_options(synchronize_session=False))
    session.execute(_OCCURRENCES, {"document_id": document_id, "statement_id": statement_id})
    merged = _merge_pending(session, account_id, ids, rows)
    return new, merged


_STAGE_COLUMNS = (
    "account_id", "document_id", "statement_id", "booking_date", "value_date", "amount",
    "currency", "counterparty", "description", "merchant", "bank_ref", "type", "status",
    "dedup_key", "category", "category_rule", "page", "line", "row",
)
_COLS = ", ".join(f'"{c}"' for c in _STAGE_COLUMNS)
# A bank id seen pending before and booked now takes the booked values; otherwise the stored
# row stays as it is (re-importing a file changes nothing).
_TAKE_BOOKED = ", ".join(
    f"{c} = CASE WHEN transactions.status = 'pending' AND excluded.status = 'booked' "
    f"THEN excluded.{c} ELSE transactions.{c} END"
    for c in ("booking_date", "value_date", "amount", "description", "status"))
_UPSERT = text(
    f"INSERT INTO transactions ({_COLS}) SELECT {_COLS} FROM homerag_tx_stage "
    f"ON CONFLICT ON CONSTRAINT uq_transactions_account_dedup DO UPDATE SET {_TAKE_BOOKED} "
    "RETURNING id, dedup_key, (xmax = '0'::xid)"  # xmax = 0: inserted, not updated
)
_OCCURRENCES = text(
    "INSERT INTO transaction_occurrences (transaction_id, document_id, statement_id, page, "
    '"line", "row") SELECT t.id, :document_id, :statement_id, s.page, s."line", s."row" '
    "FROM homerag_tx_stage s JOIN transactions t ON t.account_id = s.account_id "
    "AND t.dedup_key = s.dedup_key ON CONFLICT DO NOTHING"
)


def _stage(session: Session, rows: list[dict[str, Any]]) -> None:
    """Put `rows` into the temporary staging table (created once per connection)."""
    conn = session.connection()
    conn.execute(text(
        f"CREATE TEMP TABLE IF NOT EXISTS homerag_tx_stage AS SELECT {_COLS} FROM transactions "
        "WITH NO DATA"))
    conn.execute(text("TRUNCATE homerag_tx_stage"))
    raw = conn.connection.driver_connection
    assert raw is not None  # a checked-out connection always has its driver connection
    with raw.cursor() as cur, cur.copy(
            f"COPY homerag_tx_stage ({_COLS}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(tuple(r[c] for c in _STAGE_COLUMNS))


def _merge_pending(session: Session, account_id: int, ids: list[int],
                   rows: list[dict[str, Any]]) -> int:
    """Pair pending and booked twins 1:1 and fold the pending row into the booked one."""
    booked = [(i, r) for i, r in zip(ids, rows, strict=True) if r["status"] == "booked"]
    pending = [(i, r) for i, r in zip(ids, rows, strict=True) if r["status"] == "pending"]
    if not booked and not pending:
        return 0
    seen = set(ids)
    cols = (Transaction.id, Transaction.status, Transaction.booking_date, Transaction.amount,
            Transaction.currency, Transaction.merchant)
    stored_pending: list[Any] = []
    stored_booked: list[Any] = []
    if booked:  # pending rows of earlier files that these booked rows may settle
        dates = [r["booking_date"] for _, r in booked]
        stored_pending = [c for c in session.execute(select(*cols).where(
            Transaction.account_id == account_id, Transaction.status == "pending",
            Transaction.booking_date.between(min(dates) - PENDING_WINDOW, max(dates)))).all()
            if c.id not in seen]
    if pending:  # booked rows already stored that settle these pending ones
        dates = [r["booking_date"] for _, r in pending]
        stored_booked = [c for c in session.execute(select(*cols).where(
            Transaction.account_id == account_id, Transaction.status == "booked",
            Transaction.booking_date.between(min(dates), max(dates) + PENDING_WINDOW))).all()
            if c.id not in seen]
    pairs: list[tuple[int, int]] = []  # (pending id, booked id)
    used: set[int] = set()

    def twin(p_date: Any, b_date: Any, p: Any, b: Any) -> bool:
        return (timedelta(0) <= b_date - p_date <= PENDING_WINDOW
                and p["amount"] == b["amount"] and p["currency"] == b["currency"]
                and (p["merchant"] == b["merchant"] or not p["merchant"] or not b["merchant"]))

    for b_id, b in booked:
        for c in stored_pending:
            if c.id not in used and twin(c.booking_date, b["booking_date"], c._mapping, b):
                pairs.append((c.id, b_id))
                used.add(c.id)
                break
    for p_id, p in pending:
        for c in stored_booked:
            if c.id not in used and twin(p["booking_date"], c.booking_date, p, c._mapping):
                pairs.append((p_id, c.id))
                used.add(c.id)
                break
    for pending_id, booked_id in pairs:
        moved = session.execute(
            select(TransactionOccurrence.document_id, TransactionOccurrence.statement_id,
                   TransactionOccurrence.page, TransactionOccurrence.line,
                   TransactionOccurrence.row)
            .where(TransactionOccurrence.transaction_id == pending_id)
        ).all()
        if moved:
            session.execute(insert(TransactionOccurrence).on_conflict_do_nothing(), [
                {"transaction_id": booked_id, **m._mapping} for m in moved])
        session.execute(delete(Transaction).where(Transaction.id == pending_id))
    return len(pairs)


def remove_statement_document(session: Session, document_id: int) -> None:
    """Forget what `document_id` contributed; keep transactions other files still list."""
    remove_investments(session, document_id)
    affected_ids = list(session.scalars(
        select(TransactionOccurrence.transaction_id)
        .where(TransactionOccurrence.document_id == document_id)))
    if affected_ids:
        session.execute(delete(TransactionOccurrence)
                        .where(TransactionOccurrence.document_id == document_id))
        remaining = select(TransactionOccurrence.id).where(
            TransactionOccurrence.transaction_id == Transaction.id).exists()
        gone = delete(Transaction).where(Transaction.id.in_(affected_ids), ~remaining).returning(
            Transaction.account_id, Transaction.dedup_key, Transaction.category,
            Transaction.category_rule)
        for account_id, key, category, rule in session.execute(
                gone.execution_options(synchronize_session=False)).all():
            if rule == MANUAL:  # a changed file is removed, then stored again: keep the owner's
                session.info.setdefault(_KEPT, {})[(account_id, key)] = category
        # Re-point survivors to their earliest remaining occurrence.
        first = (
            select(TransactionOccurrence)
            .ext(distinct_on(TransactionOccurrence.transaction_id))
            .where(TransactionOccurrence.transaction_id.in_(affected_ids))
            .order_by(TransactionOccurrence.transaction_id, TransactionOccurrence.id)
            .subquery()
        )
        session.execute(
            update(Transaction)
            .where(Transaction.id == first.c.transaction_id, Transaction.document_id == document_id)
            .values(document_id=first.c.document_id, statement_id=first.c.statement_id,
                    page=first.c.page, line=first.c.line, row=first.c.row)
            .execution_options(synchronize_session=False)
        )
    session.execute(delete(Statement).where(Statement.document_id == document_id))
