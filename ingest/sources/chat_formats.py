"""Readers of messenger exports (pure): WhatsApp text export, Telegram JSON, Signal JSON.

Each returns `Conversation`s of `ChatMessage`s with an aware time, the sender and the text.
WhatsApp writes local times without a zone and in the phone's date order; the order is inferred
from the whole file (a day above 12 settles it) and the zone is the owner's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class ChatMessage:
    time: datetime  # aware
    sender: str  # "" for system notices
    text: str


@dataclass
class Conversation:
    name: str
    platform: str  # whatsapp | telegram | signal
    messages: list[ChatMessage] = field(default_factory=list)


class NotAChatExportError(ValueError):
    """The file is not an export this module can read."""


# -- WhatsApp ---------------------------------------------------------------------------------
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_STAMP = (r"(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{2,4}),?\s+"
          r"(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[\s\u202f]?[APap]\.?\s?[Mm]\.?)?)")
_IOS = re.compile(rf"^\[{_STAMP}\]\s(?P<rest>.*)$")
_ANDROID = re.compile(rf"^{_STAMP}\s[-–]\s(?P<rest>.*)$")
_WA_NAME = re.compile(r"^(?:WhatsApp Chat (?:with|mit) |WhatsApp-Chat mit )(?P<name>.+?)(?:\.txt)?$")


def _date_order(dates: Iterable[str]) -> str:
    """'ymd', 'dmy' or 'mdy' for all date strings of one file."""
    parts = [re.split(r"[./-]", d) for d in dates]
    if parts and all(len(p[0]) == 4 for p in parts):
        return "ymd"
    if any(int(p[0]) > 12 for p in parts):
        return "dmy"
    if any(int(p[1]) > 12 for p in parts):
        return "mdy"
    first = next(iter(dates), "")
    return "dmy" if "." in first else "mdy"


def _wa_time(date_s: str, time_s: str, order: str, tz: ZoneInfo) -> datetime | None:
    p = [int(x) for x in re.split(r"[./-]", date_s)]
    year, month, day = {"ymd": (p[0], p[1], p[2]), "dmy": (p[2], p[1], p[0]),
                        "mdy": (p[2], p[0], p[1])}[order]
    if year < 100:
        year += 2000
    t = _BIDI.sub("", time_s).replace("\u202f", " ").strip()
    pm = re.search(r"[pP]\.?\s?[mM]", t) is not None
    am = re.search(r"[aA]\.?\s?[mM]", t) is not None
    nums = [int(x) for x in re.findall(r"\d+", t)]
    hour, minute, second = nums[0], nums[1], nums[2] if len(nums) > 2 else 0
    if pm and hour < 12:
        hour += 12
    if am and hour == 12:
        hour = 0
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None


def looks_like_whatsapp(text: str) -> bool:
    lines = [_BIDI.sub("", line) for line in text.splitlines()[:20] if line.strip()]
    hits = sum(1 for line in lines if _IOS.match(line) or _ANDROID.match(line))
    return bool(lines) and hits >= max(1, len(lines) // 3)


def read_whatsapp(text: str, *, name: str, tz: ZoneInfo) -> Conversation:
    """A WhatsApp "Export chat" text file (Android or iOS layout, any language)."""
    rows: list[tuple[str, str, list[str]]] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = _BIDI.sub("", raw)
        m = _IOS.match(line) or _ANDROID.match(line)
        if m:
            rows.append((m.group("date"), m.group("time"), [m.group("rest")]))
        elif rows:
            rows[-1][2].append(line)  # continuation of a multi-line message
    if not rows:
        raise NotAChatExportError("no WhatsApp message lines")
    order = _date_order(r[0] for r in rows)
    conv = Conversation(_wa_conversation_name(name), "whatsapp")
    for date_s, time_s, parts in rows:
        when = _wa_time(date_s, time_s, order, tz)
        if when is None:
            continue
        body = "\n".join(parts).strip()
        sender, sep, msg = body.partition(": ")
        if not sep or len(sender) > 80:
            sender, msg = "", body  # system notice ("Messages are end-to-end encrypted")
        conv.messages.append(ChatMessage(when, sender.strip(), msg.strip()))
    return conv


def _wa_conversation_name(name: str) -> str:
    stem = name.rsplit("/", 1)[-1]
    m = _WA_NAME.match(stem)
    if m:
        return m.group("name")
    return stem.removesuffix(".txt").strip("_ ") or "WhatsApp chat"


# -- JSON exports -----------------------------------------------------------------------------
def _text_of(value: Any) -> str:
    """Telegram text: a string or a list of strings and {type, text} entities."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(v if isinstance(v, str) else str(v.get("text", "")) for v in value
                       if isinstance(v, str | dict))
    return ""


