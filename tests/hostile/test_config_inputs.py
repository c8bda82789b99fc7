"""An unparseable database URL is one ConfigError line that never shows the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import load_settings
from app.core.db import Database
from app.core.errors import ConfigError

BAD_URLS = {
    "postgresql://me:hunter2@db.home:notaport/homerag": "the port is not a number",
    "postgresql://me:hunter2@[::1/homerag": "the port is not a number",
    "postgresql://me:hunter2@db.home:99999/homerag": "port 99999 is out of range",
}


@pytest.mark.parametrize("url", list(BAD_URLS))
def test_bad_database_url_in_settings(url, monkeypatch):
    monkeypatch.setenv("HOMERAG_DATABASE_URL", url)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message == f"invalid configuration: HOMERAG_DATABASE_URL: not a valid URL ({BAD_URLS[url]})"
    assert "hunter2" not in message


@pytest.mark.parametrize("url", list(BAD_URLS)[:2])
def test_bad_database_url_given_directly(url, tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        Database.open(url, pgdata=tmp_path / "pg")
    assert str(caught.value).startswith("HOMERAG_DATABASE_URL: not a valid URL (")
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)
