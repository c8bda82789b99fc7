"""Document hooks run inside each document's transaction (domain tables such as transactions).

`default_hooks()` lists them; each is imported lazily so ingest stays light when unused.
"""

from __future__ import annotations

import importlib

from app.core.protocols import DocumentHook

# "module:ClassName" of each default hook, instantiated without arguments.
DEFAULT_HOOKS: tuple[str, ...] = (
    "ingest.money.hook:StatementHook",
    "ingest.mail.dedup:MessageIdDedup",
)


def default_hooks() -> list[DocumentHook]:
    hooks: list[DocumentHook] = []
    for spec in DEFAULT_HOOKS:
        module, _, cls = spec.partition(":")
        hooks.append(getattr(importlib.import_module(module), cls)())
    return hooks
