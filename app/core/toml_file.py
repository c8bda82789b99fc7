"""Reading the owner's TOML files (sources, CSV profiles, category rules) with one error style."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from app.core.errors import ConfigError


def read_toml(path: Path | None) -> dict[str, Any] | None:
    """The parsed file, or None when there is no such file (an absent file means "nothing set").

    Raises ConfigError naming the file when it is not valid UTF-8 TOML.
    """
    if path is None or not path.exists():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
