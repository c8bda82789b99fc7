"""The seams of ingest: Source, Parser, Embedder, DocumentHook (typing.Protocol, no I/O here),
and the optional abilities a seam may add (CountedSource, DuplicateCheck), declared here so the
pipeline asks `isinstance(x, Ability)` instead of probing attributes by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from app.core.types import Embedding, ParsedDocument, ParseInput, RawItem, Removed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.core.errors import HomeragError


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the sync ledger knows of one item from the last runs."""

    origin: str
    status: str  # indexed | failed | skipped
    sha256: str | None
    size: int | None
    mtime: float | None
    transient: bool
    cursor: Mapping[str, Any]
    parser: str | None = None  # "name/version" of the parser that built the stored document


@runtime_checkable
class Source(Protocol):
    """Where items come from.

    Attributes:
        name: unique name of the source (shown in `homerag status`).
        kind: folder | files | mbox | maildir | imap | chat ...
        full_scan: True when `scan` lists every item the source holds, so that items in the
            ledger but not in the scan were deleted and are removed from the index.
    """

    name: str
    kind: str
    full_scan: bool

    def scan(self, known: Mapping[str, LedgerEntry]) -> Iterator[RawItem | Removed]:
        """Yield the items to consider (and, for incremental sources, explicit removals).

        Args:
            known: the ledger of this source by origin, so an incremental source (IMAP) can
                yield only what is new since its cursor.
        """
        ...

    def config(self) -> Mapping[str, Any]:
        """Settings to store with the source row (never secrets)."""
        ...


@runtime_checkable
class Parser(Protocol):
    """Turns bytes into a ParsedDocument. Chosen by the highest `score` (paperless style).

    Attributes:
        name: short name stored with each document ("pdf", "docx", "ofx" ...).
        version: bump it when output changes, so that stored documents can be re-parsed.
    """

    name: str
    version: str

    def score(self, inp: ParseInput) -> int | None:
        """How well this parser fits the input; None declines. Built-ins use 10 for a media-type
        match, more for a specialised parser that recognises content (a bank's CSV layout)."""
        ...

    def parse(self, inp: ParseInput) -> ParsedDocument:
        """Parse, or raise an IngestError subclass with a one-line reason naming the item.

        Raises:
            UnsupportedFormatError, EmptyDocumentError, EncryptedDocumentError,
            CorruptDocumentError, DecodeError.
        """
        ...


@runtime_checkable
class Embedder(Protocol):
    """Dense + sparse embeddings for passages and queries.

    Attributes:
        name: "bge-m3" or "lexical-hash" (shown to the owner).
        model_id: the model (hub id, path or version string) that identifies the space.
        dim: dense dimension.
        sparse_dim: size of the sparse vocabulary (tokenizer vocab or hash buckets).
    """

    name: str
    model_id: str
    dim: int
    sparse_dim: int

    def embed_documents(self, texts: Sequence[str]) -> list[Embedding]:
        """Embed passages (any length of list; batching is the embedder's job)."""
        ...

    def embed_query(self, text: str) -> Embedding:
        """Embed one query (kept apart: models may treat queries differently)."""
        ...


@runtime_checkable
class DocumentHook(Protocol):
    """Domain handling inside the document's own transaction (e.g. statements -> transactions).

    `on_stored` runs after the document and its chunks are written, in the same transaction, so
    a failure rolls the whole document back. `on_removed` runs before a document is deleted.
    """

    def on_stored(self, session: Session, document_id: int, parsed: ParsedDocument) -> None: ...

    def on_removed(self, session: Session, document_id: int) -> None: ...


@runtime_checkable
class CountedSource(Protocol):
    """A Source that knows before its scan how many items the scan lists (the progress bar's
    total; sources without it show a running count)."""

    def count(self) -> int: ...


@runtime_checkable
class DuplicateCheck(Protocol):
    """A DocumentHook that can call a parsed item a copy of one already indexed (mail by
    Message-ID). The item is then skipped with the returned error as its reason, before
    anything of it is written."""

    def check_duplicate(self, session_scope: Callable[[], AbstractContextManager[Session]], *,
                        source_id: int, origin: str, parsed: ParsedDocument,
                        sha256: str) -> HomeragError | None: ...
