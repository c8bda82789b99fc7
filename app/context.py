"""AppContext: the wiring of one process (settings, database, embedder, chat clients).

CLI commands, the API and the scheduler all build one with `open_context()`; none of them holds
logic of its own. Heavy parts (the embedder) are created on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.config import Settings, get_settings
from app.db import Database, redact

if TYPE_CHECKING:
    from app.answer.llm import ChatClient
    from ingest.protocols import Embedder


@dataclass
class AppContext:
    settings: Settings
    db: Database
    _embedder: Embedder | None = field(default=None, repr=False)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def db_label(self) -> str:
        if self.db.embedded is not None:
            return f"embedded PostgreSQL in {self.settings.pgdata_dir}"
        return redact(self.db.url)

    def embedder(self) -> Embedder:
        """The configured embedder, built on first use."""
        if self._embedder is None:
            from ingest.embedders import make_embedder

            self._embedder = make_embedder(self.settings, active_embedder=self.active_embedder())
        return self._embedder

    def active_embedder(self) -> str | None:
        """Name of the embedder that built the active index ("bge-m3", "lexical-hash"), if any."""
        from ingest.store import active_space

        with self.db.session() as session:
            space = active_space(session)
            return space.embedder if space is not None else None

    def set_embedder(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def chat_client(self, task: str = "answer") -> ChatClient | None:
        """The chat client for answering / extraction / reports (None when not configured)."""
        key = f"chat:{task}"
        if key not in self.extras:
            from app.answer.llm import make_chat_client

            self.extras[key] = make_chat_client(self.settings, task)  # type: ignore[arg-type]
        return self.extras[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        for key, value in self.extras.items():
            if key.startswith("chat:") and value is not None:
                value.close()
        self.db.close()


def build_context(settings: Settings | None = None, *, migrate: bool = True) -> AppContext:
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.open(settings.database_url, pgdata=settings.pgdata_dir, migrate=migrate)
    return AppContext(settings=settings, db=db)


@contextmanager
def open_context(settings: Settings | None = None, *, migrate: bool = True) -> Iterator[AppContext]:
    """Open the database (starting the embedded one if no URL is set) and migrate to head."""
    ctx = build_context(settings, migrate=migrate)
    try:
        yield ctx
    finally:
        ctx.close()
