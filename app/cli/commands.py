"""Registers every command module with the `homerag` group (one import per module)."""

from __future__ import annotations

import importlib

COMMAND_MODULES = (
    "app.cli.db",
    "app.cli.ingest",
    "app.cli.search",
    "app.cli.status",
    "app.cli.ask",
    "app.cli.demo",
    "app.cli.serve",
    "app.cli.eval",
    "app.cli.contracts",
    "app.cli.scheduler",
    "app.cli.embeddings",
    "app.cli.money",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name)
