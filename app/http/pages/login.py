"""The access routes: GET/POST /login (a session cookie), POST /logout, and the liveness probe
GET /api/live (no login needed, says nothing but "ok"). The rules live in app/http/auth.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.http.auth import SESSION_COOKIE, LoginLimiter, limiter_keys, safe_next
from app.http.deps import RuntimeDep
from app.http.errors import error_response
from app.http.rendering import render
from app.http.security import client_ip, is_https
from app.services import users as users_service
from app.services.users import SESSION_DAYS

router = APIRouter(include_in_schema=False)
live_router = APIRouter(prefix="/api", tags=["health"])

WRONG = "wrong name or password"


@live_router.get("/live", summary="Liveness probe (no login needed)")
def live() -> dict[str, str]:
    """Answers while the process serves requests; says nothing about the database or models
    (GET /api/health does, behind the login)."""
    return {"status": "ok"}


def limiter(request: Request) -> LoginLimiter:
    found = getattr(request.app.state, "login_limiter", None)
    if found is None:
        found = request.app.state.login_limiter = LoginLimiter()
    return found  # type: ignore[no-any-return]


def _login_page(request: Request, rt: Any, *, status_code: int = 200, error: str | None = None,
                name: str = "", next_path: str = "/",
                headers: dict[str, str] | None = None) -> HTMLResponse:
    no_users = not users_service.users_exist(rt)
    principal = request.scope.get("homerag.principal")
    return render(request, "login.html", {
        "title": "Log in", "error": error, "name": name, "next": next_path,
        "no_users": no_users, "open": principal is not None and principal.via == "open",
    }, status_code=status_code, headers=headers)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, rt: RuntimeDep, next: str = "/") -> Response:
    principal = request.scope.get("homerag.principal")
    if principal is not None and principal.via == "session":
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, rt, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, rt: RuntimeDep, name: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/") -> Response:
    keys = limiter_keys(name, client_ip(request.scope))
    wait = limiter(request).retry_after(keys)
    if wait:
        return error_response(request, 429, "rate_limited",
                              f"too many failed logins; try again in {wait} s",
                              headers={"Retry-After": str(wait)})
    principal = users_service.verify_login(rt, name, password)
    if principal is None:
        limiter(request).failed(keys)
        return _login_page(request, rt, status_code=401, error=WRONG, name=name[:64],
                           next_path=safe_next(next))
    limiter(request).succeeded(keys[0])
    raw = users_service.start_session(rt, principal)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, raw, max_age=SESSION_DAYS * 86400, path="/",
                        httponly=True, samesite="lax", secure=is_https(request.scope))
    return response


@router.post("/logout")
def logout(request: Request, rt: RuntimeDep) -> RedirectResponse:
    raw = request.scope.get("homerag.session_raw")
    if raw:
        users_service.end_session(rt, raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=is_https(request.scope))
    return response
