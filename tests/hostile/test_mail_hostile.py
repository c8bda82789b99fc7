"""Hostile mail through the real pipeline: anyone who can email the household can send these.

A 2 MB Subject (it used to be copied into every chunk: 4.7 GB RSS and a PostgreSQL "invalid
message length" on every sync), MIME nested 5,000 deep, a message attaching a message 5,000
deep, a zip bomb as an attachment, more attachments than allowed, an attachment over the size
limit and a 100,000-recipient To header, in one mbox, followed by a good message that must be
indexed. Limits set through HOMERAG_* variables reach the parsers through the sync service.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.config import load_settings
from app.core.models import Document
from ingest.sources.mbox import MboxSource
from tests.hostile import badfiles
from tests.hostile.support import HEAP_LIMIT, MB, Runner, assert_quiet, bounded_memory, failure

GOOD_ID = "good-after@example.org"


@pytest.fixture
def runner(clean_db) -> Runner:
    return Runner(clean_db)


def _mbox(path: Path, messages: list[bytes]) -> Path:
    with path.open("wb") as fh:
        for data in messages:
            fh.write(b"From mallory@example.org Mon Mar  2 10:00:00 2026\n")
            fh.write(data.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From "))
            fh.write(b"\n")
    return path


def _good() -> bytes:
    return badfiles.mail_with_attachments(
        "Boiler service", GOOD_ID,
        [("invoice.txt", "text/plain", b"Invoice: boiler service 180 EUR, paid 2026-03-02.")],
        body="The good message after the hostile ones: the boiler service is booked.")


def test_hostile_mail_fails_alone_and_the_mailbox_syncs(runner, settings, tmp_path, monkeypatch,
                                                       capfd, caplog):
    monkeypatch.setenv("HOMERAG_MAX_ATTACHMENT_MB", "1")  # through settings to the parsers
    settings = load_settings()
    many = [(f"note-{i}.txt", "text/plain", f"note {i}".encode()) for i in range(150)]
    recipients = ", ".join(f"person{i}@example.org" for i in range(100_000))
    messages = {
        "subject": badfiles.mail_long_subject(2_000_000),
        "multipart": badfiles.mail_nested_multipart(5000),
        "rfc822": badfiles.mail_nested_rfc822(5000),
        "bomb": badfiles.mail_with_attachments(
            "Your contract", "bomb@example.org",
            [("contract.docx", "application/vnd.openxmlformats-officedocument."
              "wordprocessingml.document", badfiles.docx_bomb(300))]),
        "many": badfiles.mail_with_attachments("Notes", "many@example.org", many),
        "big": badfiles.mail_with_attachments(
            "Holiday video", "big@example.org",
            [("video.bin", "application/octet-stream", b"\x01" * (3 * MB // 2)),
             ("itinerary.txt", "text/plain", b"Flight LH 123 on 2026-07-01.")]),
        "recipients": badfiles.mail_long_subject(10).replace(
            b"To: home@example.org", f"To: {recipients}".encode()).replace(
            b"long-subject@example.org", b"recipients@example.org"),
    }
    box = _mbox(tmp_path / "inbox.mbox", [*messages.values(), _good()])
    with bounded_memory() as memory:
        report = runner.run_service(MboxSource("mail", box), settings)
    assert report.status == "completed"
    by_id = {d.meta.get("message", {}).get("message_id") or d.meta.get("message_id"): d
             for d in runner.documents().values() if d.parent_id is None}

    # 2 MB subject: indexed, the subject cut to 200 in the title and in every chunk's heading.
    long = by_id["<long-subject@example.org>"]
    assert len(long.title) <= 200 and long.title.startswith("AAAA")
    chunks = runner.chunks_of(long.origin)
    assert chunks and all(len(c.heading or "") <= 200 for c in chunks)
    assert sum(len(c.text) + len(c.heading or "") for c in chunks) < 20_000
    assert len(long.content) < 10_000

    # MIME nested 5,000 deep, both ways: one line each, code too_deep.
    for key in ("multipart", "rfc822"):
        origin = next(p.origin for p in report.problems if f"nested-{key}" in p.origin)
        problem = failure(report, origin, "too_deep")
        assert problem.message == (f"{origin}: MIME parts or attached messages nested more than "
                                   "50 deep (limit HOMERAG_MAX_NESTING)")

    # A zip bomb attached: the message is indexed, the attachment fails on its own.
    bomb = by_id["<bomb@example.org>"]
    problem = failure(report, "#attachment=1/contract.docx", "unpack_limit")
    assert problem.origin == f"{bomb.origin}#attachment=1/contract.docx"
    assert problem.message.endswith("unpacks to more than 200 MB (limit HOMERAG_MAX_UNPACKED_MB)")

    # 150 attachments: the first 100 are read, the other 50 are one visible failure.
    many_doc = by_id["<many@example.org>"]
    problem = failure(report, "#attachment=101..150", "too_many_parts")
    assert problem.message.endswith("50 more attachments not read: the message has 150, more "
                                    "than 100 (limit HOMERAG_MAX_ATTACHMENTS)")
    with runner.db.session() as s:
        children = s.scalar(select(func.count()).select_from(Document)
                            .where(Document.parent_id == many_doc.id))
    assert children == 100

    # An attachment over HOMERAG_MAX_ATTACHMENT_MB (set to 1 above): it fails, its sibling not.
    big = by_id["<big@example.org>"]
    problem = failure(report, "#attachment=1/video.bin", "too_large")
    assert problem.message == (f"{big.origin}#attachment=1/video.bin: 1.5 MB is over the 1 MB "
                               "limit per attachment (HOMERAG_MAX_ATTACHMENT_MB)")
    assert f"{big.origin}#attachment=2/itinerary.txt" in runner.documents()

    # 100,000 recipients: indexed, the header cut to HOMERAG_MAX_HEADER_CHARS.
    crowd = by_id["<recipients@example.org>"]
    assert len(", ".join(crowd.meta["to"])) <= 2000 and len(crowd.content) < 5000

    # The good message after all of them.
    good = by_id[f"<{GOOD_ID}>"]
    assert "boiler service is booked" in good.content
    assert report.counts["failed"] == 2  # the nested ones; attachment failures are problems
    assert memory.heap_peak < 2 * HEAP_LIMIT, memory  # the mbox itself is ~4 MB of mail
    assert memory.rss_growth < 8 * HEAP_LIMIT, memory
    assert_quiet(capfd, caplog)


def test_deep_html_mail_body_keeps_its_text(runner, tmp_path, capfd, caplog):
    html = badfiles.deep_html(5000).decode()
    message = (b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Deep newsletter\r\n"
               b"Message-ID: <deep-html@example.org>\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html.encode())
    box = _mbox(tmp_path / "news.mbox", [message, _good()])
    report = runner.run(MboxSource("news", box))
    assert report.status == "completed" and report.problems == []
    deep = next(d for d in runner.documents().values() if d.title == "Deep newsletter")
    assert "DEEPTEXT the treasure is under the oak" in deep.content
    assert "AFTERTEXT the closing paragraph" in deep.content
    assert_quiet(capfd, caplog)
