"""FolderSource (a directory tree, deletions synced) and FilesSource (explicit files). Disk I/O."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core.protocols import LedgerEntry
from app.core.types import RawItem, Removed
from ingest.sources.names import path_text

# Editor droppings, partial downloads and OS metadata are never documents.
DEFAULT_EXCLUDES = (
    ".*", "~$*", "*~", "*.tmp", "*.part", "*.crdownload", "*.swp", "Thumbs.db", "desktop.ini",
)


def _excluded(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _item(path: Path, st: os.stat_result) -> RawItem:
    # A name that is not UTF-8 is indexed under an escaped origin; the real path reads it.
    return RawItem(origin=path_text(path), name=path_text(path.name), path=path,
                   size=st.st_size, mtime=st.st_mtime)


class FolderSource:
    """Every file below `root` (recursively). Files that disappear are removed from the index."""

    kind = "folder"
    full_scan = True

    def __init__(self, name: str, root: Path, *, include: Sequence[str] = ("*",),
                 exclude: Sequence[str] = DEFAULT_EXCLUDES, follow_symlinks: bool = False) -> None:
        self.name = name
        self.root = root.expanduser().resolve()
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.follow_symlinks = follow_symlinks

    def config(self) -> Mapping[str, Any]:
        return {"path": path_text(self.root), "include": list(self.include),
                "exclude": list(self.exclude)}

    def scan(self, known: Mapping[str, LedgerEntry]) -> Iterator[RawItem | Removed]:
        if not self.root.is_dir():
            # A vanished or unmounted folder must not be read as "everything was deleted".
            raise FileNotFoundError(f"{path_text(self.root)}: folder not found (not mounted?)")
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=self.follow_symlinks):
            dirnames[:] = sorted(d for d in dirnames if not _excluded(d, self.exclude))
            for fname in sorted(filenames):
                if _excluded(fname, self.exclude) or not any(
                    fnmatch.fnmatch(fname, p) for p in self.include
                ):
                    continue
                path = Path(dirpath) / fname
                try:
                    st = path.stat() if self.follow_symlinks else path.lstat()
                except OSError:
                    continue
                if not path.is_file() or (path.is_symlink() and not self.follow_symlinks):
                    continue
                yield _item(path, st)


class FilesSource:
    """Explicitly named files. Nothing is removed when a file is not named again."""

    kind = "files"
    full_scan = False

    def __init__(self, paths: Sequence[Path], name: str = "files") -> None:
        self.name = name
        self.paths = [p.expanduser().resolve() for p in paths]

    def config(self) -> Mapping[str, Any]:
        return {}

    def scan(self, known: Mapping[str, LedgerEntry]) -> Iterator[RawItem | Removed]:
        for path in self.paths:
            try:
                st = path.stat()
            except OSError as exc:
                raise FileNotFoundError(f"{path_text(path)}: {exc.strerror or 'cannot read'}") from exc
            yield _item(path, st)
