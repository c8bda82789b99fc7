"""/api/sources and /api/sources/{name}/items: the sync ledger per source and per item."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator, Mapping
from typing import Any

from fastapi.testclient import TestClient

from app.core.types import RawItem
from app.http.app import create_app
from app.services.runtime import Runtime
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.mbox import MboxSource
from tests.mail.mailgen import build_message


class CursorSource:
    """A tiny in-test source whose items carry a source position (as IMAP items do)."""

    name, kind, full_scan = "acct", "imap", False

    def config(self) -> Mapping[str, Any]:
        return {"host": "127.0.0.1"}

    def scan(self, known) -> Iterator[RawItem]:
        data = build_message(subject="Cursor mail", message_id="<c1@example.org>")
        yield RawItem(origin="imap://me@127.0.0.1/INBOX;UIDVALIDITY=7;UID=42", name="42.eml",
                      data=data, media_type="message/rfc822",
                      hints={"cursor": {"folder": "INBOX", "uidvalidity": 7, "uid": 42}})


def test_sources_ledger_api(clean_db, settings, tmp_path) -> None:
    path = tmp_path / "a.mbox"
    box = mailbox.mbox(path)
    box.add(build_message(subject="First", message_id="<f1@example.org>"))
    box.add(build_message(subject="Again", message_id="<f1@example.org>", body="other"))
    box.add(b"no headers at all, just words\n")
    box.flush()
    box.close()
    pipe = Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions())
    pipe.run(MboxSource("archive", path))
    pipe.run(CursorSource())
    with TestClient(create_app(runtime=Runtime(settings=settings, db=clean_db)),
                    base_url="http://localhost") as client:
        sources = {s["name"]: s for s in client.get("/api/sources").json()["sources"]}
        assert sources["archive"]["kind"] == "mbox" and sources["archive"]["indexed"] == 1
        assert sources["archive"]["failed"] == 1
        assert sources["archive"]["config"] == {"path": str(path), "folder": None}
        assert sources["archive"]["last_run"]["status"] == "completed"
        items = client.get("/api/sources/archive/items").json()
        assert items["total"] == 2  # the repeated Message-ID is offered once by the mbox
        by_status = {i["status"]: i for i in items["items"]}
        ok = by_status["indexed"]
        assert ok["chunk_count"] >= 1 and ok["duration_ms"] > 0 and len(ok["sha256"]) == 64
        failed = by_status["failed"]
        assert failed["code"] == "unsupported_format" and "not an e-mail" in failed["reason"]
        only = client.get("/api/sources/archive/items", params={"status": "failed"}).json()
        assert [i["status"] for i in only["items"]] == ["failed"]
        imap = client.get("/api/sources/acct/items", params={"q": "uid=42"}).json()
        assert imap["items"][0]["cursor"] == {"folder": "INBOX", "uidvalidity": 7, "uid": 42}
        assert client.get("/api/sources/nope/items").status_code == 404
        assert client.get("/api/sources/archive/items", params={"status": "bad"}).status_code == 400
