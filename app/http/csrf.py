"""Cross-site request forgery defence (issue 12), for every route, present and future.

Requests authenticated by `Authorization: Bearer` are exempt (a browser never adds that header
on its own). For all others:

1. Cross-site requests are refused by their fetch metadata, Origin and Referer:
   - unsafe methods (POST, PUT, PATCH, DELETE) must come from this origin: `Sec-Fetch-Site` is
     `same-origin` when sent, `Origin` (else `Referer`) equals this server's origin;
   - safe methods (GET, HEAD) from another site or another port of this host are refused,
     except a top-level navigation to a page (a link or bookmark): no `<img>`, `<script>`,
     `<iframe>` or no-cors fetch of ours from elsewhere, and no cross-site request to the API.
2. Unsafe methods also carry a CSRF token (synchronizer token) when the request comes from a
   browser (it has a session cookie, an Origin, Referer or fetch metadata): in the header
   `X-CSRF-Token`, a form field `csrf_token` (urlencoded; in multipart forms the field must come
   first), or the query parameter `csrf_token`. With a session the token is derived from the
   session id; without one (login page, open loopback mode) it is the random `homerag_csrf`
   cookie (double submit). Pages get it from `{{ csrf_token() }}` / `{{ csrf_field() }}` and the
   `<meta name="csrf-token">` of base.html; static/csrf.js adds it to same-origin fetches.
3. The one GET with an effect (GET /api/ask/stream, for EventSource: it runs and logs an answer)
   additionally needs `Sec-Fetch-Site: same-origin`, the token in the query, or no browser
   signals at all (a script or agent on this machine).

Clients that are not browsers (curl, scripts) send none of these headers and pass step 2 in the
open loopback mode; everywhere else they need a token anyway.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from app.core.credentials import derived_token, same_secret
from app.http.auth import cookie_value, is_api_path
from app.http.security import HttpPolicy, header, is_https, request_origin, send_problem

CSRF_COOKIE = "homerag_csrf"
CSRF_HEADER = b"x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
STATEFUL_GETS = ("/api/ask/stream",)
MULTIPART_SCAN = 64 * 1024  # the token field must be within the first 64 KiB of a multipart body
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{32,128}$")
_MULTIPART_FIELD = re.compile(
    rb'content-disposition:\s*form-data;\s*name="csrf_token"\r\n(?:[^\r\n]*\r\n)*\r\n'
    rb"([A-Za-z0-9_\-]{32,128})\r\n", re.IGNORECASE)


def csrf_token(request: Request) -> str:
    """The token to put in this page's forms and fetches ('' outside the middleware)."""
    return str(request.scope.get("homerag.csrf", ""))


def browser_signals(scope: dict[str, Any]) -> bool:
    """True when a browser sent this (it may have been made to, by another site)."""
    return (scope.get("homerag.session_raw") is not None
            or any(header(scope, h) is not None
                   for h in (b"origin", b"referer", b"sec-fetch-site")))


class CsrfMiddleware:
    def __init__(self, app: Any, *, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        new_cookie = self._expected(scope)
        principal = scope.get("homerag.principal")
        if principal is None or principal.via != "token":
            refusal = self._cross_site(scope)
            if refusal is None and scope["method"] not in SAFE_METHODS and browser_signals(scope):
                receive, token = await self._submitted(scope, receive)
                if not token or not same_secret(token, scope["homerag.csrf"]):
                    refusal = "missing or wrong CSRF token (reload the page and try again)"
            if refusal is not None:
                await send_problem(scope, receive, send, 403, "csrf", refusal)
                return
        if new_cookie is None:
            await self.app(scope, receive, send)
            return

        async def send_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                ctype = dict(message.get("headers") or []).get(b"content-type", b"")
                if ctype.startswith(b"text/html"):
                    secure = "; Secure" if is_https(scope) else ""
                    cookie = (f"{CSRF_COOKIE}={new_cookie}; Path=/; HttpOnly; "
                              f"SameSite=Strict{secure}")
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", cookie.encode())]}
            await send(message)

        await self.app(scope, receive, send_cookie)

    @staticmethod
    def _expected(scope: dict[str, Any]) -> str | None:
        """Store the expected token in the scope; return a new anonymous token to set."""
        session_raw = scope.get("homerag.session_raw")
        if session_raw:
            scope["homerag.csrf"] = derived_token(session_raw, "csrf")
            return None
        cookie = cookie_value(scope, CSRF_COOKIE)
        if cookie and _TOKEN_RE.match(cookie):
            scope["homerag.csrf"] = cookie
            return None
        scope["homerag.csrf"] = secrets.token_urlsafe(32)
        return str(scope["homerag.csrf"])

    def _cross_site(self, scope: dict[str, Any]) -> str | None:
        """Why this request looks cross-site, or None."""
        method, path = scope["method"], scope.get("path", "")
        site = header(scope, b"sec-fetch-site")
        if method in SAFE_METHODS:
            if site not in (None, "same-origin", "none"):
                navigation = (header(scope, b"sec-fetch-mode") == "navigate"
                              and header(scope, b"sec-fetch-dest") == "document")
                if not navigation or method != "GET" or is_api_path(path):
                    return "cross-site request refused"
            if path in STATEFUL_GETS and site != "same-origin" and browser_signals(scope):
                token = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))).get(
                    CSRF_FIELD, "")
                if not token or not same_secret(token, scope["homerag.csrf"]):
                    return (f"GET {path} from a browser needs a same-origin request or a CSRF "
                            "token; use POST")
            return None
        if site is not None and site != "same-origin":
            return "cross-site request refused"
        own = request_origin(scope)
        origin = header(scope, b"origin")
        if origin is not None:
            if origin.strip().lower().rstrip("/") != own:
                return (f"cross-site request refused (Origin {origin[:100]} is not {own}; behind "
                        "a proxy? see HOMERAG_TRUSTED_PROXIES)")
            return None
        referer = header(scope, b"referer")
        if referer is not None and not (referer.lower() + "/").startswith(own + "/"):
            return "cross-site request refused (Referer is another site)"
        return None

    async def _submitted(self, scope: dict[str, Any], receive: Any) -> tuple[Any, str | None]:
        """The submitted token, and a `receive` that replays whatever body was read for it."""
        token = header(scope, CSRF_HEADER)
        if token:
            return receive, token.strip()
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if query.get(CSRF_FIELD):
            return receive, query[CSRF_FIELD]
        ctype = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return receive, None
        multipart = ctype == "multipart/form-data"
        chunks: list[bytes] = []
        size = 0
        more = True
        found: str | None = None
        while more:
            message = await receive()  # the body limit (security.py) applies to these reads
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if multipart:
                match = _MULTIPART_FIELD.search(b"".join(chunks)[:MULTIPART_SCAN + 256])
                if match or size >= MULTIPART_SCAN:
                    found = match.group(1).decode() if match else None
                    break
        if not multipart:
            body = b"".join(chunks).decode("utf-8", "replace")
            found = dict(parse_qsl(body, keep_blank_values=True)).get(CSRF_FIELD)
        return _replay(b"".join(chunks), more, receive), found


def _replay(body: bytes, more: bool, receive: Any) -> Any:
    """A receive that first returns the bytes already read, then the rest of the stream."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay
