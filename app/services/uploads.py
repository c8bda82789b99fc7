"""Use case: add documents from the browser. Files (and folders, their structure kept) are
streamed to disk into the *inbox*, a folder source under the data directory
(`<data dir>/inbox`), then the inbox is synced in the background (`app.services.jobs`) and each
uploaded file's outcome (indexed / failed with its one-line reason / skipped) can be polled.

Names are sanitised (no path traversal, no hidden or temporary names the folder scan would
ignore silently); every file is bounded by HOMERAG_MAX_UPLOAD_MB while it is written; a file is
only visible in the inbox once complete (written under `.uploading/`, then renamed); a name
that already holds different content gets " (2)" rather than replacing it.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from app.core.protocols import Source
    from app.services.jobs import Job
    from app.services.runtime import Runtime

INBOX_NAME = "inbox"
PARTIAL_DIR = ".uploading"  # hidden: the folder scan never reads a half-written file
MAX_PARTS = 16  # folder depth kept from an uploaded tree
MAX_PART_CHARS = 120
MAX_FILES_PER_BATCH = 5000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORBIDDEN = re.compile(r'[<>:"|?*]')  # not portable to other filesystems; replaced


def inbox_dir(rt: Runtime) -> Path:
    return (rt.settings.data_dir / INBOX_NAME).expanduser().resolve()


def inbox_source(rt: Runtime) -> Source:
    from ingest.sources.folder import FolderSource

    return FolderSource(INBOX_NAME, inbox_dir(rt))


def max_upload_bytes(rt: Runtime) -> int:
    return int(rt.settings.max_upload_mb * 1024 * 1024)


def safe_relpath(name: str) -> PurePosixPath:
    """The path an uploaded file gets under the inbox: folders kept, '..', absolute parts,
    drive letters and control characters dropped; a name the folder scan would skip
    (hidden, temporary) is refused with a one-line reason rather than ignored."""
    from fnmatch import fnmatch

    from ingest.sources.folder import DEFAULT_EXCLUDES

    raw = unicodedata.normalize("NFC", name or "").replace("\\", "/")
    parts: list[str] = []
    for part in raw.split("/"):
        part = _CONTROL.sub("", part).strip()
        if part in ("", ".", ".."):
            continue
        part = _FORBIDDEN.sub("_", part)
        if len(part) > MAX_PART_CHARS:  # keep the extension: it decides the parser
            _stem, dot, ext = part.rpartition(".")
            keep = ext[:16] if dot and len(ext) <= 16 else ""
            part = part[:MAX_PART_CHARS - len(keep) - 1].rstrip() + ("." + keep if keep else "")
        parts.append(part)
    if not parts:
        raise InvalidInputError(f"file name {name!r} is empty once cleaned")
    parts = parts[-MAX_PARTS:]
    for part in parts:
        if any(fnmatch(part, p) for p in DEFAULT_EXCLUDES):
            raise InvalidInputError(
                f"{'/'.join(parts)}: {part!r} is a hidden or temporary name the inbox ignores; "
                "rename it")
    return PurePosixPath(*parts)


@dataclass
class SavedFile:
    name: str  # the path under the inbox as saved (after sanitising and de-duplicating)
    origin: str  # the origin the index records for it
    size: int
    unchanged: bool = False  # the same content was already there under this name

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "origin": self.origin, "size": self.size,
                "unchanged": self.unchanged}


@dataclass
class Batch:
    """Files uploaded together (one drop or one form), ingested together."""

    id: str
    files: list[SavedFile] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    job_id: int | None = None


class UploadWriter:
    """One file being received: `write` chunks as they arrive, then `commit` (or `abort`).
    Nothing is kept in memory but the current chunk."""

    def __init__(self, rt: Runtime, relpath: PurePosixPath) -> None:
        self.inbox = inbox_dir(rt)
        self.relpath = relpath
        self.limit = max_upload_bytes(rt)
        self.limit_mb = rt.settings.max_upload_mb
        self.size = 0
        self.sha = hashlib.sha256()
        partial = self.inbox / PARTIAL_DIR
        partial.mkdir(parents=True, exist_ok=True)
        self.tmp = partial / f"{secrets.token_hex(8)}.part"
        self._fh = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit/abort

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.abort()
            raise InvalidInputError(
                f"{self.relpath}: larger than the upload limit of "
                f"{self.limit_mb:g} MB (HOMERAG_MAX_UPLOAD_MB)")
        self.sha.update(chunk)
        self._fh.write(chunk)

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.tmp.unlink(missing_ok=True)

    def commit(self) -> SavedFile:
        self._fh.close()
        if self.size == 0:
            self.tmp.unlink(missing_ok=True)
            raise InvalidInputError(f"{self.relpath}: the file is empty")
        target = self.inbox / self.relpath
        # Paranoia after sanitising: the target must stay inside the inbox.
        if not target.resolve().is_relative_to(self.inbox):
            self.tmp.unlink(missing_ok=True)
            raise InvalidInputError(f"{self.relpath}: not a path inside the inbox")
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = self.sha.hexdigest()
        n = 1
        while target.exists():
            if target.is_file() and _sha256(target) == digest:
                self.tmp.unlink(missing_ok=True)
                return SavedFile(self._name(target), str(target), self.size, unchanged=True)
            n += 1
            target = target.with_name(f"{self.relpath.stem} ({n}){self.relpath.suffix}")
        os.replace(self.tmp, target)
        return SavedFile(self._name(target), str(target), self.size)

    def _name(self, target: Path) -> str:
        return target.relative_to(self.inbox).as_posix()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- batches ---------------------------------------------------------------------------------------
def _batches(rt: Runtime) -> tuple[threading.Lock, dict[str, Batch]]:
    if "upload_batches" not in rt.extras:
        rt.extras.setdefault("upload_batches", (threading.Lock(), {}))
    return rt.extras["upload_batches"]  # type: ignore[no-any-return]


def new_batch(rt: Runtime) -> Batch:
    lock, batches = _batches(rt)
    batch = Batch(id=secrets.token_urlsafe(9))
    with lock:
        if len(batches) >= 200:  # bounded: forget the oldest
            for old in list(batches)[:len(batches) - 199]:
                del batches[old]
        batches[batch.id] = batch
    return batch


def get_batch(rt: Runtime, batch_id: str) -> Batch:
    lock, batches = _batches(rt)
    with lock:
        batch = batches.get(batch_id)
    if batch is None:
        raise NotFoundError(f"upload batch {batch_id!r} does not exist (the server restarted?)")
    return batch


def begin_upload(rt: Runtime, batch: Batch, name: str) -> UploadWriter:
    """A writer for one file of `batch` (its name as the browser gave it, folders included)."""
    if len(batch.files) + len(batch.errors) >= MAX_FILES_PER_BATCH:
        raise InvalidInputError(f"at most {MAX_FILES_PER_BATCH} files per upload")
    return UploadWriter(rt, safe_relpath(name))


def record_saved(batch: Batch, saved: SavedFile) -> None:
    batch.files.append(saved)


def record_error(batch: Batch, name: str, reason: str) -> None:
    batch.errors.append({"name": name, "reason": reason})


def ingest_batch(rt: Runtime, batch: Batch) -> Job:
    """Sync the inbox in the background, watching this batch's files (queued behind a sync of
    the inbox already running)."""
    from app.services.jobs import start_sync

    if batch.job_id is not None:
        from app.services.jobs import get_job

        return get_job(rt, batch.job_id)
    job = start_sync(rt, inbox_source(rt), kind="upload", wait=True,
                     watch=[f.origin for f in batch.files])
    batch.job_id = job.id
    return job


def batch_status(rt: Runtime, batch_id: str) -> dict[str, Any]:
    """What the upload page polls: each file's state (uploaded, then indexed / failed with its
    reason / skipped), the files refused before ingest, and the job's progress."""
    from app.services.jobs import get_job

    batch = get_batch(rt, batch_id)
    job = get_job(rt, batch.job_id) if batch.job_id is not None else None
    state = job.to_json() if job is not None else None
    by_origin = {f["origin"]: f for f in (state or {}).get("files", [])}
    files = []
    for f in batch.files:
        outcome = by_origin.get(f.origin, {"status": "uploaded"})
        if job is not None and job.finished and outcome.get("status") == "unchanged":
            outcome = {**outcome, "message": "already indexed (same content)"}
        files.append({**f.to_json(), **{k: v for k, v in outcome.items() if k != "origin"}})
    return {"batch": batch.id, "files": files, "refused": list(batch.errors),
            "job": state, "finished": job is not None and job.finished}
