"""Fixtures: contract documents ingested through the real pipeline into the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contracts.samples import ENGLISH_SERVICE, GERMAN_LEASE
from tests.openai_stub import OpenAIStub


def write_docx(path: Path, text: str) -> Path:
    import docx

    document = docx.Document()
    for paragraph in text.strip().split("\n\n"):
        document.add_paragraph(paragraph.strip())
    document.save(str(path))
    return path


@pytest.fixture
def contract_docs(clean_db, tmp_path: Path) -> dict[str, int]:
    """Two contracts (German lease, English service agreement) ingested; name -> document id."""
    from sqlalchemy import select

    from app.core.models import Document
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource

    folder = tmp_path / "contracts"
    folder.mkdir()
    write_docx(folder / "mietvertrag.docx", GERMAN_LEASE)
    write_docx(folder / "storage.docx", ENGLISH_SERVICE)
    report = Pipeline(clean_db, embedder=LexicalHashEmbedder(), options=IngestOptions()).run(
        FolderSource("contracts", folder))
    assert report.counts["indexed"] == 2, report.to_json()
    with clean_db.session() as s:
        docs = {Path(d.origin).stem: d for d in s.scalars(select(Document))}
        assert {d.kind for d in docs.values()} == {"contract"}
        return {name: d.id for name, d in docs.items()}


@pytest.fixture
def rt(clean_db, settings):
    """The services' Runtime over the test database (settings from the test environment)."""
    from app.services.runtime import Runtime

    return Runtime(settings=settings, db=clean_db)


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as stub:
        yield stub
