"""Mail as the retrieval filters see it: sender, recipient, date range, folder, attachments,
and an attachment's hit labelled with the message it came in."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime

from app.retrieval import search
from app.retrieval.filters import make_filters
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.maildir import MaildirSource
from tests.mail.mailgen import build_message

EMB = LexicalHashEmbedder()


def test_filters_on_ingested_mail(clean_db, tmp_path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(build_message(subject="Heizöl Angebot", sender="Öl Meyer <angebot@oel.example>",
                          to="Anna <anna@home.example>", body="Heizöl kostet 98 Euro.",
                          date=datetime(2024, 1, 10, tzinfo=UTC), message_id="<h1@x>"))
    box.add_folder("Archive").add(build_message(
        subject="Heizöl Rechnung", sender="Öl Meyer <rechnung@oel.example>",
        to="Ben <ben@home.example>", body="Ihre Heizöl Lieferung.",
        date=datetime(2024, 6, 1, tzinfo=UTC), message_id="<h2@x>",
        attachments=[("lieferschein.txt", "text/plain", b"Heizoel Lieferschein 3000 Liter")]))
    report = Pipeline(clean_db, embedder=EMB, options=IngestOptions()).run(
        MaildirSource("mail", tmp_path / "Maildir"))
    assert report.counts["indexed"] == 2, report.to_json()

    def titles(**kw) -> set[str]:
        with clean_db.session() as s:
            hits = search(s, EMB, "Heizöl Heizoel", filters=make_filters(**kw), top_k=10)
            return {h.title for h in hits}

    assert titles(sender="rechnung@oel") == {"Heizöl Rechnung", "Heizoel Lieferschein 3000 Liter"}
    assert titles(recipient="anna@home") == {"Heizöl Angebot"}
    assert titles(folder="Archive", kinds=["email"]) == {"Heizöl Rechnung"}
    assert titles(has_attachment=True, kinds=["email"]) == {"Heizöl Rechnung"}
    assert titles(date_from="2024-01-01", date_to="2024-01-31", kinds=["email"]) == {
        "Heizöl Angebot"}
    with clean_db.session() as s:
        (hit,) = search(s, EMB, "Lieferschein Liter", top_k=1)
        assert hit.path.endswith("#attachment=1/lieferschein.txt") and hit.parent_id is not None
        assert hit.metadata["message"]["subject"] == "Heizöl Rechnung"
        assert hit.metadata["message"]["from"] == "Öl Meyer <rechnung@oel.example>"
