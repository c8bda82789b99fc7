"""`homerag conversations list|show|export|delete`: stored conversations (web form, API, MCP)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.cli import cli


@cli.group("conversations")
def conversations_group() -> None:
    """Stored conversations: list, show, export as Markdown, delete."""


@conversations_group.command("list")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(limit: int, as_json: bool) -> None:
    """Conversations, most recently continued first."""
    from app.services.conversations import list_conversations
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        items = list_conversations(rt, limit=limit)
    if as_json:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    if not items:
        click.echo("no conversations yet")
    for c in items:
        turns = f"{c['turns']} turn{'s' if c['turns'] != 1 else ''}"
        click.echo(f"{c['id']:>5}  {c['updated_at'][:16].replace('T', ' ')}  {turns:>8}  "
                   f"[{c['origin']}]  {c['title']}")


@conversations_group.command("show")
@click.argument("conversation_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Every turn with its citations.")
def show_cmd(conversation_id: int, as_json: bool) -> None:
    """One conversation: each question, how it was understood, the answer and its sources."""
    from app.services.conversations import export_markdown, get_conversation
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        if as_json:
            click.echo(json.dumps(get_conversation(rt, conversation_id), indent=2,
                                  ensure_ascii=False))
            return
        click.echo(export_markdown(rt, conversation_id), nl=False)


@conversations_group.command("export")
@click.argument("conversation_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: stdout).")
def export_cmd(conversation_id: int, output: Path | None) -> None:
    """The conversation as Markdown with its citations (links into the web UI)."""
    from app.services.conversations import export_markdown
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        text = export_markdown(rt, conversation_id)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}", err=True)


@conversations_group.command("delete")
@click.argument("conversation_id", type=int)
def delete_cmd(conversation_id: int) -> None:
    """Delete a conversation and all its turns."""
    from app.services.conversations import delete_conversation
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        delete_conversation(rt, conversation_id)
    click.echo(f"deleted conversation {conversation_id}")
