"""Alembic environment: metadata from app.core.models, URL from homerag's settings."""

from __future__ import annotations

import logging.config

from alembic import context
from sqlalchemy import engine_from_config, pool

from app.core.models import Base

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Per-embedding-space indexes are created at run time (ingest.store.ensure_space_indexes),
# not by migrations; autogenerate must not propose dropping them.
RUNTIME_INDEX_PREFIXES = ("ix_chunk_embeddings_space_", "ix_sparse_postings_space_")


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "index" and name and name.startswith(RUNTIME_INDEX_PREFIXES):
        return False
    # apscheduler_jobs is owned by APScheduler's job store, not by our models.
    return not (type_ == "table" and name == "apscheduler_jobs")


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    # Called through the alembic CLI: use homerag's settings (starting the embedded server).
    from app.core.config import get_settings
    from app.core.db import Database

    settings = get_settings()
    db = Database.open(settings.database_url, pgdata=settings.pgdata_dir)
    return db.url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = _url()
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
