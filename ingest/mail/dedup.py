"""Message-ID dedup across folders, mbox files, sources and re-imports (a DocumentHook; DB I/O).

The first copy of a message to be indexed wins; later copies anywhere (another IMAP folder,
another mbox, the same archive imported again under another path) are recorded as `skipped`
with code `duplicate` before anything is embedded. Mail without a Message-ID is matched by the
sha256 of its bytes. When the indexed copy goes away (deleted on the server, file removed), the
ledger rows of its skipped copies are cleared, so the next sync indexes one of them instead:
moving mail between folders never loses it.

The pipeline calls `check_duplicate` after parsing a top-level item; `on_stored` and
`on_removed` run inside the document's own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import text

from app.core.errors import DuplicateItemError
from app.core.types import ParsedDocument

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SessionScope = Callable[[], AbstractContextManager["Session"]]


def dedup_key(message_id: object, sha256: str) -> str:
    return str(message_id) if message_id else f"sha256:{sha256}"


_FIND = text(
    """SELECT m.origin, s.name FROM mail_messages m JOIN sources s ON s.id = m.source_id
    WHERE m.message_id = :key AND m.document_id IS NOT NULL
      AND NOT (m.source_id = :source_id AND m.origin = :origin)
    LIMIT 1"""
)
_RECORD_COPY = text(
    """INSERT INTO mail_messages (message_id, source_id, origin, document_id)
    VALUES (:key, :source_id, :origin, NULL)
    ON CONFLICT ON CONSTRAINT uq_mail_messages_source_origin
    DO UPDATE SET message_id = EXCLUDED.message_id, document_id = NULL"""
)
_RECORD_STORED = text(
    """INSERT INTO mail_messages (message_id, source_id, origin, document_id)
    SELECT coalesce(:message_id, 'sha256:' || d.sha256), d.source_id, d.origin, d.id
    FROM documents d WHERE d.id = :document_id AND d.parent_id IS NULL
    ON CONFLICT ON CONSTRAINT uq_mail_messages_source_origin
    DO UPDATE SET message_id = EXCLUDED.message_id, document_id = EXCLUDED.document_id
    RETURNING message_id"""
)
# The indexed copy goes: forget it, and clear the ledger rows of its skipped copies so that
# their sources offer them again on the next sync.
_RELEASE = text(
    """WITH gone AS (
        DELETE FROM mail_messages WHERE document_id = ANY(:document_ids) RETURNING message_id
    ), copies AS (
        DELETE FROM mail_messages m USING gone
        WHERE m.message_id = gone.message_id AND m.document_id IS NULL
        RETURNING m.source_id, m.origin
    )
    DELETE FROM source_items si USING copies
    WHERE si.source_id = copies.source_id AND si.origin = copies.origin
      AND si.code = 'duplicate'"""
)


_INDEXED_KEYS = text("SELECT message_id FROM mail_messages WHERE document_id IS NOT NULL")
# How long a snapshot of the indexed Message-IDs is trusted. New mail is almost always unique:
# checking it against a set in memory keeps the check off the database; a hit is confirmed by a
# query. Another process indexing the same message within this window yields a harmless
# second copy, never a lost one.
SNAPSHOT_TTL_S = 60.0


class MessageIdDedup:
    """DocumentHook that keeps one indexed copy per message (see module docstring)."""

    def __init__(self) -> None:
        # Copies accepted in this process but not yet stored (the pipeline writes in batches):
        # a second copy within the same batch must not be indexed as well.
        self._pending: dict[str, tuple[int, str]] = {}
        self._indexed: set[int] | None = None
        self._indexed_at = 0.0

    def _maybe_indexed(self, session_scope: SessionScope, key: str) -> bool:
        now = time.monotonic()
        if self._indexed is None or now - self._indexed_at > SNAPSHOT_TTL_S:
            with session_scope() as session:
                self._indexed = {hash(k) for k in session.scalars(_INDEXED_KEYS)}
            self._indexed_at = now
        return hash(key) in self._indexed

    def check_duplicate(self, session_scope: SessionScope, *, source_id: int, origin: str,
                        parsed: ParsedDocument, sha256: str) -> DuplicateItemError | None:
        """A DuplicateItemError when another copy of this message is already indexed."""
        if parsed.kind != "email":
            return None
        key = dedup_key(parsed.metadata.get("message_id"), sha256)
        pending = self._pending.get(key)
        if pending is None and not self._maybe_indexed(session_scope, key):
            self._pending[key] = (source_id, origin)
            return None
        if pending == (source_id, origin):
            return None
        with session_scope() as session:
            found = session.execute(
                _FIND, {"key": key, "source_id": source_id, "origin": origin}
            ).first()
            if found is None and pending is None:
                self._pending[key] = (source_id, origin)
                return None
            if found is None and pending == (source_id, origin):
                return None
            session.execute(_RECORD_COPY, {"key": key, "source_id": source_id, "origin": origin})
        if found is not None:
            other, source_name = found
            return DuplicateItemError(
                f"{origin}: duplicate of {other} in source {source_name!r} ({_label(key)})"
            )
        error = DuplicateItemError(f"{origin}: duplicate of {pending[1]} ({_label(key)})")  # type: ignore[index]
        # The other copy is not stored yet; if it fails to store, this one is tried again.
        error.transient = True
        return error

    def on_stored(self, session: Session, document_id: int, parsed: ParsedDocument) -> None:
        if parsed.kind != "email":
            return
        message_id = parsed.metadata.get("message_id") or None
        key = session.execute(
            _RECORD_STORED, {"message_id": message_id, "document_id": document_id}
        ).scalar()
        if key is not None:
            self._pending.pop(key, None)
            if self._indexed is not None:
                self._indexed.add(hash(key))

    def on_removed(self, session: Session, document_id: int) -> None:
        self.on_removed_many(session, [document_id])

    def on_removed_many(self, session: Session, document_ids: Sequence[int]) -> None:
        session.execute(_RELEASE, {"document_ids": list(document_ids)})


def _label(key: str) -> str:
    return "same bytes" if key.startswith("sha256:") else f"same Message-ID {key}"
