"""Parser for single mail messages (message/rfc822: .eml files, mbox/maildir/IMAP messages).

The stored text is a short header block, the body with quoted replies and signatures kept but
marked `searchable=False`, and the attachment names. Attachments become `children` that the
pipeline parses with the normal parsers and stores under the message (`parent_id`); each child
carries the message's subject, sender and date so a citation of it can name the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.core.errors import EmptyDocumentError, UnsupportedFormatError
from app.core.types import ParsedDocument, ParseInput, RawItem, TextBlock
from ingest.limits import REJECTED_HINT, Limits, WithLimits, clip
from ingest.mail import MailMessage, NotAnEmailError, looks_like_mail, parse_mail

EML = "message/rfc822"
NO_SUBJECT = "(no subject)"


class EmailParser(WithLimits):
    """One RFC 5322 message → an `email` document plus its attachments as children."""

    name = "email"
    version = "1"

    def __init__(self, *, limits: Limits | None = None) -> None:
        self._limits = limits

    def score(self, inp: ParseInput) -> int | None:
        if inp.media_type == EML:
            return 10
        if inp.media_type in ("text/plain", "application/octet-stream") and looks_like_mail(
            inp.data
        ):
            return 12  # beats the text parser: a saved message without the .eml extension
        return None

    def parse(self, inp: ParseInput) -> ParsedDocument:
        name = inp.item.origin or inp.item.name
        limits = self.limits
        try:
            mail = parse_mail(inp.data, name=name, limits=limits)
        except NotAnEmailError as exc:
            raise UnsupportedFormatError(f"{name}: not an e-mail message ({exc})") from exc
        if not (mail.subject or mail.sender or mail.body or mail.attachments or mail.rejected):
            raise EmptyDocumentError(f"{name}: the message has no sender, subject or body")
        return mail_to_document(mail, origin=inp.item.origin, hints=inp.item.hints,
                                max_title_chars=limits.max_title_chars)


def mail_to_document(mail: MailMessage, *, origin: str, hints: Mapping[str, Any],
                     max_title_chars: int = 200) -> ParsedDocument:
    """The ParsedDocument of a parsed message (pure; shared with the mail sources).

    The subject is the title and the heading of every block, so every chunk carries it: it is
    cut to `max_title_chars` (the header block keeps up to HOMERAG_MAX_HEADER_CHARS of it)."""
    subject = clip(mail.subject or NO_SUBJECT, max_title_chars)
    occurred = mail.date or _hinted_time(hints.get("received_at"))
    folder = hints.get("folder")
    names = [a.filename for a in mail.attachments]
    names += [r.label.split("/", 1)[-1] for r in mail.rejected if "/" in r.label]
    blocks: list[TextBlock] = [TextBlock(text=_header_text(mail, occurred), heading=subject,
                                         meta={"part": "headers"})]
    for segment in mail.body:
        if not segment.text.strip():
            continue
        blocks.append(TextBlock(text=segment.text.strip("\n"), heading=subject,
                                kind=segment.kind, searchable=segment.searchable))
    if names:
        blocks.append(TextBlock(text="Attachments: " + ", ".join(names), heading=subject,
                                meta={"part": "attachments"}))
    metadata: dict[str, Any] = {
        "from": mail.sender,
        "to": list(mail.to),
        "cc": list(mail.cc),
        "subject": mail.subject,
        "message_id": mail.message_id,
        "thread_id": mail.thread_id,
        "in_reply_to": mail.in_reply_to,
        "has_attachments": bool(names),
        "attachments": names,
    }
    if folder:
        metadata["folder"] = str(folder)
    label = {"subject": subject, "from": mail.sender,
             "date": occurred.isoformat() if occurred else None}
    children = [
        RawItem(
            origin=f"{origin}#attachment={att.index}/{att.filename}",
            name=att.filename,
            data=att.data,
            media_type=att.media_type,
            size=len(att.data),
            hints={"message": label},
        )
        for att in mail.attachments
    ]
    # Attachments left unread by a limit become children that fail with the reason, so the
    # owner sees them in `status` while the message itself is indexed.
    children += [
        RawItem(
            origin=f"{origin}#attachment={rejected.label}",
            name=rejected.label.split("/", 1)[-1],
            data=b"",
            size=0,
            hints={"message": label, REJECTED_HINT: {
                "code": rejected.code.value,
                "message": f"{origin}#attachment={rejected.label}: {rejected.reason}"}},
        )
        for rejected in mail.rejected
    ]
    return ParsedDocument(blocks=blocks, title=subject, kind="email", occurred_at=occurred,
                          metadata=metadata, children=children)


def _header_text(mail: MailMessage, occurred: datetime | None) -> str:
    lines = [f"From: {mail.sender}"] if mail.sender else []
    if mail.to:
        lines.append("To: " + ", ".join(mail.to))
    if mail.cc:
        lines.append("Cc: " + ", ".join(mail.cc))
    if mail.date_header or occurred:
        lines.append(f"Date: {mail.date_header or occurred.isoformat()}")  # type: ignore[union-attr]
    lines.append(f"Subject: {mail.subject or NO_SUBJECT}")  # clipped by parse_mail
    return "\n".join(lines)


def _hinted_time(value: object) -> datetime | None:
    """A source's fallback time (IMAP INTERNALDATE, maildir delivery time) as aware UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None
