"""Data that moves through ingest: raw items, parsed documents, chunks, embeddings (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DOCUMENT_KINDS = ("note", "contract", "letter", "email", "statement", "message", "other")


@dataclass(frozen=True, slots=True)
class RawItem:
    """One item a source offers: a file on disk, or bytes (a message, an attachment).

    `origin` is what the owner recognises and what citations show: a path, or a URI such as
    `imap://me@host/INBOX;UID=42`, or `<parent origin>#attachment=2/invoice.pdf` for children.
    """

    origin: str
    name: str
    path: Path | None = None
    data: bytes | None = None
    media_type: str | None = None  # declared type (a MIME part's Content-Type), sniffed if None
    size: int | None = None
    mtime: float | None = None
    # Source-specific facts the parsers may use: {"kind": "statement"}, {"message": {...}}.
    hints: Mapping[str, Any] = field(default_factory=dict)

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is None:
            raise ValueError(f"{self.origin}: item has neither data nor path")
        return self.path.read_bytes()


@dataclass(frozen=True, slots=True)
class Removed:
    """A source says this item is gone (e.g. mail deleted on the IMAP server)."""

    origin: str


@dataclass(frozen=True, slots=True)
class ParseInput:
    """What a parser sees: the item, its bytes, their sha256 and the detected media type."""

    item: RawItem
    data: bytes
    media_type: str
    sha256: str

    @classmethod
    def of(cls, item: RawItem, data: bytes, media_type: str) -> ParseInput:
        return cls(item=item, data=data, media_type=media_type, sha256=sha256_hex(data))


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A run of text with its place in the original.

    `searchable=False` keeps text in the stored document (quoted replies, signatures) while
    leaving it out of the chunks that retrieval searches.
    """

    text: str
    page: int | None = None
    heading: str | None = None  # heading path in effect, e.g. "5 Term > 5.2 Notice"
    kind: str = "text"  # text | heading | table | list | quote | signature | row
    searchable: bool = True
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """A parser's result. `extras` carries typed domain payloads (e.g. a parsed statement)."""

    blocks: Sequence[TextBlock]
    title: str | None = None
    kind: str = "other"
    occurred_at: datetime | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    page_count: int | None = None
    children: Sequence[RawItem] = ()
    extras: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A passage ready to embed and store; offsets index into the document's full text."""

    ordinal: int
    text: str
    heading: str | None
    page: int | None
    page_end: int | None
    char_start: int
    char_end: int
    token_count: int
    content_hash: str
    language: str = "simple"  # PostgreSQL text-search configuration: english | german | simple
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Embedding:
    """Dense vector (L2-normalised) and sparse lexical weights {token id: weight}.

    The embedders give `dense` as a float32 numpy array; a plain list of floats works as well.
    """

    dense: Sequence[float] | NDArray[np.floating[Any]]
    sparse: Mapping[int, float]


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()
