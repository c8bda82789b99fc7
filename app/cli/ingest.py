"""`homerag ingest PATH... | --source NAME`: index files, folders, mail stores and configured sources."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli import cli
from app.core.errors import InvalidInputError

if TYPE_CHECKING:
    from app.services.sync import IngestReport, ItemOutcome

EXIT_STRICT_FAILURES = 3


class RichProgress:
    """A rich progress bar per source, on stderr (nothing when not a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.task: Any = None

    def start(self, source: str, total: int | None) -> None:
        self.bar.start()
        self.task = self.bar.add_task(source, total=total, status="")

    def advance(self, outcome: ItemOutcome) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=1, status=f"{outcome.status}: "
                            f"{Path(outcome.origin).name[:40]}")

    def note(self, message: str) -> None:
        """A phase without items (the index build at the end of a large import)."""
        if self.task is not None:
            self.bar.update(self.task, status=message)

    def finish(self, report: IngestReport) -> None:
        self.bar.stop()
        self.task = None


@cli.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--source", "names", multiple=True, help="A configured source (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--strict", is_flag=True, help=f"Exit {EXIT_STRICT_FAILURES} if any file failed.")
@click.option("--retry-failed", is_flag=True, help="Retry files that failed before, unchanged.")
@click.option("--reparse", is_flag=True,
              help="Parse every file again, changed or not (after changing parser settings).")
@click.option("--no-wait", is_flag=True, help="Fail at once if another process syncs a source.")
def ingest_cmd(paths: tuple[Path, ...], names: tuple[str, ...], as_json: bool, strict: bool,
               retry_failed: bool, reparse: bool, no_wait: bool) -> None:
    """Index PATHs (files or folders, recursive) or configured sources.

    Unchanged files are skipped without parsing; changed ones are replaced atomically; files
    gone from a folder are removed from the index. Per-file failures are listed and do not
    stop the run (exit 0, or 3 with --strict); a run that cannot proceed exits 1.
    """
    from app.core.config import get_settings
    from app.services.runtime import open_runtime
    from app.services.sync import resolve_sources, sync

    settings = get_settings()
    try:
        sources = resolve_sources(settings, paths=paths, names=names)
    except InvalidInputError as exc:
        raise click.UsageError(str(exc)) from None
    show_bar = not as_json and sys.stderr.isatty()
    with open_runtime(settings) as rt:
        result = sync(rt, sources, retry_failed=retry_failed, reparse=reparse,
                      wait_for_lock=not no_wait, progress=RichProgress() if show_bar else None)
    reports = result.reports
    if as_json:
        click.echo(json.dumps({"runs": [r.to_json() for r in reports]}, indent=2))
    else:
        for report in reports:
            _print_report(report)
    if not result.completed:
        sys.exit(1)
    # Failures of earlier runs count too while those items are unchanged (not tried again).
    if strict and result.failed_items:
        sys.exit(EXIT_STRICT_FAILURES)


def _print_report(report: IngestReport) -> None:
    c = report.counts
    line = (f"{report.source}: {c.get('indexed', 0)} indexed, {c.get('unchanged', 0)} unchanged, "
            f"{c.get('failed', 0)} failed, {c.get('skipped', 0)} skipped, "
            f"{c.get('removed', 0)} removed; {c.get('chunks', 0)} chunks "
            f"in {report.duration_s:.1f} s ({report.embedder.split(':')[0]})")
    if report.index_build_s is not None:
        line += f"; search index built in {report.index_build_s:.1f} s (bulk import)"
    earlier = report.failing - c.get("failed", 0)
    if earlier > 0:
        line += f"; {earlier} still failing from earlier runs (homerag status)"
    click.echo(line)
    for p in report.problems:
        click.echo(f"  {p.status}: {p.message}", err=False)
    if report.status != "completed":
        click.echo(f"error: {report.source}: run {report.status}: {report.error}", err=True)
