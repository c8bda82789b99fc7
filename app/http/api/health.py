"""GET /api/health (database, embedder, LLM reachability; each part reported, none fatal) and
GET /api/status (what is indexed, by which embedder, per-source counts)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.http.deps import ContextDep, SessionDep
from app.services.runtime import Runtime
from app.core.errors import HomeragError

router = APIRouter(prefix="/api", tags=["health"])

LLM_PING_TIMEOUT = 2.0


def embedder_label(name: str | None) -> str:
    """How the UI names an embedder: lexical-hash is honest about being lexical."""
    if name is None:
        return "no index yet"
    if name == "lexical-hash":
        return "lexical-hash (lexical, not semantic)"
    return name


def database_health(ctx: Runtime) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        with ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return {"ok": False, "where": ctx.db_label, "error": first}
    return {"ok": True, "where": ctx.db_label, "ms": round((time.perf_counter() - t0) * 1e3, 2)}


def embedder_health(ctx: Runtime) -> dict[str, Any]:
    loaded = ctx._embedder  # peek only: health must not load a large model
    out: dict[str, Any] = {"configured": ctx.settings.embedder, "loaded": loaded is not None}
    try:
        index = ctx.active_embedder()
    except (SQLAlchemyError, HomeragError) as exc:
        out.update(ok=False, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return out
    out.update(ok=True, index=index, label=embedder_label(index), semantic=index == "bge-m3")
    if loaded is not None:
        out.update(name=loaded.name, model_id=loaded.model_id)
    return out


def llm_health(ctx: Runtime) -> dict[str, Any]:
    endpoint = ctx.settings.llm_endpoint("answer")
    out: dict[str, Any] = {"configured": bool(endpoint.base_url), "base_url": endpoint.base_url,
                           "model": endpoint.model}
    client = ctx.chat_client("answer")
    if client is None:
        out.update(reachable=False, error="no language model is configured "
                                          "(set HOMERAG_LLM_BASE_URL); answers are retrieval-only")
        return out
    t0 = time.perf_counter()
    try:
        models = client.ping(timeout=LLM_PING_TIMEOUT)
    except HomeragError as exc:
        out.update(reachable=False, error=str(exc))
        return out
    out.update(reachable=True, ms=round((time.perf_counter() - t0) * 1e3, 1),
               models=models[:20], model_listed=endpoint.model in models)
    return out


@router.get("/health", summary="Database, embedder and LLM reachability")
def health(ctx: ContextDep) -> dict[str, Any]:
    """Always 200 with `status` "ok" or "degraded"; each part says what is wrong with it.
    The LLM check waits at most a couple of seconds."""
    db = database_health(ctx)
    embedder = embedder_health(ctx) if db["ok"] else {"ok": False, "error": "database down"}
    llm = llm_health(ctx)
    ok = db["ok"] and embedder.get("ok", False) and llm.get("reachable", False)
    return {"status": "ok" if ok else "degraded", "database": db, "embedder": embedder,
            "llm": llm}


@router.get("/status", summary="What is indexed, by which embedder, per-source counts")
def status(session: SessionDep) -> dict[str, Any]:
    """The same data as `homerag status --json`."""
    from app.services.status import index_status

    return index_status(session)
