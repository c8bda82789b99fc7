"""`homerag status`: the index, its embedder, and per-source counts with failure reasons."""

from __future__ import annotations

import json

import click

from app.cli import cli


@cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--all", "all_problems", is_flag=True,
              help="List every failed or skipped item (default: the newest 20 per source).")
@click.option("--usage", is_flag=True,
              help="Language-model tokens and cost by model and month (prices: HOMERAG_LLM_PRICES).")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 120),
              help="With --usage: how many months back.")
def status_cmd(as_json: bool, all_problems: bool, usage: bool, months: int) -> None:
    """Show what is indexed, by which embedder, and what failed (with reasons)."""
    from app.services.runtime import open_runtime
    from app.services.status import status as index_status

    if usage:
        from app.services.usage import usage_by_month

        with open_runtime() as rt:
            _print_usage(usage_by_month(rt, months=months), as_json=as_json)
        return
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
    vectors = status["vectors"]
    if vectors["repack_advised"]:
        click.echo(f"vectors: most stored out of line ({vectors['toast_bytes'] / 2**20:,.0f} MB, "
                   f"against {vectors['heap_bytes'] / 2**20:,.0f} MB in the rows), as stored "
                   "before migration 0016: `homerag db repack-vectors` makes search faster")
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


def _print_usage(usage: dict[str, object], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(usage, indent=2))
        return
    rows = usage["months"]
    assert isinstance(rows, list)
    if not rows:
        click.echo("no answers by a language model yet")
        return
    currency = usage["currency"] or ""
    click.echo(f"{'month':<8} {'model':<32} {'answers':>8} {'prompt tok':>12} "
               f"{'compl. tok':>12} {'cost':>12}")
    for r in rows:
        cost = "no price" if r["cost"] is None else f"{r['cost']:.4f} {currency}".strip()
        click.echo(f"{r['month']:<8} {(r['model'] or '(none)')[:32]:<32} {r['answers']:>8,} "
                   f"{r['prompt_tokens']:>12,} {r['completion_tokens']:>12,} {cost:>12}")
    if not usage["priced_models"]:
        click.echo(f"prices: none set (write them to {usage['prices_file']}, "
                   "see `homerag status --help`)")
