"""ChatSource: messenger exports (WhatsApp text, Telegram JSON, Signal JSON) as one item per
conversation and day (disk I/O; the readers are in chat_formats.py).

An item's bytes are a small JSON document of that day's messages (media type
`application/x-homerag-chat+json`, parsed by `ingest.parsers.chat`). Its origin is
`<export file>#<conversation>/<YYYY-MM-DD>`, so re-exporting a chat re-indexes only the days
whose messages changed (the item's `mtime` is a CRC-32 of its bytes, a version stamp).
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.errors import ConfigError
from app.core.protocols import LedgerEntry, Source
from app.core.types import RawItem, Removed
from ingest.sources.chat_formats import (
    Conversation,
    NotAChatExportError,
    looks_like_whatsapp,
    read_json_export,
    read_whatsapp,
)
from ingest.sources.names import path_text, regular_files

log = logging.getLogger(__name__)
CHAT_MEDIA_TYPE = "application/x-homerag-chat+json"
_SUFFIXES = (".txt", ".json", ".jsonl")


def read_export(path: Path, *, tz: ZoneInfo) -> list[Conversation]:
    """Conversations of one export file. Raises NotAChatExportError for other files."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    if path.suffix.lower() == ".txt":
        if not looks_like_whatsapp(text):
            raise NotAChatExportError("not a WhatsApp chat export")
        return [read_whatsapp(text, name=path_text(path.name), tz=tz)]
    return read_json_export(text, name=path_text(path.name), tz=tz)


def day_payloads(conv: Conversation, tz: ZoneInfo) -> dict[str, bytes]:
    """The conversation split by local day: {"YYYY-MM-DD": JSON bytes}."""
    days: dict[str, list[dict[str, str]]] = defaultdict(list)
    for msg in sorted(conv.messages, key=lambda m: m.time):
        local = msg.time.astimezone(tz)
        days[local.date().isoformat()].append(
            {"time": local.isoformat(), "sender": msg.sender, "text": msg.text})
    return {
        day: json.dumps({"conversation": conv.name, "platform": conv.platform, "day": day,
                         "messages": msgs}, ensure_ascii=False, sort_keys=True).encode("utf-8")
        for day, msgs in days.items()
    }


class ChatSource:
    """Every chat export file at `path` (a file or a folder); vanished days are removed."""

    kind = "chat"
    full_scan = True

    def __init__(self, name: str, path: Path, *, timezone: str = "UTC") -> None:
        self.name = name
        self.path = path.expanduser().resolve()
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"source {name!r}: unknown time zone {timezone!r}") from exc
        self.timezone = timezone

    def config(self) -> Mapping[str, Any]:
        return {"path": path_text(self.path), "timezone": self.timezone}

    def _files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if not self.path.is_dir():
            raise FileNotFoundError(f"{path_text(self.path)}: chat export not found "
                                    "(not mounted?)")
        # Links are not followed: one pointing outside would index files from elsewhere.
        return list(regular_files(self.path, keep=lambda name: not name.startswith(".")
                                  and Path(name).suffix.lower() in _SUFFIXES))

    def scan(self, known: Mapping[str, LedgerEntry]) -> Iterator[RawItem | Removed]:
        for file in self._files():
            try:
                conversations = read_export(file, tz=self.tz)
            except (NotAChatExportError, OSError, ValueError, RecursionError) as exc:
                log.info("%s: skipped (%s)", path_text(file), str(exc)[:200])
                continue
            where = path_text(file)
            for conv in conversations:
                safe = re.sub(r"[#/\\\x00-\x1f]", "_", conv.name).strip()[:100] or "chat"
                for day, data in day_payloads(conv, self.tz).items():
                    yield RawItem(origin=f"{where}#{safe}/{day}", name=f"{safe} {day}.chat",
                                  data=data, media_type=CHAT_MEDIA_TYPE, size=len(data),
                                  mtime=float(zlib.crc32(data)),
                                  hints={"conversation": conv.name, "platform": conv.platform})


def from_config(entry: Mapping[str, Any]) -> Source:
    """`[[source]] kind = "chat"`: name, path (export file or folder), timezone."""
    if "path" not in entry:
        raise KeyError("missing 'path'")
    return ChatSource(str(entry["name"]), Path(str(entry["path"])),
                      timezone=str(entry.get("timezone", "UTC")))


def recognise_chat_path(path: Path) -> Source | None:
    """A CLI path that is a chat export file (WhatsApp `*.txt`, Telegram `result.json`)."""
    if not path.is_file() or path.suffix.lower() not in _SUFFIXES:
        return None
    try:
        read_export(path, tz=ZoneInfo("UTC"))
    except (NotAChatExportError, OSError, UnicodeError):
        return None
    return ChatSource(str(path), path)
