"""`homerag embeddings status|migrate|switch|drop`: change the embedding model without downtime."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    from app.services import embeddings as service
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        infos = service.spaces(rt)
    if as_json:
        click.echo(json.dumps([i.to_json() for i in infos], indent=2))
    elif not infos:
        click.echo("no embedding spaces yet: run `homerag ingest PATH` first")
    else:
        _print_spaces(infos)


@embeddings.command("migrate")
@click.option(
    "--embedder",
    type=click.Choice(["bge-m3", "lexical-hash", "sentence-transformers"]),
    help="Target embedder (default: HOMERAG_EMBEDDER).",
)
@click.option("--model", help="Target weights: hub id or directory (HOMERAG_EMBED_MODEL; "
              "sentence-transformers: a directory).")
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
    from app.core.errors import InvalidInputError
    from app.services import embeddings as service
    from app.services.runtime import open_runtime

    with open_runtime() as rt, _progress_bar(quiet=as_json) as progress:
        try:
            report = service.migrate(rt, embedder=embedder, model=model, device=device,
                                     batch=batch, switch_when_done=not no_switch,
                                     progress=progress)
        except InvalidInputError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    click.echo(f"space {report.space}: {report.embedded:,} chunks embedded in {report.batches} "
               f"batches")
    if report.switched:
        click.echo(
            "switched: search now uses this space; set HOMERAG_EMBEDDER/HOMERAG_EMBED_MODEL "
            "to the new model, and drop the old space with `homerag embeddings drop`"
        )
    else:
        click.echo(f"built, not switched: run `homerag embeddings switch {report.space}` "
                   f"when ready")


@contextmanager
def _progress_bar(*, quiet: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr fed with (done, total), or None with --json."""
    if quiet:
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("embedding chunks", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@embeddings.command("switch")
@click.argument("space")
def switch_cmd(space: str) -> None:
    """Make SPACE (id or name) the active space, if it covers every chunk (also: roll back)."""
    from app.services import embeddings as service
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        info = service.switch(rt, space)
    click.echo(f"active: {info.name}")


@embeddings.command("drop")
@click.argument("space")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True)
def drop_cmd(space: str, yes: bool, as_json: bool) -> None:
    """Delete SPACE (id or name): its vectors and indexes. The active space cannot be dropped."""
    from app.services import embeddings as service
    from app.services.runtime import open_runtime

    if not yes and not as_json:
        click.confirm(f"drop embedding space {space} and all its vectors?", abort=True)
    with open_runtime() as rt:
        info = service.drop(rt, space)
    if as_json:
        click.echo(json.dumps({"dropped": info.to_json()}, indent=2))
    else:
        click.echo(f"dropped {info.name} ({info.vectors:,} vectors)")
