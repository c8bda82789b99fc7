"""Answer only requests that name this server (DNS-rebinding guard), on every interface.

A web page the owner visits could rebind its own domain name to 127.0.0.1 or to the home
server's LAN address and read the API from the owner's browser; such a request carries the
attacker's name in its Host header. So the Host header (X-Forwarded-Host from a trusted proxy)
must be one of:

- a loopback name: localhost, *.localhost, 127.x.x.x, [::1] (always);
- an IP address, when the server listens beyond loopback (a rebinding page cannot make the
  browser send an address as Host: its own origin is a name);
- the address `serve` was bound to, and the names in HOMERAG_ALLOWED_HOSTS ('.example.lan':
  it and its subdomains, '*.example.lan': subdomains only; '*': any name - only behind a proxy
  that checks).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from app.http.security import HttpPolicy, header, send_problem


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


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def exposed(policy: HttpPolicy, scope: dict[str, Any]) -> bool:
    """True when the server listens beyond loopback: bound so, or (bind unknown) the request
    came in on another interface."""
    if policy.bind is not None:
        return not is_loopback(policy.bind)
    server: Any = scope.get("server")
    return bool(server) and not is_loopback(str(server[0]))


def host_allowed(name: str, policy: HttpPolicy, *, exposed: bool) -> bool:
    if not name:
        return False
    if is_loopback_name(name):
        return True
    if exposed and is_ip(name):
        return True
    if policy.bind and name == policy.bind.strip("[]").lower() and policy.bind not in (
            "0.0.0.0", "::"):
        return True
    for allowed in policy.allowed_hosts:
        if allowed == "*" or name == allowed:
            return True
        if allowed.startswith("*.") and name.endswith(allowed[1:]):
            return True
        if allowed.startswith(".") and (name.endswith(allowed) or name == allowed[1:]):
            return True
    return False


class HostAllowlistMiddleware:
    """Refuse (400) a request whose Host header names a host this server is not."""

    def __init__(self, app: Any, *, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            name = host_name(header(scope, b"host") or "")
            if not host_allowed(name, self.policy, exposed=exposed(self.policy, scope)):
                if scope["type"] == "http":
                    await send_problem(
                        scope, receive, send, 400, "host_refused",
                        "this homerag does not answer to that host name (Host header "
                        "refused; add it to HOMERAG_ALLOWED_HOSTS if it is yours)")
                else:
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)


LoopbackHostMiddleware = HostAllowlistMiddleware  # the name before issue 12
