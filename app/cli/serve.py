"""`homerag serve`: the web form and the API with uvicorn, on 127.0.0.1:8000 by default."""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import click

from app.cli import cli
from app.http.hosts import is_loopback

if TYPE_CHECKING:
    from app.services.runtime import Runtime


@cli.command("serve")
@click.option("--host", default=None, help="Address to bind (default HOMERAG_HOST: 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535),
              help="Port (default HOMERAG_PORT: 8000).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve_cmd(host: str | None, port: int | None, log_level: str) -> None:
    """Serve the web form (/) and the API (/api, docs at /docs). Migrates the database first."""
    from app.core.config import get_settings
    from app.services.runtime import open_runtime

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    if not is_loopback(host):
        # No login in front of it: the owner must choose to expose it (e.g. behind a VPN).
        click.echo(f"warning: binding to {host} makes your documents reachable from other "
                   "machines; homerag has no login of its own", err=True)
    with open_runtime(settings) as ctx:  # starts/opens the database and migrates to head
        click.echo(f"homerag on http://{host}:{port}/  (API docs /docs; {ctx.db_label})")
        run_server(ctx, host=host, port=port, log_level=log_level)


def run_server(ctx: Runtime, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve the app for this context until stopped (Ctrl-C or SIGTERM), then return normally
    so the caller closes the context (and the embedded PostgreSQL with it)."""
    import uvicorn

    from app.http.app import create_app

    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        uvicorn.run(create_app(ctx.settings, runtime=ctx), host=host, port=port,
                    log_level=log_level, server_header=False, proxy_headers=False)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again; by default that
    # would kill the process before the context closes and the embedded PostgreSQL would keep
    # running. Exiting normally runs the `finally` blocks instead (systemd/docker stop).
    raise SystemExit(0)
