"""Deduplication keys that never merge two real transactions (pure).

- A bank id (FITID, AcctSvcrRef, MT940 bank reference) that is unique within its statement is
  the key: "id:<bank id>".
- Otherwise a content key (date, amount, currency, normalised payee and text) plus an
  occurrence counter within the statement: "c:<hash>:<n>". Two identical coffees on one day are
  ":0" and ":1" and stay two; the same statement period exported twice (overlapping files)
  yields the same keys, so nothing is counted twice.
- Pending rows get "p:" content keys; posted rows replace them (see the statement hook).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from ingest.money.types import ParsedTransaction


def _norm(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def content_key(tx: ParsedTransaction) -> str:
    parts = (
        tx.booking_date.isoformat(),
        format(tx.amount.normalize(), "f"),
        tx.currency.upper(),
        _norm(tx.counterparty),
        _norm(tx.description),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def dedup_keys(txs: Sequence[ParsedTransaction]) -> list[str]:
    """One key per transaction, in order; unique within the list."""
    ids = Counter(t.bank_id for t in txs if t.bank_id)
    seen: Counter[str] = Counter()
    keys = []
    for tx in txs:
        if tx.bank_id and ids[tx.bank_id] == 1:
            keys.append(f"id:{tx.bank_id}")
            continue
        base = content_key(tx)
        prefix = "p" if tx.pending else "c"
        keys.append(f"{prefix}:{base}:{seen[prefix + base]}")
        seen[prefix + base] += 1
    return keys
