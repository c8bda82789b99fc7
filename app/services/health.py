"""Use case: health. Database, embedder and language-model reachability, each part reported on
its own and none fatal (`/api/health`, the web's status line, the MCP `status` tool)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import HomeragError
from app.core.redact import redact_text, redact_url

if TYPE_CHECKING:
    from app.services.runtime import Runtime

LLM_PING_TIMEOUT = 2.0


def embedder_label(name: str | None) -> str:
    """How the UI names an embedder: lexical-hash is honest about being lexical."""
    if name is None:
        return "no index yet"
    if name == "lexical-hash":
        return "lexical-hash (lexical, not semantic)"
    return name


def database_health(rt: Runtime) -> dict[str, Any]:
    """`ok`, `where`, `ms`; under `serve` also the supervisor's `restarts`, `last_restart_at`,
    `down_since` and `error` (why the last restart failed); `pool`: connections in use."""
    out: dict[str, Any] = {"ok": False, "where": rt.db_label}
    supervisor = rt.db.supervisor
    out.update(supervisor.state() if supervisor is not None else
               {"supervised": False, "restarts": 0, "last_restart_at": None, "error": None})
    t0 = time.perf_counter()
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        out["error"] = out["error"] or redact_text(first)  # a failed restart says more
    else:
        out.update(ok=True, ms=round((time.perf_counter() - t0) * 1e3, 2), error=None)
    out["pool"] = rt.db.pool_stats()
    return out


def embedder_health(rt: Runtime) -> dict[str, Any]:
    loaded = rt._embedder  # peek only: health must not load a large model
    out: dict[str, Any] = {"configured": rt.settings.embedder, "loaded": loaded is not None}
    try:
        index = rt.active_embedder()
    except (SQLAlchemyError, HomeragError) as exc:
        out.update(ok=False, error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return out
    out.update(ok=True, index=index, label=embedder_label(index), semantic=index == "bge-m3")
    if loaded is not None:
        out.update(name=loaded.name, model_id=loaded.model_id)
    return out


def llm_health(rt: Runtime) -> dict[str, Any]:
    endpoint = rt.settings.llm_endpoint("answer")
    out: dict[str, Any] = {"configured": bool(endpoint.base_url),
                           "base_url": redact_url(endpoint.base_url) if endpoint.base_url else None,
                           "model": endpoint.model}
    client = rt.chat_client("answer")
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



def health(rt: Runtime) -> dict[str, Any]:
    """`status` "ok" or "degraded"; each part says what is wrong with it. The LLM check waits
    at most LLM_PING_TIMEOUT seconds."""
    db = database_health(rt)
    embedder = embedder_health(rt) if db["ok"] else {"ok": False, "error": "database down"}
    llm = llm_health(rt)
    ok = db["ok"] and embedder.get("ok", False) and llm.get("reachable", False)
    return {"status": "ok" if ok else "degraded", "database": db, "embedder": embedder,
            "llm": llm}


def index_label(rt: Runtime) -> str | None:
    """'lexical-hash (lexical, not semantic)' or 'bge-m3' (which embedder built the index), or
    None when that cannot be read: pages, error pages included, still render."""
    try:
        return embedder_label(rt.active_embedder())
    except (SQLAlchemyError, HomeragError):
        return None
