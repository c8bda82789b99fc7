"""`homerag ingest` end to end: --strict on re-runs, mail stores inside a folder, and a database
that dies or fills up mid-sync (one line on stderr, nothing half-written)."""

from __future__ import annotations

import contextlib
import mailbox
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from app.cli import cli
from app.core.models import Document
from tests.mail.mailgen import build_message
from tests.scheduler.test_crash_safety import WORDS


def _ingest(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["ingest", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "gym.md").write_text("# Gym\n\nThe gym contract renews every year.\n",
                                 encoding="utf-8")
    (root / "broken.txt").write_bytes(bytes(range(256)) * 40)  # binary disguised as text
    return root


def test_strict_exits_3_on_every_run_while_a_failure_stands(settings, clean_db, tmp_path):
    folder = _folder(tmp_path)
    code, out, _ = _ingest(str(folder), "--strict")
    assert code == 3 and "1 failed" in out
    code, out, _ = _ingest(str(folder), "--strict")  # nothing changed: the failure stands
    assert code == 3 and "1 unchanged" not in out and "1 still failing from earlier runs" in out
    assert _ingest(str(folder))[0] == 0  # without --strict a failed file is not an error
    (folder / "broken.txt").write_text("Now it is a readable note.\n", encoding="utf-8")
    assert _ingest(str(folder), "--strict")[0] == 0


# -- mail stores inside a folder ------------------------------------------------------------------
def _mbox(path: Path, count: int) -> None:
    box = mailbox.mbox(path)
    for i in range(count):
        msg = mailbox.mboxMessage(build_message(
            subject=f"Rechnung {i}", message_id=f"<{path.stem}{i}@example.org>",
            body=f"Ihre Rechnung Nummer {i} über {10 + i} Euro."))
        msg.set_from("billing@example.org", (2024, 3, 1 + i, 9, 0, 0, 0, 1, 0))
        box.add(msg)
    box.flush()
    box.close()


def _maildir(path: Path, count: int) -> None:
    box = mailbox.Maildir(path, create=True)
    for i in range(count):
        box.add(mailbox.MaildirMessage(build_message(
            subject=f"Letter {i}", message_id=f"<md{i}@example.org>",
            body=f"Letter number {i} about the garden fence.")))
    box.close()


def _origins(db) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(Document.origin).where(Document.parent_id.is_(None))))


def test_mbox_and_maildir_inside_a_folder_are_ingested_message_by_message(settings, clean_db,
                                                                         tmp_path):
    folder = tmp_path / "archive"
    (folder / "mail").mkdir(parents=True)
    (folder / "note.txt").write_text("From the desk of the treasurer: dues are 20 euros.\n",
                                     encoding="utf-8")
    _mbox(folder / "mail" / "Bills.mbox", 3)
    _mbox(folder / "mail" / "Inbox", 2)  # Thunderbird: no extension
    _maildir(folder / "mail" / "Maildir", 2)

    code, out, err = _ingest(str(folder), "--strict")

    assert code == 0, out + err
    origins = _origins(clean_db)
    assert len(origins) == 1 + 3 + 2 + 2, origins
    assert sum(o.startswith(str(folder / "mail" / "Bills.mbox") + "#") for o in origins) == 3
    assert sum(o.startswith(str(folder / "mail" / "Inbox") + "#") for o in origins) == 2
    assert sum(o.startswith(str(folder / "mail" / "Maildir") + "#") for o in origins) == 2
    assert str(folder / "note.txt") in origins  # "From the ..." is a note, not an mbox
    assert "no parser" not in out

    code, out, _ = _ingest(str(folder))
    assert code == 0 and "8 unchanged" in out
    (folder / "mail" / "Bills.mbox").unlink()
    code, out, _ = _ingest(str(folder))
    assert code == 0 and "3 removed" in out
    assert len(_origins(clean_db)) == 5


# -- the database dies or fills up mid-sync ------------------------------------------------------
def _notes(root: Path, count: int, words: int = 700) -> Path:
    root.mkdir(parents=True)
    for i in range(count):
        body = " ".join(WORDS[(i * 7 + j) % len(WORDS)] + str(j % 13) for j in range(words))
        (root / f"note-{i:04d}.md").write_text(f"# Note {i}\n\n{body}\n", encoding="utf-8")
    return root


