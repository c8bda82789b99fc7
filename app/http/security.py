"""The web app's request edge (issue 12): who the client really is behind a trusted proxy,
security headers on every response, request body limits enforced while the body streams in, and
an access log that leaves out query strings (questions, search terms) unless debug is on.

Installed by `install_security(app, policy)`, outermost first:

    AccessLog -> SecurityHeaders -> Forwarded (trusted proxies) -> Host allowlist (hosts.py)
      -> BodyLimit -> Auth (auth.py) -> CSRF (csrf.py) -> the routes

Pure ASGI middlewares (no BaseHTTPMiddleware): a streamed response stays streamed.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)
access_log = logging.getLogger("app.http.access")

MB = 1024 * 1024
# Uploads (multipart forms, raw octet streams) get HOMERAG_MAX_UPLOAD_MB; everything else
# (JSON, urlencoded forms) HOMERAG_MAX_REQUEST_MB.
UPLOAD_TYPES = ("multipart/form-data", "application/octet-stream")

# No inline script anywhere (scripts live in app/http/static); data: images are the report charts.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# Swagger UI (bundled, /docs) sets style attributes from its scripts.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
                      "bluetooth=(), midi=(), magnetometer=(), gyroscope=(), accelerometer=()")
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


@dataclass(frozen=True)
class HttpPolicy:
    """What the edge enforces, built once from the settings (and the address `serve` binds)."""

    bind: str | None = None  # None: not known (an app under test); decided per connection
    allowed_hosts: tuple[str, ...] = ()
    trusted_proxies: tuple[Any, ...] = ()  # ip_network objects
    max_request_bytes: int = 10 * MB
    max_upload_bytes: int = 200 * MB
    debug: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def trusts(self, address: str | None) -> bool:
        ip = parse_ip(address)
        return ip is not None and any(ip in net for net in self.trusted_proxies)


def policy_from_settings(settings: Any, *, bind: str | None = None,
                         debug: bool = False) -> HttpPolicy:
    nets = tuple(ipaddress.ip_network(p.strip(), strict=False)
                 for p in (settings.trusted_proxies or "").split(",") if p.strip())
    hosts = tuple(h.strip().lower() for h in (settings.allowed_hosts or "").split(",")
                  if h.strip())
    return HttpPolicy(bind=bind, allowed_hosts=hosts, trusted_proxies=nets,
                      max_request_bytes=int(settings.max_request_mb * MB),
                      max_upload_bytes=int(getattr(settings, "max_upload_mb", 200.0) * MB),
                      debug=debug)


def parse_ip(value: str | None) -> Any:
    try:
        return ipaddress.ip_address((value or "").strip().strip("[]"))
    except ValueError:
        return None


def header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """The first value of one request header (latin-1, as HTTP headers are)."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return None


def client_ip(scope: Mapping[str, Any]) -> str:
    """The client's address, after the trusted-proxy rewrite (ForwardedMiddleware)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


def request_origin(scope: Mapping[str, Any]) -> str:
    """'http://localhost:8000': the origin the browser sees this request go to."""
    host = (header(scope, b"host") or "").strip().lower()
    scheme = scope.get("scheme", "http")
    if scheme == "https" and host.endswith(":443"):
        host = host[:-4]
    elif scheme == "http" and host.endswith(":80"):
        host = host[:-3]
    return f"{scheme}://{host}"


def is_https(scope: Mapping[str, Any]) -> bool:
    return scope.get("scheme") in ("https", "wss")


def _replace_header(scope: dict[str, Any], name: bytes, value: str) -> None:
    headers = [(k, v) for k, v in scope.get("headers") or () if k != name]
    headers.append((name, value.encode("latin-1")))
    scope["headers"] = headers


# -- trusted proxies ------------------------------------------------------------------------------
class ForwardedMiddleware:
    """Believe X-Forwarded-For/-Proto/-Host only from HOMERAG_TRUSTED_PROXIES.

    The client address is the rightmost X-Forwarded-For entry that is not itself a trusted
    proxy (entries further left are whatever the client claimed). The direct peer is kept in
    scope["homerag.peer"]; scope["homerag.forwarded"] says whether a proxy vouched for the
    request (so loopback without users is not open to whoever the proxy serves).
    """

    def __init__(self, app: Any, *, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            peer = client_ip(scope)
            scope["homerag.peer"] = peer
            scope["homerag.forwarded"] = False
            if self.policy.trusted_proxies and self.policy.trusts(peer):
                self._apply(scope)
        await self.app(scope, receive, send)

    def _apply(self, scope: dict[str, Any]) -> None:
        forwarded_for = header(scope, b"x-forwarded-for")
        if forwarded_for:
            hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
            client = next((h for h in reversed(hops) if not self.policy.trusts(h)),
                          hops[0] if hops else None)
            if client and parse_ip(client) is not None:
                port = scope["client"][1] if scope.get("client") else 0
                scope["client"] = (client.strip("[]"), port)
                scope["homerag.forwarded"] = True
        proto = (header(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto if scope["type"] == "http" else (
                "wss" if proto == "https" else "ws")
            scope["homerag.forwarded"] = True
        forwarded_host = (header(scope, b"x-forwarded-host") or "").split(",")[0].strip()
        if forwarded_host:
            _replace_header(scope, b"host", forwarded_host)
            scope["homerag.forwarded"] = True


# -- security headers -----------------------------------------------------------------------------
class SecurityHeadersMiddleware:
    """CSP, framing, sniffing, referrer and permissions headers on every HTTP response.

    A header the route set itself wins (the document-file route's sandbox CSP); a CSP without
    frame-ancestors gets it appended, so nothing of ours can be framed.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = (DOCS_CSP if path == "/docs" else CSP).encode()
        static = path.startswith("/static/")

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS:
                    if name not in present:
                        headers.append((name, value))
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", _csp_for(headers, csp)))
                else:
                    headers = [(k, v + b"; frame-ancestors 'none'")
                               if k.lower() == b"content-security-policy"
                               and b"frame-ancestors" not in v else (k, v) for k, v in headers]
                if b"cache-control" not in present and not static:
                    # Pages and JSON hold private data: no copy in any cache.
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _csp_for(headers: list[tuple[bytes, bytes]], page_csp: bytes) -> bytes:
    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"").lower()
    if ctype.startswith(b"text/html"):
        return page_csp
    if ctype.startswith(b"application/pdf"):
        # Chromium's PDF viewer breaks under a restrictive policy; framing is still forbidden.
        return b"frame-ancestors 'none'"
    return b"default-src 'none'; frame-ancestors 'none'"  # JSON, images, SVG: nothing runs


