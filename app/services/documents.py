"""Use case: open a document or a cited passage (database and disk reads, read-only).

`/api/documents/*`, `/api/chunks/*`, the document page and the MCP `get_document` tool call these,
so all of them name the same things the same way; `document_json` and `chunk_json` are the JSON
shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.core.errors import InvalidInputError, NotFoundError
from app.core.models import Chunk, Document

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.services.runtime import Runtime

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


# -- use cases (open their own session) -----------------------------------------------------------
# Around a passage in a very long document, the page shows this much text on each side.
WINDOW_CHARS = 60_000
# Without a cited passage, the page shows at most this much of a document's text.
MAX_PAGE_CHARS = 400_000


@dataclass
class Highlight:
    """The document text split around the cited passage (all parts escaped by the template),
    and inside the passage the cited span: the sentences that support the answer (`strong`)."""

    before: str
    passage: str
    after: str
    located: bool  # False: the passage could not be found in the text; shown apart
    cut_before: bool = False
    cut_after: bool = False
    span: tuple[int, int] | None = None  # [start, end) within `passage`
    note: str | None = None  # why a requested span or row is not marked

    @property
    def lead(self) -> str:
        return self.passage[: self.span[0]] if self.span else self.passage

    @property
    def strong(self) -> str:
        return self.passage[self.span[0]:self.span[1]] if self.span else ""

    @property
    def tail(self) -> str:
        return self.passage[self.span[1]:] if self.span else ""


def highlight(content: str, start: int, end: int, passage: str, *,
              span: tuple[int, int] | None = None) -> Highlight:
    """Split `content` around the passage at [start, end) (found by its text if the offsets
    are stale), keeping WINDOW_CHARS on each side; `span` (document offsets inside the
    passage) is marked strongly within it."""
    moved = 0
    if not (0 <= start < end <= len(content)) or content[start:end] != passage:
        found = content.find(passage) if passage else -1
        if found < 0:
            return Highlight(before=content, passage=passage, after="", located=False)
        moved = found - start
        start, end = found, found + len(passage)
    lo, hi = max(0, start - WINDOW_CHARS), min(len(content), end + WINDOW_CHARS)
    inner, note = None, None
    if span is not None:
        s, e = span[0] + moved, span[1] + moved
        if start <= s < e <= end:
            inner = (s - start, e - start)
        else:
            note = "the cited sentences are not inside this passage; the whole passage is marked"
    return Highlight(before=content[lo:start], passage=content[start:end], after=content[end:hi],
                     located=True, cut_before=lo > 0, cut_after=hi < len(content), span=inner,
                     note=note)


def parse_span(value: str | None) -> tuple[int, int] | None:
    """'120-245' -> (120, 245). Raises InvalidInputError for anything else."""
    if value is None or not value.strip():
        return None
    m = re.fullmatch(r"\s*(\d{1,9})\s*-\s*(\d{1,9})\s*", value)
    if m is None or int(m.group(1)) >= int(m.group(2)):
        raise InvalidInputError(f"span: {value!r} is not START-END (character offsets)")
    return int(m.group(1)), int(m.group(2))


def row_line(content: str, unit: str, number: int, *,
             starts: str | None = None) -> tuple[int, int] | None:
    """[start, end) of the statement line `[row N] …` (or `[line N] …`) in a statement's text
    (ingest/parsers/statement.py writes each transaction as such a line). A PDF statement
    numbers its lines per page, so `[line 8]` may be there once per page: `starts` (the
    transaction's "YYYY-MM-DD" date) picks the one that lists it."""
    found = list(re.finditer(rf"^\[{unit} {number}\] [^\n]*$", content, re.MULTILINE))
    if starts:
        found = [m for m in found if m.group(0).startswith(f"[{unit} {number}] {starts}")] \
            or found
    return (found[0].start(), found[0].end()) if found else None


def row_highlight(content: str, unit: str, number: int, *, starts: str | None = None
                  ) -> Highlight:
    """The statement text with row (or line) `number` as the marked passage."""
    where = row_line(content, unit, number, starts=starts)
    if where is None:
        return Highlight(before=content, passage="", after="", located=False,
                         note=f"{unit} {number} is not in this document's text")
    start, end = where
    lo, hi = max(0, start - WINDOW_CHARS), min(len(content), end + WINDOW_CHARS)
    return Highlight(before=content[lo:start], passage=content[start:end], after=content[end:hi],
                     located=True, cut_before=lo > 0, cut_after=hi < len(content),
                     span=(0, end - start))


@dataclass
class DocumentPage:
    """What the document page shows: the document, the cited passage marked in its text, and
    for a PDF the page to render with the text to find on it (static/pdfview.js)."""

    view: DocumentView
    chunk: Chunk | None
    parts: Highlight | None
    text: str
    text_cut: bool
    pdf: bool
    row: tuple[str, int] | None = None  # ("row", 37): a statement row was asked for
    row_page: int | None = None  # the page of the original that lists that row
    pdf_page: int | None = None  # the passage's first and last page (it may cross a break)
    pdf_page_end: int | None = None
    pdf_find: str = ""  # the cited sentences (else the passage), to mark on the rendered page
    pdf_passage: str = ""
    # The page "open the original at page N" opens: the cited sentences' page (a passage may
    # start on the page before them), a statement row's page, else the passage's first page.
    original_page: int | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)  # transactions it documents

    @property
    def title(self) -> str:
        return self.view.document.title or self.view.document.origin


