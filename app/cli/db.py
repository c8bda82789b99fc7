"""`homerag db ...`: migrations."""

from __future__ import annotations

import click

from app.cli import cli


@cli.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="heads", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to the latest version."""
    from app.services.runtime import open_runtime

    with open_runtime(migrate=False) as rt:
        rt.db.upgrade(revision)
        click.echo(f"database at {revision} ({rt.db_label})")


@db_group.command("repack-vectors")
def db_repack_vectors() -> None:
    """Rewrite the stored vectors whole into their rows (faster search; after the upgrade to
    migration 0016 on a large index). Searches and ingest wait until it is done."""
    from app.services.maintenance import repack_vectors, vector_storage
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        with rt.db.engine.connect() as conn:
            before = vector_storage(conn)
        click.echo(f"rewriting {before['rows']:,} stored vectors (about 8 min per million; "
                   "searches and ingest wait meanwhile) ...")
        done = repack_vectors(rt, before=before)
    mb = 2**20
    b, a = done["before"], done["after"]
    click.echo(f"done in {done['seconds']:.0f} s: heap {b['heap_bytes'] / mb:,.0f} -> "
               f"{a['heap_bytes'] / mb:,.0f} MB, out of line (TOAST) "
               f"{b['toast_bytes'] / mb:,.0f} -> {a['toast_bytes'] / mb:,.0f} MB")
