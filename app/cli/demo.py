"""`homerag demo`: the bundled synthetic household, indexed and served, fully offline."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli import cli


def demo_data_dir() -> Path:
    from app.core.config import default_data_dir

    return default_data_dir().with_name("homerag-demo")


@cli.command("demo")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Where the demo keeps its own embedded database (default: "
                   "<user data dir>/homerag-demo; your real index is not touched).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Only index the sample, don't start the server.")
def demo_cmd(data_dir: Path | None, host: str, port: int, no_serve: bool) -> None:
    """Index the bundled synthetic household (contracts, letters, a mail with an attachment, a
    bank statement) with the offline lexical embedder and serve the web form and API."""
    import os

    from app.cli.ingest import RichProgress, _print_report
    from app.core.config import get_settings, load_settings
    from app.services.runtime import open_runtime
    from app.services.sync import sample_source, sync

    data_dir = (data_dir or demo_data_dir()).expanduser()
    overrides: dict[str, object] = {"data_dir": data_dir, "database_url": None}
    if not os.environ.get("HOMERAG_EMBEDDER"):
        overrides["embedder"] = "lexical-hash"  # offline: no model weights needed
    settings = load_settings(**overrides)
    get_settings.cache_clear()
    click.echo(f"demo data: {data_dir} (embedded PostgreSQL)")
    with open_runtime(settings) as rt:
        import sys

        if not no_serve:  # before indexing: beyond loopback the demo needs a user too
            from app.cli.serve import check_bind

            check_bind(rt, host, add_user=f"HOMERAG_DATA_DIR={data_dir} homerag user add NAME")

        result = sync(rt, [sample_source()], trigger="demo",
                      progress=RichProgress() if sys.stderr.isatty() else None)
        report = result.reports[0]
        _print_report(report)
        if report.status != "completed":
            raise click.ClickException(f"indexing the sample failed: {report.error}")
        if no_serve:
            return
        click.echo(f"\nOpen http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
        click.echo('Try: "When can I cancel the gym membership?" or '
                   '"Wie hoch ist die Nachzahlung für Strom?"')
        if not settings.llm_base_url:
            click.echo("No HOMERAG_LLM_BASE_URL set: answers are retrieval-only (best passages "
                       "with citations).")
        from app.cli.serve import run_server

        run_server(rt, host=host, port=port)
