"""FastAPI dependencies: the Runtime made once in the lifespan, a session per request, the
current user (`CurrentUser`), and the search filters parsed from query parameters or a JSON body.

Tests inject their own context through `create_app(context=...)` or
`app.dependency_overrides[get_context]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from app.core.errors import DatabaseError
from app.services.runtime import Runtime
from app.services.search import SearchFilters, make_search_filters
from app.services.users import Principal


def get_runtime(request: Request) -> Runtime:
    """The process's Runtime (built in the lifespan, or given to `create_app`)."""
    rt = getattr(request.app.state, "runtime", None)
    if rt is None:
        raise DatabaseError("the service has no database open (it is starting or shutting down)")
    return rt  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def current_user(request: Request) -> Principal:
    """Who this request acts for (set by app/http/auth.py for every route but the public ones):
    `name`, `user_id` (None in the open loopback mode) and `via` ("session", "token", "open")."""
    principal = request.scope.get("homerag.principal")
    if principal is None:
        raise HTTPException(status_code=401, detail="log in first",
                            headers={"WWW-Authenticate": 'Bearer realm="homerag"'})
    return principal  # type: ignore[no-any-return]


CurrentUser = Annotated[Principal, Depends(current_user)]


def get_session(rt: RuntimeDep) -> Iterator[Session]:
    """One session per request; commits on success, rolls back on error."""
    with rt.db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


# -- filters --------------------------------------------------------------------------------------
class FilterFields(BaseModel):
    """The search filters, as JSON body fields (the same names as the query parameters)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    kind: list[str] = Field(default_factory=list, description="note, contract, letter, email, ...")
    source: list[str] = Field(default_factory=list, description="Source names.")
    source_kind: list[str] = Field(default_factory=list, description="folder, mbox, imap, ...")
    date_from: str | None = Field(default=None, alias="from", description="YYYY-MM-DD")
    date_to: str | None = Field(default=None, alias="to", description="YYYY-MM-DD")
    document: list[int] = Field(default_factory=list, description="Document ids.")
    sender: str | None = None
    recipient: str | None = None
    folder: str | None = None
    has_attachment: bool | None = None

    @field_validator("kind", "source", "source_kind", "document", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        # A single value is as good as a list of one ("kind": "contract").
        if value is None:
            return []
        return value if isinstance(value, list | tuple) else [value]

    def to_filters(self) -> SearchFilters:
        return make_search_filters(
            kinds=self.kind, sources=self.source, source_kinds=self.source_kind,
            date_from=self.date_from, date_to=self.date_to, document_ids=self.document,
            sender=self.sender, recipient=self.recipient, folder=self.folder,
            has_attachment=self.has_attachment,
        )


def query_filters(
    kind: Annotated[list[str], Query(description="Document kind (repeatable).")] = [],  # noqa: B006
    source: Annotated[list[str], Query(description="Source name (repeatable).")] = [],  # noqa: B006
    source_kind: Annotated[list[str], Query(description="Source kind (repeatable).")] = [],  # noqa: B006
    date_from: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(alias="to", description="YYYY-MM-DD")] = None,
    document: Annotated[list[int], Query(description="Document id (repeatable).")] = [],  # noqa: B006
    sender: Annotated[str | None, Query(description="Mail sender contains.")] = None,
    recipient: Annotated[str | None, Query(description="Mail recipient contains.")] = None,
    folder: Annotated[str | None, Query(description="Mail folder contains.")] = None,
    has_attachment: Annotated[bool | None, Query(description="Mails with attachments.")] = None,
) -> SearchFilters:
    """Search filters from query parameters (a bad kind or date is a 400 naming the field)."""
    return make_search_filters(
        kinds=kind, sources=source, source_kinds=source_kind, date_from=date_from,
        date_to=date_to, document_ids=document, sender=sender, recipient=recipient,
        folder=folder, has_attachment=has_attachment,
    )


FiltersDep = Annotated[SearchFilters, Depends(query_filters)]
