"""ImapSource against a real Dovecot on loopback: incremental sync, no-change cost, deletions,
UIDVALIDITY change, moves between folders, a connection cut mid-fetch, login failures."""

from __future__ import annotations

import imaplib
import itertools
import logging
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import ConfigError
from app.core.models import Document
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.mail.dedup import MessageIdDedup
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.imap import ImapSource, from_config, parse_origin, password_from
from ingest.sources.imap_session import LoginError, encode_folder
from tests.mail.dovecot import DOVECOT, CountingIMAP4, CuttingProxy, Dovecot, append
from tests.mail.mailgen import build_message

pytestmark = [pytest.mark.slow,  # a real Dovecot per test
              pytest.mark.skipif(not Path(DOVECOT).exists(),
                                 reason="Debian dovecot-imapd not installed (make system-deps)")]

ARCHIVE = "Verträge 2024"  # non-ASCII: exercises modified UTF-7
_users = itertools.count(1)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with tempfile.TemporaryDirectory(prefix="hr-dove-", dir="/tmp") as tmp:
        server = Dovecot(Path(tmp))
        for n in range(1, 41):
            server.add_user(f"user{n}", "s3cret-pw")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def account(dovecot: Dovecot) -> tuple[str, imaplib.IMAP4]:
    """A fresh user with INBOX and the archive folder; yields (user, client connection)."""
    user = f"user{next(_users)}"
    conn = dovecot.client(user)
    conn.create(encode_folder(ARCHIVE))
    yield user, conn
    conn.logout()


def _source(dovecot: Dovecot, user: str, *, port: int | None = None, mirror: bool = False,
            counter: Counter[str] | None = None, **kw) -> ImapSource:
    def connect() -> imaplib.IMAP4:
        conn = CountingIMAP4("127.0.0.1", port or dovecot.port, timeout=10,
                             commands=counter if counter is not None else Counter())
        conn.login(user, "s3cret-pw")
        return conn

    return ImapSource(f"imap-{user}", host="127.0.0.1", username=user, password=lambda: "unused",
                      folders=["INBOX", ARCHIVE], security="none", mirror_deletions=mirror,
                      connector=connect, **kw)


def _run(db, source: ImapSource):
    return Pipeline(db, embedder=LexicalHashEmbedder(), hooks=[MessageIdDedup()],
                    options=IngestOptions()).run(source)


def _mail(n: int) -> bytes:
    return build_message(subject=f"Mail {n}", message_id=f"<imap{n}@example.org>",
                         body=f"Text of mail {n} about topic {n * 7}.")


def _docs(db) -> dict[str, Document]:
    with db.session() as s:
        return {d.origin: d for d in s.scalars(select(Document))}


def test_initial_sync_then_no_change_costs_one_status_per_folder(clean_db, dovecot, account):
    user, conn = account
    for n in range(1, 4):
        append(conn, "INBOX", _mail(n))
    append(conn, ARCHIVE, _mail(10))
    first = _run(clean_db, _source(dovecot, user))
    assert first.counts["indexed"] == 4, first.to_json()
    docs = _docs(clean_db)
    folders = sorted(d.meta["folder"] for d in docs.values())
    assert folders == ["INBOX", "INBOX", "INBOX", ARCHIVE]
    origin = next(o for o in docs if o.endswith(";UID=1") and "/INBOX;" in o)
    assert origin.startswith(f"imap://{user}@127.0.0.1/INBOX;UIDVALIDITY=")
    assert parse_origin(origin, f"imap://{user}@127.0.0.1/")[2] == 1

    counter: Counter[str] = Counter()
    again = _run(clean_db, _source(dovecot, user, counter=counter))
    assert again.counts["indexed"] == 0 and again.counts["removed"] == 0
    counter.pop("CAPABILITY", None)  # sent by imaplib when the greeting does not list them
    assert counter == Counter({"LOGIN": 1, "STATUS": 2, "LOGOUT": 1})

    append(conn, "INBOX", _mail(4))
    counter.clear()
    third = _run(clean_db, _source(dovecot, user, counter=counter))
    assert third.counts["indexed"] == 1, third.to_json()
    assert counter["UID"] == 2 and counter["EXAMINE"] == 1  # one SEARCH, one FETCH, one folder


def test_deletions_are_mirrored_only_when_enabled(clean_db, dovecot, account):
    user, conn = account
    for n in range(20, 23):
        append(conn, "INBOX", _mail(n))
    assert _run(clean_db, _source(dovecot, user)).counts["indexed"] == 3
    conn.select("INBOX")
    conn.uid("STORE", "2", "+FLAGS", r"(\Deleted)")
    conn.expunge()
    kept = _run(clean_db, _source(dovecot, user))
    assert kept.counts["removed"] == 0 and len(_docs(clean_db)) == 3
    mirrored = _run(clean_db, _source(dovecot, user, mirror=True))
    assert mirrored.counts["removed"] == 1, mirrored.to_json()
    assert sorted(d.title for d in _docs(clean_db).values()) == ["Mail 20", "Mail 22"]


