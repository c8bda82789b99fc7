"""`homerag eval QUESTIONS.jsonl`: retrieval quality per mode in one table (and `ask` quality)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from app.cli import cli

COLUMNS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
ASK_COLUMNS = ("citation_precision", "exact_answer", "llm_answered")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def render_table(results: list[Any], questions: int) -> Any:
    from rich.table import Table

    table = Table(title=f"retrieval quality over {questions} questions")
    table.add_column("mode")
    for c in COLUMNS:
        table.add_column(c, justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    for r in results:
        if r.mode == "ask":
            continue
        if r.error:
            table.add_row(r.mode, *["[dim]n/a[/dim]"] * (len(COLUMNS) + 2))
            continue
        table.add_row(
            r.mode,
            *[_fmt(r.metrics.get(c)) for c in COLUMNS],
            f"{r.latency_ms['p50']:.1f}",
            f"{r.latency_ms['p95']:.1f}",
        )
    return table


def render_ask(result: Any) -> Any:
    from rich.table import Table

    table = Table(title="ask (answers with citations)")
    for c in (*ASK_COLUMNS, "p50 ms", "p95 ms"):
        table.add_column(c, justify="right")
    table.add_row(
        *[_fmt(result.metrics.get(c)) for c in ASK_COLUMNS],
        f"{result.latency_ms['p50']:.0f}",
        f"{result.latency_ms['p95']:.0f}",
    )
    return table


@cli.command("eval")
@click.argument(
    "questions_file",
    metavar="QUESTIONS.jsonl",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--modes",
    default="dense,sparse,fts,hybrid,hybrid+colbert,rerank",
    show_default=True,
    help="Comma-separated retrieval modes.",
)
@click.option(
    "--ask",
    "with_ask",
    is_flag=True,
    help="Also ask each question: citation precision and exact-answer accuracy.",
)
@click.option("--details", is_flag=True, help="With --json: per-question results too.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable results.")
def eval_cmd(
    questions_file: Path, modes: str, with_ask: bool, details: bool, as_json: bool
) -> None:
    """Measure retrieval quality on QUESTIONS.jsonl: recall@k, MRR@10, nDCG@10 per mode.

    Each line: {"question": ..., "expected": [file name, path suffix or text snippet],
    "answer": optional exact answer}. Modes: dense, sparse, fts, hybrid, hybrid+colbert, rerank.
    """
    from app.services.eval import RuntimeRetriever, load_questions, run_eval, runtime_ask
    from app.services.runtime import open_runtime

    chosen = tuple(m.strip() for m in modes.split(",") if m.strip())
    if not chosen:
        raise click.BadParameter("name at least one mode", param_hint="--modes")
    questions = load_questions(questions_file)
    with open_runtime() as rt:
        results = run_eval(
            questions,
            RuntimeRetriever(rt),
            modes=chosen,
            ask=runtime_ask(rt) if with_ask else None,
        )
        embedder = f"{rt.embedder().name}:{rt.embedder().model_id}"
    if as_json:
        click.echo(
            json.dumps(
                {
                    "questions": len(questions),
                    "embedder": embedder,
                    "results": [r.to_json(details=details) for r in results],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    from rich.console import Console

    console = Console()
    console.print(render_table(results, len(questions)))
    for r in results:
        if r.error:
            console.print(f"[dim]{r.mode}: not run: {r.error}[/dim]")
    ask_result = next((r for r in results if r.mode == "ask"), None)
    if ask_result is not None:
        console.print(render_ask(ask_result))
    console.print(f"[dim]embedder {embedder}[/dim]")
