"""Use cases: the sync ledger (per source: settings without secrets, counts, last run,
problems; per item: last seen hash or IMAP position, status, reason), adding a folder or a
mail account to the owner's sources.toml, syncing one source now and retrying one failed item
(both in the background, `app.services.jobs`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from app.core.errors import InvalidInputError, NotFoundError
from app.core.models import Source, SourceItem

if TYPE_CHECKING:
    from app.services.runtime import Runtime


def list_sources(rt: Runtime) -> dict[str, Any]:
    """Every source with its ledger summary (the `homerag status` data) and its settings."""
    from app.services.status import index_status

    with rt.db.session() as session:
        status = index_status(session)
        configs = {s.name: (s.id, s.config, s.sync_interval_s, s.enabled)
                   for s in session.scalars(select(Source))}
    for src in status["sources"]:
        sid, config, interval, enabled = configs.get(src["name"], (None, {}, None, True))
        src.update(id=sid, config=config, sync_interval_s=interval, enabled=enabled)
    return {"embedder": status["embedder"], "documents": status["documents"],
            "chunks": status["chunks"], "sources": status["sources"]}


def source_items(rt: Runtime, name: str, *, status: str | None = None, q: str | None = None,
                 limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """One source's ledger, item by item, filtered by status and origin text."""
    with rt.db.session() as session:
        src = session.scalar(select(Source).where(Source.name == name))
        if src is None:
            raise NotFoundError(f"no source named {name!r}")
        query = select(SourceItem).where(SourceItem.source_id == src.id)
        if status:
            query = query.where(SourceItem.status == status)
        if q:
            query = query.where(SourceItem.origin.ilike(f"%{_escape_like(q)}%", escape="\\"))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(SourceItem.origin).limit(limit).offset(offset))
        return {
            "source": name, "kind": src.kind, "total": total, "limit": limit, "offset": offset,
            "items": [_item_json(r) for r in rows],
        }


