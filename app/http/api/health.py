"""GET /api/health (database, embedder, LLM reachability; each part reported, none fatal) and
GET /api/status (what is indexed, by which embedder, per-source counts)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.http.deps import RuntimeDep
from app.services import health as health_service
from app.services import status as status_service

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", summary="Database, embedder and LLM reachability")
def health(rt: RuntimeDep) -> dict[str, Any]:
    """Always 200 with `status` "ok" or "degraded"; each part says what is wrong with it.
    The LLM check waits at most a couple of seconds."""
    return health_service.health(rt)


@router.get("/status", summary="What is indexed, by which embedder, per-source counts")
def status(rt: RuntimeDep, all: bool = False) -> dict[str, Any]:
    """The same data as `homerag status --json` (`all=true`: every problem, not the newest 20)."""
    return status_service.status(rt, all_problems=all)
