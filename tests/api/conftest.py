"""Fixtures for the API tests: one ingested corpus per module, apps built around it, the stub LLM."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.corpus import ingest_corpus, make_context, make_settings
from tests.conftest import truncate_all
from tests.openai_stub import OpenAIStub


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
    from app.api import create_app

    db, data_dir = corpus
    opened: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        ctx = make_context(db, make_settings(pg_url, data_dir, **overrides))
        client = TestClient(create_app(context=ctx), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield build
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
