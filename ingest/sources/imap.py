"""ImapSource: mail of chosen folders of one IMAP account, synced by UIDVALIDITY + UID.

Each message's origin is `imap://user@host/<folder>;UIDVALIDITY=<v>;UID=<n>`, so the ledger
alone says what is known per folder. A sync sends one STATUS per folder; only a folder whose
UIDNEXT or message count moved is opened and searched, and only new UIDs are fetched (in
batches; a connection cut mid-fetch is resumed by refetching the cut batch). A UIDVALIDITY
change makes the old UIDs meaningless: every message of the folder is fetched again, and with
mirroring its old origins are removed first (otherwise Message-ID dedup keeps the copies out).
Mail deleted on the server is removed here only when `mirror_deletions` is on. Removals of all
folders come before new mail, so a message moved between folders is indexed in one sync.
"""

from __future__ import annotations

import functools
import imaplib
import ipaddress
import logging
import os
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from app.core.errors import ConfigError, UpstreamError
from app.core.protocols import LedgerEntry, Source
from app.core.types import RawItem, Removed
from ingest.sources.imap_session import (
    FolderChangedError,
    ImapSession,
    fetch,
    search_all,
    status,
    tls_context,
)

log = logging.getLogger(__name__)
EML = "message/rfc822"
SECURITY = ("ssl", "starttls", "none")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "none": 143}


def password_from(*, env: str | None, file: str | None, source: str) -> Callable[[], str]:
    """A function reading the password when needed, from an env var or a secret file."""

    def read() -> str:
        if file:
            try:
                value = Path(file).expanduser().read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"source {source!r}: cannot read password_file {file} "
                                  f"({exc.strerror or exc})") from exc
            if value:
                return value
            raise ConfigError(f"source {source!r}: password_file {file} is empty")
        from_env = os.environ.get(env or "")
        if not from_env:
            raise ConfigError(f"source {source!r}: set the password in ${env} or give password_file")
        return from_env

    return read


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_origin(origin: str, prefix: str) -> tuple[str, int, int] | None:
    """(folder, uidvalidity, uid) of one of our origins, None for anything else."""
    if not origin.startswith(prefix):
        return None
    rest, _, uid = origin[len(prefix):].rpartition(";UID=")
    folder, _, validity = rest.rpartition(";UIDVALIDITY=")
    if not (uid.isdigit() and validity.isdigit() and folder):
        return None
    return folder, int(validity), int(uid)


