"""Use case: embedding spaces. Which model built the index, and migrating to another model
without downtime (a new space is built beside the active one and switched to when complete)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.core.errors import InvalidInputError

if TYPE_CHECKING:
    from app.services.runtime import Runtime
    from ingest.spaces import BuildReport, SpaceInfo

__all__ = ["drop", "migrate", "spaces", "switch"]


def spaces(rt: Runtime) -> list[SpaceInfo]:
    """Every embedding space with its coverage (vectors / chunks); search uses the active one."""
    from ingest.spaces import space_status

    with rt.db.session() as s:
        return space_status(s)


def migrate(rt: Runtime, *, embedder: str | None = None, model: str | None = None,
            device: str | None = None, batch: int = 256, switch_when_done: bool = True,
            progress: Callable[[int, int], Any] | None = None) -> BuildReport:
    """Build the target model's space beside the active one (resumable), then switch to it.

    `progress(done, total)` is called as batches are committed."""
    from ingest.embedders import make_embedder
    from ingest.spaces import build_space, missing_chunks, start_space, switch_space
    from ingest.store import active_space, space_name

    update = {k: v for k, v in (("embedder", embedder), ("embed_model", model),
                                ("embed_device", device)) if v is not None}
    target = make_embedder(rt.settings.model_copy(update=update))
    with rt.db.session() as s:
        active = active_space(s)
        if active is not None and active.name == space_name(target):
            raise InvalidInputError(
                f"nothing to migrate: the active space {active.name} is already this model")
        space = start_space(s, target, model=model or rt.settings.embed_model)
        space_id = space.id
        total = len(missing_chunks(s, space_id, limit=10_000_000))
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    report = build_space(rt.db, space_id, target, batch=batch,
                         progress=advance if progress is not None and total else None)
    if switch_when_done:
        with rt.db.session() as s:
            switch_space(s, space_id, target)
        report.switched, report.status = True, "active"
    return report


def switch(rt: Runtime, space: str) -> SpaceInfo:
    """Make `space` (id or name) the active one, if it covers every chunk (also: roll back)."""
    from ingest.spaces import find_space, switch_space

    with rt.db.session() as s:
        return switch_space(s, find_space(s, space).id)


def drop(rt: Runtime, space: str) -> SpaceInfo:
    """Delete `space` (id or name), its vectors and indexes; the active space cannot be dropped."""
    from ingest.spaces import drop_space

    with rt.db.session() as s:
        return drop_space(s, space)
