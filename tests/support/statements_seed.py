"""Store parsed statements without the full ingest pipeline (no chunks or vectors): a documents row
per file plus its transactions. Used by benchmarks, tests of the money queries and demo data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.models import Document
from app.core.types import sha256_hex
from ingest.money.categories import BUILTIN_RULES, CategoryRule
from ingest.money.hook import store_statement_file
from ingest.money.types import StatementFile
from ingest.store import ensure_source

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session


def store_file(session: Session, sf: StatementFile, *, origin: str, data: bytes = b"",
               source: str = "synthetic", rules: Sequence[CategoryRule] = BUILTIN_RULES,
               ) -> int:
    """Create (or reuse) the document row for `origin` and store `sf` under it; returns its id."""
    src = ensure_source(session, source, "files", {})
    doc = Document(source_id=src.id, origin=origin, kind="statement",
                   sha256=sha256_hex(data or origin.encode()), size_bytes=len(data),
                   media_type="text/plain", title=origin, meta={"format": sf.format})
    session.add(doc)
    session.flush()
    store_statement_file(session, doc.id, sf, rules=rules)
    return doc.id
