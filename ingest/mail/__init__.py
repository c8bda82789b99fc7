"""Mail handling (pure): decoding real-world messages into headers, body segments and attachments.

`parse_mail(bytes) -> MailMessage` is the entry point; sources (mbox, maildir, IMAP) and the
email parser build on it.
"""

from ingest.mail.bounds import RejectedAttachment
from ingest.mail.message import (
    Attachment,
    MailMessage,
    NotAnEmailError,
    looks_like_mail,
    parse_mail,
)
from ingest.mail.quotes import Segment, split_body

__all__ = [
    "Attachment",
    "MailMessage",
    "NotAnEmailError",
    "RejectedAttachment",
    "Segment",
    "looks_like_mail",
    "parse_mail",
    "split_body",
]
