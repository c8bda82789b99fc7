"""Content-addressed copies of ingested originals, so citations open even if the source moves."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def blob_relpath(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}"


def store_original(root: Path, sha256: str, data: bytes) -> str:
    """Write `data` under its hash (atomically, once) and return the relative path."""
    rel = blob_relpath(sha256)
    target = root / rel
    if target.exists() and target.stat().st_size == len(data):
        return rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel


def open_original(root: Path, rel: str) -> Path:
    """The stored copy for a relative blob path (raises FileNotFoundError if missing)."""
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise FileNotFoundError(rel)
    if not path.is_file():
        raise FileNotFoundError(rel)
    return path
