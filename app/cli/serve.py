"""`homerag serve`: the web form and the API with uvicorn, on 127.0.0.1:8000 by default.

Any other address needs at least one user (`homerag user add NAME`): the server refuses to start
without one (`demo` and the container's CMD go through the same check). While it serves, the
embedded PostgreSQL is supervised (restarted when it dies); on exit or SIGTERM it is stopped
unless another homerag process still uses it.
"""

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
    with open_runtime(settings) as rt:  # starts/opens the database and migrates to head
        check_bind(rt, host)
        click.echo(f"homerag on http://{host}:{port}/  (API docs /docs; {rt.db_label})")
        run_server(rt, host=host, port=port, log_level=log_level)


def check_bind(rt: Runtime, host: str, *, quiet: bool = False,
               add_user: str = "homerag user add NAME") -> None:
    """Refuse to listen beyond loopback while no user exists (nobody could log in, and the
    documents must not be open to the network); say so when the server is exposed."""
    from app.services.users import users_exist

    if is_loopback(host):
        return
    if not users_exist(rt):
        raise click.ClickException(
            f"refusing to listen on {host} without a user: add one with `{add_user}` (or "
            "listen on 127.0.0.1)")
    if not quiet:
        click.echo(f"listening on {host}: every page and API call needs a login or an API "
                   "token", err=True)


def run_server(rt: Runtime, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve the app for this context until stopped (Ctrl-C or SIGTERM), then return normally
    so the caller closes the context (and the embedded PostgreSQL with it)."""
    import logging

    import uvicorn

    from app.http.app import create_app

    check_bind(rt, host, quiet=True)  # demo comes here directly
    # The embedded PostgreSQL is restarted if it dies while serving (app/core/dbwatch.py);
    # closing the context stops the supervisor, then the server.
    rt.db.supervise()
    if log_level == "debug":  # only then does the access log show query strings (questions)
        logging.getLogger("app.http.access").setLevel(logging.DEBUG)
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # uvicorn's own access log prints the full URL (?q=the question): ours leaves it out
        # (app/http/security.py); X-Forwarded-* are read by our middleware, from trusted
        # proxies only (HOMERAG_TRUSTED_PROXIES).
        uvicorn.run(create_app(rt.settings, runtime=rt, bind=host), host=host, port=port,
                    log_level=log_level, server_header=False, proxy_headers=False,
                    access_log=False)
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