def test_move_between_folders_is_one_sync_with_mirroring(clean_db, dovecot, account):
    user, conn = account
    append(conn, "INBOX", _mail(30))
    assert _run(clean_db, _source(dovecot, user, mirror=True)).counts["indexed"] == 1
    conn.select("INBOX")
    conn.uid("COPY", "1", encode_folder(ARCHIVE))
    conn.uid("STORE", "1", "+FLAGS", r"(\Deleted)")
    conn.expunge()
    moved = _run(clean_db, _source(dovecot, user, mirror=True))
    assert (moved.counts["removed"], moved.counts["indexed"]) == (1, 1), moved.to_json()
    (doc,) = _docs(clean_db).values()
    assert doc.meta["folder"] == ARCHIVE and doc.title == "Mail 30"


def _recreate(conn: imaplib.IMAP4, folder: str, messages: list[bytes]) -> None:
    conn.select("INBOX")
    assert conn.delete(encode_folder(folder))[0] == "OK"
    assert conn.create(encode_folder(folder))[0] == "OK"
    for data in messages:
        append(conn, folder, data)


def test_uidvalidity_change_rescans_safely(clean_db, dovecot, account):
    user, conn = account
    mails = [_mail(n) for n in range(40, 43)]
    for data in mails:
        append(conn, ARCHIVE, data)
    assert _run(clean_db, _source(dovecot, user, mirror=True)).counts["indexed"] == 3
    before = set(_docs(clean_db))
    _recreate(conn, ARCHIVE, mails[:2])  # new UIDVALIDITY; one mail did not come back
    rescan = _run(clean_db, _source(dovecot, user, mirror=True))
    assert (rescan.counts["removed"], rescan.counts["indexed"]) == (3, 2), rescan.to_json()
    after = _docs(clean_db)
    assert not set(after) & before  # every origin carries the new UIDVALIDITY
    assert sorted(d.title for d in after.values()) == ["Mail 40", "Mail 41"]
    assert _run(clean_db, _source(dovecot, user, mirror=True)).counts["indexed"] == 0


def test_uidvalidity_change_without_mirroring_keeps_one_copy(clean_db, dovecot, account):
    user, conn = account
    mails = [_mail(n) for n in range(50, 52)]
    for data in mails:
        append(conn, ARCHIVE, data)
    assert _run(clean_db, _source(dovecot, user)).counts["indexed"] == 2
    _recreate(conn, ARCHIVE, mails)
    rescan = _run(clean_db, _source(dovecot, user))
    assert (rescan.counts["skipped"], rescan.counts["indexed"]) == (2, 0), rescan.to_json()
    assert len(_docs(clean_db)) == 2  # no duplicates from the renumbered copies
    counter: Counter[str] = Counter()
    assert _run(clean_db, _source(dovecot, user, counter=counter)).counts["skipped"] == 0
    assert counter["UID"] == 0  # the new numbering is known now: back to STATUS only


def test_connection_cut_mid_fetch_is_resumed(clean_db, dovecot, account):
    user, conn = account
    for n in range(100, 160):
        append(conn, "INBOX", _mail(n))
    proxy = CuttingProxy(dovecot.port, cut_after=3000)
    try:
        proxy.cut_next_fetch()
        source = _source(dovecot, user, port=proxy.port, batch_size=25)
        report = _run(clean_db, source)
    finally:
        proxy.close()
    assert proxy.cuts == 1 and source.last_session.reconnects == 1
    assert report.status == "completed" and report.counts["indexed"] == 60, report.to_json()
    titles = Counter(d.title for d in _docs(clean_db).values())
    assert len(titles) == 60 and set(titles.values()) == {1}  # each mail exactly once


def test_login_failure_is_a_clear_error_and_the_password_is_never_logged(
        clean_db, dovecot, account, caplog):
    user, _ = account
    caplog.set_level(logging.DEBUG)
    source = ImapSource("bad", host="127.0.0.1", port=dovecot.port, username=user,
                        password=lambda: "wrong-password-123", security="none")
    with pytest.raises(LoginError, match=rf"imap://{user}@127.0.0.1: login failed") as info:
        list(source.scan({}))
    assert "wrong-password-123" not in str(info.value)
    assert "wrong-password-123" not in caplog.text
    assert "password" not in str(source.config()).lower()


def test_real_login_with_password_file(clean_db, dovecot, account, tmp_path):
    user, conn = account
    append(conn, "INBOX", _mail(200))
    secret = tmp_path / "imap.secret"
    secret.write_text("s3cret-pw\n")
    source = from_config({"name": "acct", "kind": "imap", "host": "127.0.0.1",
                          "port": dovecot.port, "username": user, "security": "none",
                          "password_file": str(secret), "folders": ["INBOX"]})
    assert _run(clean_db, source).counts["indexed"] == 1


def test_config_errors(monkeypatch) -> None:
    with pytest.raises(ConfigError, match="refusing to send the password unencrypted"):
        ImapSource("x", host="mail.example.com", username="me", password=lambda: "p",
                   security="none")
    monkeypatch.delenv("HOMERAG_IMAP_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match=r"set the password in \$HOMERAG_IMAP_PASSWORD"):
        password_from(env="HOMERAG_IMAP_PASSWORD", file=None, source="x")()
    monkeypatch.setenv("HOMERAG_IMAP_PASSWORD", "from-env")
    assert password_from(env="HOMERAG_IMAP_PASSWORD", file=None, source="x")() == "from-env"


def test_modified_utf7_folder_names() -> None:
    assert encode_folder("INBOX") == '"INBOX"'
    assert encode_folder("Verträge 2024") == '"Vertr&AOQ-ge 2024"'
    assert encode_folder("A&B") == '"A&-B"'
    assert encode_folder('Say "hi"') == '"Say \\"hi\\""'
