"""Runtime: the wiring of one process (settings, database, embedder, chat clients).

CLI commands, the API and the scheduler all build one with `open_runtime()`; none of them holds
logic of its own. Heavy parts (the embedder) are created on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.core.config import Settings, get_settings
from app.core.db import Database, make_private_dir, redact

log = logging.getLogger(__name__)

if TYPE_CHECKING:

    from app.core.protocols import Embedder
    from app.llm.client import ChatClient


@dataclass
class Runtime:
    settings: Settings
    db: Database
    _embedder: Embedder | None = field(default=None, repr=False)
    _embedder_key: Any = field(default=None, repr=False)
    _pinned: bool = field(default=False, repr=False)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def db_label(self) -> str:
        if self.db.embedded is not None:
            return f"embedded PostgreSQL in {self.settings.pgdata_dir}"
        return redact(self.db.url)

    def embedder(self) -> Embedder:
        """The embedder of the active index, so queries and new documents land in the space that
        search uses; the configured one while the index is empty.

        A different configured model takes effect through `homerag embeddings migrate`, which
        builds its space beside the active one and switches when complete. The choice follows
        the active space, so a server keeps working after another process switches it.
        """
        if self._pinned:
            assert self._embedder is not None
            return self._embedder
        from ingest.store import active_space

        with self.db.session() as session:
            space = active_space(session)
            if space is not None:
                session.expunge(space)
        key = None if space is None else (space.id, space.model_id)
        if self._embedder is None or self._embedder_key != key:
            if space is None:
                from ingest.embedders import make_embedder

                self._embedder = make_embedder(self.settings)
            else:
                from ingest.spaces import embedder_for_space

                self._embedder = embedder_for_space(space, self.settings)
                self._warn_if_configured_differs(space)
            self._embedder_key = key
        return self._embedder

    def _warn_if_configured_differs(self, space: Any) -> None:
        wanted = self.settings.embedder
        if wanted not in ("auto", space.embedder):
            log.warning(
                "the index is built with %s; HOMERAG_EMBEDDER=%s takes effect after "
                "`homerag embeddings migrate`", space.embedder, wanted)

    def active_embedder(self) -> str | None:
        """Name of the embedder that built the active index ("bge-m3", "lexical-hash"), if any."""
        from ingest.store import active_space

        with self.db.session() as session:
            space = active_space(session)
            return space.embedder if space is not None else None

    def set_embedder(self, embedder: Embedder) -> None:
        """Use this embedder whatever the index says (tests, benchmarks)."""
        self._embedder = embedder
        self._pinned = True

    def rescorer(self, embedder: Embedder | None = None) -> Any:
        """Shortlist re-scoring for `embedder` (BGE-M3 ColBERT, cross-encoder), or None.

        Pass the embedder already in hand so a question reads the active space only once."""
        embedder = embedder if embedder is not None else self.embedder()
        if self.extras.get("rescorer_for") is not embedder:
            from app.retrieval.rerank import make_rescorer

            self.extras["rescorer"] = make_rescorer(self.settings, embedder)
            self.extras["rescorer_for"] = embedder
        return self.extras["rescorer"]

    def chat_client(self, task: str = "answer") -> ChatClient | None:
        """The chat client for answering / extraction / reports (None when not configured)."""
        key = f"chat:{task}"
        if key not in self.extras:
            from app.llm.client import make_chat_client

            self.extras[key] = make_chat_client(self.settings, task)  # type: ignore[arg-type]
        return self.extras[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        for key, value in self.extras.items():
            if key.startswith("chat:") and value is not None:
                value.close()
        self.db.close()


def build_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    settings = settings or get_settings()
    make_private_dir(settings.data_dir)  # 0700; existing folders and parents untouched
    db = Database.open(settings.database_url, pgdata=settings.pgdata_dir,
                       shared_buffers=settings.pg_shared_buffers, migrate=migrate)
    return Runtime(settings=settings, db=db)


@contextmanager
def open_runtime(settings: Settings | None = None, *, migrate: bool = True) -> Iterator[Runtime]:
    """Open the database (starting the embedded one if no URL is set) and migrate to head."""
    rt = build_runtime(settings, migrate=migrate)
    try:
        yield rt
    finally:
        rt.close()