def _time_of(msg: dict[str, Any], tz: ZoneInfo) -> datetime | None:
    for key in ("date_unixtime", "sent_at", "timestamp", "date", "time", "datetime"):
        value = msg.get(key)
        if value in (None, ""):
            continue
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 10**11 else value  # Signal counts milliseconds
            try:
                return datetime.fromtimestamp(seconds, UTC)
            except (OverflowError, OSError, ValueError):
                continue
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    return None


def _telegram_chat(chat: dict[str, Any], tz: ZoneInfo, fallback: str) -> Conversation:
    conv = Conversation(str(chat.get("name") or fallback), "telegram")
    for msg in chat.get("messages") or []:
        if not isinstance(msg, dict):
            continue
        when = _time_of(msg, tz)
        if when is None:
            continue
        text = _text_of(msg.get("text"))
        if not text and msg.get("media_type"):
            text = f"[{msg['media_type']}]"
        elif not text and (msg.get("photo") or msg.get("file")):
            text = "[photo]" if msg.get("photo") else f"[file {msg.get('file_name') or ''}]".strip()
        if msg.get("type") == "service":
            sender, text = "", text or str(msg.get("action") or "").replace("_", " ")
        else:
            sender = str(msg.get("from") or msg.get("actor") or "Deleted Account")
        if text.strip():
            conv.messages.append(ChatMessage(when, sender, text.strip()))
    return conv


def _signal(messages: list[Any], tz: ZoneInfo, fallback: str) -> list[Conversation]:
    convs: dict[str, Conversation] = {}
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        when = _time_of(msg, tz)
        text = _text_of(msg.get("body") if "body" in msg else msg.get("text", msg.get("message")))
        if when is None or not text.strip():
            continue
        name = str(msg.get("conversationName") or msg.get("conversation") or msg.get("chat")
                   or fallback)
        if msg.get("type") == "outgoing":
            sender = "Me"
        else:
            sender = str(msg.get("sender") or msg.get("from") or msg.get("author")
                         or msg.get("source") or msg.get("sourceName") or name)
        convs.setdefault(name, Conversation(name, "signal")).messages.append(
            ChatMessage(when, sender, text.strip()))
    return list(convs.values())


def read_json_export(data: str, *, name: str, tz: ZoneInfo) -> list[Conversation]:
    """Telegram (`result.json`, one chat or a full export) or Signal (JSON list/object/JSONL)."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    try:
        doc: Any = json.loads(data)
    except json.JSONDecodeError:
        try:  # JSON Lines (one message per line), as some Signal exporters write
            doc = [json.loads(line) for line in data.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise NotAChatExportError(f"not JSON ({exc.msg})") from None
    if isinstance(doc, dict) and isinstance(doc.get("chats"), dict):
        chats = doc["chats"].get("list") or []
        return [_telegram_chat(c, tz, stem) for c in chats if isinstance(c, dict)]
    if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
        msgs = doc["messages"]
        if any(isinstance(m, dict) and ("from" in m or "date_unixtime" in m) for m in msgs[:20]):
            return [_telegram_chat(doc, tz, stem)]
        return _signal(msgs, tz, str(doc.get("name") or stem))
    if isinstance(doc, list):
        return _signal(doc, tz, stem)
    raise NotAChatExportError("no messages found")
