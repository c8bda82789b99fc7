"""The bundled synthetic household (the demo's documents and bank statement), indexed through
the real sync service once per test module, and apps built around it (the money pages' tests
and the browser tests of the household pages import these fixtures)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import truncate_all
from tests.http.corpus import client_factory, make_context, make_settings


@pytest.fixture(scope="module")
def household(db, pg_url: str) -> Iterator[tuple[object, Path]]:
    """The sample household synced into an emptied database; (db, data dir)."""
    from app.services.sync import sample_source, sync

    truncate_all(db)
    with tempfile.TemporaryDirectory(prefix="hr-household-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        rt = make_context(db, make_settings(pg_url, data_dir))
        result = sync(rt, [sample_source()], trigger="test")
        assert result.completed, result.to_json()
        yield db, data_dir
    truncate_all(db)


@pytest.fixture
def hh_client(household, pg_url: str) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient on the household with these settings overrides."""

    db, data_dir = household
    with client_factory(db, data_dir, pg_url) as build:
        yield build
