"""The embedded PostgreSQL: started on demand, shared, and stopped by the last process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

from app.core.db import EmbeddedPostgres

# Tier `slow`: starts servers or processes (`make test-fast` leaves it out).
pytestmark = pytest.mark.slow

SCRIPT = """
import sys
from pathlib import Path
from app.core.db import Database

db = Database.open(None, pgdata=Path(sys.argv[1]), migrate=False)
with db.engine.connect() as c:
    from sqlalchemy import text
    print(c.execute(text("select extversion from pg_extension where extname = 'vector'")).scalar()
          or c.execute(text("select default_version from pg_available_extensions "
                            "where name = 'vector'")).scalar())
db.close()
"""


def _postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE


@pytest.fixture
def pgdata():
    root = Path(tempfile.mkdtemp(prefix="hre-", dir="/tmp"))
    os.chmod(root, 0o755)
    yield root / "pg"
    server = EmbeddedPostgres(root / "pg")
    if (root / "pg" / "PG_VERSION").exists():
        server.start()
        server.stop()


def _run(pgdata: Path) -> str:
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(pgdata)], capture_output=True,
                         text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_embedded_server_has_pgvector_and_stops_when_the_process_exits(pgdata):
    version = _run(pgdata)
    assert tuple(int(x) for x in version.split(".")[:2]) >= (0, 8)
    assert not _postmaster_running(pgdata)


def test_a_dead_process_handle_does_not_keep_the_server_running(pgdata):
    _run(pgdata)
    # A process that died by SIGKILL left its pid behind.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (pgdata / ".handle_pids.json").write_text(json.dumps([dead.pid]))
    _run(pgdata)
    assert not _postmaster_running(pgdata)


def _show_buffers(server: EmbeddedPostgres) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(server.start(), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW shared_buffers")).scalar())
    finally:
        engine.dispose()
        server.stop()


def test_the_buffer_cache_is_set_from_the_first_start_and_alter_system_still_wins(pgdata):
    """A new data directory starts with homerag's buffer cache already (not PostgreSQL's 128 MB
    until some later restart); the owner's own ALTER SYSTEM overrides it."""
    from sqlalchemy import create_engine, text

    assert _show_buffers(EmbeddedPostgres(pgdata, shared_buffers="256MB")) == "256MB"
    assert _show_buffers(EmbeddedPostgres(pgdata, shared_buffers="off")) == "128MB"
    server = EmbeddedPostgres(pgdata, shared_buffers="384MB")
    engine = create_engine(server.start(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ALTER SYSTEM SET shared_buffers = '160MB'"))
    engine.dispose()
    server.stop()
    assert _show_buffers(EmbeddedPostgres(pgdata, shared_buffers="384MB")) == "160MB"
