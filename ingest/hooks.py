"""Document hooks run inside each document's transaction (domain tables such as transactions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.protocols import DocumentHook
    from ingest.money.categories import CategoryRule


def default_hooks(*, category_rules: Sequence[CategoryRule] | None = None) -> list[DocumentHook]:
    """The statement hook (transactions, categorised by `category_rules`, else the built-in
    rules) and mail de-duplication by Message-ID."""
    from ingest.mail.dedup import MessageIdDedup
    from ingest.money.hook import StatementHook

    return [StatementHook(category_rules), MessageIdDedup()]
