"""The FastAPI app: JSON API under /api, the web pages at /, OpenAPI docs at /docs.

    app = create_app()                   # settings from the environment, runtime in the lifespan
    app = create_app(runtime=rt)         # tests: a runtime they built (not closed by the app)

Every route module exposes `router` and is included by `_routers()`. Every route is behind the
request edge of app/http/security.py: Host allowlist (hosts.py), login or token (auth.py), CSRF
(csrf.py), body limits and security headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request

if TYPE_CHECKING:
    from app.core.config import Settings
    from app.services.runtime import Runtime

# How long shutdown waits for running background jobs (see the lifespan).
JOBS_SHUTDOWN_WAIT_S = 30.0

DESCRIPTION = (
    "Private retrieval-augmented answers over one household's documents. Every answer cites "
    "the passages it used; without a reachable language model answers are retrieval-only."
)


def _routers() -> list[APIRouter]:
    """The API's and the pages' routers, in the order their paths are matched."""
    from app.http.api import (
        ask,
        contracts,
        conversations,
        documents,
        evidence,
        health,
        holdings,
        library,
        metrics,
        money,
        openai,
        search,
        sources,
        uploads,
    )
    from app.http.pages import contracts as contract_pages
    from app.http.pages import evidence as evidence_pages
    from app.http.pages import health as health_page
    from app.http.pages import library as library_pages
    from app.http.pages import login, main, reports, rules, stats, transactions
    from app.http.pages import sources as source_pages
    from app.http.pages import upload as upload_page

    return [login.live_router, login.router,
            openai.router, conversations.router, health.router, search.router, ask.router,
            documents.router, money.router, evidence.router, holdings.router,
            reports.router, contracts.router, contract_pages.router, sources.router,
            library.router, uploads.router, library_pages.router, upload_page.router,
            source_pages.router, health_page.router, transactions.router, rules.router,
            metrics.router, stats.router, evidence_pages.router, main.router]


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               bind: str | None = None) -> FastAPI:
    """Build the app. Without `runtime`, one is opened in the lifespan (database started and
    migrated) and closed at shutdown; a given runtime stays open (its owner closes it).
    `bind`: the address `serve` listens on (decides the open loopback mode; app/http/auth.py)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from starlette.concurrency import run_in_threadpool

        owned = None
        if app.state.runtime is None:
            from app.services.runtime import build_runtime

            owned = await run_in_threadpool(build_runtime, settings)
            app.state.runtime = owned
        try:
            async with app.state.mcp_running():  # the MCP endpoint's sessions (app/mcp/http.py)
                yield
        finally:
            if app.state.runtime is not None:
                from app.services.jobs import wait_for_jobs

                # Background jobs (uploads, "sync now") finish before the runtime they write
                # through is closed, or the next owner of the database (a restore, a test)
                # finds a writer still at work. A job still running after this is cut off
                # between batches: its current batch rolls back, nothing is half-written.
                await run_in_threadpool(wait_for_jobs, app.state.runtime, JOBS_SHUTDOWN_WAIT_S)
            if owned is not None:
                app.state.runtime = None
                await run_in_threadpool(owned.close)

    from fastapi import Depends

    from app.http.guards import reject_unstorable

    # Ids beyond bigint and NUL characters: a 400 naming the parameter, before any route runs.
    app = FastAPI(title="homerag", version=_version(), description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None,
                  dependencies=[Depends(reject_unstorable)])
    app.state.runtime = runtime
    from app.http.errors import install_error_handlers
    from app.http.security import install_edge, policy_from_settings

    install_error_handlers(app)
    # Host allowlist, login/token, CSRF, body limits, security headers: for every route.
    install_edge(app, policy_from_settings(_settings(settings, runtime), bind=bind))
    from app.http.api.metrics import install_metrics

    install_metrics(app)  # /metrics: request timings in the app's own registry (outermost)
    _mount_static(app)
    for router in _routers():
        app.include_router(router)
    from app.mcp.http import mount_mcp

    app.state.mcp_running = mount_mcp(app)
    return app


def _settings(settings: Settings | None, runtime: Runtime | None) -> Settings:
    if settings is not None:
        return settings
    if runtime is not None:
        return runtime.settings
    from app.core.config import get_settings

    return get_settings()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("homerag")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "0"


def _mount_static(app: FastAPI) -> None:
    """Static files, and Swagger UI served from the bundled copy (no CDN: nothing leaves)."""
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    from app.http.rendering import STATIC_DIR

    try:
        import swagger_ui_bundle
    except ImportError:  # pragma: no cover - a declared dependency; /openapi.json still works
        swagger_ui_bundle = None
    if swagger_ui_bundle is not None:  # mounted before /static, which would shadow it
        app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
                  name="swagger")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    if swagger_ui_bundle is None:
        return

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        # FastAPI's page starts Swagger UI with an inline script, which our CSP forbids
        # (script-src 'self'): the same page with the start-up in static/swagger-init.js.
        from markupsafe import escape

        from app.http.csrf import csrf_token

        return HTMLResponse(DOCS_HTML.replace("{csrf}", str(escape(csrf_token(request)))))


DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>homerag API</title>
<meta name="csrf-token" content="{csrf}">
<link rel="stylesheet" href="/static/swagger/swagger-ui.css">
<link rel="icon" href="/static/swagger/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="/static/swagger/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""
