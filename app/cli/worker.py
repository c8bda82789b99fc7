"""`homerag worker`: embed queued chunks (HOMERAG_EMBED_QUEUE=true) on this host's device.

Run one per GPU on any host that reaches the database:

    homerag worker --device cuda:0 &
    homerag worker --device cuda:1 --batch 64 &
    homerag worker --status            # the queue, the workers, texts that failed
"""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

import click

from app.cli import cli


@cli.command("worker")
@click.option("--device", help="cpu, cuda, cuda:1 ... (default HOMERAG_EMBED_DEVICE).")
@click.option("--batch", type=click.IntRange(1, 4096),
              help="Texts per claim and forward pass (default HOMERAG_EMBED_BATCH_SIZE).")
@click.option("--lease", "lease_s", type=click.FloatRange(1, 86400),
              help="Seconds a claim lasts without a heartbeat (default HOMERAG_EMBED_LEASE_S).")
@click.option("--drain", is_flag=True,
              help="Stop once the queue holds nothing but failed texts (default: keep waiting).")
@click.option("--status", "show_status", is_flag=True,
              help="Show the queue, the workers and failed texts, then exit.")
@click.option("--retry-failed", is_flag=True, help="Put failed texts back in the queue, then exit.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per batch, then a summary.")
def worker_cmd(device: str | None, batch: int | None, lease_s: float | None, drain: bool,
               show_status: bool, retry_failed: bool, as_json: bool) -> None:
    """Embed queued chunks with the active index's model until stopped (SIGTERM / Ctrl-C finish
    the batch in hand; a killed worker's batch goes to another worker when its lease ends)."""
    from app.services import embed_queue
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        if show_status:
            _print_status(embed_queue.queue_status(rt), as_json=as_json)
            return
        if retry_failed:
            n = embed_queue.retry_failed(rt)
            click.echo(json.dumps({"requeued": n}) if as_json else f"{n} texts back in the queue")
            return
        if not rt.settings.embed_queue:
            click.echo("note: HOMERAG_EMBED_QUEUE is off here, so ingest on this host embeds "
                       "in-process; this worker embeds what queued ingests leave", err=True)
        stop = threading.Event()

        def finish(signum: int, frame: Any) -> None:
            if stop.is_set():  # a second signal: stop now (the lease covers the batch)
                raise KeyboardInterrupt
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, finish)

        def on_batch(b: Any) -> None:
            if as_json:
                click.echo(json.dumps({"texts": b.texts, "reused": b.reused, "chunks": b.chunks,
                                       "tokens": b.tokens, "failed": b.failed, "lost": b.lost,
                                       "embed_s": round(b.embed_s, 3)}))
            else:
                rate = f", {b.tokens / b.embed_s:,.0f} tokens/s" if b.embed_s else ""
                click.echo(f"{b.chunks} chunks ({b.texts} embedded, {b.reused} reused"
                           f"{f', {b.failed} failed' if b.failed else ''}){rate}")

        report = embed_queue.run_worker(
            rt, embed_queue.WorkerOptions(device=device, batch=batch, lease_s=lease_s,
                                          drain=drain),
            on_batch=on_batch, stop=stop)
    summary = report.to_json()
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"worker {summary['worker']}: {summary['chunks']} chunks in "
                   f"{summary['batches']} batches, {summary['texts']} texts embedded, "
                   f"{summary['reused']} reused, {summary['failed']} failed; "
                   f"{summary['tokens_per_s'] or 0:,.0f} tokens/s")


def _print_status(status: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    click.echo(f"queue: {'on' if status['enabled'] else 'off'} (HOMERAG_EMBED_QUEUE)")
    if not status["spaces"]:
        click.echo("nothing queued")
    for q in status["spaces"]:
        oldest = f", oldest {q['oldest_s']:.0f} s" if q["oldest_s"] is not None else ""
        click.echo(f"space {q['space_id']}: {q['pending_chunks']} chunks of "
                   f"{q['pending_documents']} documents waiting ({q['pending_tokens']} tokens); "
                   f"texts {q['texts_ready']} ready, {q['texts_leased']} leased, "
                   f"{q['texts_failed']} failed{oldest}")
    for w in status["workers"]:
        rate = f"{w['tokens_per_s']:,.0f} tokens/s" if w["tokens_per_s"] else "no batch yet"
        click.echo(f"worker {w['id']} [{w['state']}] on {w['device']}: {w['chunks']} chunks, "
                   f"{w['texts']} embedded, {rate}; last seen {w['last_seen_at']}")
    for f in status["failed"]:
        click.echo(f"failed ({f['attempts']} tries): {f['origin'] or f['content_hash']}: "
                   f"{f['reason']}")
