"""The MCP server on the HTTP service: streamable HTTP at /mcp, behind the app's own middleware
(loopback Host check, authentication), so it is protected like every other route.

    running = mount_mcp(app)        # in create_app; `async with running():` in the lifespan
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from app.core.errors import DatabaseError

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from app.services.runtime import Runtime

MCP_PATH = "/mcp"


def mount_mcp(app: Starlette, *, path: str = MCP_PATH) -> Callable[
        [], AbstractAsyncContextManager[Any]]:
    """Add the MCP endpoint to `app`; returns the context manager that must run in its lifespan
    (the SDK's session manager)."""
    from mcp.server.transport_security import TransportSecuritySettings

    from app.mcp.server import build_server

    def runtime() -> Runtime:
        rt = getattr(app.state, "runtime", None)
        if rt is None:
            raise DatabaseError("the service has no database open (it is starting or shutting "
                                "down)")
        return rt  # type: ignore[no-any-return]

    server = build_server(runtime)
    # Host and Origin are checked by the app's own middleware for every route (app/http/hosts.py),
    # which also knows a non-loopback bind; the SDK's check would refuse those hosts.
    mcp_app = server.streamable_http_app(
        streamable_http_path=path, stateless_http=True, json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    app.router.routes.extend(mcp_app.routes)
    return server.session_manager.run
