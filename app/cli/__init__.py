"""The `homerag` command line: one click group; each command group lives in its own module.

Commands are thin: parse arguments, call a service, print. Every error becomes one line on
stderr: ours (the HomeragError tree) with exit code 1, anything else too (`-v` adds the
traceback); usage errors exit 2 (click).
"""

from __future__ import annotations

import logging
import sys

import click

from app.core.errors import HomeragError

log = logging.getLogger("app.cli")

# Long-running commands whose progress lines (INFO) the owner wants to see by default.
CHATTY_COMMANDS = frozenset({"serve", "scheduler", "demo", "worker"})


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, with its type when the message says nothing."""
    from app.core.redact import redact_text

    text = redact_text((str(exc).strip().splitlines() or [""])[0].strip())
    name = type(exc).__name__
    if not text:
        return name
    return text if isinstance(exc, HomeragError) else f"{name}: {text}"


class HomeragGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt,
                SystemExit):
            raise
        except HomeragError as exc:
            log.debug("command failed", exc_info=True)
            raise click.ClickException(one_line(exc)) from exc
        except Exception as exc:  # a library's error (alembic, psycopg, OS ...): still one line
            log.debug("command failed", exc_info=True)
            hint = "" if log.isEnabledFor(logging.DEBUG) else " (run with -v for details)"
            raise click.ClickException(one_line(exc) + hint) from exc


class _SecondaryDriverWarnings(logging.Filter):
    """Drops psycopg's "error ignored terminating/exiting/in rollback ..." warnings. psycopg
    logs one while it is already raising another error (a COPY or pipeline cleaned up after the
    server went away), and that error is what the command reports as its one line: without -v
    the killed-database run printed two lines for one failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("psycopg")
                    and str(record.msg).startswith("error ignored "))


def configure_logging(*, verbose: int, quiet: bool, command: str | None) -> None:
    """homerag's own log lines on stderr: INFO for long-running commands, else WARNING;
    -v: DEBUG (and tracebacks of failures), -vv: DEBUG for libraries too; -q: errors only."""
    if quiet:
        level = logging.ERROR
    elif verbose:
        level = logging.DEBUG
    else:
        level = logging.INFO if command in CHATTY_COMMANDS else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                           datefmt="%H:%M:%S"))
    if not verbose:
        handler.addFilter(_SecondaryDriverWarnings())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    for name in ("app", "ingest"):
        logging.getLogger(name).setLevel(level)


@click.group(cls=HomeragGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="homerag")
@click.option("-v", "--verbose", count=True, help="More log lines (-vv: libraries too).")
@click.option("-q", "--quiet", is_flag=True, help="Errors only.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """homerag: private RAG over your own documents, statements and mail."""
    from app.core.config import apply_privacy_env

    apply_privacy_env()
    configure_logging(verbose=verbose, quiet=quiet, command=ctx.invoked_subcommand)


def main() -> None:
    try:
        cli(prog_name="homerag")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


# Every command module adds its commands to `cli` when imported. They import their heavy parts
# inside the commands, so `homerag --help` stays fast.
from app.cli import (  # noqa: E402
    ask,
    backup,
    contracts,
    conversations,
    db,
    demo,
    embeddings,
    eval,
    holdings,
    ingest,
    mcp,
    money,
    scheduler,
    search,
    serve,
    status,
    user,
    worker,
)

__all__ = ["ask", "backup", "cli", "contracts", "conversations", "db", "demo", "embeddings", "eval",
           "holdings", "ingest", "main", "mcp", "money", "scheduler", "search", "serve", "status",
           "user", "worker"]
