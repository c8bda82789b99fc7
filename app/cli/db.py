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
