"""The database connections of an ingest run, and what a database failure means in one line.

Owns the per-source advisory lock (two processes, CLI and scheduler, never sync one source at
once), the run's own writer connection (`synchronous_commit` off for it alone; see
`ingest.ledger.quick_session` for why that is safe), and `database_problem`, which turns a
driver exception into the one line the owner sees ("the database's disk is full (...)",
"database unavailable: ..."). Database I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from app.core.db import Database
from app.core.errors import BusyError, DatabaseError

log = logging.getLogger(__name__)


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def database_problem(exc: BaseException) -> str:
    """One line saying what happened to the database (a full disk named as such)."""
    orig = getattr(exc, "orig", None) or exc
    detail = _first_line(orig)
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate == "53100" or "No space left on device" in str(orig):
        return f"the database's disk is full ({detail})"
    if sqlstate.startswith("53"):
        return f"the database ran out of resources ({detail})"
    if isinstance(exc, DatabaseError):
        return str(exc)
    if sqlstate.startswith("57P") or not sqlstate:
        return f"database unavailable: {detail} (the server stopped or the connection was lost)"
    return f"database error: {detail}"


@contextmanager
def source_lock(db: Database, name: str, *, wait: bool) -> Iterator[None]:
    """Hold the source's session-level advisory lock; BusyError if taken and not `wait`."""
    try:
        conn: Connection = db.engine.connect()
    except OperationalError as exc:
        raise DatabaseError(database_problem(exc)) from exc
    try:
        key = {"name": f"homerag:source:{name}"}
        got = conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:name))"), key).scalar()
        if not got:
            if not wait:
                raise BusyError(f"source {name!r} is being synced by another process; "
                                "try again later")
            log.info("waiting for source %s (another process is syncing it)", name)
            conn.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), key)
        conn.commit()
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), key)
                conn.commit()
            except SQLAlchemyError:
                pass  # the server is gone, and the lock with its session
    finally:
        conn.close()


def writer_connection(db: Database) -> Connection:
    """The run's own connection for its batches (no pool checkout and ping per batch)."""
    conn = db.engine.connect()
    conn.exec_driver_sql("SET synchronous_commit = off")
    conn.commit()
    return conn


def release(conn: Connection | None) -> None:
    """Give the writer connection back as it was taken (or drop it if it is broken)."""
    if conn is None:
        return
    try:
        conn.rollback()
        conn.exec_driver_sql("RESET synchronous_commit")
        conn.commit()
    except SQLAlchemyError:
        conn.invalidate()
    finally:
        conn.close()
