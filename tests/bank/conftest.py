"""Fixtures for the bank tests: a real ingest pipeline with the statement parser and hook."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def bank_run(clean_db, tmp_path: Path):
    """Run the real pipeline over a folder (lexical embedder, built-in category rules)."""
    from ingest.embedders.lexical import LexicalHashEmbedder
    from ingest.parsers.statement import StatementParser
    from ingest.parsers.text import TextParser
    from ingest.pipeline import IngestOptions, Pipeline
    from ingest.sources.folder import FolderSource
    from ingest.statements.categories import BUILTIN_RULES
    from ingest.statements.csvprofiles import CsvOptions
    from ingest.statements.hook import StatementHook

    embedder = LexicalHashEmbedder()

    def _run(folder: Path, name: str = "bank"):  # noqa: ANN202
        pipeline = Pipeline(
            clean_db, embedder=embedder,
            parsers=[TextParser(), StatementParser(CsvOptions(default_currency="EUR"))],
            hooks=[StatementHook(BUILTIN_RULES)],
            options=IngestOptions(originals_dir=tmp_path / "originals"),
        )
        return pipeline.run(FolderSource(name, folder))

    return _run


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "statements"
    root.mkdir()
    return root
