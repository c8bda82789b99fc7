"""`homerag ask QUESTION`: a streamed, cited answer, then its sources.

`--new-conversation` stores the question as the first turn of a conversation and prints its id;
`--conversation ID` asks a follow-up in that stored conversation (read against its earlier turns,
as on the web page and over the API; `homerag conversations` lists, shows and exports them).
"""

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
@click.option("--conversation", "conversation_id", type=click.IntRange(1), default=None,
              metavar="ID", help="Ask a follow-up in stored conversation ID (its earlier turns "
                                 "say what 'those', 'and in October?' mean).")
@click.option("--new-conversation", is_flag=True,
              help="Start a stored conversation with this question; its id is printed.")
@filter_options
def ask_cmd(question: str, top_k: int | None, as_json: bool, show_reasoning: bool,
            conversation_id: int | None, new_conversation: bool, **kwargs: Any) -> None:
    """Answer QUESTION from your documents, citing passages as [n].

    Without a reachable language model the answer is retrieval-only: the best passages with
    their citations, clearly labelled.
    """
    from app.services.ask import ask, ask_stream
    from app.services.runtime import open_runtime

    if conversation_id is not None and new_conversation:
        raise click.UsageError("--conversation and --new-conversation: give one of them")
    filters = filters_from(kwargs)
    if conversation_id is not None or new_conversation:
        _ask_turn(question, conversation_id=conversation_id, filters=filters, top_k=top_k,
                  as_json=as_json, show_reasoning=show_reasoning)
        return
    with open_runtime() as rt:
        if as_json or not sys.stdout.isatty():
            result = ask(rt, question, filters=filters, top_k=top_k)
            if as_json:
                click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
                return
            if show_reasoning and result.reasoning:
                click.echo(f"[reasoning]\n{result.reasoning}\n[/reasoning]\n")
            click.echo(result.answer)
            _print_sources(result)
            return
        result = _stream_to_terminal(ask_stream(rt, question, filters=filters, top_k=top_k),
                                     show_reasoning)
    _print_sources(result)


def _ask_turn(question: str, *, conversation_id: int | None, filters: Any, top_k: int | None,
              as_json: bool, show_reasoning: bool) -> None:
    """One stored turn: a new conversation (`conversation_id` None) or a follow-up in one."""
    from app.services.ask import TurnEvent, ask_turn, ask_turn_stream
    from app.services.runtime import open_runtime

    turn = {"conversation_id": conversation_id, "filters": filters, "top_k": top_k,
            "origin": "cli"}
    with open_runtime() as rt:
        if as_json or not sys.stdout.isatty():
            result, rewrite, stored = ask_turn(rt, question, **turn)
            if as_json:
                click.echo(json.dumps({**result.to_json(), "conversation": stored,
                                       "understood_as": rewrite.get("standalone"),
                                       "carried": rewrite.get("carried", [])},
                                      indent=2, ensure_ascii=False))
                return
            _print_understood(rewrite)
            if show_reasoning and result.reasoning:
                click.echo(f"[reasoning]\n{result.reasoning}\n[/reasoning]\n")
            click.echo(result.answer)
        else:
            turn_events: dict[str, Any] = {}

            def answer_events() -> Any:
                for event in ask_turn_stream(rt, question, **turn):
                    if isinstance(event, TurnEvent):
                        turn_events[event.type] = dict(event.data)
                        if event.type == "rewrite":
                            _print_understood(event.data)
                    else:
                        yield event

            result = _stream_to_terminal(answer_events(), show_reasoning)
            stored = turn_events.get("conversation")
    _print_sources(result)
    if stored:
        click.echo(f"\nConversation {stored['id']}, turn {stored['turn']}: ask a follow-up with "
                   f"homerag ask --conversation {stored['id']} \"...\"")


def _print_understood(rewrite: Any) -> None:
    """How a follow-up was understood (nothing for a question read as asked)."""
    standalone = rewrite.get("standalone")
    if standalone and standalone != rewrite.get("question"):
        carried = "; ".join(rewrite.get("carried") or [])
        click.echo(click.style("understood as", fg="cyan") + f": {standalone}"
                   + (f" (carried over: {carried})" if carried else ""))


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