@dataclass
class OriginalFile:
    path: Path
    media_type: str
    filename: str
    passive: bool  # safe to render inline from our origin (else served sandboxed)


def document_page(rt: Runtime, document_id: int, *, chunk_id: int | None = None,
                  span: str | None = None, row: int | None = None,
                  line: int | None = None, on_page: int | None = None) -> DocumentPage:
    """The document page's data: `chunk` marks a passage (lightly) and `span` ("START-END",
    document offsets) the sentences in it that support an answer (strongly); `row` / `line`
    mark a statement's transaction line instead (`on_page`: the page of a PDF statement whose
    line it is; its lines are numbered per page). On a PDF statement the row's line of the
    original is marked on the rendered page too (`pdf_find`: that line's text, read from the
    PDF's text layer as the statement parser read it).

    Raises:
        NotFoundError: no such document, or the passage is not part of it.
        InvalidInputError: a malformed span.
    """
    from app.services.evidence import document_evidence
    from app.services.pdfpages import page_holding, pdf_line

    wanted = parse_span(span)
    with rt.db.session() as session:
        view = document_view(session, rt.settings, document_id)
        doc = view.document
        cited = parts = listed = None
        content = doc.content or ""
        asked_row = ("row", row) if row is not None else ("line", line) if line is not None \
            else None
        if chunk_id is not None:
            cited = get_chunk(session, chunk_id)
            if cited.document_id != doc.id:
                raise NotFoundError(f"passage {chunk_id} is not part of document {document_id}")
            parts = highlight(content, cited.char_start, cited.char_end, cited.text, span=wanted)
        elif asked_row is not None:
            listed = statement_place(session, doc.id, *asked_row, on_page=on_page)
            parts = row_highlight(content, *asked_row,
                                  starts=listed[1].isoformat() if listed else None)
        evidence = document_evidence(session, doc.id)
    pdf = is_pdf(doc.media_type, doc.origin)
    page = DocumentPage(view=view, chunk=cited, parts=parts, text=content[:MAX_PAGE_CHARS],
                        text_cut=len(content) > MAX_PAGE_CHARS, pdf=pdf, row=asked_row,
                        evidence=evidence)
    if asked_row is not None and listed is not None:
        page.row_page = listed[0]
    if pdf and view.original is not None:
        page.pdf_page = (cited.page if cited is not None else None) or 1
        page.pdf_page_end = (cited.page_end if cited is not None else None) or page.pdf_page
        if parts is not None and parts.located:
            page.pdf_passage = parts.passage
            page.pdf_find = parts.strong or parts.passage
        page.original_page = cited.page if cited is not None else None
        if parts is not None and parts.strong and page.pdf_page_end > page.pdf_page:
            page.original_page = page_holding(view.original, parts.strong, page.pdf_page,
                                              page.pdf_page_end) or page.original_page
        if asked_row is not None and page.row_page is not None:
            page.pdf_page = page.pdf_page_end = page.original_page = page.row_page
            if asked_row[0] == "line":
                printed = pdf_line(view.original, page.row_page, asked_row[1])
                page.pdf_find = page.pdf_passage = printed or ""
    return page


