"""`homerag search QUERY`: ranked passages with their sources."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from app.cli import cli


def filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The filter options shared by `search` and `ask`."""
    options = [
        click.option("--kind", "kinds", multiple=True,
                     help="Document kind: note, contract, letter, email, statement, message."),
        click.option("--source", "sources", multiple=True, help="Source name (repeatable)."),
        click.option("--source-kind", "source_kinds", multiple=True,
                     help="folder, files, mbox, maildir, imap, chat."),
        click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Documents dated on/after."),
        click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Documents dated on/before."),
        click.option("--document", "document_ids", multiple=True, type=int,
                     help="Only this document id (and its attachments)."),
        click.option("--sender", help="Mail sender contains."),
        click.option("--recipient", help="Mail recipient contains."),
        click.option("--folder", help="Mail folder contains."),
        click.option("--has-attachment/--no-attachment", "has_attachment", default=None,
                     help="Mails with (or without) attachments."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def filters_from(kwargs: dict[str, Any]) -> Any:
    from app.services.search import make_search_filters

    return make_search_filters(**{k: kwargs.pop(k) for k in (
        "kinds", "sources", "source_kinds", "date_from", "date_to", "document_ids", "sender",
        "recipient", "folder", "has_attachment")})


@cli.command("search")
@click.argument("query")
@click.option("--top-k", "-k", default=None, type=click.IntRange(1, 100),
              help="How many passages (default HOMERAG_TOP_K).")
@click.option("--json", "as_json", is_flag=True, help="JSON list of passages.")
@filter_options
def search_cmd(query: str, top_k: int | None, as_json: bool, **kwargs: Any) -> None:
    """Find the passages that best match QUERY (dense + sparse + full text, fused)."""
    from app.services.runtime import open_runtime
    from app.services.search import hit_json, hit_span, search_passages

    filters = filters_from(kwargs)
    with open_runtime() as rt:
        hits = search_passages(rt, query, filters=filters, top_k=top_k)
    if as_json:
        click.echo(json.dumps([hit_json(i, h, query=query) for i, h in enumerate(hits, 1)], indent=2,
                              ensure_ascii=False))
        return
    if not hits:
        click.echo("no matching passages")
        return
    for i, hit in enumerate(hits, 1):
        where = f"p. {hit.page}" if hit.page else ""
        label = hit.title or hit.path
        click.echo(click.style(f"[{i}] {label}", bold=True) + f"  {where}  (score {hit.score:.4f})")
        click.echo(f"    {hit.path}")
        click.echo(f"    {hit_span(hit, query)[1]}")  # the sentences that match
