"""The email Parser: metadata keys, blocks, attachments as children, and a real pipeline run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.errors import UnsupportedFormatError
from app.core.models import Chunk, Document
from app.core.protocols import Parser
from app.core.types import ParseInput, RawItem
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.mail import parse_mail
from ingest.parsers import DEFAULT_PARSERS, pick_parser
from ingest.parsers.email import EmailParser
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FilesSource

PDF_BYTES = b"%PDF-1.4\n% fake, never parsed here\n"


def _inp(data: bytes, *, origin: str = "/mail/a.eml", hints=None) -> ParseInput:
    item = RawItem(origin=origin, name=Path(origin).name, data=data, hints=hints or {})
    return ParseInput.of(item, data, "message/rfc822")


def test_email_parser_is_a_registered_parser() -> None:
    parser = EmailParser()
    assert isinstance(parser, Parser)
    assert any(isinstance(p, EmailParser) for p in DEFAULT_PARSERS)


def test_pick_parser_chooses_email_for_eml_and_for_mail_saved_as_txt(make_message) -> None:
    data = make_message()
    assert isinstance(pick_parser(_inp(data)), EmailParser)
    item = RawItem(origin="/x/saved.txt", name="saved.txt", data=data)
    assert isinstance(pick_parser(ParseInput.of(item, data, "text/plain")), EmailParser)
    note = b"Subject: my shopping list\n\nmilk\n"
    note_item = RawItem(origin="/x/note.txt", name="note.txt", data=note)
    assert EmailParser().score(ParseInput.of(note_item, note, "text/plain")) is None


def test_email_document_metadata_and_blocks(make_message) -> None:
    data = make_message(
        subject="=?utf-8?q?Stromvertrag_K=C3=BCndigung?=",
        to="Bob <bob@example.net>, carol@example.net",
        body="Hi Bob,\n\nplease cancel by March.\n\n-- \nAlice\n\n> old quoted text\n",
        message_id="<Reply.1@Example.ORG>",
        in_reply_to="<root@example.org>",
        references="<root@example.org> <mid@example.org>",
        attachments=[("Rechnung März.pdf", "application/pdf", PDF_BYTES)],
    )
    doc = EmailParser().parse(_inp(data, hints={"folder": "INBOX/Verträge"}))
    assert doc.kind == "email"
    assert doc.title == "Stromvertrag Kündigung"
    assert doc.occurred_at == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert set(doc.metadata) == {"from", "to", "cc", "subject", "message_id", "thread_id",
                                 "in_reply_to", "folder", "has_attachments", "attachments"}
    assert doc.metadata["from"] == "Alice Example <alice@example.org>"
    assert doc.metadata["to"] == ["Bob <bob@example.net>", "carol@example.net"]
    assert doc.metadata["message_id"] == "<Reply.1@example.org>"
    assert doc.metadata["in_reply_to"] == "<root@example.org>"
    assert doc.metadata["thread_id"] == "<root@example.org>"
    assert doc.metadata["folder"] == "INBOX/Verträge"
    assert doc.metadata["has_attachments"] is True
    assert doc.metadata["attachments"] == ["Rechnung März.pdf"]
    searchable = "\n".join(b.text for b in doc.blocks if b.searchable)
    hidden = "\n".join(b.text for b in doc.blocks if not b.searchable)
    assert "please cancel by March." in searchable
    assert "From: Alice Example <alice@example.org>" in searchable
    assert "Attachments: Rechnung März.pdf" in searchable
    assert "old quoted text" in hidden and "Alice" in hidden
    assert "old quoted text" not in searchable
    assert all(b.heading == "Stromvertrag Kündigung" for b in doc.blocks)


def test_attachments_become_children_with_message_label(make_message) -> None:
    data = make_message(
        subject="Unterlagen",
        attachments=[("Rechnung März.pdf", "application/octet-stream", PDF_BYTES),
                     ("notes.txt", "text/plain", b"Zaehlerstand 4711")],
    )
    doc = EmailParser().parse(_inp(data, origin="/mail/u.eml"))
    first, second = doc.children
    assert first.origin == "/mail/u.eml#attachment=1/Rechnung März.pdf"
    assert first.name == "Rechnung März.pdf"
    assert first.data == PDF_BYTES
    assert first.media_type == "application/pdf"  # octet-stream: guessed from the name
    assert second.media_type == "text/plain" and second.data == b"Zaehlerstand 4711"
    assert first.hints["message"] == {"subject": "Unterlagen",
                                      "from": "Alice Example <alice@example.org>",
                                      "date": "2024-03-01T09:30:00+00:00"}


def test_rfc2231_and_raw_utf8_filenames_and_inline_images() -> None:
    raw = (
        b"From: a@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n'
        b"--X\r\nContent-Type: multipart/related; boundary=\"R\"\r\n\r\n"
        b"--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Logo: <img src=cid:logo></p>\r\n"
        b"--R\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--R--\r\n"
        b"--X\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''K%C3%BCndigung.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b"--X\r\nContent-Type: image/png; name=\"" + "Картинка".encode() + b"\"\r\n"
        b"Content-Disposition: attachment; filename=\"" + "Картинка.png".encode() + b"\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        b"--X\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: b@example.org\r\nSubject: Alte Nachricht\r\n\r\nforwarded body\r\n"
        b"--X--\r\n"
    )
    mail = parse_mail(raw)
    assert [a.filename for a in mail.attachments] == [
        "Kündigung.pdf", "Картинка.png", "Alte Nachricht.eml"]
    assert mail.attachments[0].data.startswith(b"%PDF-1.4")
    assert mail.attachments[2].media_type == "message/rfc822"
    assert b"forwarded body" in mail.attachments[2].data
    # The attached message is itself parsed by the email parser.
    assert parse_mail(mail.attachments[2].data).subject == "Alte Nachricht"


def test_not_an_email_is_an_unsupported_format() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"/mail/a\.eml: not an e-mail message"):
        EmailParser().parse(_inp(b"just some words\nwithout any headers\n"))


def test_missing_subject_and_date_use_fallbacks() -> None:
    data = b"From: a@example.org\r\nTo: b@example.org\r\n\r\nbody text\r\n"
    doc = EmailParser().parse(_inp(data, hints={"received_at": 1700000000.0}))
    assert doc.title == "(no subject)"
    assert doc.occurred_at == datetime.fromtimestamp(1700000000, UTC)
    assert doc.metadata["message_id"] is None and doc.metadata["has_attachments"] is False


def test_pipeline_stores_mail_and_attachment_with_parent(clean_db, tmp_path, make_message) -> None:
    path = tmp_path / "offer.eml"
    path.write_bytes(make_message(
        subject="Angebot Heizung",
        body="Das Angebot liegt bei.\n\nOn Mon, Bob wrote:\n> Bitte Angebot schicken\n",
        attachments=[("angebot.txt", "text/plain", b"Angebot: Gasheizung 8.900 EUR brutto")],
    ))
    report = Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions()).run(
        FilesSource([path]))
    assert report.status == "completed" and report.counts["indexed"] == 1, report.to_json()
    with clean_db.session() as s:
        docs = {d.origin: d for d in s.scalars(select(Document))}
        mail = docs[str(path)]
        child = docs[f"{path}#attachment=1/angebot.txt"]
        assert mail.kind == "email" and mail.title == "Angebot Heizung"
        assert mail.meta["has_attachments"] is True
        assert child.parent_id == mail.id
        assert child.meta["message"]["subject"] == "Angebot Heizung"
        assert "Bitte Angebot schicken" in mail.content  # the stored original keeps the quote
        chunk_text = " ".join(s.scalars(select(Chunk.text).where(Chunk.document_id == mail.id)))
        assert "Das Angebot liegt bei." in chunk_text
        assert "Bitte Angebot schicken" not in chunk_text
