"""Search filters and hits (pure dataclasses shared by retrieval, answering, API and CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Restrict retrieval. Empty tuples / None mean "no restriction".

    Attributes:
        kinds: document kinds (note, contract, letter, email, statement, message, other).
        source_kinds: source kinds (folder, files, mbox, maildir, imap, chat).
        sources: source names.
        document_ids: only these documents (and their attachments).
        date_from / date_to: on the document's `occurred_at` (inclusive days).
        metadata: document metadata filters, key -> case-insensitive substring, e.g.
            {"from": "alice@", "folder": "INBOX"}; a value of True means the key is present
            (e.g. {"has_attachments": True}).
    """

    kinds: tuple[str, ...] = ()
    source_kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    document_ids: tuple[int, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (
            self.kinds
            or self.source_kinds
            or self.sources
            or self.document_ids
            or self.date_from
            or self.date_to
            or self.metadata
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage with everything a citation needs."""

    chunk_id: int
    document_id: int
    score: float
    text: str
    path: str  # the document's origin (path or URI the owner recognises)
    title: str | None
    page: int | None
    page_end: int | None = None
    heading: str | None = None
    char_start: int = 0
    char_end: int = 0
    kind: str = "other"
    media_type: str = ""
    occurred_at: datetime | None = None
    parent_id: int | None = None
    # Document metadata (sender, subject, ...) for labels such as "attachment of <subject>".
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # Rank of this passage in each retriever that found it, e.g. {"dense": 1, "fts": 3}.
    ranks: Mapping[str, int] = field(default_factory=dict)
    # OCR reading quality 0..1 of an OCRed passage (None: typed text); see retrieval/quality.py.
    ocr_quality: float | None = None
