"""Who may use the app (issue 12), enforced once for every route, present and future.

The rule:
- Loopback without users (the single-user laptop): open, as before. The request must arrive on
  loopback, from a loopback peer, with a loopback Host name and no proxy headers.
- Otherwise (a user exists, or the server listens beyond loopback): every route needs a web
  session (cookie from /login) or an API token (`Authorization: Bearer <token>`, made with
  `homerag token create`), except the PUBLIC paths: /login, /logout, /static/*, the favicon and
  manifest, and the liveness probe /api/live. Browsers asking for a page are sent to /login;
  everything else gets 401 with `WWW-Authenticate: Bearer`.
- `serve`/`demo` refuse to bind beyond loopback while no user exists (app/cli/serve.py).

How a route reads the current user (routes added later need nothing else to be protected):

    from app.http.deps import CurrentUser

    @router.get("/api/whoami")
    def whoami(user: CurrentUser) -> dict:
        return {"name": user.name, "via": user.via}   # via: "session" | "token" | "open"

`user.user_id` is None in the open loopback mode. The middleware stores the principal in
`request.scope["homerag.principal"]`; CSRF (app/http/csrf.py) runs after it and exempts
requests authenticated by a bearer token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool

from app.http.hosts import exposed, host_name, is_loopback_name
from app.http.security import HttpPolicy, exempt, header, send_problem
from app.services.users import (
    OPEN_PRINCIPAL,
    Principal,
    authenticate_token,
    safe_users_exist,
    session_principal,
)

log = logging.getLogger(__name__)

SESSION_COOKIE = "homerag_session"
PUBLIC_PATHS = ("/login", "/logout", "/static/", "/favicon.ico", "/manifest.webmanifest",
                "/robots.txt", "/api/live")
API_PREFIXES = ("/api/", "/v1/", "/mcp", "/openapi.json", "/docs")
FORWARDING_HEADERS = (b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto",
                      b"forwarded", b"x-real-ip")
NO_USERS = "no users yet: add one with `homerag user add NAME`, then log in"


def cookie_value(scope: dict[str, Any], name: str) -> str | None:
    raw = header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None


def is_api_path(path: str) -> bool:
    return any(path == p.rstrip("/") or path.startswith(p) for p in API_PREFIXES)


def safe_next(target: str | None) -> str:
    """A local path to go to after login (never another site: no '//host', no scheme)."""
    target = (target or "/").strip()
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 32 for c in target)):
        return "/"
    return target


class LoginLimiter:
    """Failed logins per user name and per client address: `limit` per `window` seconds, then
    429 with Retry-After. In memory (one process), bounded to `max_keys` keys."""

    def __init__(self, *, limit: int = 5, window: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._fails.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        if not times:
            del self._fails[key]
        return times

    def retry_after(self, keys: list[str], *, now: float | None = None) -> int:
        """Seconds until a try is allowed again (0: allowed now)."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.limit:
                    wait = max(wait, self.window - (now - times[-self.limit]))
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, keys: list[str], *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in keys:
                self._recent(key, now)
                times = self._fails.setdefault(key, deque(maxlen=self.limit * 4))
                times.append(now)
                self._fails.move_to_end(key)
            while len(self._fails) > self.max_keys:
                self._fails.popitem(last=False)

    def succeeded(self, user_key: str) -> None:
        with self._lock:
            self._fails.pop(user_key, None)


def limiter_keys(name: str, client: str) -> list[str]:
    return [f"user:{(name or '').strip().lower()[:64]}", f"addr:{client}"]


class AuthMiddleware:
    """Attach the principal to every request, or answer 401 / send the browser to /login."""

    def __init__(self, app: Any, *, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy
        self._users_known: bool | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        public = exempt(path, PUBLIC_PATHS)
        rt = getattr(scope["app"].state, "runtime", None)
        principal: Principal | None = None
        authz = header(scope, b"authorization") or ""
        if authz[:7].lower() == "bearer " and rt is not None:
            principal = await run_in_threadpool(_lookup, authenticate_token, rt,
                                                authz[7:].strip())
            if principal is None and not public:
                # OpenAI-style clients always send some key ("EMPTY"): in the open loopback
                # mode that is not a failed login; anywhere else it is.
                if await self.open_mode(scope, rt):
                    principal = OPEN_PRINCIPAL
                else:
                    await self._refuse(scope, receive, send,
                                       "the API token is unknown or revoked")
                    return
        elif rt is not None:
            raw = cookie_value(scope, SESSION_COOKIE)
            if raw:
                principal = await run_in_threadpool(_lookup, session_principal, rt, raw)
                if principal is not None:
                    scope["homerag.session_raw"] = raw
        if principal is None and not public:
            if rt is not None and await self.open_mode(scope, rt):
                principal = OPEN_PRINCIPAL
            else:
                await self._refuse(scope, receive, send, None)
                return
        scope["homerag.principal"] = principal
        await self.app(scope, receive, send)

    async def open_mode(self, scope: dict[str, Any], rt: Any) -> bool:
        """The single-user laptop case: no users, and every sign says the request is local."""
        # A socket bound to loopback only accepts connections from this machine, so the local
        # address (not the peer's, which a test client makes up) decides.
        if exposed(self.policy, scope):
            return False
        if not is_loopback_name(host_name(header(scope, b"host") or "")):
            return False
        if any(header(scope, h) is not None for h in FORWARDING_HEADERS):
            return False  # a proxy on this machine may be serving anyone
        known = await run_in_threadpool(safe_users_exist, rt, last_known=self._users_known)
        self._users_known = known
        # None: the database has not answered since start-up. Nothing it holds can be read
        # then (every such route answers 503), so the local owner may see /api/health; once
        # it answers with users, or if it had, this is closed.
        return known is not True

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any,
                      detail: str | None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        path = scope.get("path", "")
        accept = header(scope, b"accept") or ""
        if (detail is None and scope.get("method") in ("GET", "HEAD")
                and not is_api_path(path) and "text/html" in accept):
            target = path + (f"?{scope['query_string'].decode('latin-1')}"
                             if scope.get("query_string") else "")
            location = "/login" if target == "/" else f"/login?next={quote(target, safe='')}"
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location.encode("latin-1")),
                                    (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if detail is None:
            detail = ("log in at /login or send 'Authorization: Bearer <token>' "
                      "(homerag token create NAME)")
            rt = getattr(scope["app"].state, "runtime", None)
            if rt is not None and await run_in_threadpool(
                    safe_users_exist, rt, last_known=self._users_known) is False:
                detail = NO_USERS
        await send_problem(scope, receive, send, 401, "unauthorized", detail,
                           headers={"WWW-Authenticate": 'Bearer realm="homerag"'})


def _lookup(find: Any, rt: Any, secret: str) -> Principal | None:
    """`find(rt, secret)`, or None while the database is down (nothing can be checked)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.core.errors import DatabaseError

    try:
        return find(rt, secret)  # type: ignore[no-any-return]
    except (SQLAlchemyError, DatabaseError):
        return None


def current_principal(scope: dict[str, Any]) -> Principal | None:
    return scope.get("homerag.principal")  # type: ignore[no-any-return]
