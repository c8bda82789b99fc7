"""The one place that orchestrates ingest: scan → skip unchanged → parse → chunk → embed → store.

Per item, in this process: a stat shortcut (same size and mtime as last time: no read at all),
else the sha256 of the bytes (same hash: no parsing, no embedding). Changed items go to the
parse workers (ingest/workers.py: parse and chunk in killable child processes, with a time and
a memory budget per file), while this process embeds finished items in batches across items
(the GPU likes full batches) and writes them many documents per transaction
(ingest/batches.py, ingest/writer.py), each document whole or not at all. Failures are data: recorded per item
with a code and a one-line reason (ingest/ledger.py), and the run carries on; no single item
can end a run. A per-source PostgreSQL advisory lock keeps two processes (CLI and scheduler)
from syncing the same source at once; a large import builds its vector indexes at the end
(ingest/bulk.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from app.core.db import Database
from app.core.errors import DatabaseError, ErrorCode, HomeragError
from app.core.models import IngestRun
from app.core.protocols import (
    CountedSource,
    DocumentHook,
    DuplicateCheck,
    Embedder,
    LedgerEntry,
    Parser,
    Source,
)
from app.core.types import RawItem, Removed, TextBlock, sha256_hex
from ingest import store
from ingest.batches import BatchWriter, RunStoppedError
from ingest.connections import database_problem, release, source_lock, writer_connection
from ingest.ledger import (
    IngestReport,
    ItemOutcome,
    Progress,
    ProgressSink,
    RunLedger,
    safe_text,
)
from ingest.preparing import ParseFailure, ParseSettings, Prepared, first_line
from ingest.workers import InlinePool, ParsePool, default_workers
from ingest.writer import run_removed_hooks

log = logging.getLogger(__name__)


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
    workers: int | None = None  # parse processes; None: one per core; 0: in this process
    parse_timeout_s: float = 60.0  # wall-clock budget of one file (with its attachments); 0: none
    parse_memory_mb: int = 2048  # address space a parse may add; 0: no limit

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> IngestOptions:
        base = cls(
            chunk_tokens=settings.chunk_tokens,
            chunk_overlap=settings.chunk_overlap,
            max_file_bytes=int(settings.max_file_mb * 1024 * 1024),
            originals_dir=settings.originals_dir if settings.keep_originals else None,
            bulk_min_items=settings.bulk_index_min_items,
            workers=getattr(settings, "ingest_workers", None),
            parse_timeout_s=float(getattr(settings, "parse_timeout_s", 60.0)),
            parse_memory_mb=int(getattr(settings, "parse_memory_mb", 2048)),
        )
        return replace(base, **overrides)


@dataclass
class _RunContext:
    source_id: int
    space_id: int
    ledger: RunLedger
    space: Any = None
    bulk: Any = None  # ingest.bulk.BulkLoad, once the space is known
    pool: Any = None  # ParsePool | InlinePool, started when the first item needs parsing
    taken: dict[int, tuple[RawItem, float]] = field(default_factory=dict)  # key: item, t0
    pending: list[Prepared] = field(default_factory=list)
    pending_chunks: int = 0
    known: Mapping[str, LedgerEntry] = field(default_factory=dict)
    conn: Connection | None = None  # the run's own connection for its writes
    writer: Any = None  # BatchWriter on `conn`

    @property
    def report(self) -> IngestReport:
        return self.ledger.report


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
        self.hooks = tuple(hooks)
        self.options = options or IngestOptions()
        self.progress: ProgressSink = progress or Progress()
        self.chunker = chunker
        self._parser_versions: dict[str, str] = {}

    # -- public ---------------------------------------------------------------------------------
    def run(self, source: Source) -> IngestReport:
        started = time.perf_counter()
        with source_lock(self.db, source.name, wait=self.options.wait_for_lock):
            name = safe_text(source.name)
            with self.db.session() as s:
                src = store.ensure_source(s, name, source.kind, store.jsonable(
                    {k: safe_text(v) if isinstance(v, str) else v
                     for k, v in source.config().items()}))
                space = store.ensure_space(s, self.embedder)
                source_id, space_id = src.id, space.id
                # We hold the source lock: any run still "running" for it was killed mid-way.
                s.execute(update(IngestRun)
                          .where(IngestRun.source_id == source_id, IngestRun.status == "running")
                          .values(status="interrupted"))
                run_id = store.start_run(s, source_id, self.options.trigger,
                                         store.space_name(self.embedder))
            report = IngestReport(source=name, run_id=run_id,
                                  embedder=store.space_name(self.embedder))
            ctx = _RunContext(source_id=source_id, space_id=space_id, ledger=RunLedger(
                self.db, source_id=source_id, run_id=run_id, report=report,
                progress=self.progress))
            try:
                self._run(source, ctx)
                report.status = "completed"
            except KeyboardInterrupt:
                report.status = "interrupted"
                report.error = "interrupted"
                raise
            except (RunStoppedError, FileNotFoundError) as exc:
                report.status, report.error = "failed", str(exc)
            except (OperationalError, DBAPIError, DatabaseError) as exc:
                report.status, report.error = "failed", database_problem(exc)
            finally:
                if ctx.pool is not None:
                    ctx.pool.close()
                release(ctx.conn)
                try:
                    self._end_bulk_load(ctx)
                finally:
                    report.duration_s = time.perf_counter() - started
                    ctx.ledger.finish()
                if report.status == "completed":
                    self._refresh_lexeme_counts()
                self.progress.finish(report)
        return report

    def _refresh_lexeme_counts(self) -> None:
        """The full-text stage's word counts, when PostgreSQL analysed the chunks since they
        were taken (ingest/lexeme_stats.py); a failure costs search speed only, never the run."""
        from ingest.lexeme_stats import refresh_if_stale

        try:
            refresh_if_stale(self.db)
        except SQLAlchemyError as exc:
            log.warning("could not update the full-text word counts: %s", database_problem(exc))

    # -- the run --------------------------------------------------------------------------------
    def _run(self, source: Source, ctx: _RunContext) -> None:
        self._parser_versions = {p.name: p.version for p in self.parsers}
        with self.db.session() as s:
            known = ctx.known = store.load_ledger(s, ctx.source_id)
            ctx.space = s.get(store.EmbeddingSpace, ctx.space_id)
            s.expunge(ctx.space)
        ctx.conn = writer_connection(self.db)
        ctx.writer = BatchWriter(ctx.conn, embedder=self.embedder, hooks=self.hooks,
                                 space=ctx.space, source_id=ctx.source_id, ledger=ctx.ledger,
                                 known=known)
        from ingest.bulk import BulkLoad, restore_indexes

        restore_indexes(self.db, ctx.space)  # an earlier bulk import was killed before its build
        ctx.bulk = BulkLoad(self.db, ctx.space, self.options.bulk_min_items)
        self.progress.start(ctx.report.source, _count(source))
        seen: set[str] = set()
        scan: Iterator[RawItem | Removed] = iter(source.scan(known))
        scanned_all, feeding, key = True, True, 0
        while True:
            while feeding and (ctx.pool is None or ctx.pool.has_room()):
                try:
                    event = next(scan)
                except StopIteration:
                    feeding = False
                    break
                except FileNotFoundError:
                    raise
                except Exception as exc:  # the source itself broke: keep what was done
                    log.debug("scan of %s failed", source.name, exc_info=True)
                    ctx.report.error = safe_text(f"{source.name}: scan stopped early "
                                                 f"({type(exc).__name__}: {first_line(exc)})")
                    scanned_all, feeding = False, False
                    break
                key += 1
                self._take(ctx, event, known, seen, key)
            can_feed = feeding and (ctx.pool is None or ctx.pool.has_room())
            if ctx.pool is not None and ctx.pool.busy:
                if not can_feed and ctx.pending_chunks * 4 >= self.options.embed_batch_chunks:
                    self._flush(ctx)  # use the wait for the workers
                for done_key, result in ctx.pool.poll(timeout=0.0 if can_feed else None):
                    self._parsed(ctx, done_key, result)
                    if ctx.pending_chunks >= self.options.embed_batch_chunks:
                        self._flush(ctx)
            if len(ctx.ledger.touched) >= 1000:
                ctx.ledger.flush_touched()
            if not feeding and (ctx.pool is None or not ctx.pool.busy):
                break
        self._flush(ctx)
        ctx.ledger.flush_touched()
        if source.full_scan and scanned_all:
            for origin in sorted(set(known) - seen):
                self._remove(ctx, origin)
        if not scanned_all:
            raise RunStoppedError(ctx.report.error or "scan stopped early")

    def _take(self, ctx: _RunContext, event: RawItem | Removed, known: Mapping[str, LedgerEntry],
              seen: set[str], key: int) -> None:
        """Decide what one scanned item needs; any failure is that item's alone."""
        origin = safe_text(event.origin)
        if origin in seen:
            return  # named twice (a file given twice on the command line)
        seen.add(origin)
        if isinstance(event, Removed):
            self._remove(ctx, origin)
            return
        item = event if origin == event.origin else replace(event, origin=origin,
                                                             name=safe_text(event.name))
        t0 = time.perf_counter()
        try:
            sha = self._changed(ctx, item, known.get(origin), t0)
            if sha is None:
                return
            if ctx.pool is None:
                ctx.pool = self._start_pool()
            ctx.taken[key] = (item, t0)
            ctx.pool.submit(key, item, sha)
        except (OperationalError, RunStoppedError):
            raise
        except Exception as exc:
            log.debug("could not take up %s", origin, exc_info=True)
            ctx.taken.pop(key, None)
            ctx.ledger.fail(item, code=ErrorCode.internal.value, started=t0, transient=False,
                            message=f"{origin}: could not be read ({type(exc).__name__}: "
                                    f"{first_line(exc)})")

    def _changed(self, ctx: _RunContext, item: RawItem, entry: LedgerEntry | None,
                 t0: float) -> str | None:
        """The sha256 of an item to parse; None when it is unchanged (or failed before parsing)."""
        settled = self._settled(entry)
        if (entry and settled and item.size is not None and item.mtime is not None
                and entry.size == item.size and entry.mtime == item.mtime):
            ctx.ledger.unchanged(item.origin)
            return None
        if item.size is not None and item.size > self.options.max_file_bytes:
            ctx.ledger.fail(item, code=ErrorCode.too_large.value, started=t0, transient=False,
                            status="skipped",
                            message=f"{item.origin}: {item.size / 1e6:.1f} MB is over the "
                                    f"{self.options.max_file_bytes / 1e6:.0f} MB limit "
                                    "(HOMERAG_MAX_FILE_MB)")
            return None
        try:
            data = item.read_bytes()
        except OSError as exc:
            ctx.ledger.fail(item, code=ErrorCode.unreadable.value, started=t0, transient=False,
                            message=f"{item.origin}: cannot read ({exc.strerror or exc})")
            return None
        sha = sha256_hex(data)
        if entry and settled and entry.sha256 == sha:
            ctx.ledger.touch(item.origin, len(data), item.mtime)
            return None
        return sha

    def _start_pool(self) -> ParsePool | InlinePool:
        settings = ParseSettings(parsers=self.parsers, chunker=self.chunker,
                                 chunk_tokens=self.options.chunk_tokens,
                                 chunk_overlap=self.options.chunk_overlap,
                                 originals_dir=self.options.originals_dir)
        workers = self.options.workers
        if workers == 0 or "fork" not in multiprocessing.get_all_start_methods():
            return InlinePool(settings)  # asked for, or no fork (Windows): no budgets then
        return ParsePool(settings, size=workers or default_workers(),
                         timeout_s=self.options.parse_timeout_s,
                         memory_mb=self.options.parse_memory_mb)

    def _parsed(self, ctx: _RunContext, key: int, result: Prepared | ParseFailure) -> None:
        item, t0 = ctx.taken.pop(key)
        if isinstance(result, ParseFailure):
            if result.detail:
                log.debug("%s\n%s", result.message, result.detail)
            ctx.ledger.fail(item, code=result.code, message=result.message, started=t0,
                            transient=result.transient)
            if result.code == ErrorCode.disk_full.value:  # every next file would fail alike
                raise RunStoppedError(result.message)
            return
        result.started = t0
        duplicate = self._duplicate_of(ctx, result)
        if duplicate is not None:
            ctx.ledger.fail(item, code=str(duplicate.code), message=str(duplicate), started=t0,
                            transient=duplicate.transient, status="skipped", sha=result.sha256)
            return
        ctx.pending.append(result)
        ctx.pending_chunks += result.chunk_total()

    def _duplicate_of(self, ctx: _RunContext, prepared: Prepared) -> HomeragError | None:
        """A hook may declare an item a copy of one already indexed (mail by Message-ID)."""
        for hook in self.hooks:
            if isinstance(hook, DuplicateCheck):
                found = hook.check_duplicate(self.db.session, source_id=ctx.source_id,
                                             origin=prepared.item.origin, parsed=prepared.parsed,
                                             sha256=prepared.sha256)
                if found is not None:
                    return found
        return None

    # -- embedding and writing ----------------------------------------------------------------
    def _flush(self, ctx: _RunContext) -> None:
        ctx.ledger.flush_touched()
        batch, ctx.pending, ctx.pending_chunks = ctx.pending, [], 0
        if not batch:
            return
        if ctx.bulk is not None:
            # Asked before a batch is written, not after: a switch at the last batch would
            # rebuild the whole graph for nothing.
            ctx.bulk.consider(ctx.report.counts["indexed"] + len(batch),
                              ctx.report.counts["chunks"] + sum(p.chunk_total() for p in batch))
        ctx.writer.store(batch)

    def _end_bulk_load(self, ctx: _RunContext) -> None:
        if ctx.bulk is None or not ctx.bulk.active:
            return
        self.progress.note("building the search index")
        t0 = time.perf_counter()
        try:
            ctx.bulk.finish()
        except SQLAlchemyError as exc:
            # The data is stored; the next ingest run of any source builds the index. (When
            # the database went away, the run's error already says so.)
            log.log(logging.DEBUG if ctx.report.error else logging.WARNING,
                    "could not build the search index after the import: %s",
                    database_problem(exc))
            return
        ctx.report.index_build_s = time.perf_counter() - t0

    def _remove(self, ctx: _RunContext, origin: str) -> None:
        with ctx.writer.transaction() as s:
            doc_id = store.find_document_id(s, ctx.source_id, origin)
            if doc_id is not None:
                run_removed_hooks(s, self.hooks, [doc_id])
                store.delete_document(s, doc_id)
            store.delete_ledger(s, ctx.source_id, origin)
            store.record_item(s, ctx.ledger.run_id, ctx.source_id, origin, "removed")
        ctx.ledger.outcome(ItemOutcome(origin, "removed"))

    def _settled(self, entry: LedgerEntry | None) -> bool:
        """Whether an unchanged item needs no new attempt."""
        if entry is None or self.options.reparse:
            return False
        if entry.status == "indexed":
            # A parser whose version changed since (better extraction, a fixed bug) parses
            # its documents again, so upgrades reach what is already indexed.
            name, _, version = (entry.parser or "").partition("/")
            current = self._parser_versions.get(name)
            return current is None or current == version
        return not entry.transient and not self.options.retry_failed


def _count(source: Source) -> int | None:
    if not isinstance(source, CountedSource):
        return None
    try:
        return source.count()
    except OSError:  # the scan itself reports an unreadable source
        return None


def ingest_sources(db: Database, sources: Iterable[Source], **kwargs: Any) -> list[IngestReport]:
    """Run the pipeline over several sources with the same embedder and options."""
    pipeline = Pipeline(db, **kwargs)
    return [pipeline.run(source) for source in sources]


__all__ = ["IngestOptions", "IngestReport", "ItemOutcome", "Pipeline", "Progress", "ProgressSink",
           "TextBlock", "database_problem", "ingest_sources"]
