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
from ingest.parsers.common import display_name

CHAT_MEDIA_TYPE = "application/x-homerag-chat+json"
PLATFORMS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "signal": "Signal"}


class ChatParser:
    name = "chat"
    version = "1"

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
        heading = f"{conversation} — {day}"
        blocks: list[TextBlock] = []
        senders: list[str] = []
        first: datetime | None = None
        for msg in messages:
            when = datetime.fromisoformat(msg["time"])
            first = first or when
            sender = str(msg.get("sender") or "")
            if sender and sender not in senders:
                senders.append(sender)
            prefix = f"{when:%H:%M} {sender}: " if sender else f"{when:%H:%M} "
            blocks.append(TextBlock(text=prefix + str(msg.get("text", "")), heading=heading,
                                    meta={"sender": sender, "time": msg["time"]}))
        platform = str(doc.get("platform") or "chat")
        return ParsedDocument(
            blocks=blocks, title=f"{PLATFORMS.get(platform, platform)}: {heading}", kind="message",
            occurred_at=first,
            metadata={"conversation": conversation, "platform": platform, "day": day,
                      "participants": senders, "messages": len(messages)},
        )