class ImapSource:
    """Chosen folders of an IMAP account (see module docstring)."""

    kind = "imap"
    full_scan = False

    def __init__(self, name: str, *, host: str, username: str, password: Callable[[], str],
                 folders: Sequence[str] = ("INBOX",), port: int | None = None,
                 security: str = "ssl", mirror_deletions: bool = False, batch_size: int = 25,
                 timeout_s: float = 60.0, retries: int = 3,
                 connector: Callable[[], imaplib.IMAP4] | None = None) -> None:
        if security not in SECURITY:
            raise ConfigError(f"source {name!r}: security must be one of {', '.join(SECURITY)}")
        if security == "none" and not _is_loopback(host):
            raise ConfigError(f"source {name!r}: refusing to send the password unencrypted to "
                              f"{host} (use security = \"ssl\" or \"starttls\")")
        self.name = name
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.username = username
        self.security = security
        self.folders = tuple(folders)
        self.mirror_deletions = mirror_deletions
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self.retries = retries
        self._password = password
        self._connector = connector
        self.prefix = f"imap://{quote(username, safe='')}@{host}/"
        self.last_session: ImapSession | None = None

    def config(self) -> Mapping[str, Any]:
        return {"host": self.host, "port": self.port, "username": self.username,
                "security": self.security, "folders": list(self.folders),
                "mirror_deletions": self.mirror_deletions}

    def origin(self, folder: str, uidvalidity: int, uid: int) -> str:
        return f"{self.prefix}{folder};UIDVALIDITY={uidvalidity};UID={uid}"

    def _connect(self) -> imaplib.IMAP4:
        if self._connector is not None:
            return self._connector()
        if self.security == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=tls_context(),
                                                    timeout=self.timeout_s)
        else:
            conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout_s)
            if self.security == "starttls":
                conn.starttls(tls_context())
        conn.login(self.username, self._password())
        return conn

    # -- scan -----------------------------------------------------------------------------------
    def scan(self, known: Mapping[str, LedgerEntry]) -> Iterator[RawItem | Removed]:
        index: dict[str, dict[int, dict[int, LedgerEntry]]] = {}
        for origin, entry in known.items():
            parsed = parse_origin(origin, self.prefix)
            if parsed is not None:
                folder, validity, uid = parsed
                index.setdefault(folder, {}).setdefault(validity, {})[uid] = entry
        session = ImapSession(self._connect, label=f"{self.prefix.rstrip('/')}",
                              retries=self.retries)
        self.last_session = session
        try:
            plans: list[tuple[str, int, list[int]]] = []
            for folder in self.folders:
                plan = yield from self._plan_folder(session, folder, index.get(folder, {}))
                if plan is not None:
                    plans.append(plan)
            if self.mirror_deletions:
                for folder in sorted(set(index) - set(self.folders)):
                    for entries in index[folder].values():  # a folder no longer synced
                        for entry in entries.values():
                            yield Removed(entry.origin)
            for folder, validity, uids in plans:
                yield from self._fetch(session, folder, validity, uids)
        finally:
            session.close()

    def _plan_folder(self, session: ImapSession, folder: str,
                     by_validity: dict[int, dict[int, LedgerEntry]]
                     ) -> Generator[Removed, None, tuple[str, int, list[int]] | None]:
        """Yield removals; return (folder, uidvalidity, uids to fetch) or None."""
        st = session.call(lambda c: status(c, folder))
        if st is None:
            log.warning("%s: folder %r not found on the server; skipped", self.prefix, folder)
            return None
        current = by_validity.get(st.uidvalidity, {})
        stale = [e for v, entries in by_validity.items() if v != st.uidvalidity
                 for e in entries.values()]
        if stale:
            log.info("%s: UIDVALIDITY of %r changed; fetching the folder again", self.prefix, folder)
            if self.mirror_deletions:
                for entry in stale:
                    yield Removed(entry.origin)
        retry = sorted(uid for uid, e in current.items() if e.status == "failed" and e.transient)
        highest = max(current, default=0)
        changed = (st.uidnext > highest + 1 or st.messages > len(current)
                   or (self.mirror_deletions and st.messages != len(current)))
        if not changed and not retry:
            return None  # the common case: one STATUS round trip, nothing else
        try:
            present = session.call(search_all, folder=folder, uidvalidity=st.uidvalidity)
        except FolderChangedError:
            log.warning("%s: %r changed while syncing; it is synced next time", self.prefix, folder)
            return None
        if self.mirror_deletions:
            for uid in sorted(set(current) - set(present)):
                yield Removed(current[uid].origin)
        wanted = sorted((set(present) - set(current)) | (set(retry) & set(present)))
        return (folder, st.uidvalidity, wanted) if wanted else None

    def _fetch(self, session: ImapSession, folder: str, validity: int,
               uids: list[int]) -> Iterator[RawItem]:
        for start in range(0, len(uids), self.batch_size):
            batch = uids[start:start + self.batch_size]
            try:
                # A cut connection repeats the whole batch: nothing of it was yielded yet.
                messages = session.call(functools.partial(fetch, uids=batch), folder=folder,
                                        uidvalidity=validity)
            except FolderChangedError:
                log.warning("%s: %r changed while fetching; the rest comes next sync",
                            self.prefix, folder)
                return
            for msg in sorted(messages, key=lambda m: m.uid):
                if msg.uid not in batch:
                    continue
                hints: dict[str, Any] = {
                    "folder": folder,
                    "cursor": {"folder": folder, "uidvalidity": validity, "uid": msg.uid},
                }
                if msg.internaldate is not None:
                    hints["received_at"] = msg.internaldate
                yield RawItem(origin=self.origin(folder, validity, msg.uid),
                              name=f"{folder.replace('/', '_')}-{msg.uid}.eml", data=msg.data,
                              media_type=EML, size=len(msg.data), hints=hints)


def from_config(entry: Mapping[str, Any]) -> Source:
    """`[[source]] kind = "imap"`: host, username, password_env or password_file, folders,
    security (ssl | starttls | none), port, mirror_deletions."""
    name = str(entry["name"])
    for key in ("host", "username"):
        if not entry.get(key):
            raise KeyError(f"missing '{key}'")
    env = entry.get("password_env") or "HOMERAG_IMAP_PASSWORD"
    password = password_from(env=str(env), file=entry.get("password_file"), source=name)
    folders = entry.get("folders") or ["INBOX"]
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise TypeError("'folders' must be a list of folder names")
    return ImapSource(
        name, host=str(entry["host"]), username=str(entry["username"]), password=password,
        folders=folders, port=int(entry["port"]) if entry.get("port") else None,
        security=str(entry.get("security", "ssl")),
        mirror_deletions=bool(entry.get("mirror_deletions", False)),
    )


__all__ = ["ImapSource", "UpstreamError", "from_config", "parse_origin", "password_from"]
