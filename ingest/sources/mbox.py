"""MboxSource: messages of one mbox file or of every mbox file below a folder (stdlib mailbox).

Disk I/O only; parsing is the email parser's job. Each message's origin is `<file>#<Message-ID>`
(or `<file>#sha256=<prefix>` without one), stable when other messages are added or deleted.
Its `mtime` is a CRC-32 of the message bytes: a version stamp that lets the pipeline's stat
shortcut skip unchanged messages without hashing or a ledger write, even though appending one
message changes the file's own mtime.
"""

from __future__ import annotations

import email.utils
import mailbox
import re
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from app.core.protocols import LedgerEntry, Source
from app.core.types import RawItem, Removed, sha256_hex
from ingest.mail.headers import normalise_message_id
from ingest.sources.names import path_text, regular_files

EML = "message/rfc822"
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def looks_like_mbox(path: Path) -> bool:
    """A regular file that starts with an mbox "From " separator line."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        return False
    return head.startswith(b"From ") and b"\n" in head


def message_id_of(data: bytes) -> str | None:
    """The normalised Message-ID from a message's header block (cheap: no full parse)."""
    end = _HEADER_END.search(data)
    match = _MESSAGE_ID.search(data[: end.start() if end else 65536])
    if match is None:
        return None
    return normalise_message_id(match.group(1).decode("ascii", errors="surrogateescape"))


def _from_line_time(line: bytes) -> float | None:
    """The delivery time on an mbox "From sender date" line, as a POSIX timestamp."""
    parts = line.decode("ascii", errors="replace").split(None, 2)
    if len(parts) < 3:
        return None
    parsed = email.utils.parsedate_tz(parts[2])
    if parsed is None:
        return None
    try:
        return float(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None


class MboxSource:
    """Every message of the mbox file(s) at `path`; messages that vanish are removed."""

    kind = "mbox"
    full_scan = True

    def __init__(self, name: str, path: Path, *, folder: str | None = None) -> None:
        self.name = name
        self.path = path.expanduser().resolve()
        self.folder = folder

    def config(self) -> Mapping[str, Any]:
        return {"path": path_text(self.path), "folder": self.folder}

    def _files(self) -> list[tuple[Path, str]]:
        if self.path.is_file():
            return [(self.path, self.folder or path_text(self.path.stem))]
        if not self.path.is_dir():
            raise FileNotFoundError(f"{path_text(self.path)}: mbox file or folder not found "
                                    "(not mounted?)")
        files = []
        # Links are not followed: one pointing outside would index mail from elsewhere.
        for file in regular_files(self.path, keep=lambda name: not name.startswith(".")):
            if not looks_like_mbox(file):
                continue  # Thunderbird's .msf indexes and other companions
            label = path_text(file.relative_to(self.path).with_suffix("")).replace("\\", "/")
            files.append((file, f"{self.folder}/{label}" if self.folder else label))
        return files

    def scan(self, known: Mapping[str, LedgerEntry]) -> Iterator[RawItem | Removed]:
        for file, folder in self._files():
            yield from self._scan_file(file, folder)

    def _scan_file(self, file: Path, folder: str) -> Iterator[RawItem]:
        box = mailbox.mbox(file, create=False)
        seen: set[str] = set()
        try:
            for index, key in enumerate(box.iterkeys(), start=1):
                # Read through the file proxy: get_bytes() holds two copies of a large message.
                with box.get_file(key, from_=True) as fh:
                    from_line = fh.readline()
                    data = fh.read()
                mid = message_id_of(data)
                if mid and len(mid) > 500:
                    mid = None  # a forged, endless Message-ID is no usable origin
                where = path_text(file)
                origin = f"{where}#{mid}" if mid else f"{where}#sha256={sha256_hex(data)[:16]}"
                if origin in seen:
                    continue  # the same message stored twice in one file
                seen.add(origin)
                hints: dict[str, Any] = {"folder": folder}
                received = _from_line_time(from_line)
                if received is not None:
                    hints["received_at"] = received
                yield RawItem(origin=origin, name=f"{path_text(file.stem)}-{index}.eml", data=data,
                              media_type=EML, size=len(data), mtime=float(zlib.crc32(data)),
                              hints=hints)
        finally:
            box.close()


def from_config(entry: Mapping[str, Any]) -> Source:
    """`[[source]] kind = "mbox"`: name, path (a file or a folder of mbox files), folder."""
    if "path" not in entry:
        raise KeyError("missing 'path'")
    return MboxSource(str(entry["name"]), Path(str(entry["path"])), folder=entry.get("folder"))


def recognise_mail_path(path: Path) -> Source | None:
    """A CLI path that is a mail store: a maildir (cur/ and new/) or an mbox file."""
    if path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir():
        from ingest.sources.maildir import MaildirSource

        return MaildirSource(str(path), path)
    if path.is_file() and path.suffix.lower() in ("", ".mbox", ".mbx") and looks_like_mbox(path):
        return MboxSource(str(path), path)
    return None
