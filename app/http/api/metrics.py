"""GET /metrics in Prometheus' text format, and the middleware that times every request.

/metrics sits behind the same login/token edge as every route (app/http/auth.py): on a server
with users, Prometheus sends an API token (`homerag token create prometheus`) as a bearer
token, see deploy/prometheus.yml. The registry is the app's own (`install_metrics`), created
with the app, so building many apps (tests) never collides in a global registry.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.services.metrics import CONTENT_TYPE, Metrics, render_metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    body = await run_in_threadpool(render_metrics, registry)  # database reads
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


class TimingMiddleware:
    """Observes each HTTP request (route template, method, status, seconds to the last body
    byte) in the app's registry. Paths that match no route count as "unmatched" (so random
    paths cannot grow the label set)."""

    def __init__(self, app: Any, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None)
            if path is None:
                path = "/static" if scope.get("path", "").startswith("/static/") else "unmatched"
            self.metrics.observe_request(route=path, method=scope.get("method", ""),
                                         code=status["code"],
                                         seconds=time.perf_counter() - started)


def install_metrics(app: Any) -> None:
    """Give `app` its registry (`app.state.metrics`) and the timing middleware."""
    registry = Metrics(lambda: getattr(app.state, "runtime", None))
    app.state.metrics = registry
    app.add_middleware(TimingMiddleware, metrics=registry)
