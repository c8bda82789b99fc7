"""Source registry: build sources from `sources.toml` entries or from paths given on the CLI.

Each kind has a factory taking the entry's table (name, kind, and kind-specific keys) in
`SOURCE_FACTORIES`. Factories import their module inside the function so unused kinds (IMAP's
imaplib, the chat parsers) cost nothing at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import ConfigError
from app.core.protocols import Source
from app.core.toml_file import read_toml


def _folder(entry: Mapping[str, Any]) -> Source:
    from ingest.sources.folder import DEFAULT_EXCLUDES, FolderSource

    return FolderSource(
        entry["name"],
        Path(_required(entry, "path")),
        include=entry.get("include", ["*"]),
        exclude=entry.get("exclude", list(DEFAULT_EXCLUDES)),
        follow_symlinks=bool(entry.get("follow_symlinks", False)),
    )


def _mbox(entry: Mapping[str, Any]) -> Source:
    from ingest.sources.mbox import from_config

    return from_config(entry)


def _maildir(entry: Mapping[str, Any]) -> Source:
    from ingest.sources.maildir import from_config

    return from_config(entry)


def _imap(entry: Mapping[str, Any]) -> Source:
    from ingest.sources.imap import from_config

    return from_config(entry)


def _chat(entry: Mapping[str, Any]) -> Source:
    from ingest.sources.chat import from_config

    return from_config(entry)


SOURCE_FACTORIES: dict[str, Callable[[Mapping[str, Any]], Source]] = {
    "folder": _folder, "mbox": _mbox, "maildir": _maildir, "imap": _imap, "chat": _chat,
}


def _mail_store(path: Path) -> Source | None:
    from ingest.sources.mbox import recognise_mail_path

    return recognise_mail_path(path)


def _chat_export(path: Path) -> Source | None:
    from ingest.sources.chat import recognise_chat_path

    return recognise_chat_path(path)


# Recognisers for paths named on the command line, tried in order; the first that returns a
# Source wins (a maildir folder, an mbox file, a messenger export ...).
PATH_RECOGNISERS: list[Callable[[Path], Source | None]] = [_mail_store, _chat_export]


@dataclass(frozen=True, slots=True)
class ConfiguredSource:
    source: Source
    interval_hours: float | None
    enabled: bool


def _required(entry: Mapping[str, Any], key: str) -> Any:
    if key not in entry:
        raise ConfigError(f"source {entry.get('name', '?')!r}: missing '{key}'")
    return entry[key]


def load_sources(path: Path) -> list[ConfiguredSource]:
    """Read `[[source]]` tables from a TOML file (a missing file means no configured sources)."""
    data = read_toml(path)
    if data is None:
        return []
    out, seen = [], set()
    for i, entry in enumerate(data.get("source", []), start=1):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: [[source]] #{i} is not a table")
        name, kind = entry.get("name"), entry.get("kind")
        if not name or not isinstance(name, str):
            raise ConfigError(f"{path}: [[source]] #{i} needs a name")
        if name in seen:
            raise ConfigError(f"{path}: source name {name!r} is used twice")
        seen.add(name)
        factory = SOURCE_FACTORIES.get(str(kind))
        if factory is None:
            known = ", ".join(sorted(SOURCE_FACTORIES))
            raise ConfigError(f"{path}: source {name!r} has unknown kind {kind!r} (known: {known})")
        try:
            source = factory(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: source {name!r}: {exc}") from exc
        interval = entry.get("interval_hours")
        out.append(ConfiguredSource(source, float(interval) if interval else None,
                                    bool(entry.get("enabled", True))))
    return out


def source_for_path(path: Path) -> Source | None:
    """A source for one CLI path: a recognised mail store, a folder, or None for a plain file."""
    path = path.expanduser().resolve()
    for recognise in PATH_RECOGNISERS:
        source = recognise(path)
        if source is not None:
            return source
    if path.is_dir():
        from ingest.sources.folder import FolderSource

        return FolderSource(str(path), path)
    return None
