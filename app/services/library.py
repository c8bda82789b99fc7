"""Use case: the library. Documents listed and filtered (kind, source, date range, text in the
title, path or content), a page at a time; and for one document what the document page shows
beyond its text: its passages and the logged answers that cited it (read-only queries).

`/library`, `GET /api/documents` and the document page call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select

from app.core.errors import InvalidInputError, NotFoundError
from app.core.models import Answer, Chunk, Document, Source
from app.core.models.core import DOCUMENT_KINDS

if TYPE_CHECKING:
    from app.services.runtime import Runtime

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_TEXT = 200
CITING_LIMIT = 50


@dataclass(frozen=True, slots=True)
class LibraryFilter:
    """What the owner filters the library by; blank means no restriction."""

    kind: str | None = None
    source: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    attachments: bool = True  # include attachments (documents inside a mail or archive)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source,
                "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None, "q": self.text}


def make_filter(*, kind: str | None = None, source: str | None = None,
                date_from: str | None = None, date_to: str | None = None,
                text: str | None = None, attachments: bool = True) -> LibraryFilter:
    """A LibraryFilter from what was typed; a bad kind or date is one line naming the field."""
    kind = (kind or "").strip() or None
    if kind is not None and kind not in DOCUMENT_KINDS:
        raise InvalidInputError(f"kind must be one of {', '.join(DOCUMENT_KINDS)}, not {kind!r}")
    text = " ".join((text or "").split()) or None
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidInputError(f"q: at most {MAX_TEXT} characters")
    return LibraryFilter(kind=kind, source=(source or "").strip() or None,
                         date_from=_day("from", date_from), date_to=_day("to", date_to),
                         text=text, attachments=attachments)


def _day(name: str, value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(f: LibraryFilter) -> list[Any]:
    conds: list[Any] = []
    if f.kind:
        conds.append(Document.kind == f.kind)
    if f.source:
        conds.append(Source.name == f.source)
    # A document without its own date is placed by when it was indexed.
    when = func.coalesce(Document.occurred_at, Document.created_at)
    if f.date_from:
        conds.append(when >= datetime.combine(f.date_from, time.min).astimezone())
    if f.date_to:
        conds.append(when <= datetime.combine(f.date_to, time.max).astimezone())
    if f.text:
        like = f"%{_escape_like(f.text)}%"
        conds.append(or_(Document.title.ilike(like, escape="\\"),
                         Document.origin.ilike(like, escape="\\"),
                         Document.id.in_(select(Chunk.document_id).where(
                             Chunk.tsv.bool_op("@@")(func.websearch_to_tsquery(
                                 Chunk.fts_config, f.text))))))
    if not f.attachments:
        conds.append(Document.parent_id.is_(None))
    return conds


@dataclass(frozen=True, slots=True)
class LibraryPage:
    filter: LibraryFilter
    total: int
    limit: int
    offset: int
    documents: list[dict[str, Any]]

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_json(self) -> dict[str, Any]:
        return {"filter": self.filter.to_json(), "total": self.total, "limit": self.limit,
                "offset": self.offset, "documents": self.documents}


def list_documents(rt: Runtime, f: LibraryFilter | None = None, *,
                   limit: int = DEFAULT_PAGE_SIZE, offset: int = 0,
                   order: str = "-date") -> LibraryPage:
    """Matching documents, newest first (or by title), a page at a time."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInputError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    if offset < 0:
        raise InvalidInputError(f"offset must not be negative, not {offset}")
    if order not in ("-date", "date", "title"):
        raise InvalidInputError(f"order must be -date, date or title, not {order!r}")
    f = f or LibraryFilter()
    when = func.coalesce(Document.occurred_at, Document.created_at)
    ordering: dict[str, list[Any]] = {
        "-date": [when.desc(), Document.id.desc()], "date": [when.asc(), Document.id],
        "title": [func.lower(func.coalesce(Document.title, Document.origin)), Document.id]}
    chunks = (select(func.count()).where(Chunk.document_id == Document.id)
              .correlate(Document).scalar_subquery())
    where = and_(True, *_conditions(f))
    with rt.db.session() as s:
        total = s.scalar(select(func.count()).select_from(Document)
                         .join(Source, Source.id == Document.source_id).where(where)) or 0
        rows = s.execute(
            select(Document.id, Document.title, Document.origin, Document.kind,
                   Document.media_type, Document.occurred_at, Document.created_at,
                   Document.size_bytes, Document.page_count, Document.parent_id,
                   Source.name.label("source"), chunks.label("chunks"))
            .join(Source, Source.id == Document.source_id).where(where)
            .order_by(*ordering[order]).limit(limit).offset(offset)).all()
    docs = [{
        "id": r.id, "title": r.title or _name(r.origin), "path": r.origin, "kind": r.kind,
        "media_type": r.media_type, "source": r.source, "size_bytes": r.size_bytes,
        "page_count": r.page_count, "chunks": r.chunks, "attachment": r.parent_id is not None,
        "date": (r.occurred_at or r.created_at).date().isoformat()
        if (r.occurred_at or r.created_at) else None,
        "dated": r.occurred_at is not None, "page_url": f"/documents/{r.id}",
    } for r in rows]
    return LibraryPage(f, total, limit, offset, docs)


