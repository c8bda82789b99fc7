"""`homerag mcp`: the MCP server over stdio, for agent tools that start it as a subprocess."""

from __future__ import annotations

import signal

from app.cli import cli


@cli.command("mcp")
def mcp_cmd() -> None:
    """Serve homerag's tools (search, ask, transactions, contracts, get_document, status) to an
    MCP client over stdin/stdout. Opens (and migrates) the database like `serve`; logs go to
    stderr, never stdout (that is the protocol's channel)."""
    import anyio

    from app.core.config import get_settings
    from app.mcp.server import build_server
    from app.services.runtime import open_runtime

    # Clients stop their server with SIGTERM after closing stdin: exit normally instead of being
    # killed, so the runtime closes and an embedded PostgreSQL stops with it.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with open_runtime(get_settings()) as rt:
            server = build_server(lambda: rt)
            anyio.run(server.run_stdio_async)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)
