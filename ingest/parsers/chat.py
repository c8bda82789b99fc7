"""Parser of one conversation-day of a messenger export (the JSON ChatSource writes; pure).

One block per message, "HH:MM Sender: text", so every chunk and citation carries who wrote
what and when; the document is kind "message", dated by its first message.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.core.errors import CorruptDocumentError, EmptyDocumentError
from app.core.types import ParsedDocument, ParseInput, TextBlock
from ingest.limits import Limits, WithLimits, clip, clip_metadata
from ingest.parsers.common import display_name

CHAT_MEDIA_TYPE = "application/x-homerag-chat+json"
PLATFORMS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "signal": "Signal"}


class ChatParser(WithLimits):
    name = "chat"
    version = "1"

    def __init__(self, *, limits: Limits | None = None) -> None:
        self._limits = limits

    def score(self, inp: ParseInput) -> int | None:
        return 20 if inp.media_type == CHAT_MEDIA_TYPE else None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        name = display_name(inp)
        try:
            doc: dict[str, Any] = json.loads(inp.data.decode("utf-8"))
            messages = list(doc["messages"])
            conversation, day = str(doc["conversation"]), str(doc["day"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorruptDocumentError(f"{name}: not a homerag chat day ({exc})") from exc
        if not messages:
            raise EmptyDocumentError(f"{name}: no messages")
        limits = self.limits
        conversation, day = clip(conversation, 120), clip(day, 40)
        heading = clip(f"{conversation} — {day}", limits.max_title_chars)
        blocks: list[TextBlock] = []
        senders: list[str] = []
        first: datetime | None = None
        for msg in messages:
            try:
                when = datetime.fromisoformat(msg["time"])
            except (KeyError, TypeError, ValueError) as exc:
                raise CorruptDocumentError(f"{name}: a message without a readable time "
                                           f"({type(exc).__name__})") from exc
            first = first or when
            sender = clip(str(msg.get("sender") or ""), 200)
            if sender and sender not in senders:
                senders.append(sender)
            prefix = f"{when:%H:%M} {sender}: " if sender else f"{when:%H:%M} "
            blocks.append(TextBlock(text=prefix + str(msg.get("text", "")), heading=heading,
                                    meta={"sender": sender, "time": msg["time"]}))
        platform = clip(str(doc.get("platform") or "chat"), 40)
        return ParsedDocument(
            blocks=blocks, title=f"{PLATFORMS.get(platform, platform)}: {heading}", kind="message",
            occurred_at=first,
            metadata=clip_metadata({"conversation": conversation, "platform": platform,
                                    "day": day, "participants": senders,
                                    "messages": len(messages)}, limits),
        )