def _name(origin: str) -> str:
    tail = origin.rsplit("#", 1)[-1] if "#attachment=" in origin else origin
    return tail.replace("\\", "/").rsplit("/", 1)[-1] or origin


def library_facets(rt: Runtime) -> dict[str, Any]:
    """The choices of the filter form: kinds and sources with their document counts."""
    with rt.db.session() as s:
        kinds = s.execute(select(Document.kind, func.count()).group_by(Document.kind)
                          .order_by(Document.kind)).all()
        sources = s.execute(select(Source.name, func.count(Document.id))
                            .outerjoin(Document, Document.source_id == Source.id)
                            .group_by(Source.name).order_by(Source.name)).all()
    return {"kinds": [{"kind": k, "count": n} for k, n in kinds],
            "sources": [{"name": name, "count": n} for name, n in sources]}


def document_passages(rt: Runtime, document_id: int) -> list[dict[str, Any]]:
    """The document's passages in order (id, page, heading, a short text)."""
    with rt.db.session() as s:
        rows = s.execute(select(Chunk.id, Chunk.ordinal, Chunk.page, Chunk.page_end,
                                Chunk.heading, Chunk.text, Chunk.meta)
                         .where(Chunk.document_id == document_id)
                         .order_by(Chunk.ordinal)).all()
    return [{"id": r.id, "ordinal": r.ordinal, "page": r.page, "page_end": r.page_end,
             "heading": r.heading, "text": r.text, "rows": (r.meta or {}).get("rows")}
            for r in rows]


def citing_answers(rt: Runtime, document_id: int, *,
                   limit: int = CITING_LIMIT) -> list[dict[str, Any]]:
    """Logged answers that cited a passage of this document, newest first, with the passages
    they cited."""
    with rt.db.session() as s:
        if s.get(Document, document_id) is None:
            raise NotFoundError(f"document {document_id} does not exist")
        chunk_ids = list(s.scalars(select(Chunk.id).where(Chunk.document_id == document_id)))
        if not chunk_ids:
            return []
        rows = s.execute(
            select(Answer.id, Answer.created_at, Answer.question, Answer.mode, Answer.model,
                   Answer.cited_chunk_ids)
            .where(Answer.cited_chunk_ids.overlap(chunk_ids))
            .order_by(Answer.created_at.desc(), Answer.id.desc()).limit(limit)).all()
    mine = set(chunk_ids)
    return [{"id": r.id, "asked_at": r.created_at.isoformat(timespec="minutes"),
             "question": r.question, "mode": r.mode, "model": r.model,
             "chunk_ids": [c for c in r.cited_chunk_ids if c in mine]} for r in rows]
