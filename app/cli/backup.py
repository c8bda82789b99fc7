"""`homerag backup PATH` and `homerag restore PATH`: the database, stored originals and config."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app.cli import cli


@cli.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(1, 1000), default=None,
              help="Afterwards keep only the newest N backups in PATH.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
def backup_cmd(path: Path, keep: int | None, as_json: bool) -> None:
    """Write a backup folder into PATH: a pg_dump of the database, the stored originals, the
    config files and a manifest with row counts and checksums."""
    from app.services.backup import backup
    from app.services.runtime import open_runtime

    with open_runtime() as rt:
        result = backup(rt, path, keep=keep)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    m = result.manifest
    click.echo(f"backup: {result.path} ({len(m['files'])} files, {m['bytes'] / 1e6:.1f} MB; "
               f"{m['counts'].get('documents', 0)} documents, "
               f"{m['counts'].get('transactions', 0)} transactions)")
    for old in result.removed:
        click.echo(f"removed old backup {old}")


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Restore into this (empty) data directory instead of HOMERAG_DATA_DIR.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable summary.")
def restore_cmd(path: Path, data_dir: Path | None, as_json: bool) -> None:
    """Restore a backup (PATH, or the newest backup inside PATH) into an empty data directory
    and database; every checksum is verified first and the row counts are compared after."""
    from app.core.config import load_settings
    from app.services.backup import restore

    settings = load_settings(data_dir=data_dir) if data_dir else load_settings()
    result = restore(settings, path)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    click.echo(f"restored {result.path} into {result.data_dir} "
               f"({result.counts.get('documents', 0)} documents, "
               f"{result.counts.get('transactions', 0)} transactions)"
               + (f"; schema upgraded to {result.upgraded_to}" if result.upgraded_to else ""))
