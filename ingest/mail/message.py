"""Parse one RFC 5322 message (bytes) into headers, body segments and attachments (pure).

Built on the stdlib parser with the `compat32` policy, which never raises on broken input and
keeps raw header bytes; decoding is ours (see headers.py, charsets.py). The body walk follows
what mail clients show: the best alternative of each multipart/alternative, every inline text
part of a multipart/mixed, the root of a multipart/related; everything else with a file name or
an attachment disposition is an attachment. Signatures of signed mail and inline images of HTML
mail (logos) are not attachments.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from app.core.errors import ErrorCode, ExpansionLimitError, NestingLimitError
from ingest.limits import DEFAULT_LIMITS, Limits, clip
from ingest.mail.bounds import RejectedAttachment, clip_list, limit_attachments, short_id
from ingest.mail.charsets import decode_bytes
from ingest.mail.headers import (
    decode_header,
    normalise_message_id,
    parse_addresses,
    parse_date,
    parse_message_ids,
    received_date,
)
from ingest.mail.html import html_to_text, tidy_lines
from ingest.mail.parts import (
    BAD_FILENAME_CHARS,
    charset_of,
    content_type,
    disposition_of,
    filename,
    omitted_size,
    payload_bytes,
)
from ingest.mail.quotes import Segment, split_body
from ingest.mail.structure import mime_shape, without_large_parts

_KNOWN_HEADERS = frozenset(
    ["from", "to", "cc", "subject", "date", "message-id", "received", "mime-version", "content-type", "return-path", "delivered-to", "reply-to", "sender", "in-reply-to", "references", "x-mailer", "user-agent"]
)
_SIGNATURE_TYPES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
_GENERIC_TYPES = frozenset(
    {"application/octet-stream", "application/x-download", "application/force-download",
     "binary/octet-stream", "application/unknown", "application/binary"}
)
# Values kept per header name (a message with 100,000 Received lines keeps the newest 100).
_MAX_HEADER_VALUES = 100


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached file (or attached message, as `.eml`)."""

    index: int  # 1-based, in message order
    filename: str
    media_type: str | None  # declared, None when the declaration says nothing (octet-stream)
    data: bytes
    omitted: int = 0  # decoded size (estimated) of a body cut out before parsing; data is b""