@pytest.fixture
def private_pg(tmp_path_factory):
    """An embedded PostgreSQL of this test alone (it gets killed), migrated to head."""
    from app.core.db import EmbeddedPostgres, upgrade_database

    root = tmp_path_factory.mktemp("pg", numbered=True)
    short = Path("/tmp") / f"hrp-{os.getpid()}-{root.name}"  # socket paths must stay short
    short.mkdir()
    os.chmod(short, 0o755)
    server = EmbeddedPostgres(short / "pg")
    url = server.start()
    upgrade_database(url)
    yield server, url, short
    with contextlib.suppress(Exception):  # killed by the test, or stopped by it already
        server.stop()
    shutil.rmtree(short, ignore_errors=True)


def _cli(url: str, data_dir: Path, folder: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOMERAG_")}
    env.update(HOMERAG_DATABASE_URL=url, HOMERAG_DATA_DIR=str(data_dir),
               HOMERAG_EMBEDDER="lexical-hash")
    return subprocess.Popen([sys.executable, "-m", "app", "ingest", str(folder)], env=env,
                            cwd=data_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _documents(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM documents")) or 0)
    finally:
        engine.dispose()


def _consistent(url: str) -> None:
    """Every stored document is whole: chunks, vectors and ledger row agree."""
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            bad = s.execute(text("""
                SELECT d.origin FROM documents d
                LEFT JOIN chunks c ON c.document_id = d.id
                LEFT JOIN chunk_embeddings e ON e.chunk_id = c.id
                LEFT JOIN source_items si ON si.document_id = d.id
                GROUP BY d.id, si.chunk_count
                HAVING count(c.id) = 0 OR si.chunk_count IS NULL OR count(c.id) <> si.chunk_count
                    OR count(e.chunk_id) <> count(c.id)""")).all()
            assert bad == []
            assert s.scalar(select(func.count()).select_from(Document)) >= 0
    finally:
        engine.dispose()


def _server_pids(pgdata: Path) -> list[int]:
    postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == postmaster:
                pids.append(int(pid))
    return pids


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


def test_database_killed_mid_sync_is_one_line_and_nothing_is_half_written(private_pg, tmp_path):
    server, url, root = private_pg
    folder = _notes(tmp_path / "notes", 400)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    proc = _cli(url, data_dir, folder)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and _documents(url) < 20:
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before the database could be killed"
    for pid in _server_pids(root / "pg"):  # the whole server, as an OOM kill would
        with contextlib.suppress(ProcessLookupError):  # a backend that just ended
            os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)

    assert proc.returncode == 1
    line = _one_line_error(err)
    assert line.startswith("error: ") and "database unavailable" in line, line

    from app.core.db import EmbeddedPostgres

    with contextlib.suppress(Exception):  # its processes are gone already
        server.stop()
    restarted = EmbeddedPostgres(root / "pg")
    url = restarted.start()  # it restarts (crash recovery) ...
    try:
        _consistent(url)  # ... with nothing half-written
    finally:
        restarted.stop()


def _pg_user(pgdata: Path) -> tuple[int, int]:
    st = pgdata.stat()
    return st.st_uid, st.st_gid


def test_full_disk_is_named_as_such_and_nothing_is_half_written(private_pg, tmp_path):
    server, url, root = private_pg
    small = root / "small"
    small.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(small)],
            capture_output=True).returncode != 0:
        pytest.skip("needs root and mount to make a small disk")
    try:
        uid, gid = _pg_user(root / "pg")
        os.chown(small, uid, gid)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE TABLESPACE small LOCATION '{small}'"))
            for table in ("documents", "chunks", "chunk_embeddings"):
                conn.execute(text(f"ALTER TABLE {table} SET TABLESPACE small"))
        engine.dispose()
        folder = _notes(tmp_path / "notes", 300, words=1500)  # ~30 MB of text for 6 MB
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        proc = _cli(url, data_dir, folder)
        out, err = proc.communicate(timeout=300)

        assert proc.returncode == 1, out + err
        line = _one_line_error(err)
        assert "the database's disk is full" in line and "No space left on device" in line, line
        _consistent(url)
    finally:
        server.stop()  # before its tablespace goes (the fixture throws the server away)
        subprocess.run(["umount", "-l", str(small)], capture_output=True)
