"""Answer loopback connections only when they name a loopback host (DNS-rebinding guard).

Binding to 127.0.0.1 keeps other machines out, but a web page the owner visits could rebind its
own domain name to 127.0.0.1 and read the API from the owner's browser. So a request that
arrives on a loopback address must carry a loopback Host header (localhost, *.localhost,
127.x.x.x, [::1]). Requests arriving on another interface (the owner chose to expose the app,
e.g. `--host 0.0.0.0` on a home server) are not restricted by name.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.responses import PlainTextResponse


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP addresses (brackets around IPv6 allowed)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name part of a Host header: 'a.b:8000' -> 'a.b', '[::1]:8000' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def is_loopback_name(name: str) -> bool:
    return is_loopback(name) or name.endswith(".localhost")


class LoopbackHostMiddleware:
    """Refuse (400) a request on a loopback address whose Host header names another host."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            server = scope.get("server")
            if server and is_loopback(str(server[0])):
                headers = dict(scope.get("headers") or [])
                name = host_name(headers.get(b"host", b"").decode("latin-1"))
                if not is_loopback_name(name):
                    response = PlainTextResponse(
                        "this homerag listens on loopback and answers only to localhost "
                        "(Host header refused)", status_code=400)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
