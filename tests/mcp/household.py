"""The bundled synthetic household (`homerag demo`'s sample: a gym contract, a phone contract, a
rent letter, a utility mail, notes and four months of an ING statement) indexed through the real
sync service into the test database, with contract terms extracted by the rules. Shared by the
MCP, /v1 and conversation tests; servers run under uvicorn on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings, load_settings
from app.services.runtime import Runtime
from tests.conftest import truncate_all
from tests.support.browser import live_servers

# The last statement day of the sample: "today" for the money questions of the tests.
SAMPLE_TODAY = "2026-11-20"


def household_settings(pg_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": pg_url, "data_dir": data_dir,
                                 "embedder": "lexical-hash", "_env_file": None}
    values.update(overrides)
    return load_settings(**values)


def household_runtime(db: Any, settings: Settings) -> Runtime:
    from ingest.embedders.lexical import LexicalHashEmbedder

    rt = Runtime(settings=settings, db=db)
    rt.set_embedder(LexicalHashEmbedder())
    return rt


@pytest.fixture(scope="module")
def household(db, pg_url: str) -> Iterator[tuple[Any, Path]]:
    """The sample indexed once per module: (database, data dir). Tests must not use clean_db."""
    from app.services.contracts import refresh_contracts
    from app.services.sync import sample_source, sync

    truncate_all(db)
    with tempfile.TemporaryDirectory(prefix="hr-household-") as tmp:
        data_dir = Path(tmp)
        rt = household_runtime(db, household_settings(pg_url, data_dir))
        result = sync(rt, [sample_source()], trigger="test")
        report = result.reports[0]
        assert report.status == "completed", report.error
        refresh_contracts(rt, force=True)
        yield db, data_dir
    truncate_all(db)


@pytest.fixture
def make_runtime(household, pg_url: str) -> Callable[..., Runtime]:
    """A Runtime on the household with these settings overrides (llm_base_url=...)."""
    db, data_dir = household

    def build(**overrides: object) -> Runtime:
        return household_runtime(db, household_settings(pg_url, data_dir, **overrides))

    return build


@pytest.fixture
def serve_app() -> Iterator[Callable[[Runtime], str]]:
    """Serve `create_app(runtime=rt)` under uvicorn on a free loopback port; returns its URL."""
    from app.http.app import create_app

    with live_servers() as start:
        yield lambda rt: start(create_app(runtime=rt))