# -- body limits ----------------------------------------------------------------------------------
class BodyTooLargeError(HTTPException):
    """Raised from `receive` when the body passes its limit. An HTTPException, so FastAPI's body
    parsing lets it through to the error handler (413 problem detail)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body is larger than "
                         f"{limit / MB:g} MB")


class BodyLimitMiddleware:
    """Refuse bodies over the limit: at once when Content-Length says so, else as soon as the
    streamed bytes pass it; nothing beyond the limit is read or buffered."""

    def __init__(self, app: Any, *, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy

    def limit_for(self, scope: dict[str, Any]) -> int:
        ctype = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if ctype in UPLOAD_TYPES:
            return self.policy.max_upload_bytes
        return self.policy.max_request_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        scope["homerag.body_limit"] = limit
        declared = header(scope, b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size < 0:
                await _plain(send, 400, "bad Content-Length header")
                return
            if size > limit:
                log.info("refused a %d-byte body to %s (limit %d)", size, scope.get("path"),
                         limit)
                await _problem(scope, receive, send, 413, "too_large",
                               str(BodyTooLargeError(limit).detail))
                return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watch_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except BodyTooLargeError as exc:
            if started:
                raise
            await _problem(scope, receive, send, 413, "too_large", str(exc.detail))


async def _plain(send: Any, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _problem(scope: Any, receive: Any, send: Any, status: int, code: str, detail: str,
                   *, headers: dict[str, str] | None = None) -> None:
    """A problem detail (API) or the error page (browsers), from outside the routes."""
    from starlette.requests import Request

    from app.http.errors import error_response

    response = error_response(Request(scope, receive), status, code, detail, headers=headers)
    await response(scope, receive, send)


send_problem = _problem


# -- access log -----------------------------------------------------------------------------------
class AccessLogMiddleware:
    """One line per request: client, method, path, status, time. The query string is left out
    (it holds questions and search terms) unless debug logging is on."""

    def __init__(self, app: Any, *, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 0

        async def watch(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                path = scope.get("path", "")
                query = scope.get("query_string") or b""
                if query and (self.policy.debug or access_log.isEnabledFor(logging.DEBUG)):
                    path = f"{path}?{query.decode('latin-1')}"
                access_log.info('%s - "%s %s" %s %.0fms', client_ip(scope) or "-",
                                scope.get("method"), path, status or "-",
                                (time.perf_counter() - t0) * 1e3)


def exempt(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in prefixes)


def install_edge(app: Any, policy: HttpPolicy) -> None:
    """Add the request edge to `app` (see the module docstring for the order). The access log
    and the security headers wrap even Starlette's own error middleware, so a 500 has them too.
    """
    from app.http.auth import AuthMiddleware, LoginLimiter
    from app.http.csrf import CsrfMiddleware
    from app.http.hosts import HostAllowlistMiddleware

    app.state.http_policy = policy
    app.state.login_limiter = LoginLimiter()
    # add_middleware: the last added runs first.
    app.add_middleware(CsrfMiddleware, policy=policy)
    app.add_middleware(AuthMiddleware, policy=policy)
    app.add_middleware(BodyLimitMiddleware, policy=policy)
    app.add_middleware(HostAllowlistMiddleware, policy=policy)
    app.add_middleware(ForwardedMiddleware, policy=policy)
    build = app.build_middleware_stack

    def build_with_edge() -> Any:
        return AccessLogMiddleware(SecurityHeadersMiddleware(build()), policy=policy)

    app.build_middleware_stack = build_with_edge
