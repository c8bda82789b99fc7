"""Use case: sync sources into the index. `homerag ingest`, `homerag demo`, the scheduler's jobs
(and an upload from the web, later) all call `sync`, which builds the one ingest pipeline and,
when documents changed, refreshes contract terms and deadlines.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.errors import BusyError, HomeragError, InvalidInputError

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.core.protocols import Source
    from app.services.runtime import Runtime
    from ingest.pipeline import IngestReport, Pipeline, ProgressSink

    # the type of the progress sink's items, for shells (they import services, not ingest)
    from ingest.pipeline import ItemOutcome as ItemOutcome

log = logging.getLogger(__name__)

__all__ = ["SyncResult", "configured_sources", "resolve_sources", "sync", "sync_configured"]


@dataclass
class SyncResult:
    """The reports of one sync, one per source, and whether contract terms were refreshed."""

    reports: list[IngestReport] = field(default_factory=list)
    contracts_refreshed: bool = False
    evidence: dict[str, Any] | None = None  # receipts/invoices linked to transactions

    @property
    def changed(self) -> bool:
        return any(r.counts.get("indexed") or r.counts.get("removed") for r in self.reports)

    @property
    def completed(self) -> bool:
        return all(r.status == "completed" for r in self.reports)

    @property
    def failed_items(self) -> int:
        """Items failing now: this run's failures and earlier ones whose items did not change
        since (they are not tried again, and still fail `--strict`)."""
        return sum(max(r.counts.get("failed", 0), r.failing) for r in self.reports)

    def to_json(self) -> dict[str, Any]:
        return {"runs": [r.to_json() for r in self.reports],
                "contracts_refreshed": self.contracts_refreshed, "evidence": self.evidence}


def configured_sources(settings: Settings) -> dict[str, Any]:
    """Name -> ConfiguredSource, from the owner's sources file."""
    from ingest.sources import load_sources

    return {c.source.name: c for c in load_sources(settings.resolved_sources_file)}


def resolve_sources(settings: Settings, *, paths: Sequence[Path] = (),
                    names: Sequence[str] = ()) -> list[Source]:
    """The sources for one request: named configured sources, then PATHs (a mail store or a
    folder becomes its own source, plain files one `files` source); with neither, every
    enabled configured source."""
    from ingest.sources import source_for_path
    from ingest.sources.folder import FilesSource

    configured = configured_sources(settings)
    sources: list[Source] = []
    for name in names:
        if name not in configured:
            known = ", ".join(sorted(configured)) or "none configured"
            raise InvalidInputError(f"source: unknown {name!r} (known: {known})")
        sources.append(configured[name].source)
    files: list[Path] = []
    for path in paths:
        source = source_for_path(path)
        if source is None:
            files.append(path)
        else:
            sources.append(source)
    if files:
        sources.append(FilesSource(files))
    if not paths and not names:
        sources = [c.source for c in configured.values() if c.enabled]
        if not sources:
            raise InvalidInputError(
                f"nothing to ingest: give PATHs, or list sources in "
                f"{settings.resolved_sources_file}")
    return sources


def build_pipeline(rt: Runtime, *, progress: ProgressSink | None = None,
                   **options: Any) -> Pipeline:
    """The one ingest pipeline: the active space's embedder, every parser with the owner's
    statement layouts and default currency, the document hooks with the owner's category rules.
    The owner's files are read here, so a broken one is a one-line ConfigError before any file
    is parsed."""
    from ingest.hooks import default_hooks
    from ingest.limits import Limits
    from ingest.money.hook import owner_category_rules
    from ingest.parsers import make_parsers
    from ingest.parsers.statement import owner_csv_options
    from ingest.pipeline import IngestOptions, Pipeline, Progress

    settings = rt.settings
    parsers = make_parsers(statement_options=owner_csv_options(
        settings.resolved_statement_profiles_file, default_currency=settings.default_currency),
        limits=Limits.from_settings(settings))  # HOMERAG_MAX_*: bounds on every expansion
    hooks = default_hooks(category_rules=owner_category_rules(
        settings.resolved_category_rules_file))
    if settings.embed_queue:  # `homerag worker` processes embed (app/services/embed_queue.py)
        from app.services.embed_queue import queued_ingest

        embedder, hooks = queued_ingest(rt, hooks)
    else:
        embedder = rt.embedder()
    return Pipeline(rt.db, embedder=embedder, parsers=parsers, hooks=hooks,
                    options=IngestOptions.from_settings(settings, **options),
                    progress=progress or Progress())


def sync(rt: Runtime, sources: Sequence[Source], *, trigger: str = "cli",
         retry_failed: bool = False, reparse: bool = False, wait_for_lock: bool = True,
         progress: ProgressSink | None = None) -> SyncResult:
    """Run the ingest pipeline over each source in turn (a run that cannot proceed is reported
    in its IngestReport, the next source still runs), then refresh contract terms if anything
    was indexed or removed."""
    pipeline = build_pipeline(rt, progress=progress, trigger=trigger, retry_failed=retry_failed,
                              reparse=reparse, wait_for_lock=wait_for_lock)
    started = datetime.now(UTC) - timedelta(minutes=1)  # a database clock a little behind
    result = SyncResult(reports=[pipeline.run(source) for source in sources])
    if result.changed:
        from sqlalchemy.exc import OperationalError

        from app.services.contracts import refresh_contracts
        from app.services.evidence import refresh_evidence

        try:
            refresh_contracts(rt)  # key terms and deadlines of new or changed contracts
        except OperationalError:
            if result.completed:
                raise
            # The database went away during the sync: the failed run's report says so.
            log.debug("contract refresh skipped after a failed sync", exc_info=True)
            return result
        result.contracts_refreshed = True
        # Receipts, invoices and mails of this sync linked to their transactions (and new
        # transactions to the documents that state their amount).
        result.evidence = refresh_evidence(rt, since=started)
    return result


def sync_configured(rt: Runtime, name: str, *, trigger: str = "scheduler") -> dict[str, Any]:
    """Sync one configured source without waiting for a lock another process holds (the
    scheduler's job): a JSON summary with status completed / busy / failed / unknown."""
    configured = configured_sources(rt.settings)
    if name not in configured:
        log.warning("scheduled source %r is no longer configured", name)
        return {"source": name, "status": "unknown"}
    try:
        result = sync(rt, [configured[name].source], trigger=trigger, wait_for_lock=False)
    except BusyError as exc:
        log.info("%s", exc)
        return {"source": name, "status": "busy"}
    except HomeragError as exc:
        log.error("sync of %s failed: %s", name, exc)
        return {"source": name, "status": "failed", "error": str(exc)}
    summary: dict[str, Any] = result.reports[0].to_json()
    log.info("synced %s: %s", name, summary["counts"])
    return summary


def sample_source() -> Source:
    """The bundled synthetic household of `homerag demo`."""
    from app.core.resources import sample_dir
    from ingest.sources.folder import FolderSource

    return FolderSource("sample household", sample_dir())
