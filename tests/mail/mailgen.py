"""Builders of synthetic mail messages for the mail tests (bytes exactly as they would arrive)."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime


def build_message(
    *,
    subject: str = "Hello",
    sender: str = "Alice Example <alice@example.org>",
    to: str = "Bob <bob@example.net>",
    body: str = "Plain body.",
    date: datetime | None = datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
    message_id: str | None = "<m1@example.org>",
    in_reply_to: str | None = None,
    references: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    html: str | None = None,
) -> bytes:
    """A well-formed message built by the stdlib (tests that need broken bytes write them)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, ctype, data in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
