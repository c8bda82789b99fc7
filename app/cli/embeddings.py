"""`homerag embeddings status|migrate|switch|drop`: change the embedding model without downtime."""

from __future__ import annotations

import json
from typing import Any

import click

from app.cli import cli


@cli.group("embeddings")
def embeddings() -> None:
    """Embedding spaces: which model built the index, and migrating to another one."""


def _print_spaces(infos: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="embedding spaces")
    for col in ("id", "status", "embedder", "model", "dim", "vectors / chunks"):
        table.add_column(col, justify="right" if col in ("id", "dim") else "left")
    for i in infos:
        cover = f"{i.vectors:,} / {i.chunks:,}" + ("" if i.complete else " (incomplete)")
        style = "bold" if i.status == "active" else ("dim" if i.status == "retired" else "")
        table.add_row(str(i.id), i.status, i.embedder, i.model_id, str(i.dim), cover, style=style)
    Console().print(table)


@embeddings.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable list of spaces.")
def status_cmd(as_json: bool) -> None:
    """List embedding spaces with their coverage; search uses the active one."""
    from app.services.runtime import open_runtime
    from ingest.spaces import space_status

    with open_runtime() as ctx, ctx.db.session() as s:
        infos = space_status(s)
    if as_json:
        click.echo(json.dumps([i.to_json() for i in infos], indent=2))
    elif not infos:
        click.echo("no embedding spaces yet: run `homerag ingest PATH` first")
    else:
        _print_spaces(infos)


@embeddings.command("migrate")
@click.option(
    "--embedder",
    type=click.Choice(["bge-m3", "lexical-hash"]),
    help="Target embedder (default: HOMERAG_EMBEDDER).",
)
@click.option("--model", help="Target BGE-M3 weights: hub id or directory (HOMERAG_EMBED_MODEL).")
@click.option("--device", help="Device for the target model (HOMERAG_EMBED_DEVICE).")
@click.option(
    "--batch",
    default=256,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Chunks per committed batch.",
)
@click.option("--no-switch", is_flag=True, help="Build the new space but keep the old one active.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary, no progress bar.")
def migrate_cmd(
    embedder: str | None,
    model: str | None,
    device: str | None,
    batch: int,
    no_switch: bool,
    as_json: bool,
) -> None:
    """Build the space of the target model beside the active one, then switch to it.

    Search keeps using the active space until the new one covers every chunk. Interrupted,
    it resumes where it stopped. Afterwards point HOMERAG_EMBEDDER / HOMERAG_EMBED_MODEL at
    the new model, and drop the old space with `homerag embeddings drop`.
    """
    from app.services.runtime import open_runtime
    from ingest.embedders import make_embedder
    from ingest.spaces import build_space, missing_chunks, start_space, switch_space
    from ingest.store import active_space, space_name

    with open_runtime() as ctx:
        update = {
            k: v
            for k, v in (("embedder", embedder), ("embed_model", model), ("embed_device", device))
            if v is not None
        }
        target = make_embedder(ctx.settings.model_copy(update=update))
        with ctx.db.session() as s:
            active = active_space(s)
            if active is not None and active.name == space_name(target):
                raise click.ClickException(
                    f"nothing to migrate: the active space {active.name} is already this model"
                )
            space = start_space(s, target, model=model or ctx.settings.embed_model)
            space_id, name = space.id, space.name
            todo = len(missing_chunks(s, space_id, limit=10_000_000))
        report = _build(
            ctx.db, space_id, target, batch=batch, total=todo, quiet=as_json, build=build_space
        )
        if not no_switch:
            with ctx.db.session() as s:
                switch_space(s, space_id, target)
            report.switched, report.status = True, "active"
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    click.echo(f"space {name}: {report.embedded:,} chunks embedded in {report.batches} batches")
    if report.switched:
        click.echo(
            "switched: search now uses this space; set HOMERAG_EMBEDDER/HOMERAG_EMBED_MODEL "
            "to the new model, and drop the old space with `homerag embeddings drop`"
        )
    else:
        click.echo(f"built, not switched: run `homerag embeddings switch {space_id}` when ready")


def _build(
    db: Any, space_id: int, target: Any, *, batch: int, total: int, quiet: bool, build: Any
) -> Any:
    if quiet or total == 0:
        return build(db, space_id, target, batch=batch)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("embedding chunks", total=total)
        return build(db, space_id, target, batch=batch, progress=lambda n: bar.advance(task, n))


@embeddings.command("switch")
@click.argument("space")
def switch_cmd(space: str) -> None:
    """Make SPACE (id or name) the active space, if it covers every chunk (also: roll back)."""
    from app.services.runtime import open_runtime
    from ingest.spaces import find_space, switch_space

    with open_runtime() as ctx, ctx.db.session() as s:
        info = switch_space(s, find_space(s, space).id)
    click.echo(f"active: {info.name}")


@embeddings.command("drop")
@click.argument("space")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True)
def drop_cmd(space: str, yes: bool, as_json: bool) -> None:
    """Delete SPACE (id or name): its vectors and indexes. The active space cannot be dropped."""
    from app.services.runtime import open_runtime
    from ingest.spaces import drop_space

    if not yes and not as_json:
        click.confirm(f"drop embedding space {space} and all its vectors?", abort=True)
    with open_runtime() as ctx, ctx.db.session() as s:
        info = drop_space(s, space)
    if as_json:
        click.echo(json.dumps({"dropped": info.to_json()}, indent=2))
    else:
        click.echo(f"dropped {info.name} ({info.vectors:,} vectors)")