@dataclass(frozen=True, slots=True)
class MailMessage:
    """Everything homerag keeps of one message."""

    subject: str
    sender: str
    to: list[str]
    cc: list[str]
    date: datetime | None
    date_header: str
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    body: list[Segment]
    body_format: str  # plain | html | none
    attachments: list[Attachment]
    defects: list[str] = field(default_factory=list)
    rejected: list[RejectedAttachment] = field(default_factory=list)

    @property
    def thread_id(self) -> str | None:
        """The thread's root: the first References entry, else the parent, else the message."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id


class NotAnEmailError(ValueError):
    """The bytes do not look like a mail message at all."""


def _headers(msg: email.message.Message, limits: Limits) -> dict[str, list[str]]:
    """Raw header values by lower-case name, each cut before any decoding: encoded words take
    up to four raw characters per decoded one, so four times the limit is kept."""
    out: dict[str, list[str]] = {}
    raw_max = 4 * limits.max_header_chars
    for name, value in msg.raw_items():
        values = out.setdefault(name.strip().lower()[:100], [])
        if len(values) < _MAX_HEADER_VALUES:
            values.append(value[:raw_max] if isinstance(value, str) else value)
    return out


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _text_of(part: email.message.Message, ctype: str, limits: Limits) -> str:
    text = decode_bytes(payload_bytes(part), charset_of(part))
    if ctype == "text/html":
        return html_to_text(text, max_depth=limits.max_html_depth)
    return tidy_lines(text)


class _Walker:
    """Collects body texts and attachments while walking the MIME tree."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.texts: list[tuple[str, str]] = []  # (text, "plain" | "html")
        self.attachments: list[Attachment] = []
        self.defects: list[str] = []

    def attach(self, part: email.message.Message, ctype: str, name: str) -> None:
        index = len(self.attachments) + 1
        omitted = omitted_size(part)
        if omitted:
            data = b""
        elif ctype == "message/rfc822":
            data = _attached_message_bytes(part)
            if not name:
                inner = part.get_payload()
                subject = ""
                if (isinstance(inner, list) and inner
                        and isinstance(inner[0], email.message.Message)):
                    subject = decode_header(str(inner[0].get("subject", ""))[:400])
                name = BAD_FILENAME_CHARS.sub("_", subject)[:100].strip() or f"message-{index}"
                name += ".eml"
        else:
            data = payload_bytes(part)
        if not name:
            ext = mimetypes.guess_extension(ctype) or ".bin"
            name = f"attachment-{index}{ext}"
        elif "." not in name and ctype not in _GENERIC_TYPES:
            name += mimetypes.guess_extension(ctype) or ""  # a cut-off name lost its extension
        declared: str | None = ctype
        if ctype in _GENERIC_TYPES:
            guessed, compression = mimetypes.guess_type(name)
            declared = None if compression else guessed
        self.attachments.append(Attachment(index, name, declared, data, omitted))

    def walk(self, part: email.message.Message, *, context: str = "mixed", depth: int = 0) -> None:
        if depth > self.limits.max_nesting:  # the scan before parsing refuses deeper ones
            self.defects.append("MIME nesting too deep; inner parts skipped")
            return
        ctype = content_type(part)
        maintype, subtype = ctype.split("/", 1)
        payload = part.get_payload()
        if maintype == "multipart":
            if not isinstance(payload, list) or not payload:
                # Declared multipart without parts: show whatever text it carries.
                text = tidy_lines(decode_bytes(payload_bytes(part), charset_of(part)))
                if text:
                    self.texts.append((text, "plain"))
                self.defects.append(f"{ctype} without parts")
                return
            # A parsed multipart's payload is a list of Message parts (the stubs allow str too).
            self._multipart(subtype, cast("list[email.message.Message]", payload), depth)
            return
        name = filename(part)
        disposition = disposition_of(part)
        if ctype in _SIGNATURE_TYPES:
            return
        if ctype == "message/rfc822":
            self.attach(part, ctype, name)
            return
        if ctype in ("message/delivery-status", "message/disposition-notification"):
            self.texts.append((_status_text(payload), "plain"))
            return
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and (
            not name or disposition == "inline"
        ):
            text = _text_of(part, ctype, self.limits)
            if text:
                self.texts.append((text, "html" if ctype == "text/html" else "plain"))
            return
        if ctype == "text/rfc822-headers":
            return
        if not name and disposition != "attachment" and part.get_param("charset") and (
            maintype == "text" or ctype == "application/plain"
        ):
            text = _text_of(part, "text/plain", self.limits)  # mislabelled (S/MIME's application/plain)
            if text and "\x00" not in text:
                self.texts.append((text, "plain"))
                return
        if omitted_size(part):  # cut out before parsing: too large to read (see parse_mail)
            self.attach(part, ctype, name)
            return
        if context == "related" and disposition != "attachment" and not name:
            return  # an image the HTML refers to by cid: (a logo), not a file the owner sent
        if not payload_bytes(part):
            return
        self.attach(part, ctype, name)

    def _multipart(self, subtype: str, parts: list[email.message.Message], depth: int) -> None:
        if subtype == "alternative":
            self._alternative(parts, depth)
        elif subtype == "related":
            self.walk(parts[0], context="related-root", depth=depth + 1)
            for extra in parts[1:]:
                self.walk(extra, context="related", depth=depth + 1)
        elif subtype == "signed":
            self.walk(parts[0], depth=depth + 1)
        elif subtype == "encrypted":
            self.defects.append("encrypted message body not readable")
        else:
            for child in parts:
                self.walk(child, depth=depth + 1)

    def _alternative(self, parts: list[email.message.Message], depth: int) -> None:
        candidates: list[_Walker] = []
        for child in parts:
            sub = _Walker(self.limits)
            sub.walk(child, context="alternative", depth=depth + 1)
            candidates.append(sub)
        plain = next((c for c in candidates if c.texts and c.texts[0][1] == "plain"), None)
        html = next((c for c in reversed(candidates) if c.texts and c.texts[-1][1] == "html"), None)
        chosen = plain or html
        if plain is not None and html is not None:
            plain_len = sum(len(t) for t, _ in plain.texts)
            html_len = sum(len(t) for t, _ in html.texts)
            # A stub plain part ("view this mail in a browser") loses to the real HTML body.
            if html_len > 200 and plain_len < 0.2 * html_len:
                chosen = html
        if chosen is None:
            chosen = next((c for c in candidates if c.attachments), None)
        if chosen is not None:
            self.texts.extend(chosen.texts)
            for att in chosen.attachments:
                self.attachments.append(
                    Attachment(len(self.attachments) + 1, att.filename, att.media_type, att.data,
                               att.omitted)
                )
            self.defects.extend(chosen.defects)


