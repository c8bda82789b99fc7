"""One IMAP connection with reconnect-and-retry (imaplib; network I/O), and IMAP wire helpers.

A dropped connection (server restart, NAT timeout, a cut mid-FETCH) is answered by logging in
again, re-selecting the folder, checking its UIDVALIDITY, and repeating the command that was
cut; only protocol answers (NO/BAD) and failed logins are errors at once. The password is read
when connecting and never appears in messages or logs.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from app.core.errors import UpstreamError

log = logging.getLogger(__name__)
T = TypeVar("T")
_DROPPED = (imaplib.IMAP4.abort, OSError, EOFError, socket.timeout)


class FolderChangedError(Exception):
    """The folder's UIDVALIDITY changed under us (after a reconnect)."""


class LoginError(UpstreamError):
    transient = False


@dataclass(frozen=True, slots=True)
class FolderStatus:
    messages: int
    uidnext: int
    uidvalidity: int


def encode_folder(name: str) -> str:
    """IMAP modified UTF-7 (RFC 3501 §5.1.3), quoted for the command line."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            raw = "".join(buf).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",")
                       + "-")
            buf.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            buf.append(ch)
    flush()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


_STATUS = re.compile(rb"\((.*)\)\s*$")


def parse_status(data: Sequence[bytes | tuple[bytes, bytes] | None]) -> FolderStatus:
    line = next((d for d in data if isinstance(d, bytes)), b"")
    m = _STATUS.search(line)
    values: dict[str, int] = {}
    if m:
        parts = m.group(1).split()
        for key, value in zip(parts[::2], parts[1::2], strict=False):
            if value.isdigit():
                values[key.decode("ascii", "replace").upper()] = int(value)
    try:
        return FolderStatus(values["MESSAGES"], values["UIDNEXT"], values["UIDVALIDITY"])
    except KeyError as exc:
        raise imaplib.IMAP4.error(f"STATUS answer without {exc.args[0]}") from exc


_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_DATE = re.compile(rb'INTERNALDATE "([^"]+)"')


@dataclass(frozen=True, slots=True)
class Fetched:
    uid: int
    data: bytes
    internaldate: float | None


def parse_fetch(data: Sequence[bytes | tuple[bytes, bytes] | None]) -> list[Fetched]:
    """Messages from a `UID FETCH (UID INTERNALDATE BODY.PEEK[])` answer."""
    out = []
    for part in data:
        if not isinstance(part, tuple) or len(part) < 2:
            continue
        head, body = part[0], part[1]
        m = _FETCH_UID.search(head)
        if m is None:
            continue
        when = None
        d = _FETCH_DATE.search(head)
        if d:
            try:
                when = datetime.strptime(d.group(1).decode().strip(),
                                         "%d-%b-%Y %H:%M:%S %z").timestamp()
            except ValueError:
                when = None
        out.append(Fetched(int(m.group(1)), bytes(body), when))
    return out


class ImapSession:
    """A lazily opened, self-healing IMAP session (see module docstring)."""

    def __init__(self, connect: Callable[[], imaplib.IMAP4], *, label: str, retries: int = 3,
                 backoff_s: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> None:
        self._connect = connect
        self.label = label
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self.conn: imaplib.IMAP4 | None = None
        self.selected: str | None = None
        self.reconnects = 0

    def _open(self) -> imaplib.IMAP4:
        if self.conn is None:
            try:
                self.conn = self._connect()
            except imaplib.IMAP4.error as exc:
                raise LoginError(f"{self.label}: login failed ({_short(exc)})") from exc
            self.selected = None
        return self.conn

    def _drop(self) -> None:
        conn, self.conn, self.selected = self.conn, None, None
        if conn is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error, AttributeError):
                conn.shutdown()

    def call(self, fn: Callable[[imaplib.IMAP4], T], *, folder: str | None = None,
             uidvalidity: int | None = None) -> T:
        """Run `fn(conn)` (after selecting `folder` read-only), reconnecting on a dropped line."""
        for attempt in range(self.retries + 1):
            try:
                conn = self._open()
                if folder is not None and self.selected != folder:
                    self._select(conn, folder, uidvalidity)
                return fn(conn)
            except _DROPPED as exc:
                self._drop()
                if attempt == self.retries:
                    raise UpstreamError(f"{self.label}: connection lost {attempt + 1} times "
                                        f"({_short(exc)}); giving up for now") from exc
                self.reconnects += 1
                log.info("%s: connection lost (%s); reconnecting", self.label, _short(exc))
                self._sleep(self.backoff_s * (2 ** attempt))
        raise AssertionError("unreachable")

    def _select(self, conn: imaplib.IMAP4, folder: str, uidvalidity: int | None) -> None:
        typ, data = conn.select(encode_folder(folder), readonly=True)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {folder!r}: {_short(data)}")
        _, values = conn.response("UIDVALIDITY")
        current = int(values[0]) if values and values[0] and values[0].isdigit() else None
        if uidvalidity is not None and current is not None and current != uidvalidity:
            raise FolderChangedError(folder)
        self.selected = folder

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.logout()
            except (*_DROPPED, imaplib.IMAP4.error):
                pass


def status(conn: imaplib.IMAP4, folder: str) -> FolderStatus | None:
    """MESSAGES, UIDNEXT, UIDVALIDITY of a folder without selecting it; None if it is missing."""
    typ, data = conn.status(encode_folder(folder), "(MESSAGES UIDNEXT UIDVALIDITY)")
    if typ != "OK":
        return None
    return parse_status(data)


def search_all(conn: imaplib.IMAP4) -> list[int]:
    typ, data = conn.uid("SEARCH", "ALL")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"UID SEARCH failed: {_short(data)}")
    return sorted(int(x) for x in b" ".join(d for d in data if isinstance(d, bytes)).split())


def fetch(conn: imaplib.IMAP4, uids: Sequence[int]) -> list[Fetched]:
    typ, data = conn.uid("FETCH", ",".join(str(u) for u in uids),
                         "(UID INTERNALDATE BODY.PEEK[])")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH failed: {_short(data)}")
    return parse_fetch(data)


def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _short(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    lines = text.strip().splitlines()
    return (lines[0] if lines else type(value).__name__)[:200]
