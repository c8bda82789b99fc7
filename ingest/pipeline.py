"""The one place that orchestrates ingest: scan → skip unchanged → parse → chunk → embed → store.

Per item: a stat shortcut (same size and mtime as last time: no read at all), else the sha256
of the bytes (same hash: no parsing, no embedding). Changed items are parsed and chunked,
embedded in batches across items (the GPU likes full batches), then written one document per
transaction (attachments together with their message), so a crash or a failure never leaves a
half-written document. Failures are data: recorded per item with a code and a one-line reason,
and the run carries on. A per-source PostgreSQL advisory lock keeps two processes (CLI and
scheduler) from syncing the same source at once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.core.db import Database
from app.core.errors import (
    BusyError,
    DatabaseError,
    EmbedderUnavailableError,
    ErrorCode,
    HomeragError,
    IngestError,
    TooLargeError,
)
from app.core.models import Document, IngestRun
from app.core.protocols import DocumentHook, Embedder, LedgerEntry, Parser, Source
from app.core.types import ParsedDocument, ParseInput, RawItem, Removed, TextBlock
from ingest import store

log = logging.getLogger(__name__)

MAX_CHILD_DEPTH = 3


@dataclass(frozen=True, slots=True)
class IngestOptions:
    chunk_tokens: int = 512
    chunk_overlap: int = 64
    max_file_bytes: int = 200 * 1024 * 1024
    originals_dir: Path | None = None  # None: keep no copies
    trigger: str = "cli"
    retry_failed: bool = False
    reparse: bool = False  # parse every item again, changed or not
    wait_for_lock: bool = True
    embed_batch_chunks: int = 256  # chunks gathered across items before one embedder call
    bulk_min_items: int = 2000  # new documents before a large import defers its HNSW upkeep; 0: never

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> IngestOptions:
        base = cls(
            chunk_tokens=settings.chunk_tokens,
            chunk_overlap=settings.chunk_overlap,
            max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
            originals_dir=settings.originals_dir if settings.keep_originals else None,
            bulk_min_items=settings.bulk_index_min_items,
        )
        return replace(base, **overrides)


@dataclass(slots=True)
class ItemOutcome:
    origin: str
    status: str  # indexed | unchanged | failed | removed | skipped
    code: str | None = None
    message: str | None = None
    document_id: int | None = None
    chunk_count: int | None = None
    duration_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass
class IngestReport:
    source: str
    run_id: int
    status: str = "running"
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[ItemOutcome] = field(default_factory=list)  # failed and skipped items
    embedder: str = ""
    duration_s: float = 0.0
    error: str | None = None
    index_build_s: float | None = None  # set when a bulk import built its indexes at the end

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "run_id": self.run_id,
            "status": self.status,
            "embedder": self.embedder,
            "duration_s": round(self.duration_s, 3),
            "index_build_s": (None if self.index_build_s is None
                              else round(self.index_build_s, 3)),
            "counts": {k: self.counts.get(k, 0) for k in
                       ("indexed", "unchanged", "failed", "skipped", "removed")},
            "chunks": self.counts.get("chunks", 0),
            "problems": [p.to_json() for p in self.problems],
            "error": self.error,
        }


class ProgressSink(Protocol):
    """What a Pipeline reports progress to: `Progress` or anything with the same methods."""

    def start(self, source: str, total: int | None) -> None: ...

    def advance(self, outcome: ItemOutcome) -> None: ...

    def finish(self, report: IngestReport) -> None: ...


class Progress:
    """Progress callbacks (the CLI draws a rich bar; the scheduler logs)."""

    def start(self, source: str, total: int | None) -> None: ...

    def advance(self, outcome: ItemOutcome) -> None: ...

    def finish(self, report: IngestReport) -> None: ...


@dataclass
class _Prepared:
    """A parsed, chunked item waiting for its embeddings and its transaction."""

    item: RawItem
    sha256: str
    size: int
    media_type: str
    parser: Parser
    parsed: ParsedDocument
    content: str
    chunks: list[Any]
    started: float
    children: list[_Prepared] = field(default_factory=list)
    child_failures: list[ItemOutcome] = field(default_factory=list)
    embeddings: list[Any] = field(default_factory=list)
    blob_path: str | None = None

    def all_docs(self) -> Iterator[_Prepared]:
        yield self
        for child in self.children:
            yield from child.all_docs()


class _FatalRunError(Exception):
    """Stops the run: the embedder or the database itself is unavailable."""


class Pipeline:
    """Ingest one source into the index (see module docstring)."""

    def __init__(self, db: Database, *, embedder: Embedder, parsers: Sequence[Parser] | None = None,
                 hooks: Sequence[DocumentHook] | None = None, options: IngestOptions | None = None,
                 progress: ProgressSink | None = None,
                 chunker: Callable[..., Any] | None = None) -> None:
        if parsers is None:
            from ingest.parsers import DEFAULT_PARSERS

            parsers = DEFAULT_PARSERS
        if hooks is None:
            from ingest.hooks import default_hooks

            hooks = default_hooks()
        if chunker is None:
            from ingest.chunking import chunk_document

            chunker = chunk_document
        self.db = db
        self.embedder = embedder
        self.parsers = tuple(parsers)
        self._parser_versions = {p.name: p.version for p in self.parsers}
        self.hooks = tuple(hooks)
        self.options = options or IngestOptions()
        self.progress: ProgressSink = progress or Progress()
        self.chunker = chunker

    # -- public ---------------------------------------------------------------------------------
    def run(self, source: Source) -> IngestReport:
        started = time.perf_counter()
        with self._source_lock(source.name):
            with self.db.session() as s:
                src = store.ensure_source(s, source.name, source.kind, source.config())
                space = store.ensure_space(s, self.embedder)
                source_id, space_id = src.id, space.id
                # We hold the source lock: any run still "running" for it was killed mid-way.
                s.execute(
                    update(IngestRun)
                    .where(IngestRun.source_id == source_id, IngestRun.status == "running")
                    .values(status="interrupted")
                )
                run_id = store.start_run(s, source_id, self.options.trigger, store.space_name(
                    self.embedder))
            report = IngestReport(source=source.name, run_id=run_id,
                                  embedder=store.space_name(self.embedder))
            ctx = _RunContext(source_id=source_id, space_id=space_id, run_id=run_id,
                              report=report)
            try:
                self._run(source, ctx)
                report.status = "completed"
            except KeyboardInterrupt:
                report.status = "interrupted"
                report.error = "interrupted"
                raise
            except _FatalRunError as exc:
                report.status = "failed"
                report.error = str(exc)
            except FileNotFoundError as exc:
                report.status = "failed"
                report.error = str(exc)
            finally:
                try:
                    self._end_bulk_load(ctx)
                finally:
                    report.duration_s = time.perf_counter() - started
                    self._finish(ctx)
                self.progress.finish(report)
        return report

    # -- the run ------------------------------------------------------------------------------
    def _run(self, source: Source, ctx: _RunContext) -> None:
        with self.db.session() as s:
            known = store.load_ledger(s, ctx.source_id)
            ctx.space = s.get(store.EmbeddingSpace, ctx.space_id)
            s.expunge(ctx.space)
        from ingest.bulk import BulkLoad, restore_indexes

        restore_indexes(self.db, ctx.space)  # an earlier bulk import was killed before its build
        ctx.bulk = BulkLoad(self.db, ctx.space, self.options.bulk_min_items)
        total = None
        count = getattr(source, "count", None)
        if callable(count):
            try:
                total = int(count())
            except (OSError, TypeError, ValueError):
                total = None
        self.progress.start(source.name, total)
        seen: set[str] = set()
        pending: list[_Prepared] = []
        pending_chunks = 0
        for event in source.scan(known):
            if isinstance(event, Removed):
                seen.add(event.origin)
                self._remove(ctx, event.origin)
                continue
            seen.add(event.origin)
            prepared = self._prepare(ctx, event, known.get(event.origin))
            if prepared is None:
                if len(ctx.touched) >= 1000:
                    self._flush(ctx, [])
                continue
            pending.append(prepared)
            pending_chunks += sum(len(p.chunks) for p in prepared.all_docs())
            if pending_chunks >= self.options.embed_batch_chunks:
                self._flush(ctx, pending)
                pending, pending_chunks = [], 0
        self._flush(ctx, pending)
        if source.full_scan:
            for origin in sorted(set(known) - seen):
                self._remove(ctx, origin)

    def _prepare(self, ctx: _RunContext, item: RawItem, entry: LedgerEntry | None,
                 depth: int = 0, parent_hints: dict[str, Any] | None = None) -> _Prepared | None:
        """Decide, read, hash, parse and chunk one item; None when nothing is to be written."""
        t0 = time.perf_counter()
        settled = self._settled(entry)
        if (entry and settled and item.size is not None and item.mtime is not None
                and entry.size == item.size and entry.mtime == item.mtime):
            self._outcome(ctx, ItemOutcome(item.origin, "unchanged"), record=False)
            return None
        if item.size is not None and item.size > self.options.max_file_bytes:
            err = TooLargeError(f"{item.origin}: {item.size / 1e6:.1f} MB is over the "
                                f"{self.options.max_file_bytes / 1e6:.0f} MB limit "
                                "(HOMERAG_MAX_FILE_MB)")
            self._fail(ctx, item, err, t0, status="skipped")
            return None
        try:
            data = item.read_bytes()
        except OSError as exc:
            self._fail(ctx, item, IngestError(f"{item.origin}: cannot read ({exc.strerror or exc})",
                                              code=ErrorCode.unreadable), t0)
            return None
        from app.core.types import sha256_hex

        sha = sha256_hex(data)
        if entry and settled and entry.sha256 == sha:
            # Same bytes, new stat (a copied or touched folder): remembered in one batch per
            # flush rather than a transaction per file (speed; bench/README.md).
            ctx.touched.append((item.origin, len(data), item.mtime))
            self._outcome(ctx, ItemOutcome(item.origin, "unchanged"), record=False)
            return None
        try:
            prepared = self._parse(item, data, sha, t0)
        except IngestError as exc:
            self._fail(ctx, item, exc, t0)
            return None
        except Exception as exc:  # a parser bug must not stop the run
            log.exception("parser crashed on %s", item.origin)
            self._fail(ctx, item, IngestError(
                f"{item.origin}: parser crashed ({type(exc).__name__}: {_first_line(exc)})",
                code=ErrorCode.internal), t0)
            return None
        duplicate = self._duplicate_of(ctx, item, prepared)
        if duplicate is not None:
            self._fail(ctx, item, duplicate, t0, status="skipped", sha=sha)
            return None
        if depth < MAX_CHILD_DEPTH:
            for child in prepared.parsed.children:
                try:
                    child_prep = self._parse(child, child.read_bytes(), None, time.perf_counter())
                except IngestError as exc:
                    prepared.child_failures.append(ItemOutcome(child.origin, "failed",
                                                               str(exc.code), str(exc)))
                    continue
                except Exception as exc:
                    prepared.child_failures.append(ItemOutcome(
                        child.origin, "failed", ErrorCode.internal.value,
                        f"{child.origin}: parser crashed ({type(exc).__name__})"))
                    continue
                prepared.children.append(child_prep)
        return prepared

    def _duplicate_of(self, ctx: _RunContext, item: RawItem,
                      prepared: _Prepared) -> HomeragError | None:
        """A hook may declare an item a copy of one already indexed (mail by Message-ID)."""
        for hook in self.hooks:
            check = getattr(hook, "check_duplicate", None)
            if check is not None:
                found = check(self.db.session, source_id=ctx.source_id, origin=item.origin,
                              parsed=prepared.parsed, sha256=prepared.sha256)
                if found is not None:
                    return found  # type: ignore[no-any-return]
        return None

    def _parse(self, item: RawItem, data: bytes, sha: str | None, t0: float) -> _Prepared:
        from app.core.types import sha256_hex
        from ingest.mediatypes import detect_media_type
        from ingest.parsers import pick_parser

        sha = sha or sha256_hex(data)
        media_type = detect_media_type(item.name, data[:4096], item.media_type)
        inp = ParseInput(item=item, data=data, media_type=media_type, sha256=sha)
        parser = pick_parser(inp, self.parsers)
        parsed = _clean(parser.parse(inp))
        if "message" in item.hints and "message" not in parsed.metadata:
            parsed = replace(parsed, metadata={**parsed.metadata, "message": item.hints["message"]})
        chunked = self.chunker(parsed, max_tokens=self.options.chunk_tokens,
                               overlap=self.options.chunk_overlap)
        blob = None
        if self.options.originals_dir is not None:
            from ingest.originals import store_original

            blob = store_original(self.options.originals_dir, sha, data)
        return _Prepared(item=item, sha256=sha, size=len(data), media_type=media_type,
                         parser=parser, parsed=parsed, content=chunked.content,
                         chunks=list(chunked.chunks), started=t0, blob_path=blob)

    def _flush(self, ctx: _RunContext, pending: list[_Prepared]) -> None:
        if ctx.touched:
            with self.db.session() as s:
                store.touch_ledger_stats(s, ctx.source_id, ctx.touched)
            ctx.touched = []
        if not pending:
            return
        if ctx.bulk is not None:
            # Asked before a batch is written, not after: a switch at the last batch would
            # rebuild the whole graph for nothing.
            ctx.bulk.consider(ctx.report.counts["indexed"], ctx.report.counts["chunks"])
        docs = [d for p in pending for d in p.all_docs()]
        self._embed(ctx, docs)
        for prepared in pending:
            self._write(ctx, prepared)

    def _end_bulk_load(self, ctx: _RunContext) -> None:
        if ctx.bulk is None or not ctx.bulk.active:
            return
        note = getattr(self.progress, "note", None)
        if callable(note):
            note("building the search index")
        t0 = time.perf_counter()
        try:
            ctx.bulk.finish()
        except (OperationalError, DBAPIError) as exc:
            # The data is stored; the next ingest run of any source builds the index.
            log.error("could not build the search index after the import: %s",
                      _first_line(exc.orig or exc))
            return
        ctx.report.index_build_s = time.perf_counter() - t0

    def _embed(self, ctx: _RunContext, docs: list[_Prepared]) -> None:
        """Vectors for every chunk: stored ones reused by content hash, the rest embedded once."""
        hashes = [c.content_hash for d in docs for c in d.chunks]
        with self.db.session() as s:
            reuse: dict[str, Any] = store.reusable_embeddings(s, ctx.space_id, hashes)
        todo: dict[str, str] = {}
        for d in docs:
            for c in d.chunks:
                if c.content_hash not in reuse:
                    todo.setdefault(c.content_hash, c.text if not c.heading
                                    else f"{c.heading}\n{c.text}")
        try:
            vectors = self.embedder.embed_documents(list(todo.values())) if todo else []
        except EmbedderUnavailableError as exc:
            raise _FatalRunError(str(exc)) from exc
        reuse.update(zip(todo, vectors, strict=True))
        for d in docs:
            d.embeddings = [reuse[c.content_hash] for c in d.chunks]

    def _write(self, ctx: _RunContext, prepared: _Prepared) -> None:
        """One transaction: replace the document (and its attachments), hooks, ledger, item."""
        item = prepared.item
        try:
            with self._item_session() as s:
                old_id = store.find_document_id(s, ctx.source_id, item.origin)
                if old_id is not None:  # rewritten in place: its id (and links to it) stay
                    self._run_removed_hooks(s, old_id)
                doc_id = self._insert(s, ctx, prepared, parent_id=None, occurred_at=None,
                                      existing_id=old_id)
                chunk_count = len(prepared.chunks)
                duration = (time.perf_counter() - prepared.started) * 1000
                store.upsert_ledger(s, ctx.source_id, item.origin, sha256=prepared.sha256,
                                    size_bytes=prepared.size, mtime=item.mtime, status="indexed",
                                    code=None, message=None, transient=False,
                                    document_id=doc_id, chunk_count=chunk_count,
                                    duration_ms=duration, cursor=dict(item.hints.get("cursor", {})))
                outcome = ItemOutcome(item.origin, "indexed", document_id=doc_id,
                                      chunk_count=chunk_count, duration_ms=round(duration, 1))
                store.record_item(s, ctx.run_id, ctx.source_id, item.origin, "indexed",
                                  document_id=doc_id, chunk_count=chunk_count,
                                  duration_ms=duration)
                for failure in prepared.child_failures:
                    store.record_item(s, ctx.run_id, ctx.source_id, failure.origin, "failed",
                                      code=failure.code, message=failure.message)
        except IngestError as exc:  # raised by a hook: the whole document is rolled back
            self._fail(ctx, item, exc, prepared.started, sha=prepared.sha256)
            return
        except OperationalError as exc:
            raise _FatalRunError(f"database unavailable: {_first_line(exc.orig or exc)}") from exc
        except DBAPIError as exc:
            self._fail(ctx, item, IngestError(
                f"{item.origin}: could not be stored ({_first_line(exc.orig or exc)})"),
                prepared.started, sha=prepared.sha256)
            return
        ctx.report.counts["chunks"] += chunk_count + sum(
            len(c.chunks) for c in prepared.all_docs() if c is not prepared)
        for failure in prepared.child_failures:
            ctx.report.problems.append(failure)
        self._outcome(ctx, outcome, record=False)

    def _insert(self, s: Session, ctx: _RunContext, prepared: _Prepared, *, parent_id: int | None,
                occurred_at: Any, existing_id: int | None = None) -> int:
        record = store.DocumentRecord(
            source_id=ctx.source_id, origin=prepared.item.origin, sha256=prepared.sha256,
            size_bytes=prepared.size, media_type=prepared.media_type, parsed=prepared.parsed,
            content=prepared.content, chunks=prepared.chunks, embeddings=prepared.embeddings,
            parser=f"{prepared.parser.name}/{prepared.parser.version}",
            blob_path=prepared.blob_path, parent_id=parent_id,
            occurred_at=prepared.parsed.occurred_at or occurred_at,
        )
        assert ctx.space is not None
        doc_id = store.write_document(s, record, ctx.space, existing_id)
        for hook in self.hooks:
            hook.on_stored(s, doc_id, prepared.parsed)
        for child in prepared.children:
            self._insert(s, ctx, child, parent_id=doc_id,
                         occurred_at=prepared.parsed.occurred_at or occurred_at)
        return doc_id

    def _delete_with_hooks(self, s: Session, doc_id: int) -> None:
        self._run_removed_hooks(s, doc_id)
        store.delete_document(s, doc_id)

    def _run_removed_hooks(self, s: Session, doc_id: int) -> None:
        ids = [doc_id]
        frontier = [doc_id]
        while frontier:  # attachments (and theirs) first, so hooks see every document
            children = list(s.scalars(select(Document.id).where(Document.parent_id.in_(frontier))))
            ids.extend(children)
            frontier = children
        for did in reversed(ids):
            for hook in self.hooks:
                hook.on_removed(s, did)

    def _remove(self, ctx: _RunContext, origin: str) -> None:
        with self._item_session() as s:
            doc_id = store.find_document_id(s, ctx.source_id, origin)
            if doc_id is not None:
                self._delete_with_hooks(s, doc_id)
            store.delete_ledger(s, ctx.source_id, origin)
            store.record_item(s, ctx.run_id, ctx.source_id, origin, "removed")
        self._outcome(ctx, ItemOutcome(origin, "removed"), record=False)

    def _fail(self, ctx: _RunContext, item: RawItem, exc: HomeragError, t0: float, *,
              status: str = "failed", sha: str | None = None) -> None:
        """Record a failure. Whatever was stored for this item before stays untouched."""
        duration = (time.perf_counter() - t0) * 1000
        message = str(exc)
        if item.origin not in message:
            message = f"{item.origin}: {message}"
        outcome = ItemOutcome(item.origin, status, str(exc.code), message,
                              duration_ms=round(duration, 1))
        with self._item_session() as s:
            store.upsert_ledger(s, ctx.source_id, item.origin, sha256=sha, size_bytes=item.size,
                                mtime=item.mtime, status=status, code=str(exc.code),
                                message=message, transient=exc.transient, duration_ms=duration)
            store.record_item(s, ctx.run_id, ctx.source_id, item.origin, status,
                              code=str(exc.code), message=message, duration_ms=duration)
        ctx.report.problems.append(outcome)
        self._outcome(ctx, outcome, record=False)

    def _outcome(self, ctx: _RunContext, outcome: ItemOutcome, *, record: bool) -> None:
        ctx.report.counts[outcome.status] += 1
        self.progress.advance(outcome)

    def _settled(self, entry: LedgerEntry | None) -> bool:
        """Whether an unchanged item needs no new attempt."""
        if entry is None:
            return False
        if self.options.reparse:
            return False
        if entry.status == "indexed":
            # A parser whose version changed since (better extraction, a fixed bug) parses
            # its documents again, so upgrades reach what is already indexed.
            name, _, version = (entry.parser or "").partition("/")
            current = self._parser_versions.get(name)
            return current is None or current == version
        return not entry.transient and not self.options.retry_failed

    def _finish(self, ctx: _RunContext) -> None:
        r = ctx.report
        try:
            with self.db.session() as s:
                counts = {k: r.counts.get(k, 0) for k in
                          ("indexed", "unchanged", "failed", "skipped", "removed", "chunks")}
                store.finish_run(s, ctx.run_id, r.status if r.status != "running" else "failed",
                                 counts, r.error)
                s.execute(text("UPDATE sources SET last_sync_at = now() WHERE id = :i"),
                          {"i": ctx.source_id})
        except (OperationalError, DatabaseError):
            log.warning("could not record the end of ingest run %s", ctx.run_id)

    @contextmanager
    def _item_session(self) -> Iterator[Session]:
        """The transaction of one item (document + ledger + run item), committed without
        waiting for the WAL flush (speed: ~1.2 ms of fsync per document, a tenth of a small
        document's ingest). Safe here: a crash can lose only the last few items' commits, and
        each went with its ledger row, so the next run simply does them again; the run's final
        commit (`_finish`, synchronous) flushes everything before it."""
        with self.db.session() as s:
            s.execute(text("SET LOCAL synchronous_commit = off"))
            yield s

    # -- locking ------------------------------------------------------------------------------
    @contextmanager
    def _source_lock(self, name: str) -> Iterator[None]:
        try:
            conn: Connection = self.db.engine.connect()
        except OperationalError as exc:
            raise DatabaseError(f"database unavailable: {_first_line(exc.orig or exc)}") from exc
        try:
            key = {"name": f"homerag:source:{name}"}
            got = conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:name))"), key).scalar()
            if not got:
                if not self.options.wait_for_lock:
                    raise BusyError(f"source {name!r} is being synced by another process; "
                                    "try again later")
                log.info("waiting for source %s (another process is syncing it)", name)
                conn.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), key)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), key)
                conn.commit()
        finally:
            conn.close()


@dataclass
class _RunContext:
    source_id: int
    space_id: int
    run_id: int
    report: IngestReport
    space: Any = None
    touched: list[tuple[str, int | None, float | None]] = field(default_factory=list)
    bulk: Any = None  # ingest.bulk.BulkLoad, once the space is known


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _clean(parsed: ParsedDocument) -> ParsedDocument:
    """PostgreSQL text cannot hold NUL; some PDFs and mails contain it."""
    if not any("\x00" in b.text for b in parsed.blocks):
        return parsed
    blocks = [replace(b, text=b.text.replace("\x00", "")) if "\x00" in b.text else b
              for b in parsed.blocks]
    return replace(parsed, blocks=blocks)


def ingest_sources(db: Database, sources: Iterable[Source], **kwargs: Any) -> list[IngestReport]:
    """Run the pipeline over several sources with the same embedder and options."""
    pipeline = Pipeline(db, **kwargs)
    return [pipeline.run(source) for source in sources]


__all__ = ["IngestOptions", "IngestReport", "ItemOutcome", "Pipeline", "Progress", "ProgressSink",
           "TextBlock", "ingest_sources"]
