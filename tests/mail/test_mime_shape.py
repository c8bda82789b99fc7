"""The MIME structure scan that runs before the stdlib parser (ingest/mail/structure.py)."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from app.core.errors import ExpansionLimitError, NestingLimitError
from ingest.limits import Limits
from ingest.mail import parse_mail
from ingest.mail.structure import mime_shape
from tests.hostile import badfiles

REALWORLD = Path("/work/shared/realworld/emails")
HUGE = 10**9


def _stdlib_shape(data: bytes) -> tuple[int, int]:
    """Depth and part count as the stdlib parser builds them (recursive walk)."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)

    def walk(part, depth):
        payload = part.get_payload()
        # A declared multipart is a level even when the parser found no parts in it.
        level = depth + 1 if part.get_content_maintype() == "multipart" else depth
        if isinstance(payload, list):
            inner = [walk(p, depth + 1) for p in payload if isinstance(p, email.message.Message)]
            return max([d for d, _ in inner], default=level), 1 + sum(n for _, n in inner)
        return level, 1

    return walk(msg, 0)


def _samples() -> list[bytes]:
    made = [badfiles.mail_nested_multipart(7), badfiles.mail_nested_rfc822(6),
            badfiles.mail_long_subject(100),
            badfiles.mail_with_attachments("x", "x@y", [("a.txt", "text/plain", b"a"),
                                                        ("b.txt", "text/plain", b"b")])]
    real = [p.read_bytes() for p in sorted(REALWORLD.glob("*.eml"))] if REALWORLD.is_dir() else []
    return made + real


@pytest.mark.parametrize("index", range(len(_samples())))
def test_scan_agrees_with_the_stdlib_parser(index):
    data = _samples()[index]
    shape = mime_shape(data, stop_depth=HUGE, stop_parts=HUGE)
    depth, parts = _stdlib_shape(data)
    assert (shape.depth, shape.parts) == (depth, parts)


def test_deep_messages_are_refused_before_parsing():
    for data in (badfiles.mail_nested_multipart(5000), badfiles.mail_nested_rfc822(5000)):
        with pytest.raises(NestingLimitError, match=r"^in\.eml: MIME parts or attached messages "
                           r"nested more than 50 deep \(limit HOMERAG_MAX_NESTING\)$"):
            parse_mail(data, name="in.eml")
    # At the limit the message is read, innermost text included.
    mail = parse_mail(badfiles.mail_nested_multipart(50), name="in.eml")
    assert "innermost text" in "".join(s.text for s in mail.body)


def test_part_count_is_bounded():
    data = badfiles.mail_with_attachments(
        "x", "x@y", [(f"{i}.txt", "text/plain", b"a") for i in range(30)])
    with pytest.raises(ExpansionLimitError, match=r"more than 20 MIME parts"):
        parse_mail(data, name="p.eml", limits=Limits(max_parts=20))


def test_headers_are_cut_before_they_are_copied():
    mail = parse_mail(badfiles.mail_long_subject(2_000_000), limits=Limits(max_header_chars=300))
    assert len(mail.subject) == 300 and mail.subject.endswith("…")


def test_oversized_attachment_is_cut_out_before_parsing():
    import tracemalloc

    big = b"\x01" * (6 * 1024 * 1024)
    data = badfiles.mail_with_attachments(
        "Video", "v@example.org", [("video.bin", "application/octet-stream", big),
                                   ("plan.txt", "text/plain", b"Flight at nine.")],
        body="The video is attached.")
    limits = Limits(max_attachment_bytes=1024 * 1024)
    tracemalloc.start()
    mail = parse_mail(data, name="v.eml", limits=limits)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < len(data)  # the 8 MB of base64 were never split, copied or decoded
    assert [a.filename for a in mail.attachments] == ["plan.txt"]
    assert mail.attachments[0].data == b"Flight at nine."
    assert [(r.label, r.code, r.reason) for r in mail.rejected] == [
        ("1/video.bin", "too_large",
         "6 MB is over the 1 MB limit per attachment (HOMERAG_MAX_ATTACHMENT_MB)")]
    assert "The video is attached." in "".join(s.text for s in mail.body)


def test_a_sender_cannot_forge_the_cut_marker():
    forged = b"homerag-omitted-000000000000 999999999"
    mail = parse_mail(badfiles.mail_with_attachments(
        "x", "f@example.org", [("f.bin", "application/octet-stream", forged)]))
    assert mail.rejected == [] and mail.attachments[0].data == forged
