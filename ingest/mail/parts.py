"""Reading one MIME part without trusting it: type, charset, payload, disposition, file name
(pure). The stdlib raises on many malformed declarations; each helper falls back instead.
"""

from __future__ import annotations

import email.message
import re

from ingest.mail.headers import decode_header
from ingest.mail.structure import OMITTED_MARK

BAD_FILENAME_CHARS = re.compile(r"[\x00-\x1f\x7f#/\\]")


def content_type(part: email.message.Message) -> str:
    try:
        ctype = part.get_content_type()
    except (ValueError, TypeError, AttributeError):
        return "text/plain"
    return ctype if "/" in ctype else "text/plain"


def charset_of(part: email.message.Message) -> str | None:
    try:
        value = part.get_content_charset()
    except (ValueError, TypeError, LookupError, AttributeError):
        return None
    return value or None


def payload_bytes(part: email.message.Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("ascii", errors="surrogateescape")
    return b""


def disposition_of(part: email.message.Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except (ValueError, TypeError, AttributeError):
        return ""


def filename(part: email.message.Message) -> str:
    source = part
    raw = [v for k, v in part.raw_items() if k.lower() in ("content-disposition", "content-type")]
    if any(not v.isascii() for v in raw):
        # Raw 8-bit bytes in a parameter (Yahoo's UTF-8 names): the stdlib would turn each byte
        # into U+FFFD, so decode the header ourselves and read the parameter from that.
        source = email.message.Message()
        for key, value in part.raw_items():
            if key.lower() in ("content-disposition", "content-type"):
                source[key] = decode_header(value)
    try:
        name = source.get_filename()
    except (ValueError, TypeError, LookupError, AttributeError):
        name = None
    if not name:
        return ""
    name = decode_header(name)
    stem, dot, ext = name.rpartition(".")
    if name.count("\ufffd") * 2 > len(stem or name):
        return f"attachment{dot}{ext}" if dot and len(ext) < 10 else ""  # bytes already lost
    name = name.replace("\ufffd", "")  # a few damaged bytes (a name cut mid-character)
    name = re.split(r"[/\\]", name)[-1]
    name = BAD_FILENAME_CHARS.sub("_", name).strip().strip(".") or ""
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 140 - len(ext)] + dot + ext) if dot and len(ext) < 10 else name[:150]
    return name


def omitted_size(part: email.message.Message) -> int:
    """The size estimate of a body `parse_mail` cut out, else 0."""
    raw = part.get_payload()
    if isinstance(raw, str) and raw.startswith(OMITTED_MARK):
        digits = raw[len(OMITTED_MARK) :].strip()
        return int(digits) if digits.isdigit() else 1
    return 0
