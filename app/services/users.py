"""Use cases: users (add, change password, list, remove), their API tokens (create - shown once -,
list, revoke) and web sessions (log in, look up, log out). The CLI and the web call these.

Secrets never reach the database in the clear (app/core/credentials.py): argon2id password
hashes; sha256 of tokens and session ids, looked up by hash and compared in constant time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from app.core import credentials
from app.core.errors import DatabaseError, InvalidInputError, NotFoundError
from app.core.models import ApiToken, User, UserSession, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.runtime import Runtime

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,63}$")
SESSION_DAYS = 14  # idle lifetime: each use (at most every SLIDE) pushes the expiry out again
SESSION_MAX_DAYS = 90  # absolute lifetime: log in again after this whatever the use
SLIDE = timedelta(minutes=10)
TOKEN_TOUCH = timedelta(minutes=1)  # last_used_at is written at most this often


@dataclass(frozen=True)
class Principal:
    """Who a request acts for. `via` says how it proved it: "session" (cookie), "token"
    (Authorization: Bearer) or "open" (loopback without users: the owner at their own machine)."""

    user_id: int | None
    name: str
    via: Literal["session", "token", "open"]
    token_id: int | None = None


OPEN_PRINCIPAL = Principal(user_id=None, name="owner", via="open")


# -- users ----------------------------------------------------------------------------------------
def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise InvalidInputError(
            f"user name {name[:40]!r}: use 1-64 letters, digits and . _ @ + - (starting with a "
            "letter or digit)")
    return name


def check_password(password: str) -> str:
    if len(password) < credentials.MIN_PASSWORD:
        raise InvalidInputError(
            f"password: at least {credentials.MIN_PASSWORD} characters, please")
    if len(password) > credentials.MAX_PASSWORD:
        raise InvalidInputError(f"password: at most {credentials.MAX_PASSWORD} characters")
    return password


def users_exist(rt: Runtime) -> bool:
    """True once at least one user exists: from then on every route needs a login or a token."""
    with rt.db.session() as s:
        return s.scalar(select(User.id).limit(1)) is not None


def add_user(rt: Runtime, name: str, password: str) -> dict[str, Any]:
    name, password = check_name(name), check_password(password)
    digest = credentials.hash_password(password)
    with rt.db.session() as s:
        if _user(s, name, required=False) is not None:
            raise InvalidInputError(f"user {name!r} exists already (homerag user passwd {name})")
        user = User(name=name, password_hash=digest)
        s.add(user)
        s.flush()
        return _user_json(user, tokens=0, sessions=0)


def set_password(rt: Runtime, name: str, password: str) -> None:
    """A new password; the user's open web sessions end (tokens stay valid: revoke them apart)."""
    password = check_password(password)
    digest = credentials.hash_password(password)
    with rt.db.session() as s:
        user = _user(s, name)
        user.password_hash = digest
        user.password_changed_at = utcnow()
        s.execute(delete(UserSession).where(UserSession.user_id == user.id))


