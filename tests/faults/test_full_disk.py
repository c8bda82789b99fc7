"""A full disk says so in one line, and leaves nothing half-written (issue 12): the embedded
PostgreSQL starting (fresh, and initialised then filled) and a backup (the dump, then the
originals) onto a small tmpfs that runs out. Needs root to mount the tmpfs (skipped otherwise).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.faults.support import fill, homerag, postgres_processes, small_disk

pytestmark = pytest.mark.slow


@pytest.fixture
def root():
    path = Path(tempfile.mkdtemp(prefix="hrd-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _one_error_line(done) -> str:
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, lines
    return lines[0]


def test_embedded_server_on_a_full_disk_says_so_in_one_line(root):
    with small_disk(root / "small", "20m") as disk:  # initdb needs ~40 MB
        data = disk / "data"
        line = _one_error_line(homerag("status", env={"HOMERAG_DATA_DIR": str(data)},
                                       cwd=root))
        assert line == ("Error: could not start the embedded PostgreSQL: the disk holding "
                        f"{data / 'pgdata'} is full"), line
        assert postgres_processes(data / "pgdata") == []


def test_embedded_server_whose_disk_filled_up_says_so_in_one_line(root):
    with small_disk(root / "small", "80m") as disk:
        data = disk / "data"
        env = {"HOMERAG_DATA_DIR": str(data)}
        first = homerag("status", env=env, cwd=root)
        assert first.returncode == 0, first.stdout + first.stderr
        fill(disk)
        line = _one_error_line(homerag("status", env=env, cwd=root))
        assert line == ("Error: could not start the embedded PostgreSQL: the disk holding "
                        f"{data / 'pgdata'} is full"), line
        (disk / "filler").unlink()  # room again: the same data directory starts as before
        again = homerag("status", env=env, cwd=root)
        assert again.returncode == 0, again.stdout + again.stderr
        assert postgres_processes(data / "pgdata") == []


@pytest.mark.parametrize(("size", "what"), [("100k", "the dump"), ("1m", "the originals")])
def test_backup_onto_a_full_disk_says_so_and_leaves_nothing(pg_url, clean_db, root, size, what):
    docs = root / "docs"
    docs.mkdir()
    for i in range(4):  # ~1.5 MB of originals; the dump is ~0.1 MB
        (docs / f"note{i}.txt").write_text(f"Household note {i} about the boiler. " * 10_000)
    env = {"HOMERAG_DATABASE_URL": pg_url, "HOMERAG_DATA_DIR": str(root / "data")}
    done = homerag("ingest", str(docs), env=env, cwd=root)
    assert done.returncode == 0 and "4 indexed" in done.stdout, done.stdout + done.stderr
    with small_disk(root / "backups", size) as disk:
        line = _one_error_line(homerag("backup", str(disk), env=env, cwd=root))
        assert line == f"Error: backup to {disk} failed: the disk holding {disk} is full", (
            what, line)
        assert list(disk.iterdir()) == [], f"{what}: a partial backup was left"


def test_ingest_whose_originals_disk_is_full_stops_in_one_line_and_loses_nothing(
        pg_url, clean_db, root):
    docs = root / "docs"
    docs.mkdir()
    for i in range(6):  # ~0.4 MB each: the second or third copy no longer fits
        (docs / f"note{i}.txt").write_text(f"Household note {i} about the boiler. " * 10_000)
    data = root / "data"
    env = {"HOMERAG_DATABASE_URL": pg_url, "HOMERAG_DATA_DIR": str(data)}
    with small_disk(data / "originals", "1m"):
        done = homerag("ingest", str(docs), env=env, cwd=root)
        assert done.returncode == 1, done.stdout + done.stderr
        errors = [ln for ln in done.stderr.splitlines() if ln.strip()]
        assert "Traceback" not in done.stderr
        assert errors == [f"error: {docs}: run failed: the disk holding {data / 'originals'} "
                          f"is full"], errors
    # Room again: the next run indexes every file once; nothing was lost or stored twice.
    again = homerag("ingest", str(docs), env=env, cwd=root)
    assert again.returncode == 0 and "0 failed" in again.stdout, again.stdout + again.stderr
    from sqlalchemy import func, select

    from app.core.models import Document

    with clean_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 6
