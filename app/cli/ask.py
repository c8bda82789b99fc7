"""`homerag ask QUESTION`: a streamed, cited answer, then its sources."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from app.cli import cli
from app.cli.search import filter_options, filters_from


def _print_sources(result: Any) -> None:
    if result.mode == "retrieval-only":
        click.echo(click.style("retrieval-only", fg="yellow", bold=True)
                   + f": {result.notice}" if result.notice else "")
    elif result.notice:  # a money answer's filters, figures to check, a cut-off answer
        click.echo(click.style("note", fg="yellow", bold=True) + f": {result.notice}")
    if result.uncited and result.mode != "retrieval-only":
        click.echo(click.style("uncited", fg="yellow", bold=True)
                   + ": the answer cites none of the passages it was given; check it yourself.")
    if not result.citations:
        return
    click.echo("\nSources:")
    for c in result.citations:
        cit = c.citable
        where = f", p. {cit.page}" if cit.page else ""
        label = f" ({cit.label})" if cit.label else ""
        click.echo(f"  [{c.n}] {cit.title or cit.path}{where}{label}")
        click.echo(f"      {cit.path}")
        click.echo(f"      {c.to_json()['snippet']}")  # the supporting sentences


@cli.command("ask")
@click.argument("question")
@click.option("--top-k", "-k", default=None, type=click.IntRange(1, 50),
              help="Passages offered to the model (default HOMERAG_TOP_K).")
@click.option("--json", "as_json", is_flag=True,
              help="JSON: {answer, mode, citations: [{n, chunk_id, document_id, path, title, "
                   "page, text}], ...}.")
@click.option("--show-reasoning", is_flag=True, help="Also print the model's reasoning.")
@filter_options
def ask_cmd(question: str, top_k: int | None, as_json: bool, show_reasoning: bool,
            **kwargs: Any) -> None:
    """Answer QUESTION from your documents, citing passages as [n].

    Without a reachable language model the answer is retrieval-only: the best passages with
    their citations, clearly labelled.
    """
    from app.services.ask import ask, ask_stream
    from app.services.runtime import open_runtime

    filters = filters_from(kwargs)
    with open_runtime() as ctx:
        if as_json or not sys.stdout.isatty():
            result = ask(ctx, question, filters=filters, top_k=top_k)
            if as_json:
                click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
                return
            if show_reasoning and result.reasoning:
                click.echo(f"[reasoning]\n{result.reasoning}\n[/reasoning]\n")
            click.echo(result.answer)
            _print_sources(result)
            return
        result = _stream_to_terminal(ask_stream(ctx, question, filters=filters, top_k=top_k),
                                     show_reasoning)
    _print_sources(result)


def _stream_to_terminal(events: Any, show_reasoning: bool) -> Any:
    """Render deltas live; a `reset` (reasoning or a failed model) clears what was shown."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console()
    answer, reasoning = [], []
    result = None
    with Live(Text(""), console=console, refresh_per_second=12, transient=True) as live:
        for event in events:
            if event.type == "answer":
                answer.append(event.text)
            elif event.type == "reasoning":
                reasoning.append(event.text)
            elif event.type == "reset":
                answer.clear()
            elif event.type == "tool" and event.tool is not None:
                reasoning.append(f"\n[tool {event.tool.name}]\n")
            elif event.type == "done":
                result = event.result
            shown = Text("".join(answer))
            if show_reasoning and reasoning:
                shown = Text.assemble(("".join(reasoning) + "\n\n", "dim"), shown)
            live.update(shown)
    assert result is not None
    if show_reasoning and result.reasoning:
        console.print(Text(result.reasoning + "\n", style="dim"))
    console.print(result.answer, markup=False, highlight=False)
    return result
