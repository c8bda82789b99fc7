"""Password hashing (argon2id via argon2-cffi) and random bearer secrets (API tokens, session
ids) stored as their sha256. Pure functions, no I/O; argon2 is imported on first use.

Passwords are low-entropy, so they get a slow, memory-hard KDF. Tokens and session ids are 32
random bytes: a plain sha256 is enough to make a stolen table useless, and lets a request find
its row by hash in one indexed lookup.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from typing import Any

TOKEN_PREFIX = "hr_"  # makes a leaked token recognisable (secret scanners, logs)
SESSION_BYTES = TOKEN_BYTES = 32
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # bounded work per login attempt


@functools.cache
def _hasher() -> Any:
    from argon2 import PasswordHasher

    # argon2-cffi's defaults are RFC 9106's "low memory" profile: argon2id, t=3, m=64 MiB, p=4.
    return PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string with its own salt and parameters)."""
    return str(_hasher().hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; a malformed hash is a mismatch, never an exception."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash on login)."""
    try:
        return bool(_hasher().check_needs_rehash(password_hash))
    except Exception:  # an unreadable hash is replaced on the next login
        return True


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so an unknown name costs the same
    time as a wrong password (names cannot be probed by timing)."""
    return hash_password(secrets.token_urlsafe(16))


def new_token() -> str:
    """A new API token: 'hr_' + 43 URL-safe characters (32 random bytes)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_BYTES)


def secret_hash(secret: str) -> str:
    """sha256 (hex) of a high-entropy secret: what the database stores and looks up."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets (or their hashes)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"),
                               b.encode("utf-8", "surrogatepass"))


def derived_token(secret: str, purpose: str) -> str:
    """A value derived from `secret` for one purpose (the CSRF token of a session): knowing it
    tells nothing about the session id."""
    return hmac.new(secret.encode("utf-8", "surrogatepass"), purpose.encode(),
                    hashlib.sha256).hexdigest()
