"""`homerag status`: the index, its embedder, and per-source counts with failure reasons."""

from __future__ import annotations

import json

import click

from app.cli import cli


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_cmd(as_json: bool) -> None:
    """Show what is indexed, by which embedder, and what failed (with reasons)."""
    from app.services.runtime import open_runtime
    from app.services.status import index_status

    with open_runtime() as ctx, ctx.db.session() as session:
        status = index_status(session)
        status["database"] = ctx.db_label
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    click.echo(f"database: {status['database']}")
    idx = status["index"]
    if idx is None:
        click.echo("index: empty (run `homerag ingest PATH`)")
    else:
        note = "  (lexical, not semantic)" if idx["embedder"] == "lexical-hash" else ""
        click.echo(f"index: {status['documents']} documents, {status['chunks']} chunks; "
                   f"embedder {idx['embedder']} ({idx['model_id']}, dim {idx['dim']}){note}")
    for space in status["spaces"]:
        if space["status"] != "active":
            click.echo(f"  space {space['id']} {space['embedder']} ({space['model_id']}): "
                       f"{space['status']}")
    for src in status["sources"]:
        click.echo(f"{src['name']} [{src['kind']}]: {src['indexed']} indexed, "
                   f"{src['skipped']} skipped, {src['failed']} failed; {src['chunks']} chunks; "
                   f"last sync {src['last_sync_at'] or 'never'}")
        for p in src["problems"]:
            click.echo(f"  {p['status']} ({p['code']}): {p['message']}")
