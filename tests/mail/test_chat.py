"""Messenger exports: WhatsApp (Android/iOS, both date orders), Telegram and Signal JSON, one
document per conversation and day with sender and time in every passage."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core.models import Chunk, Document
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources import source_for_path
from ingest.sources.chat import ChatSource
from ingest.sources.chat_formats import looks_like_whatsapp, read_json_export, read_whatsapp

BERLIN = ZoneInfo("Europe/Berlin")

ANDROID_DE = """\
12.03.24, 18:02 - Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt.
12.03.24, 18:03 - Anna: Hast du die Nebenkostenabrechnung gesehen?
12.03.24, 18:05 - Ben: Ja, Nachzahlung 312,40 €.
Die ist bis 30.04. fällig.
13.03.24, 07:15 - Anna: <Medien ausgeschlossen>
25.03.24, 09:00 - Ben: Überwiesen.
"""
IOS_US = """\
\u200e[3/4/24, 9:41:05 PM] Carol: Did the plumber send the invoice?
[3/4/24, 9:42:10 PM] Dave: Yes, $180 for the kitchen sink.
[3/14/24, 11:02:00 AM] Carol: Paid it today.
"""


def test_whatsapp_android_german_day_first_with_multiline() -> None:
    assert looks_like_whatsapp(ANDROID_DE)
    conv = read_whatsapp(ANDROID_DE, name="WhatsApp-Chat mit Ben.txt", tz=BERLIN)
    assert conv.name == "Ben" and conv.platform == "whatsapp"
    first, second, third = conv.messages[:3]
    assert first.sender == "" and "verschlüsselt" in first.text
    assert second.time == datetime(2024, 3, 12, 18, 3, tzinfo=BERLIN)
    assert (second.sender, second.text) == ("Anna", "Hast du die Nebenkostenabrechnung gesehen?")
    assert third.text == "Ja, Nachzahlung 312,40 €.\nDie ist bis 30.04. fällig."


def test_whatsapp_ios_us_month_first_12h_clock() -> None:
    conv = read_whatsapp(IOS_US, name="_chat.txt", tz=ZoneInfo("America/New_York"))
    assert [m.sender for m in conv.messages] == ["Carol", "Dave", "Carol"]
    assert conv.messages[0].time == datetime(2024, 3, 4, 21, 41, 5,
                                             tzinfo=ZoneInfo("America/New_York"))
    assert conv.messages[2].time.day == 14 and conv.messages[2].time.hour == 11
    assert not looks_like_whatsapp("Just a note\nwith two lines\n")


def test_telegram_single_chat_and_full_export() -> None:
    chat = {"name": "Hausverwaltung", "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "message", "date": "2024-05-02T10:00:00", "date_unixtime": "1714644000",
         "from": "Frau Kranz", "text": ["Die ", {"type": "bold", "text": "Heizung"},
                                        " wird am Montag gewartet."]},
        {"id": 2, "type": "service", "date_unixtime": "1714644060", "actor": "Me",
         "action": "pin_message", "text": ""},
        {"id": 3, "type": "message", "date_unixtime": "1714644120", "from": "Me",
         "photo": "photos/1.jpg", "text": ""},
    ]}
    (conv,) = read_json_export(json.dumps(chat), name="result.json", tz=BERLIN)
    assert conv.name == "Hausverwaltung" and conv.platform == "telegram"
    assert conv.messages[0].text == "Die Heizung wird am Montag gewartet."
    assert conv.messages[0].time == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    assert [(m.sender, m.text) for m in conv.messages[1:]] == [("", "pin message"),
                                                               ("Me", "[photo]")]
    full = {"chats": {"list": [chat, {"name": "Other", "messages": []}]}}
    assert [c.name for c in read_json_export(json.dumps(full), name="r.json", tz=BERLIN)] == [
        "Hausverwaltung", "Other"]


def test_signal_json_and_jsonl() -> None:
    msgs = [
        {"conversationName": "Eva", "type": "incoming", "source": "+49 170 1", "sourceName": "Eva",
         "sent_at": 1714644000000, "body": "Schlüssel liegt beim Nachbarn."},
        {"conversationName": "Eva", "type": "outgoing", "sent_at": 1714644060000, "body": "Danke!"},
    ]
    (conv,) = read_json_export(json.dumps({"messages": msgs}), name="signal.json", tz=BERLIN)
    assert conv.platform == "signal" and conv.name == "Eva"
    assert [(m.sender, m.text) for m in conv.messages] == [
        ("+49 170 1", "Schlüssel liegt beim Nachbarn."), ("Me", "Danke!")]
    lines = "\n".join(json.dumps({"date": "2024-05-02 12:00:00", "sender": "Eva",
                                  "body": f"line {i}"}) for i in range(2))
    (jl,) = read_json_export(lines, name="Eva.jsonl", tz=BERLIN)
    assert jl.name == "Eva" and jl.messages[0].time == datetime(2024, 5, 2, 12, tzinfo=BERLIN)


def test_chat_source_ingests_one_document_per_conversation_and_day(clean_db, tmp_path) -> None:
    export = tmp_path / "WhatsApp-Chat mit Ben.txt"
    export.write_text(ANDROID_DE, encoding="utf-8")
    assert isinstance(source_for_path(export), ChatSource)
    source = ChatSource("chats", tmp_path, timezone="Europe/Berlin")
    pipe = Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions())
    report = pipe.run(source)
    assert report.counts["indexed"] == 3, report.to_json()  # 12, 13 and 25 March
    with clean_db.session() as s:
        docs = {d.origin: d for d in s.scalars(select(Document))}
        day = docs[f"{export}#Ben/2024-03-12"]
        assert day.kind == "message" and day.title == "WhatsApp: Ben — 2024-03-12"
        assert day.occurred_at == datetime(2024, 3, 12, 17, 2, tzinfo=UTC)
        assert day.meta["participants"] == ["Anna", "Ben"]
        text = " ".join(s.scalars(select(Chunk.text).where(Chunk.document_id == day.id)))
        assert "18:05 Ben: Ja, Nachzahlung 312,40 €." in text
    # A re-export with one more message touches only that day.
    export.write_text(ANDROID_DE + "25.03.24, 09:01 - Anna: Danke!\n", encoding="utf-8")
    again = pipe.run(source)
    assert (again.counts["indexed"], again.counts["unchanged"]) == (1, 2), again.to_json()


def test_unrelated_files_in_a_chat_folder_are_ignored(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("groceries\nmilk\n")
    (tmp_path / "config.json").write_text('{"a": 1}')
    assert list(ChatSource("c", tmp_path).scan({})) == []
    assert source_for_path(tmp_path / "notes.txt") is None
    assert Path(tmp_path / "notes.txt").exists()
