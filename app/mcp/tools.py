"""What each MCP tool returns: the services' JSON with a `url` on every citation (the passage in
its document, the statement row of a transaction), absolute under HOMERAG_PUBLIC_URL.
Plain functions over a Runtime (no MCP types), so they are easy to test and reuse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInputError

if TYPE_CHECKING:
    from app.services.runtime import Runtime

DOCUMENT_RESOURCE_CHARS = 100_000


def _filters(*, kind: list[str] | None = None, source: list[str] | None = None,
             source_kind: list[str] | None = None, date_from: str | None = None,
             date_to: str | None = None, document: list[int] | None = None,
             **mail: Any) -> Any:
    from app.services.search import make_search_filters

    return make_search_filters(kinds=kind or (), sources=source or (),
                               source_kinds=source_kind or (), date_from=date_from,
                               date_to=date_to, document_ids=document or (), **mail)


def search(rt: Runtime, query: str, *, top_k: int, **filters: Any) -> dict[str, Any]:
    from app.services.links import web_url
    from app.services.search import hit_json, search_passages

    if not query.strip():
        raise InvalidInputError("query: it is empty")
    hits = search_passages(rt, query, filters=_filters(**filters), top_k=top_k)
    results = []
    for rank, hit in enumerate(hits, start=1):
        out = hit_json(rank, hit)
        out["url"] = web_url(rt, f"/documents/{hit.document_id}?chunk={hit.chunk_id}#passage")
        results.append(out)
    return {"query": query, "results": results}


def ask(rt: Runtime, question: str, *, conversation_id: int | None, top_k: int,
        **filters: Any) -> dict[str, Any]:
    from app.services.ask import ask_turn
    from app.services.links import sources_markdown, with_link

    result, rewrite, stored = ask_turn(rt, question, conversation_id=conversation_id,
                                       origin="mcp", top_k=top_k, filters=_filters(**filters))
    citations = [with_link(rt, c.to_json()) for c in result.citations]
    return {
        "answer": result.answer, "mode": result.mode, "notice": result.notice,
        "uncited": result.uncited, "citations": citations, "filters": list(result.filters),
        "unverified_figures": list(result.unverified_figures),
        "sources": sources_markdown(rt, citations),
        "understood_as": rewrite.get("standalone"), "carried": rewrite.get("carried", []),
        "conversation_id": stored["id"] if stored else conversation_id,
        "turn": stored["turn"] if stored else None,
    }


def _with_tx_links(rt: Runtime, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from app.services.links import web_url

    out = []
    for row in rows:
        source = dict(row.get("source") or {})
        # `url`: the statement row marked in its document; `transaction_url`: the transaction
        # with every statement row that lists it.
        out.append({**row, "source": source, "url": _source_url(rt, source),
                    "transaction_url": web_url(rt, f"/reports/transactions/{row['id']}")})
    return out


def transactions(rt: Runtime, *, action: str, by: str, limit: int,
                 **filters: Any) -> dict[str, Any]:
    from app.services import money

    f = money.TransactionFilterInput(**filters)
    if action == "list":
        out = money.list_transactions(rt, f, limit=limit).to_json()
        out["transactions"] = _with_tx_links(rt, out["transactions"])
        return {"action": action, **out}
    if action == "sum":
        out = money.sum_transactions(rt, f).to_json()
    elif action == "top":
        out = money.top_transactions(rt, f, by=by, limit=limit).to_json()
        if f.direction is None:  # top lists spending unless told: cite the same rows
            f = money.TransactionFilterInput(**{**filters, "direction": "out"})
    else:
        raise InvalidInputError(f"action must be list, sum or top, not {action!r}")
    page = money.list_transactions(rt, f, limit=limit)
    out["cited_transactions"] = _with_tx_links(rt, page.to_json()["transactions"])
    out["cited_count"] = f"{len(page.rows)} of {page.count}"
    return {"action": action, **out}


def _source_url(rt: Runtime, source: dict[str, Any]) -> str | None:
    """The statement row (or line, page) a figure comes from, marked on its document page."""
    from app.services.links import web_url

    if source.get("document_id") is None:
        return None
    place = next((f"?{unit}={source[unit]}#passage" for unit in ("row", "line")
                  if source.get(unit)), "")
    return web_url(rt, f"/documents/{source['document_id']}{place}")


def holdings(rt: Runtime, *, view: str, at: str | None, account: str | None,
             security: str | None, date_from: str | None, date_to: str | None,
             ) -> dict[str, Any]:
    from app.services import holdings as service

    if view == "positions":
        out = service.portfolio(rt, at=at, account=account, security=security).to_json()
        items = out["positions"]
    else:
        out = service.investments(rt, view, security=security, date_from=date_from,
                                  date_to=date_to, account=account).to_json()
        items = out["rows"]
    for item in items:
        item["url"] = _source_url(rt, item.get("source") or {})
    return {"view": view, **out}


def contracts(rt: Runtime, *, days: int) -> dict[str, Any]:
    from app.services.contracts import contracts_overview
    from app.services.links import web_url

    out = contracts_overview(rt, days=days).to_json()
    for item in out["contracts"] + out["deadlines"]:
        doc = item.get("document_id")
        item["url"] = web_url(rt, f"/documents/{doc}") if doc is not None else None
        for cite in (item.get("citations") or {}).values():
            if isinstance(cite, dict) and cite.get("chunk_id") is not None and doc is not None:
                cite["url"] = web_url(rt, f"/documents/{doc}?chunk={cite['chunk_id']}#passage")
    return out


def get_document(rt: Runtime, *, document_id: int | None, chunk_id: int | None,
                 context_chars: int) -> dict[str, Any]:
    from app.services.documents import chunk_info, document_info, document_page
    from app.services.links import web_url

    if document_id is None and chunk_id is None:
        raise InvalidInputError("give document_id or chunk_id")
    if document_id is None:
        document_id = int(chunk_info(rt, int(chunk_id))["document_id"])  # type: ignore[arg-type]
    info = document_info(rt, document_id)
    page = document_page(rt, document_id, chunk_id=chunk_id)
    info["url"] = web_url(rt, info.pop("page_url"))
    if info.get("file_url"):
        info["file_url"] = web_url(rt, info["file_url"])
    if page.chunk is not None and page.parts is not None:
        before, after = page.parts.before, page.parts.after
        info["passage"] = {
            "chunk_id": page.chunk.id, "page": page.chunk.page, "heading": page.chunk.heading,
            "text": page.parts.passage,
            "before": before[-context_chars:] if context_chars else "",
            "after": after[:context_chars],
            "url": web_url(rt, f"/documents/{document_id}?chunk={page.chunk.id}#passage"),
        }
    else:
        limit = max(context_chars * 2, 500)
        info["text"] = page.text[:limit]
        info["text_truncated"] = len(page.text) > limit or page.text_cut
    return info


def status(rt: Runtime) -> dict[str, Any]:
    from app.services.status import status as index_status

    return index_status(rt)


def document_markdown(rt: Runtime, document_id: int) -> str:
    """The document resource: a title line, its metadata and its text."""
    from app.services.documents import document_info
    from app.services.links import web_url

    info = document_info(rt, document_id, content=True)
    text = info.get("content") or ""
    cut = len(text) > DOCUMENT_RESOURCE_CHARS
    lines = [f"# {info['title'] or info['path']}", "",
             f"- path: {info['path']}", f"- kind: {info['kind']}",
             f"- date: {info['occurred_at'] or 'unknown'}",
             f"- open: {web_url(rt, info['page_url'])}", "", text[:DOCUMENT_RESOURCE_CHARS]]
    if cut:
        lines.append(f"\n[… cut at {DOCUMENT_RESOURCE_CHARS:,} characters]")
    return "\n".join(lines)
