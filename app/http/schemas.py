"""Request bodies and the JSON shapes of API responses (kept apart from the ORM models)."""

from __future__ import annotations

from pydantic import Field

from app.http.deps import FilterFields


class SearchBody(FilterFields):
    """POST /api/search: the query, how many passages, and the filters."""

    query: str = Field(description="What to look for.")
    top_k: int | None = Field(default=None, ge=1, le=100, description="Default HOMERAG_TOP_K.")


class AskBody(FilterFields):
    """POST /api/ask: the question, how many passages to offer the model, and the filters."""

    question: str = Field(description="The question, in any language the documents use.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="Default HOMERAG_TOP_K.")
