"""A small synthetic corpus for the API and web tests, ingested through the real pipeline, and
the fixtures around it (imported by tests/api/conftest.py and tests/web/conftest.py).

Text notes, a 3-page PDF (the answer on page 2), an HTML page and a note that carry hostile
markup, and a mail with a text attachment; the lexical embedder keeps rankings stable.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings, load_settings
from app.core.db import Database
from app.services.runtime import Runtime
from ingest.embedders.lexical import LexicalHashEmbedder
from ingest.pipeline import IngestOptions, Pipeline
from ingest.sources.folder import FolderSource
from tests.conftest import truncate_all
from tests.openai_stub import OpenAIStub

EMB = LexicalHashEmbedder()
# The app answers loopback Host headers only (app/api/hosts.py), so tests speak as localhost.
BASE_URL = "http://localhost"
EVIL = "<script>window.__pwned = 1; alert('pwned')</script><img src=x onerror=\"window.__pwned=2\">"

NOTES = {
    "gym.md": "# Gym membership\n\nThe gym membership has a notice period of three months "
              "to the end of the contract year.\n",
    "insurance.txt": "Household insurance: the premium is 240 euros per year, renewal in May.\n",
    "rent.txt": "The landlord raises the rent to 950 euros from March.\n",
    "evil.txt": f"Strange note about the boiler service {EVIL} visit on Tuesday.\n",
}


def write_pdf(path: Path) -> None:
    """Three pages; page 2 holds the electricity tariff passage."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pages = [
        "Electricity supply contract. Customer number 4711. Introduction and parties.",
        "Tariff: the electricity price per kWh is 31 cents, fixed for 24 months. "
        "The base fee is 12 euros per month.",
        "Signatures and general terms of the electricity supplier.",
    ]
    filler = ("General terms apply to the supply of power to the household at the address given "
              "in the order confirmation. ")
    for text in pages:
        pdf.add_page()
        # About 400 words a page, so each page becomes a passage of its own.
        pdf.multi_cell(0, 5, text + " " + filler * 22)
    pdf.output(str(path))


def write_mail(path: Path) -> None:
    msg = EmailMessage()
    msg["From"] = "Alice Example <alice@example.org>"
    msg["To"] = "home@example.org"
    msg["Subject"] = "Invoice for the chimney sweep"
    msg["Date"] = "Mon, 03 Mar 2025 10:00:00 +0000"
    msg["Message-ID"] = "<sweep-1@example.org>"
    msg.set_content("Hello, attached is the chimney sweep invoice.\nRegards, Alice\n")
    msg.add_attachment(b"Chimney sweep invoice: 87 euros, due within 14 days.\n",
                       maintype="text", subtype="plain", filename="sweep-invoice.txt")
    path.write_bytes(bytes(msg))


def write_corpus(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True)
    for name, body in NOTES.items():
        (docs / name).write_text(body, encoding="utf-8")
    (docs / "page.html").write_text(
        "<html><head><title>Boiler manual</title></head><body><h1>Boiler manual</h1>"
        "<p>Bleed the radiators every autumn before the heating season.</p>"
        "<script>window.__pwned = 3</script></body></html>", encoding="utf-8")
    write_pdf(docs / "electricity.pdf")
    write_mail(docs / "sweep.eml")
    return docs


def make_settings(pg_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": pg_url, "data_dir": data_dir,
                                 "embedder": "lexical-hash", "_env_file": None}
    values.update(overrides)
    return load_settings(**values)


def ingest_corpus(db: Database, settings: Settings, root: Path) -> None:
    report = Pipeline(db, embedder=EMB, options=IngestOptions.from_settings(settings)).run(
        FolderSource("home", write_corpus(root)))
    assert report.status == "completed", report.error
    assert not report.problems, [p.to_json() for p in report.problems]


def make_context(db: Database, settings: Settings) -> Runtime:
    ctx = Runtime(settings=settings, db=db)
    ctx.set_embedder(EMB)
    return ctx


def doc_id(db: Database, name: str) -> int:
    """The id of the indexed document whose origin ends with `name`."""
    from sqlalchemy import select

    from app.core.models import Document

    with db.session() as s:
        ids = list(s.scalars(select(Document.id).where(Document.origin.endswith(name))))
    assert len(ids) == 1, f"{name}: {ids}"
    return int(ids[0])


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus(db, pg_url: str) -> Iterator[tuple[object, Path]]:
    """The synthetic corpus ingested once per module (tests here must not use clean_db)."""
    truncate_all(db)
    with tempfile.TemporaryDirectory(prefix="hr-api-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        ingest_corpus(db, make_settings(pg_url, data_dir), Path(tmp))
        yield db, data_dir
    truncate_all(db)


@pytest.fixture
def make_client(corpus, pg_url: str) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient for an app whose context has these settings overrides."""

    db, data_dir = corpus
    with client_factory(db, data_dir, pg_url) as build:
        yield build


@contextlib.contextmanager
def client_factory(db: Any, data_dir: Path, pg_url: str) -> Iterator[Callable[..., TestClient]]:
    """`build(**settings overrides)` makes a started TestClient on this database and data dir;
    every client built is closed on leaving."""
    from app.http.app import create_app

    opened: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        ctx = make_context(db, make_settings(pg_url, data_dir, **overrides))
        client = TestClient(create_app(runtime=ctx), base_url=BASE_URL,
                            raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    try:
        yield build
    finally:
        for client in opened:
            client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    """The app without a language model (answers are retrieval-only)."""
    return make_client()


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub
