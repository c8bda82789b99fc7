"""MaildirSource: every message of a maildir tree (Maildir++ `.Sub.Folder` or nested folders).

Disk I/O only. A message's origin is `<folder dir>#<unique name>`: the maildir key without the
`:2,FLAGS` info, so reading a mail (which renames it to `cur/...:2,S`) does not make it a new
item; its file's size and mtime feed the pipeline's stat shortcut (renames keep the mtime).
"""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core.protocols import LedgerEntry, Source
from app.core.types import RawItem, Removed
from ingest.sources.names import path_text

EML = "message/rfc822"
INBOX = "INBOX"


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def folder_label(root: Path, folder: Path) -> str:
    """INBOX for the root; `.Archive.2023` (Maildir++) and `Archive/2023` both → Archive/2023."""
    rel = folder.relative_to(root)
    if not rel.parts:
        return INBOX
    parts: list[str] = []
    for part in (path_text(p) for p in rel.parts):
        if part.startswith("."):
            parts.extend(p for p in part[1:].split(".") if p)
        else:
            parts.append(part)
    return "/".join(parts) or INBOX


def message_key(filename: str) -> str:
    """The unique part of a maildir file name (flags after ':2,' or '!2,' dropped)."""
    for sep in (mailbox.Maildir.colon, ":", "!"):
        if sep + "2," in filename:
            return filename.split(sep + "2,", 1)[0]
    return filename


def _delivery_time(key: str, mtime: float) -> float:
    head = key.split(".", 1)[0]
    return float(head) if head.isdigit() and 9 <= len(head) <= 11 else mtime


class MaildirSource:
    """All messages in a maildir tree; messages deleted on disk are removed from the index."""

    kind = "maildir"
    full_scan = True

    def __init__(self, name: str, root: Path, *, folders: Sequence[str] | None = None) -> None:
        self.name = name
        self.root = root.expanduser().resolve()
        self.folders = tuple(folders) if folders else None  # None: every folder

    def config(self) -> Mapping[str, Any]:
        return {"path": path_text(self.root), "folders": list(self.folders or [])}

    def _folder_dirs(self) -> list[tuple[Path, str]]:
        if not is_maildir(self.root):
            raise FileNotFoundError(f"{path_text(self.root)}: not a maildir "
                                    "(no cur/ and new/; not mounted?)")
        found: list[tuple[Path, str]] = []
        for dirpath, dirnames, _ in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if d not in ("cur", "new", "tmp"))
            if is_maildir(here):
                label = folder_label(self.root, here)
                if self.folders is None or label in self.folders:
                    found.append((here, label))
        return found

    def scan(self, known: Mapping[str, LedgerEntry]) -> Iterator[RawItem | Removed]:
        listing = [item for folder_dir, label in self._folder_dirs()
                   for item in self._list(folder_dir, label)]
        # Removals first: a message moved to another folder is then indexed there at once
        # instead of being skipped as a duplicate of the copy that is about to go.
        present = {item.origin for item in listing}
        for origin in sorted(set(known) - present):
            yield Removed(origin)
        yield from listing

    def _list(self, folder_dir: Path, label: str) -> Iterator[RawItem]:
        seen: set[str] = set()
        for sub in ("cur", "new"):
            try:
                entries = sorted(os.scandir(folder_dir / sub), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                    continue
                key = path_text(message_key(entry.name))
                origin = f"{path_text(folder_dir)}#{key}"
                if origin in seen:
                    continue  # caught mid-move between new/ and cur/
                seen.add(origin)
                st = entry.stat(follow_symlinks=False)
                yield RawItem(
                    origin=origin, name=f"{key}.eml", path=Path(entry.path), media_type=EML,
                    size=st.st_size, mtime=st.st_mtime,
                    hints={"folder": label, "received_at": _delivery_time(key, st.st_mtime)},
                )


def from_config(entry: Mapping[str, Any]) -> Source:
    """`[[source]] kind = "maildir"`: name, path (the maildir root), optional folders list."""
    if "path" not in entry:
        raise KeyError("missing 'path'")
    folders = entry.get("folders")
    return MaildirSource(str(entry["name"]), Path(str(entry["path"])),
                         folders=list(folders) if folders else None)
