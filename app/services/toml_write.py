"""Writing the owner's small TOML files (sources.toml, categories.toml) from plain values:
strings, numbers, booleans, lists and arrays of tables. Atomic: a temp file beside the target,
checked by the caller's loader, then renamed over it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any


def toml_value(value: Any) -> str:
    """A TOML literal for a plain value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    # JSON string escapes (\" \\ \n \uXXXX) are TOML basic-string escapes too.
    return json.dumps(str(value), ensure_ascii=False)


def table_toml(name: str, entry: Mapping[str, Any]) -> str:
    """One [[name]] table (keys whose value is None are left out)."""
    lines = [f"[[{name}]]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in entry.items() if value is not None]
    return "\n".join(lines) + "\n"


def tables_toml(name: str, entries: Sequence[Mapping[str, Any]], *, header: str = "") -> str:
    return header + "\n".join(table_toml(name, e) for e in entries)


def write_checked(path: Path, text: str, check: Callable[[Path], object]) -> None:
    """Write `text` to `path` atomically after `check(temp_path)` accepted it (it raises)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        check(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
