"""Read-only look-ups behind the document pages and citation targets (database and disk reads).

Shared by the JSON routes and the web pages so both name the same things the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.core.errors import NotFoundError
from app.core.models import Chunk, Document

if TYPE_CHECKING:
    from app.core.config import Settings

# Media types a browser may render inline from our origin without running anything in it.
# Everything else (HTML, SVG, XML ...) is untrusted active content: served sandboxed.
PASSIVE_TYPES = ("application/pdf", "text/plain", "text/csv", "text/markdown", "image/png",
                 "image/jpeg", "image/gif", "image/webp")


@dataclass
class DocumentView:
    document: Document
    parent: Document | None
    children: list[Document]
    parent_label: str | None
    original: Path | None


def get_document(session: Session, document_id: int) -> Document:
    doc = session.scalar(
        select(Document).where(Document.id == document_id).options(selectinload(Document.source))
    )
    if doc is None:
        raise NotFoundError(f"document {document_id} does not exist")
    return doc


def get_chunk(session: Session, chunk_id: int) -> Chunk:
    chunk = session.get(Chunk, chunk_id)
    if chunk is None:
        raise NotFoundError(f"passage {chunk_id} does not exist")
    return chunk


def document_chunks(session: Session, document_id: int) -> list[Chunk]:
    return list(session.scalars(
        select(Chunk).where(Chunk.document_id == document_id).order_by(Chunk.ordinal)))


def label_for_parent(parent: Document) -> str:
    """'attachment of "Subject" from sender, 2025-03-01' (the message an attachment came in)."""
    from app.answer.context import parent_label

    meta = parent.meta or {}
    info = {"subject": meta.get("subject") or parent.title, "from": meta.get("from"),
            "date": parent.occurred_at.isoformat() if parent.occurred_at else None}
    return parent_label({"parent": info}) or f"attachment of {parent.title or parent.origin}"


def original_path(settings: Settings, doc: Document) -> Path | None:
    """The stored original of `doc`, if one was kept and is still on disk."""
    from ingest.originals import open_original

    if not doc.blob_path:
        return None
    try:
        return open_original(settings.originals_dir, doc.blob_path)
    except FileNotFoundError:
        return None


def document_view(session: Session, settings: Settings, document_id: int) -> DocumentView:
    doc = get_document(session, document_id)
    parent = get_document(session, doc.parent_id) if doc.parent_id is not None else None
    children = list(session.scalars(
        select(Document).where(Document.parent_id == doc.id).order_by(Document.id)))
    return DocumentView(
        document=doc, parent=parent, children=children,
        parent_label=label_for_parent(parent) if parent is not None else None,
        original=original_path(settings, doc),
    )


def download_name(doc: Document) -> str:
    """A file name for the original: the attachment's name or the origin's last part."""
    meta = doc.meta or {}
    name = meta.get("filename") if isinstance(meta.get("filename"), str) else None
    if not name:
        origin = doc.origin.rsplit("#", 1)[-1] if "#attachment=" in doc.origin else doc.origin
        name = PurePosixPath(origin.replace("\\", "/")).name
    return name or f"document-{doc.id}"


def is_pdf(media_type: str | None, path: str | None = None) -> bool:
    if media_type:
        return media_type.split(";", 1)[0].strip().lower() == "application/pdf"
    return bool(path) and str(path).lower().endswith(".pdf")


def is_passive(media_type: str) -> bool:
    return media_type.split(";", 1)[0].strip().lower() in PASSIVE_TYPES
