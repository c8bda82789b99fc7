"""`homerag user ...` and `homerag token ...` through click, against the test database: the
password never as an argument, argon2id at rest, tokens shown once and stored as a hash."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.cli import cli
from app.core.models import ApiToken, User, UserSession, utcnow
from tests.conftest import REPO


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result.exit_code, result.output


@pytest.fixture
def users_db(clean_db, settings):
    return clean_db


def test_user_add_hashes_the_password_with_argon2id(users_db) -> None:
    code, out = run("user", "add", "alice", "--password-stdin", stdin="correct horse battery\n")
    assert code == 0, out
    assert "alice added" in out
    with users_db.session() as s:
        user = s.scalar(select(User).where(User.name == "alice"))
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    from app.core.credentials import verify_password

    assert verify_password(user.password_hash, "correct horse battery")
    assert not verify_password(user.password_hash, "correct horse battery ")


def test_user_add_has_no_password_argument(users_db) -> None:
    code, out = run("user", "add", "bob", "--password", "hunter22")
    assert code == 2 and "No such option" in out
    # Without a terminal and without --password-stdin it refuses instead of hanging.
    code, out = run("user", "add", "bob")
    assert code == 2 and "--password-stdin" in out


def test_user_add_prompts_twice_without_echo_on_a_terminal(users_db, tmp_path) -> None:
    """The real command on a pseudo-terminal: the typed password is not echoed back."""
    import os
    import pty
    import subprocess
    import sys
    import time

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "app", "user", "add", "carol"],
                            stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, close_fds=True)
    os.close(slave)
    seen = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen:
            assert time.monotonic() < deadline, seen
            try:
                seen += os.read(master, 1024)
            except OSError:
                break

    read_until(b"Password: ")
    os.write(master, b"pty-secret-pass\n")
    read_until(b"confirmation: ")
    os.write(master, b"pty-secret-pass\n")
    read_until(b"carol added")
    assert proc.wait(timeout=60) == 0, seen
    os.close(master)
    assert b"pty-secret-pass" not in seen
    with users_db.session() as s:
        assert s.scalar(select(User.name).where(User.name == "carol")) == "carol"


def test_user_add_refuses_duplicates_short_passwords_and_bad_names(users_db) -> None:
    assert run("user", "add", "alice", "--password-stdin", stdin="long enough pw\n")[0] == 0
    code, out = run("user", "add", "alice", "--password-stdin", stdin="long enough pw\n")
    assert code == 1 and "exists already" in out
    code, out = run("user", "add", "dave", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 8 characters" in out
    code, out = run("user", "add", "bad name;", "--password-stdin", stdin="long enough pw\n")
    assert code == 1 and "user name" in out


def test_user_passwd_changes_the_hash_and_ends_sessions(users_db) -> None:
    run("user", "add", "alice", "--password-stdin", stdin="first password\n")
    with users_db.session() as s:
        user = s.scalar(select(User).where(User.name == "alice"))
        old = user.password_hash
        s.add(UserSession(user_id=user.id, token_hash="0" * 64,
                          expires_at=utcnow() + timedelta(days=1)))
    code, out = run("user", "passwd", "alice", "--password-stdin", stdin="second password\n")
    assert code == 0, out
    with users_db.session() as s:
        user = s.scalar(select(User).where(User.name == "alice"))
        assert user.password_hash != old
        assert s.scalar(select(UserSession).where(UserSession.user_id == user.id)) is None
    code, out = run("user", "passwd", "nobody", "--password-stdin", stdin="second password\n")
    assert code == 1 and "no user named 'nobody'" in out


def test_user_list_and_remove(users_db) -> None:
    code, out = run("user", "list")
    assert code == 0 and "no users" in out, out
    run("user", "add", "alice", "--password-stdin", stdin="first password\n")
    run("user", "add", "bob", "--password-stdin", stdin="other password\n")
    code, out = run("user", "list", "--json")
    assert [u["name"] for u in json.loads(out)] == ["alice", "bob"]
    assert "password" not in out.replace("password_changed_at", "")
    code, out = run("user", "remove", "bob", "--yes")
    assert code == 0, out
    code, out = run("user", "list", "--json")
    assert [u["name"] for u in json.loads(out)] == ["alice"]


def test_token_is_shown_once_and_stored_as_sha256(users_db) -> None:
    run("user", "add", "alice", "--password-stdin", stdin="first password\n")
    code, out = run("token", "create", "phone", "--json")
    assert code == 0, out
    created = json.loads(out)
    raw = created["token"]
    assert raw.startswith("hr_") and len(raw) >= 40
    with users_db.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.id == created["id"]))
        assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    code, out = run("token", "list")
    assert code == 0 and "phone" in out and "alice" in out and "last used never" in out
    assert raw not in out and raw[:10] in out
    code, out = run("token", "list", "--json")
    assert raw not in out


def test_token_create_needs_user_when_several(users_db) -> None:
    code, out = run("token", "create", "phone")
    assert code == 1 and "homerag user add" in out
    run("user", "add", "alice", "--password-stdin", stdin="first password\n")
    run("user", "add", "bob", "--password-stdin", stdin="other password\n")
    code, out = run("token", "create", "phone")
    assert code == 1 and "--user" in out
    code, out = run("token", "create", "phone", "--user", "bob", "--json")
    assert code == 0 and json.loads(out)["user"] == "bob"


def test_token_revoke(users_db) -> None:
    run("user", "add", "alice", "--password-stdin", stdin="first password\n")
    created = json.loads(run("token", "create", "agent", "--json")[1])
    code, out = run("token", "revoke", str(created["id"]))
    assert code == 0 and "revoked" in out
    assert run("token", "list", "--json")[1].strip() == "[]"
    listed = json.loads(run("token", "list", "--all", "--json")[1])
    assert listed[0]["revoked_at"] is not None
    code, out = run("token", "revoke", "999")
    assert code == 1 and "no API token with id 999" in out