def _item_json(row: SourceItem) -> dict[str, Any]:
    return {
        "origin": row.origin, "status": row.status, "code": row.code, "reason": row.message,
        "transient": row.transient, "sha256": row.sha256, "size_bytes": row.size_bytes,
        "cursor": row.cursor or {}, "document_id": row.document_id,
        "chunk_count": row.chunk_count,
        "duration_ms": round(row.duration_ms, 1) if row.duration_ms is not None else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- adding sources (the owner's sources.toml) -----------------------------------------------------
MAIL_KINDS = ("imap", "mbox", "maildir")
SECURITIES = ("ssl", "starttls", "none")
MAX_NAME = 200


def _check_name(rt: Runtime, name: str) -> str:
    from app.services.sync import configured_sources
    from app.services.uploads import INBOX_NAME

    name = " ".join((name or "").split())
    if not name:
        raise InvalidInputError("name: give the source a name")
    if len(name) > MAX_NAME:
        raise InvalidInputError(f"name: at most {MAX_NAME} characters")
    if name == INBOX_NAME:
        raise InvalidInputError(f"name: {INBOX_NAME!r} is the upload inbox; choose another name")
    if name in configured_sources(rt.settings):
        raise InvalidInputError(f"name: a source named {name!r} already exists")
    return name


def _append_entry(rt: Runtime, entry: dict[str, Any]) -> dict[str, Any]:
    """Append one [[source]] table to the sources file (comments and the other entries stay as
    they are), after checking that the whole file still loads; atomic."""
    from app.core.errors import ConfigError
    from app.services.toml_write import table_toml, write_checked
    from ingest.sources import load_sources

    path = rt.settings.resolved_sources_file
    old = path.read_text(encoding="utf-8") if path.exists() else (
        "# homerag sources (see config/sources.toml.example); entries below were added from "
        "the web.\n")
    new = old + ("" if old.endswith("\n") else "\n") + "\n" + table_toml("source", entry)

    def check(tmp: Path) -> None:
        try:
            load_sources(tmp)
        except ConfigError as exc:
            raise InvalidInputError(str(exc).replace(str(tmp), str(path))) from exc

    write_checked(path, new, check)
    return {"name": entry["name"], "kind": entry["kind"], "file": str(path)}


def add_folder_source(rt: Runtime, *, name: str, path: str,
                      interval_hours: float | None = None) -> dict[str, Any]:
    """Add a folder (scanned recursively) to the owner's sources file."""
    name = _check_name(rt, name)
    folder = Path((path or "").strip()).expanduser()
    if not str(path or "").strip():
        raise InvalidInputError("path: give the folder's path")
    if not folder.is_absolute():
        raise InvalidInputError(f"path: {path!r} is not an absolute path")
    if not folder.is_dir():
        raise InvalidInputError(f"path: {folder} is not a folder this server can read")
    return _append_entry(rt, {"name": name, "kind": "folder", "path": str(folder.resolve()),
                              "interval_hours": _interval(interval_hours)})


def add_mail_source(rt: Runtime, *, name: str, kind: str, host: str | None = None,
                    username: str | None = None, password: str | None = None,
                    password_file: str | None = None, security: str = "ssl",
                    folders: list[str] | None = None, path: str | None = None,
                    interval_hours: float | None = None) -> dict[str, Any]:
    """Add a mail account (IMAP) or a local mail store (mbox, maildir) to the sources file.

    An IMAP password typed in is written to its own file under `<data dir>/secrets/` (mode
    0600) and the entry names that file: the password never goes into sources.toml."""
    name = _check_name(rt, name)
    if kind not in MAIL_KINDS:
        raise InvalidInputError(f"kind must be one of {', '.join(MAIL_KINDS)}, not {kind!r}")
    clean_folders = [f.strip() for f in (folders or []) if f.strip()] or None
    if kind in ("mbox", "maildir"):
        store = Path((path or "").strip()).expanduser()
        if not str(path or "").strip() or not store.exists():
            raise InvalidInputError(f"path: {path or '(empty)'} does not exist on this server")
        return _append_entry(rt, {"name": name, "kind": kind, "path": str(store.resolve()),
                                  "folders": clean_folders if kind == "maildir" else None,
                                  "interval_hours": _interval(interval_hours)})
    host = (host or "").strip()
    username = (username or "").strip()
    if not host:
        raise InvalidInputError("host: give the IMAP server's name")
    if not username:
        raise InvalidInputError("username: give the account's user name")
    if security not in SECURITIES:
        raise InvalidInputError(f"security must be one of {', '.join(SECURITIES)}")
    secret_ref = (password_file or "").strip()
    if password:
        secret_ref = str(_write_secret(rt, name, password))
    elif not secret_ref:
        raise InvalidInputError("password: type the (app) password or name a password file")
    elif not Path(secret_ref).expanduser().is_file():
        raise InvalidInputError(f"password_file: {secret_ref} is not a file this server can read")
    return _append_entry(rt, {"name": name, "kind": "imap", "host": host, "username": username,
                              "security": security, "password_file": secret_ref,
                              "folders": clean_folders,
                              "interval_hours": _interval(interval_hours)})


def _interval(hours: float | None) -> float | None:
    if hours is None:
        return None
    if not 0 < hours <= 24 * 30:
        raise InvalidInputError("interval_hours must be between 0 and 720")
    return float(hours)


def _write_secret(rt: Runtime, name: str, password: str) -> Path:
    import os
    import re

    secrets_dir = rt.settings.data_dir / "secrets"
    secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "imap"
    path = secrets_dir / f"imap-{slug}.password"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password.strip() + "\n")
    os.chmod(path, 0o600)
    return path


# -- syncing from the web --------------------------------------------------------------------------
def source_for_name(rt: Runtime, name: str) -> Any:
    """The Source to sync for `name`: a configured one, the upload inbox, or a folder that
    was ingested by path (rebuilt from its stored settings)."""
    from app.services.sync import configured_sources
    from app.services.uploads import INBOX_NAME, inbox_source

    configured = configured_sources(rt.settings)
    if name in configured:
        return configured[name].source
    if name == INBOX_NAME:
        return inbox_source(rt)
    with rt.db.session() as session:
        row = session.scalar(select(Source).where(Source.name == name))
        kind, config = (row.kind, dict(row.config or {})) if row is not None else (None, {})
    if kind == "folder" and config.get("path"):
        from ingest.sources.folder import FolderSource

        return FolderSource(name, Path(config["path"]),
                            include=config.get("include") or ["*"],
                            exclude=config.get("exclude") or [".*"])
    if kind is None:
        raise NotFoundError(f"no source named {name!r}")
    raise InvalidInputError(f"source {name!r} ({kind}) is not in sources.toml; sync it with "
                            "`homerag ingest PATH`")


def sync_now(rt: Runtime, name: str) -> Any:
    """Start syncing one source in the background (BusyError when it is already syncing)."""
    from app.services.jobs import start_sync

    return start_sync(rt, source_for_name(rt, name), kind="sync")


class _OneItem:
    """A source narrowed to one origin: the pipeline sees only that item, removes nothing."""

    full_scan = False

    def __init__(self, inner: Any, origin: str) -> None:
        self.inner, self.origin = inner, origin
        self.name, self.kind = inner.name, inner.kind

    def config(self) -> Any:
        return self.inner.config()

    def scan(self, known: Any) -> Any:
        from app.core.types import Removed

        for event in self.inner.scan(known):
            if not isinstance(event, Removed) and event.origin == self.origin:
                yield event
                return


def retry_item(rt: Runtime, name: str, origin: str) -> Any:
    """Ingest one failed or skipped item of a source again (in the background)."""
    from app.services.jobs import start_sync

    with rt.db.session() as session:
        item = session.scalar(
            select(SourceItem).join(Source, Source.id == SourceItem.source_id)
            .where(Source.name == name, SourceItem.origin == origin))
        if item is None:
            raise NotFoundError(f"{origin}: not an item of source {name!r}")
        if item.status == "indexed":
            raise InvalidInputError(f"{origin}: already indexed; nothing to retry")
    return start_sync(rt, _OneItem(source_for_name(rt, name), origin), kind="retry",
                      retry_failed=True, watch=[origin])


def sources_overview(rt: Runtime) -> dict[str, Any]:
    """The sources page: every configured source (synced or not yet), the inbox and any other
    source in the index, each with its ledger summary and the background job running for it.
    A broken sources file is reported, not raised, so the page still lists the index."""
    from app.core.errors import ConfigError
    from app.services.jobs import running_job
    from app.services.sync import configured_sources
    from app.services.uploads import INBOX_NAME

    listing = list_sources(rt)
    try:
        configured = configured_sources(rt.settings)
        config_error = None
    except ConfigError as exc:
        configured, config_error = {}, str(exc)
    by_name = {s["name"]: s for s in listing["sources"]}
    rows = []
    for name, c in configured.items():
        row = by_name.pop(name, None) or {"name": name, "kind": c.source.kind, "indexed": 0,
                                          "failed": 0, "skipped": 0, "failed_inside": 0,
                                          "chunks": 0, "last_sync_at": None, "last_run": None,
                                          "problem_count": 0, "problems": []}
        rows.append({**row, "configured": True, "enabled": c.enabled,
                     "interval_hours": c.interval_hours,
                     "settings": _public_settings(dict(c.source.config()))})
    for name, row in by_name.items():
        rows.append({**row, "configured": name == INBOX_NAME, "enabled": True,
                     "interval_hours": None, "settings": _public_settings(row.get("config") or {})})
    for row in rows:
        job = running_job(rt, row["name"])
        row["job"] = job.to_json() if job is not None else None
    return {"sources": rows, "file": str(rt.settings.resolved_sources_file),
            "config_error": config_error, "documents": listing["documents"]}


def _public_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Settings fit to show: never a password (the sources never store one; belt and braces)."""
    return {k: v for k, v in config.items() if "password" not in k and "secret" not in k}
