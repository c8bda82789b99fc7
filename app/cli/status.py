"""`homerag status`: the index, its embedder, and per-source counts with failure reasons."""

from __future__ import annotations

import json

import click

from app.cli import cli


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "all_problems", is_flag=True,
              help="List every failed or skipped item (default: the newest 20 per source).")
def status_cmd(as_json: bool, all_problems: bool) -> None:
    """Show what is indexed, by which embedder, and what failed (with reasons)."""
    from app.services.runtime import open_runtime
    from app.services.status import status as index_status

    with open_runtime() as rt:
        status = index_status(rt, all_problems=all_problems)
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
        inside = f" ({src['failed_inside']} inside indexed documents)" if src["failed_inside"] else ""
        if src["problem_count"]:
            click.echo(f"  problems: {src['problem_count']}{inside}")
        for p in src["problems"]:
            click.echo(f"  {p['status']} ({p['code']}): {p['message']}")
        hidden = src["problem_count"] - len(src["problems"])
        if hidden > 0:
            click.echo(f"  ... and {hidden} more (homerag status --all)")
