"""Embedding and storing batches of prepared documents on the run's own connection.

A batch is embedded (vectors already stored for the same chunk text are reused, the rest
embedded once, in one embedder call) and written in one transaction (ingest/writer.py). If the
transaction fails, each document is written again in a transaction of its own, so only the bad
one fails, with one line. A database that went away or filled up stops the run
(`RunStoppedError`, one line naming it). Database I/O and the embedder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.core.errors import EmbedderUnavailableError, ErrorCode, IngestError
from app.core.protocols import DocumentHook, Embedder
from ingest import store
from ingest.connections import database_problem
from ingest.ledger import ItemOutcome, RunLedger
from ingest.preparing import Prepared, first_line
from ingest.writer import write_batch

log = logging.getLogger(__name__)


class RunStoppedError(Exception):
    """Stops the run: the embedder or the database itself is unavailable (one line)."""


class BatchWriter:
    """Stores batches for one run of one source (see module docstring)."""

    def __init__(self, conn: Connection, *, embedder: Embedder, hooks: Sequence[DocumentHook],
                 space: Any, source_id: int, ledger: RunLedger, known: Container[str]) -> None:
        self.conn = conn
        self.embedder = embedder
        self.hooks = hooks
        self.space = space
        self.source_id = source_id
        self.ledger = ledger
        self.known = known  # origins in the sync ledger: only these can have a stored document

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(bind=self.conn, expire_on_commit=False) as s, s.begin():
            yield s

    def store(self, batch: list[Prepared]) -> None:
        """Embed and write `batch`; each document is stored whole or recorded as failed."""
        try:
            with self.transaction() as s:
                self._embed(s, [d for p in batch for d in p.all_docs()])
                written = write_batch(s, batch, space=self.space, source_id=self.source_id,
                                      run_id=self.ledger.run_id, hooks=self.hooks,
                                      check_existing=any(p.item.origin in self.known
                                                         for p in batch))
        except (OperationalError, psycopg.OperationalError) as exc:  # COPY raises psycopg's own
            raise RunStoppedError(database_problem(exc)) from exc
        except RunStoppedError:
            raise
        except Exception as exc:
            if len(batch) == 1:
                self._failed(batch[0], exc)
                return
            log.debug("batch of %d rolled back (%s); writing one by one", len(batch),
                      first_line(exc))
            for prepared in batch:
                self.store([prepared])
            return
        report = self.ledger.report
        for w in written:
            report.counts["chunks"] += w.chunks
            for origin, code, message in (f for d in w.prepared.all_docs()
                                          for f in d.child_failures):
                report.problems.append(ItemOutcome(origin, "failed", code, message))
            self.ledger.outcome(ItemOutcome(
                w.prepared.item.origin, "indexed", document_id=w.document_id,
                chunk_count=len(w.prepared.chunks),
                duration_ms=round((time.perf_counter() - w.prepared.started) * 1000, 1)))

    def _failed(self, prepared: Prepared, exc: Exception) -> None:
        item = prepared.item
        if isinstance(exc, IngestError):  # raised by a hook: the whole document is rolled back
            code, message, transient = str(exc.code), str(exc), exc.transient
        elif isinstance(exc, DBAPIError | psycopg.Error):
            code, transient = ErrorCode.ingest_failed.value, False
            orig = getattr(exc, "orig", None) or exc
            message = f"{item.origin}: could not be stored ({first_line(orig)})"
        else:
            log.debug("storing %s failed", item.origin, exc_info=True)
            code, transient = ErrorCode.internal.value, False
            message = (f"{item.origin}: could not be stored ({type(exc).__name__}: "
                       f"{first_line(exc)})")
        self.ledger.fail(item, code=code, message=message, started=prepared.started,
                         transient=transient, sha=prepared.sha256)

    def _embed(self, session: Session, docs: list[Prepared]) -> None:
        """Vectors for every chunk: stored ones reused by content hash, the rest embedded once."""
        if all(len(d.embeddings) == len(d.chunks) for d in docs):
            return  # embedded already (a batch written again one by one)
        hashes = [c.content_hash for d in docs for c in d.chunks]
        reuse: dict[str, Any] = store.reusable_embeddings(session, self.space.id, hashes)
        todo: dict[str, str] = {}
        for d in docs:
            for c in d.chunks:
                if c.content_hash not in reuse:
                    todo.setdefault(c.content_hash, c.text if not c.heading
                                    else f"{c.heading}\n{c.text}")
        try:
            vectors = self.embedder.embed_documents(list(todo.values())) if todo else []
        except EmbedderUnavailableError as exc:
            raise RunStoppedError(str(exc)) from exc
        reuse.update(zip(todo, vectors, strict=True))
        for d in docs:
            d.embeddings = [reuse[c.content_hash] for c in d.chunks]
