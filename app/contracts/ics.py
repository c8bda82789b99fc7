"""Contract deadlines as an iCalendar feed (RFC 5545): one all-day event per last day to cancel
(and per contract that ends by itself), each with a display alarm a week before (pure).

Lines end in CRLF and are folded at 75 octets; text values escape backslash, semicolon, comma
and newlines; every event has a stable UID, so a calendar that subscribes updates its events
instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

PRODID = "-//homerag//contract deadlines//EN"
ALARM_BEFORE = "-P7D"


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    uid: str
    day: date
    summary: str
    description: str
    url: str | None = None


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line at 75 octets (continuations start with a space), never inside a
    UTF-8 sequence."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def calendar(events: Iterable[CalendarEvent], *, now: datetime,
             name: str = "Contract deadlines") -> str:
    """The VCALENDAR text; `now` (UTC) is every event's DTSTAMP."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text(name)}"]
    for e in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e.uid}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART;VALUE=DATE:{e.day.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(e.day + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{escape_text(e.summary)}",
            f"DESCRIPTION:{escape_text(e.description)}",
            "TRANSP:TRANSPARENT",
        ]
        if e.url:
            lines.append(f"URL:{e.url}")
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", f"TRIGGER:{ALARM_BEFORE}",
                  f"DESCRIPTION:{escape_text('In a week: ' + e.summary)}", "END:VALARM",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