def statement_place(session: Session, document_id: int, unit: str, number: int, *,
                    on_page: int | None = None) -> tuple[int | None, Any] | None:
    """(page, booking date) of the transaction listed at row/line `number` of statement
    `document_id` (on `on_page` when given; else the first page that has such a line); None
    when no transaction is listed there."""
    from app.core.models import Transaction, TransactionOccurrence

    where = getattr(TransactionOccurrence, unit)
    query = (select(TransactionOccurrence.page, Transaction.booking_date)
             .join(Transaction, Transaction.id == TransactionOccurrence.transaction_id)
             .where(TransactionOccurrence.document_id == document_id, where == number))
    if on_page is not None:
        query = query.where(TransactionOccurrence.page == on_page)
    found = session.execute(query.order_by(TransactionOccurrence.page).limit(1)).first()
    return (found[0], found[1]) if found else None


def document_info(rt: Runtime, document_id: int, *, chunks: bool = False,
                  content: bool = False) -> dict[str, Any]:
    """A document's metadata (and optionally its passages and full text) as JSON."""
    with rt.db.session() as session:
        view = document_view(session, rt.settings, document_id)
        out = document_json(view.document, parent=view.parent, children=view.children,
                            has_original=view.original is not None,
                            parent_label=view.parent_label)
        if chunks:
            out["chunks"] = [chunk_json(c, text=False) for c in document_chunks(session,
                                                                                 document_id)]
        if content:
            out["content"] = view.document.content
    return out


def chunk_info(rt: Runtime, chunk_id: int) -> dict[str, Any]:
    """One passage with its place in its document, as JSON."""
    with rt.db.session() as session:
        chunk = get_chunk(session, chunk_id)
        doc = get_document(session, chunk.document_id)
        return {**chunk_json(chunk), "document": document_ref(doc),
                "page_url": f"/documents/{doc.id}?chunk={chunk.id}#passage"}


def original_file(rt: Runtime, document_id: int) -> OriginalFile:
    with rt.db.session() as session:
        doc = get_document(session, document_id)
    path = original_path(rt.settings, doc)
    if path is None:
        raise NotFoundError(f"document {document_id} has no stored original "
                            f"({doc.origin} was ingested without keeping a copy)")
    media_type = doc.media_type or "application/octet-stream"
    return OriginalFile(path=path, media_type=media_type, filename=download_name(doc),
                        passive=is_passive(media_type))


# -- JSON shapes -----------------------------------------------------------------------------------
def chunk_json(chunk: Chunk, *, text: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": chunk.id, "document_id": chunk.document_id, "ordinal": chunk.ordinal,
        "page": chunk.page, "page_end": chunk.page_end, "heading": chunk.heading,
        "char_start": chunk.char_start, "char_end": chunk.char_end,
    }
    if text:
        out["text"] = chunk.text
    return out


def document_ref(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "title": doc.title, "path": doc.origin, "media_type": doc.media_type,
            "kind": doc.kind}


def document_json(doc: Document, *, parent: Document | None, children: list[Document],
                  has_original: bool, parent_label: str | None) -> dict[str, Any]:
    return {
        "id": doc.id,
        "title": doc.title,
        "path": doc.origin,
        "kind": doc.kind,
        "media_type": doc.media_type,
        "sha256": doc.sha256,
        "size_bytes": doc.size_bytes,
        "page_count": doc.page_count,
        "occurred_at": doc.occurred_at.isoformat() if doc.occurred_at else None,
        "updated_at": doc.updated_at.isoformat() if doc.updated_at else None,
        "source": {"name": doc.source.name, "kind": doc.source.kind},
        "metadata": dict(doc.meta or {}),
        "parent": None if parent is None else {**document_ref(parent), "label": parent_label},
        "children": [document_ref(c) for c in children],
        "file_url": f"/api/documents/{doc.id}/file" if has_original else None,
        "page_url": f"/documents/{doc.id}",
    }