def list_users(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.session() as s:
        tokens = _counts(s, select(ApiToken.user_id, func.count())
                         .where(ApiToken.revoked_at.is_(None)).group_by(ApiToken.user_id))
        sessions = _counts(s, select(UserSession.user_id, func.count())
                           .where(UserSession.expires_at > utcnow())
                           .group_by(UserSession.user_id))
        return [_user_json(u, tokens=tokens.get(u.id, 0), sessions=sessions.get(u.id, 0))
                for u in s.scalars(select(User).order_by(User.name))]


def remove_user(rt: Runtime, name: str) -> None:
    """Delete the user with their tokens and sessions."""
    with rt.db.session() as s:
        s.delete(_user(s, name))


# -- API tokens -----------------------------------------------------------------------------------
def create_token(rt: Runtime, name: str, *, user: str | None = None) -> tuple[dict[str, Any], str]:
    """A new API token for `user` (the only user when there is one). Returns its listing and the
    token itself, which is not stored and cannot be shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInputError("token name: 1-100 characters (what it is for, e.g. 'phone')")
    with rt.db.session() as s:
        owner = _user(s, user) if user else _only_user(s)
        raw = credentials.new_token()
        token = ApiToken(user_id=owner.id, name=name, token_hash=credentials.secret_hash(raw),
                         prefix=raw[:10])
        s.add(token)
        s.flush()
        return _token_json(token, owner.name), raw


def list_tokens(rt: Runtime, *, user: str | None = None,
                revoked: bool = False) -> list[dict[str, Any]]:
    with rt.db.session() as s:
        q = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
        if user:
            q = q.where(ApiToken.user_id == _user(s, user).id)
        if not revoked:
            q = q.where(ApiToken.revoked_at.is_(None))
        return [_token_json(t, owner) for t, owner in s.execute(q.order_by(ApiToken.id)).all()]


def revoke_token(rt: Runtime, token_id: int) -> dict[str, Any]:
    with rt.db.session() as s:
        row = s.execute(select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
                        .where(ApiToken.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no API token with id {token_id} (see homerag token list)")
        token, owner = row
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        return _token_json(token, owner)


def authenticate_token(rt: Runtime, raw: str) -> Principal | None:
    """The principal of a bearer token, or None (unknown or revoked). Notes when it was used."""
    if not raw or len(raw) > 200:
        return None
    digest = credentials.secret_hash(raw)
    with rt.db.session() as s:
        row = s.execute(select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
                        .where(ApiToken.token_hash == digest)).first()
        # The lookup is by hash (an index); the compare below guards against a non-constant-time
        # path inside the index lookup ever mattering.
        if row is None or not credentials.same_secret(row[0].token_hash, digest):
            return None
        token, owner = row
        if token.revoked_at is not None:
            return None
        now = utcnow()
        if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH:
            token.last_used_at = now
        return Principal(user_id=token.user_id, name=owner, via="token", token_id=token.id)


# -- web sessions ---------------------------------------------------------------------------------
def verify_login(rt: Runtime, name: str, password: str) -> Principal | None:
    """The user when the password matches, else None. An unknown name verifies against a dummy
    hash, so both failures take the same time. Upgrades a hash made with weaker parameters."""
    password = password[: credentials.MAX_PASSWORD + 1]
    with rt.db.session() as s:
        user = s.scalar(select(User).where(User.name == (name or "").strip()[:64]))
        digest = user.password_hash if user is not None else credentials.dummy_hash()
        ok = credentials.verify_password(digest, password)
        if user is None or not ok:
            return None
        if credentials.needs_rehash(user.password_hash):
            user.password_hash = credentials.hash_password(password)
        return Principal(user_id=user.id, name=user.name, via="session")


def start_session(rt: Runtime, principal: Principal) -> str:
    """A new session for a verified user; returns the cookie value (kept only as its hash)."""
    raw = credentials.new_session_id()
    now = utcnow()
    with rt.db.session() as s:
        # Expired sessions of anyone are swept here, the one place sessions are created.
        s.execute(delete(UserSession).where(UserSession.expires_at <= now))
        s.add(UserSession(user_id=principal.user_id, token_hash=credentials.secret_hash(raw),
                          expires_at=now + timedelta(days=SESSION_DAYS), last_seen_at=now))
    return raw


def session_principal(rt: Runtime, raw: str) -> Principal | None:
    """The user of a live session cookie, or None. Slides the idle expiry forward."""
    if not raw or len(raw) > 200:
        return None
    digest = credentials.secret_hash(raw)
    now = utcnow()
    with rt.db.session() as s:
        row = s.execute(select(UserSession, User.name).join(User, User.id == UserSession.user_id)
                        .where(UserSession.token_hash == digest)).first()
        if row is None or not credentials.same_secret(row[0].token_hash, digest):
            return None
        session, name = row
        if session.expires_at <= now or now - session.created_at > timedelta(
                days=SESSION_MAX_DAYS):
            s.delete(session)
            return None
        if now - session.last_seen_at > SLIDE:
            session.last_seen_at = now
            session.expires_at = now + timedelta(days=SESSION_DAYS)
        return Principal(user_id=session.user_id, name=name, via="session")


def end_session(rt: Runtime, raw: str) -> None:
    if not raw:
        return
    with rt.db.session() as s:
        s.execute(delete(UserSession).where(
            UserSession.token_hash == credentials.secret_hash(raw)))


def safe_users_exist(rt: Runtime, *, last_known: bool | None) -> bool | None:
    """`users_exist`, or `last_known` when the database cannot be asked (None: unknown)."""
    try:
        return users_exist(rt)
    except (SQLAlchemyError, DatabaseError):
        return last_known


# -- helpers --------------------------------------------------------------------------------------
def _user(s: Session, name: str | None, *, required: bool = True) -> Any:
    user = s.scalar(select(User).where(User.name == (name or "").strip()))
    if user is None and required:
        raise NotFoundError(f"no user named {name!r} (see homerag user list)")
    return user


def _only_user(s: Session) -> Any:
    users = list(s.scalars(select(User).order_by(User.id).limit(2)))
    if not users:
        raise InvalidInputError("no users yet: add one first with `homerag user add NAME`")
    if len(users) > 1:
        raise InvalidInputError("several users exist: say whose token it is with --user NAME")
    return users[0]


def _counts(s: Session, query: Any) -> dict[int, int]:
    return {int(key): int(n) for key, n in s.execute(query).all()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _user_json(user: Any, *, tokens: int, sessions: int) -> dict[str, Any]:
    return {"name": user.name, "created_at": _iso(user.created_at),
            "password_changed_at": _iso(user.password_changed_at), "tokens": tokens,
            "sessions": sessions}


def _token_json(token: Any, owner: str) -> dict[str, Any]:
    return {"id": token.id, "name": token.name, "user": owner, "prefix": token.prefix,
            "created_at": _iso(token.created_at), "last_used_at": _iso(token.last_used_at),
            "revoked_at": _iso(token.revoked_at)}
