"""The MCP server (official `mcp` SDK, `MCPServer`): read-only tools over the services, each
result carrying its citations (document, page or row, passage, a link into the web UI).

    server = build_server(lambda: rt)      # `homerag mcp` (stdio) and /mcp on the HTTP service

Tools: search, ask, transactions, holdings, contracts, get_document, status; documents are
resources (`homerag://documents/{id}`). Tools call `app.services` only; a HomeragError becomes a
tool error with its one-line message (the model reads it and can correct itself).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import Field

from app.core.errors import HomeragError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from app.services.runtime import Runtime

INSTRUCTIONS = (
    "homerag answers about one household's own documents (letters, contracts, mail, notes) and "
    "bank statements. Every answer cites its sources as [n]; each citation has a `url` that "
    "opens the passage or statement row in homerag's web UI. Use `ask` for questions (pass the "
    "returned conversation_id for follow-ups), `search` for passages, `transactions` for "
    "figures computed from statement rows, `holdings` for investments, `contracts` for terms and deadlines, `get_document` "
    "to read around a cited passage, `status` for what is indexed."
)
MAX_CONTEXT_CHARS = 20_000
F = TypeVar("F", bound=Callable[..., Any])

# Parameter types shared by the tools (their descriptions become the input schema).
Kinds = Annotated[list[str] | None, Field(description="Document kinds: note, contract, letter, "
                                          "email, statement, message, other.")]
Sources = Annotated[list[str] | None, Field(description="Source names.")]
DateFrom = Annotated[str | None, Field(description="Documents dated from this day, YYYY-MM-DD.")]
DateTo = Annotated[str | None, Field(description="Documents dated up to this day, YYYY-MM-DD.")]
DocumentIds = Annotated[list[int] | None, Field(description="Only these document ids.")]
Sender = Annotated[str | None, Field(description="Mail sender contains.")]
TopK = Annotated[int, Field(ge=1, le=50, description="How many passages.")]


def _tool_errors(fn: F) -> F:
    """Our errors as tool errors with their message (a traceback helps no client)."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HomeragError as exc:
            raise ToolError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def build_server(runtime: Callable[[], Runtime], *, name: str = "homerag") -> MCPServer[Any]:
    """The server with its tools; `runtime()` gives the process's Runtime at call time."""
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

    from app.mcp import tools

    server: MCPServer[Any] = MCPServer(name, instructions=INSTRUCTIONS, log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False,
                                idempotent_hint=True, open_world_hint=False)
    # `ask` stores the turn in its conversation: not idempotent, but it changes no documents.
    asks = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                           open_world_hint=False)

    def tool(fn: F, *, annotations: ToolAnnotations = read_only) -> None:
        server.add_tool(_tool_errors(fn), annotations=annotations)

    def search(
        query: Annotated[str, Field(description="What to look for.")],
        kind: Kinds = None, source: Sources = None,
        source_kind: Annotated[list[str] | None, Field(
            description="Source kinds: folder, files, mbox, maildir, imap, chat.")] = None,
        date_from: DateFrom = None,
        date_to: DateTo = None, document: DocumentIds = None, sender: Sender = None,
        recipient: Annotated[str | None, Field(description="Mail recipient contains.")] = None,
        folder: Annotated[str | None, Field(description="Mail folder contains.")] = None,
        has_attachment: Annotated[bool | None, Field(description="Mails with attachments.")]
        = None,
        top_k: TopK = 8,
    ) -> dict[str, Any]:
        """Search the household's documents (hybrid: dense, sparse, full text). Each result is a
        passage with its document, page and a link that opens it in homerag's web UI."""
        return tools.search(runtime(), query, top_k=top_k, kind=kind, source=source,
                            source_kind=source_kind, date_from=date_from, date_to=date_to, document=document,
                            sender=sender, recipient=recipient, folder=folder,
                            has_attachment=has_attachment)

    def ask(
        question: Annotated[str, Field(description="The question, in any language.")],
        conversation_id: Annotated[int | None, Field(
            description="Continue this conversation (from an earlier `ask` result): follow-ups "
                        "such as 'and in October?' keep the earlier filters.")] = None,
        kind: Kinds = None, source: Sources = None, date_from: DateFrom = None,
        date_to: DateTo = None, document: DocumentIds = None, top_k: TopK = 8,
    ) -> dict[str, Any]:
        """Answer a question from the documents and bank statements, citing sources as [n]
        (each with a link). Retrieval-only (the best passages) when no language model is
        configured. Returns a conversation_id for follow-up questions."""
        return tools.ask(runtime(), question, conversation_id=conversation_id, top_k=top_k,
                         kind=kind, source=source, date_from=date_from, date_to=date_to,
                         document=document)

    def transactions(
        action: Annotated[Literal["list", "sum", "top"], Field(
            description="list: matching transactions; sum: totals per currency; top: largest "
                        "groups (by merchant, category, month ...).")] = "list",
        period: Annotated[str | None, Field(description="'last month', '2026-03', '2026-W12', "
                                            "'letzte Woche' (wins over date_from/date_to).")]
        = None,
        date_from: Annotated[str | None, Field(description="First booking day, YYYY-MM-DD.")]
        = None,
        date_to: Annotated[str | None, Field(description="Last booking day, YYYY-MM-DD.")]
        = None,
        payee: Annotated[str | None, Field(description="Text in payee, description or "
                                           "merchant.")] = None,
        category: Annotated[str | None, Field(description="Category, or 'uncategorised'.")]
        = None,
        account: Annotated[str | None, Field(description="Part of the account number, name "
                                             "or bank.")] = None,
        min_amount: Annotated[str | None, Field(description="Minimum absolute amount.")] = None,
        max_amount: Annotated[str | None, Field(description="Maximum absolute amount.")] = None,
        amount: Annotated[str | None, Field(description="Exactly this absolute amount.")]
        = None,
        currency: Annotated[str | None, Field(description="ISO code, e.g. EUR.")] = None,
        direction: Annotated[Literal["in", "out"] | None, Field(
            description="out: money spent; in: money received.")] = None,
        by: Annotated[Literal["merchant", "category", "month", "week", "account", "currency"],
                      Field(description="Group key for action=top.")] = "merchant",
        limit: Annotated[int, Field(ge=1, le=500, description="Rows (list) or groups (top); "
                                    "sum and top also cite up to this many rows.")] = 50,
    ) -> dict[str, Any]:
        """Bank transactions from the imported statements, computed in SQL (never estimated).
        Every transaction cites its statement file and row, with a link."""
        return tools.transactions(
            runtime(), action=action, by=by, limit=limit, period=period, date_from=date_from,
            date_to=date_to, payee=payee, category=category, account=account,
            min_amount=min_amount, max_amount=max_amount, amount=amount, currency=currency,
            direction=direction)

    def holdings(
        view: Annotated[Literal["positions", "invested", "income", "cash"], Field(
            description="positions: each account's holdings from its latest investment "
                        "statement (on or before `at`); invested: buys and reinvested income; "
                        "income: dividends received; cash: every investment cash flow.")]
        = "positions",
        at: Annotated[str | None, Field(description="positions as of this day, YYYY-MM-DD.")]
        = None,
        security: Annotated[str | None, Field(description="Ticker, ISIN or part of the "
                                              "name.")] = None,
        account: Annotated[str | None, Field(description="Part of the account number or "
                                             "name.")] = None,
        date_from: Annotated[str | None, Field(description="From this day (not positions), "
                                               "YYYY-MM-DD.")] = None,
        date_to: Annotated[str | None, Field(description="Up to this day (not positions), "
                                             "YYYY-MM-DD.")] = None,
    ) -> dict[str, Any]:
        """Investments from the imported brokerage statements: positions with market value,
        money invested, dividends received, cash flows; totals per currency; each row cites
        its statement with a link."""
        return tools.holdings(runtime(), view=view, at=at, account=account, security=security,
                              date_from=date_from, date_to=date_to)

    def contracts(
        days: Annotated[int, Field(ge=1, le=3650, description="List deadlines this many days "
                                   "ahead.")] = 60,
    ) -> dict[str, Any]:
        """Contracts with their key terms (notice period, term, renewal, amounts), the last day
        to cancel and when they end; each term cites its passage with a link."""
        return tools.contracts(runtime(), days=days)

    def get_document(
        document_id: Annotated[int | None, Field(description="The document (from a citation's "
                                                 "document_id).")] = None,
        chunk_id: Annotated[int | None, Field(description="A cited passage (a citation's "
                                              "chunk_id): its text and what surrounds it.")]
        = None,
        context_chars: Annotated[int, Field(ge=0, le=MAX_CONTEXT_CHARS, description="Text "
                                            "shown on each side of the passage.")] = 1500,
    ) -> dict[str, Any]:
        """A document's metadata and the text around a cited passage (or the start of the
        document without one), with links to open it in the web UI."""
        return tools.get_document(runtime(), document_id=document_id, chunk_id=chunk_id,
                                  context_chars=context_chars)

    def status() -> dict[str, Any]:
        """What is indexed (documents, passages, embedder), each source's last sync and run,
        and every item that failed or was skipped with its reason."""
        return tools.status(runtime())

    for fn in (search, transactions, holdings, contracts, get_document, status):
        tool(fn)
    tool(ask, annotations=asks)

    @server.resource("homerag://documents/{document_id}", mime_type="text/markdown",
                     description="A document's metadata and text (the first 100,000 "
                                 "characters).")
    def document_resource(document_id: int) -> str:
        from mcp.server.mcpserver.exceptions import ResourceError

        try:
            return tools.document_markdown(runtime(), int(document_id))
        except HomeragError as exc:
            raise ResourceError(str(exc)) from None

    return server
