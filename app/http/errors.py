"""The one error edge of the web app: every failure becomes a JSON problem detail under /api
and the error page elsewhere, with a one-sentence message and never a traceback.

Registered by `create_app`; routes raise errors from `app.core.errors` and never catch `Exception`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import DatabaseBusyError, ErrorCode, HomeragError
from app.core.redact import redact_text

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Log in first",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Busy",
    413: "Too large",
    422: "Unprocessable",
    429: "Too many requests",
    500: "Internal error",
    502: "Upstream error",
    503: "Unavailable",
    504: "Upstream timeout",
}
HTTP_CODES = {400: ErrorCode.invalid_input, 404: ErrorCode.not_found, 409: ErrorCode.busy,
              413: "too_large"}


def wants_json(request: Request) -> bool:
    """API paths (and clients that only accept JSON) get problem details, people get a page."""
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def problem(status: int, code: str, detail: str, *, instance: str | None = None,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An RFC 9457 problem detail with our stable `code`."""
    body: dict[str, Any] = {
        "type": f"urn:homerag:error:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": redact_text(detail),  # a URL with credentials never reaches a client
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return body


def error_response(request: Request, status: int, code: str, detail: str, *,
                   extra: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    detail = redact_text(detail)
    if request.url.path.startswith("/v1/"):  # OpenAI-compatible clients read OpenAI's shape
        from app.http.api.openai import openai_error

        return openai_error(status, detail, code=code, headers=headers)
    if wants_json(request):
        return JSONResponse(problem(status, code, detail, instance=request.url.path, extra=extra),
                            status_code=status, media_type=PROBLEM_JSON, headers=headers)
    from app.http.rendering import render

    return render(request, "error.html", {"status": status, "code": code, "detail": detail,
                                          "title": TITLES.get(status, "Error")},
                  status_code=status, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    """'top_k: Input should be less than or equal to 100' for the first problem."""
    problems = []
    for err in exc.errors()[:3]:
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "form", "header", "cookie"):
            loc = loc[1:]  # where it came from; the rest names the field
        field = ".".join(loc) or "request"
        problems.append(f"{field}: {err.get('msg', 'invalid value')}")
    return "; ".join(problems) or "the request is invalid"


def retry_headers(exc: BaseException) -> dict[str, str] | None:
    """`Retry-After` for load shedding (a full model queue, a busy connection pool)."""
    seconds = getattr(exc, "retry_after", None)
    return {"Retry-After": str(int(seconds))} if isinstance(seconds, int) else None


def database_busy() -> HomeragError:
    """The pool's wait ran out (every connection in use): load, not an outage."""
    return DatabaseBusyError("the database is busy: every connection is in use; try again "
                             "shortly", retry_after=2)


async def _homerag_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HomeragError)
    if exc.status >= 500:
        log.warning("%s %s failed: %s (%s)", request.method, request.url.path, exc, exc.code)
    return error_response(request, exc.status, str(exc.code), str(exc),
                          headers=retry_headers(exc))


async def _pool_timeout(request: Request, exc: Exception) -> Response:
    log.warning("%s %s: no database connection came free in time", request.method,
                request.url.path)
    return await _homerag_error(request, database_busy())


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Bad parameters are the caller's mistake: 400 with the field named, like InvalidInputError.
    return error_response(request, 400, str(ErrorCode.invalid_input), _validation_detail(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"nothing at {request.url.path}"
    return error_response(request, exc.status_code, str(code), detail,
                          headers=dict(exc.headers or {}))


async def _database_down(request: Request, exc: Exception) -> Response:
    # A lost or refused connection is an outage, not a bug: 503, and no driver text to the client.
    log.warning("%s %s: database unreachable: %s", request.method, request.url.path,
                redact_text(str(exc).splitlines()[0]) if str(exc) else type(exc).__name__)
    return error_response(request, 503, str(ErrorCode.database),
                          "the database is not reachable; see /api/health")


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The one place that sees bugs: log the traceback here, show the client one line only.
    log.error("%s %s crashed", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, str(ErrorCode.internal),
                          "an internal error occurred; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HomeragError, _homerag_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(PoolTimeoutError, _pool_timeout)
    app.add_exception_handler(Exception, _unexpected_error)


def stream_failure(exc: BaseException) -> dict[str, Any]:
    """The problem detail sent as the last event when a stream fails after it has started.

    The response status is already on the wire by then, so the failure travels as data; an
    unexpected error is logged here with its traceback and reported as one line.
    """
    if isinstance(exc, PoolTimeoutError):
        exc = database_busy()
    if isinstance(exc, HomeragError):
        return problem(exc.status, str(exc.code), str(exc))
    if isinstance(exc, OperationalError):
        return problem(503, str(ErrorCode.database), "the database is not reachable; see "
                       "/api/health")
    log.error("answer stream crashed", exc_info=exc)
    return problem(500, str(ErrorCode.internal),
                   "an internal error occurred; the server log has the details")
