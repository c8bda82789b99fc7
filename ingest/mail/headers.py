"""Header decoding for real-world mail: RFC 2047 words, raw 8-bit bytes, dates, Message-IDs (pure).

Values arrive as the stdlib parser keeps them (`compat32` raw strings, 8-bit bytes carried as
surrogate escapes). Nothing here raises on bad input: a header that cannot be understood decodes
to its best readable form or to None.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import quopri
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from ingest.mail.charsets import decode_bytes, normalise_charset

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
_FOLD = re.compile(r"\r?\n[ \t]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MSGID = re.compile(r"<([^<>\s]+)>")


def _decode_word(charset: str, encoding: str, payload: str) -> bytes:
    if encoding in "Bb":
        payload = payload.rstrip("=")
        payload += "=" * (-len(payload) % 4)
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return payload.encode("ascii", errors="replace")
    return quopri.decodestring(payload.replace("_", " ").encode("ascii", errors="replace"),
                               header=False)


def decode_encoded_words(text: str) -> str:
    """Decode RFC 2047 encoded words; adjacent words of one charset are joined before decoding
    because senders split multi-byte characters across words."""
    if "=?" not in text:
        return text
    text = _BETWEEN_WORDS.sub(r"\1\2", text)
    out: list[str] = []
    pos = 0
    pending: bytearray = bytearray()
    pending_charset: str | None = None

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(bytes(pending), pending_charset))
        pending = bytearray()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(text):
        if match.start() > pos:
            flush()
            out.append(text[pos : match.start()])
        charset = normalise_charset(match.group(1)) or match.group(1)
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending += _decode_word(charset, match.group(2), match.group(3))
        pos = match.end()
    flush()
    out.append(text[pos:])
    return "".join(out)


def decode_header(raw: str | None) -> str:
    """A header's human-readable text: unfolded, 8-bit bytes decoded, encoded words decoded."""
    if raw is None:
        return ""
    if not isinstance(raw, str):  # an email.header.Header from a library that built the message
        raw = str(raw)
    text = _FOLD.sub(" ", raw)
    if not text.isascii():
        text = decode_bytes(text.encode("utf-8", errors="surrogateescape"), None)
    text = decode_encoded_words(text)
    text = _CONTROL.sub("", text).replace("\r", " ").replace("\n", " ")
    return " ".join(text.split())


def parse_addresses(raw_values: Sequence[str]) -> list[str]:
    """Addresses of address headers as "Name <addr>" (or "addr"), in order, duplicates dropped."""
    decoded = [decode_header(v) for v in raw_values if v]
    result: list[str] = []
    seen: set[str] = set()
    for name, addr in email.utils.getaddresses(decoded):
        name = " ".join(name.split()).strip("\"' ")
        addr = addr.strip().strip("<>")
        if not addr and not name:
            continue
        if addr and "@" not in addr and not name:
            # A bare word (undisclosed-recipients:;) is a group label, not an address.
            continue
        key = (addr or name).lower()
        if key in seen:
            continue
        seen.add(key)
        result.append(f"{name} <{addr}>" if name and addr and name != addr else addr or name)
    return result


def normalise_message_id(raw: str | None) -> str | None:
    """`<local@domain>` with the domain lower-cased (servers rewrite its case); None if absent."""
    if not raw:
        return None
    text = decode_header(raw)
    match = _MSGID.search(text)
    value = match.group(1) if match else text.strip().strip("<>").split()[0] if text.strip() else ""
    if not value:
        return None
    local, at, domain = value.rpartition("@")
    if at:
        value = f"{local}@{domain.lower()}"
    return f"<{value}>"


def parse_message_ids(raw: str | None) -> list[str]:
    """Every Message-ID in a References / In-Reply-To header, normalised, in order."""
    if not raw:
        return []
    text = decode_header(raw)
    ids = [normalise_message_id(f"<{m}>") for m in _MSGID.findall(text)]
    if not ids and text.strip() and "@" in text:
        ids = [normalise_message_id(text)]
    out: list[str] = []
    for mid in ids:
        if mid and mid not in out:
            out.append(mid)
    return out


# Dates ------------------------------------------------------------------------------------------
_EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)


def _plausible(value: datetime, now: datetime) -> bool:
    return _EARLIEST <= value <= now + timedelta(days=2)


def parse_date(raw: str | None, *, now: datetime | None = None) -> datetime | None:
    """A Date-like header as an aware UTC datetime, or None when it is missing or nonsense.

    Tries RFC 5322 first, then a lenient parse (dateutil) of the usual deviations: missing
    weekday or zone, two-digit years, zone names, extra comments. A naive time is taken as UTC.
    """
    text = decode_header(raw).strip()
    if not text:
        return None
    now = now or datetime.now(UTC)
    value: datetime | None = None
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        value = None
    if value is None:
        value = _lenient_date(text)
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return value if _plausible(value, now) else None


def _lenient_date(text: str) -> datetime | None:
    from dateutil import parser as du_parser

    cleaned = re.sub(r"\([^)]*\)", " ", text)  # "(PST)", "(CET)" comments
    try:
        return du_parser.parse(cleaned, fuzzy=True)
    except (ValueError, OverflowError, TypeError, du_parser.ParserError):
        return None


def received_date(received_headers: Iterable[str], *, now: datetime | None = None) -> datetime | None:
    """The delivery time from the newest Received header (its part after the last ';')."""
    for raw in received_headers:
        text = decode_header(raw)
        if ";" not in text:
            continue
        value = parse_date(text.rsplit(";", 1)[1], now=now)
        if value is not None:
            return value
    return None