def _status_text(payload: object) -> str:
    if isinstance(payload, list):
        lines: list[str] = []
        for block in payload:
            if isinstance(block, email.message.Message):
                lines.extend(f"{k}: {decode_header(v)}" for k, v in block.raw_items())
                lines.append("")
        return tidy_lines("\n".join(lines))
    if isinstance(payload, str):
        return tidy_lines(decode_bytes(payload.encode("ascii", errors="surrogateescape")))
    return ""


def _attached_message_bytes(part: email.message.Message) -> bytes:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], email.message.Message):
        try:
            return inner[0].as_bytes(policy=email.policy.compat32)
        except (ValueError, TypeError, LookupError, UnicodeError):
            return inner[0].as_string().encode("utf-8", errors="surrogateescape")
    return payload_bytes(part)


def looks_like_mail(data: bytes) -> bool:
    """At least three well-known mail headers among the first lines (cheap content sniff)."""
    head = data[:4096].replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    names = set()
    for line in head.split(b"\n")[:80]:
        if line[:1] in (b" ", b"\t") or b":" not in line:
            continue
        names.add(line.split(b":", 1)[0].strip().lower().decode("latin-1"))
    found = names & _KNOWN_HEADERS
    return len(found) >= 3 and bool(found & {"from", "date", "message-id", "received", "subject"})


def parse_mail(data: bytes, *, now: datetime | None = None, name: str = "message",
               limits: Limits = DEFAULT_LIMITS) -> MailMessage:
    """Parse one message within `limits`; `name` is what error messages call it.

    Raises:
        NotAnEmailError: the bytes carry no mail headers.
        NestingLimitError: parts or attached messages nest deeper than `max_nesting`.
        ExpansionLimitError: more MIME parts than `max_parts`.
    """
    if data.startswith(b"From ") and b"\n" in data[:1000]:
        data = data.split(b"\n", 1)[1]  # an mbox "From " line on a single exported message
    shape = mime_shape(data, stop_depth=limits.max_nesting, stop_parts=limits.max_parts,
                       large_bytes=limits.max_attachment_bytes)
    if shape.depth > limits.max_nesting:
        raise NestingLimitError(f"{name}: MIME parts or attached messages nested more than "
                                f"{limits.max_nesting} deep (limit HOMERAG_MAX_NESTING)")
    if shape.parts > limits.max_parts:
        raise ExpansionLimitError(f"{name}: more than {limits.max_parts:,} MIME parts "
                                  "(limit HOMERAG_MAX_PARTS)", code=ErrorCode.too_many_parts)
    if shape.large:  # attachments over the size limit: never copied, decoded or parsed
        data = without_large_parts(data, shape.large)
    try:
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        return _build(msg, now=now, limits=limits)
    except RecursionError:  # a structure the scan did not see as deep: same verdict, no trace
        raise NestingLimitError(f"{name}: MIME parts nested too deep to read "
                                "(limit HOMERAG_MAX_NESTING)") from None


def _build(msg: email.message.Message, *, now: datetime | None, limits: Limits) -> MailMessage:
    headers = _headers(msg, limits)
    if not (set(headers) & _KNOWN_HEADERS):
        raise NotAnEmailError("no mail headers found")
    walker = _Walker(limits)
    walker.walk(msg, context="root")
    walker.defects.extend(type(d).__name__ for d in getattr(msg, "defects", []))
    formats = {fmt for _, fmt in walker.texts}
    body_text = "\n\n".join(text for text, _ in walker.texts if text)
    date = parse_date(_first(headers, "date"), now=now)
    if date is None:
        date = received_date(headers.get("received", []), now=now)
    in_reply = parse_message_ids(_first(headers, "in-reply-to"))
    kept, rejected = limit_attachments(walker.attachments, limits)
    cap = limits.max_header_chars
    return MailMessage(
        subject=clip(decode_header(_first(headers, "subject")), cap),
        sender=clip(", ".join(parse_addresses(headers.get("from", [])
                                              or headers.get("sender", []))), cap),
        to=clip_list(parse_addresses(headers.get("to", [])), cap),
        cc=clip_list(parse_addresses(headers.get("cc", [])), cap),
        date=date,
        date_header=clip(decode_header(_first(headers, "date")), 200),
        message_id=short_id(normalise_message_id(_first(headers, "message-id"))),
        in_reply_to=short_id(in_reply[0]) if in_reply else None,
        references=[r for r in (short_id(x) for x in parse_message_ids(
            " ".join(headers.get("references", [])))[:100]) if r],
        body=split_body(body_text),
        body_format="html" if formats == {"html"} else "plain" if formats else "none",
        attachments=kept,
        defects=walker.defects,
        rejected=rejected,
    )
