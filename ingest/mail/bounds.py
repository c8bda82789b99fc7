"""The limits applied to one parsed message: header values, ids and attachments (pure).

See ingest/limits.py for the values; `ingest.mail.message` calls these while it builds a
MailMessage, so nothing oversized reaches a document, a chunk or a child item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.errors import ErrorCode
from ingest.limits import Limits, clip, megabytes

if TYPE_CHECKING:
    from ingest.mail.message import Attachment


@dataclass(frozen=True, slots=True)
class RejectedAttachment:
    """Attachments left unread because a limit was reached; the reason names the limit."""

    label: str  # "3/video.mp4", or "101..250" for the attachments past the count limit
    code: ErrorCode
    reason: str  # one sentence, without the message's name


def clip_list(values: list[str], max_chars: int) -> list[str]:
    """Leading entries whose joined length stays within `max_chars` (at least the first, cut)."""
    out: list[str] = []
    used = 0
    for value in values:
        if out and used + len(value) + 2 > max_chars:
            break
        out.append(clip(value, max_chars))
        used += len(value) + 2
    return out


def short_id(message_id: str | None) -> str | None:
    """A Message-ID is an identifier, not text: an absurdly long one is dropped, not cut (a cut
    one could collide with another message's id)."""
    return message_id if message_id and len(message_id) <= 500 else None


def limit_attachments(attachments: list[Attachment],
                      limits: Limits) -> tuple[list[Attachment], list[RejectedAttachment]]:
    """The attachments within the limits (count, size of each, size together) and the rest as
    rejections naming the limit; the message itself is indexed either way."""
    kept: list[Attachment] = []
    rejected: list[RejectedAttachment] = []
    total = 0
    for att in attachments[: limits.max_attachments]:
        label = f"{att.index}/{att.filename}"
        size = att.omitted or len(att.data)
        if size > limits.max_attachment_bytes:
            rejected.append(RejectedAttachment(label, ErrorCode.too_large, (
                f"{megabytes(size)} is over the {megabytes(limits.max_attachment_bytes)} limit "
                "per attachment (HOMERAG_MAX_ATTACHMENT_MB)")))
        elif total + size > limits.max_unpacked_bytes:
            rejected.append(RejectedAttachment(label, ErrorCode.unpack_limit, (
                "the attachments together unpack to more than "
                f"{megabytes(limits.max_unpacked_bytes)} (limit HOMERAG_MAX_UNPACKED_MB)")))
        else:
            kept.append(att)
            total += size
    extra = len(attachments) - limits.max_attachments
    if extra > 0:
        first, last = limits.max_attachments + 1, len(attachments)
        rejected.append(RejectedAttachment(f"{first}..{last}", ErrorCode.too_many_parts, (
            f"{extra:,} more attachments not read: the message has {last:,}, more than "
            f"{limits.max_attachments:,} (limit HOMERAG_MAX_ATTACHMENTS)")))
    return kept, rejected
