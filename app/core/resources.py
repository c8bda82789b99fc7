"""Where the bundled folders are: Alembic migrations, prompt files, the demo's sample household.

In a checkout they are the repository's top-level `migrations/` and `prompts/` folders.
"""

from __future__ import annotations

from pathlib import Path

_APP_DIR = Path(__file__).resolve().parent.parent
_REPO_ROOT = _APP_DIR.parent


def migrations_dir() -> Path:
    return _REPO_ROOT / "migrations"


def prompts_dir() -> Path:
    return _REPO_ROOT / "prompts"


def sample_dir() -> Path:
    return _APP_DIR / "sample" / "household"


def alembic_ini() -> Path | None:
    path = _REPO_ROOT / "alembic.ini"
    return path if path.exists() else None
