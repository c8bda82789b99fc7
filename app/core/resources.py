"""Where the files that ship beside the code live: migrations, prompts, the sample household.

A wheel carries the repository's top-level `migrations/` and `prompts/` as package data under
`app/_migrations` and `app/_prompts` (setup.py maps them); in a checkout (editable install, or
PYTHONPATH) they are the repository's own folders. Callers ask here instead of counting parents.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from app.core.errors import ConfigError

# In a checkout: app/core/resources.py -> the repository root.
_REPO_ROOT = Path(__file__).resolve().parents[2]


def _package_dir() -> Path:
    return Path(str(files("app")))


def _bundled(shipped: str, repo_folder: str) -> Path:
    """The folder inside the installed package, else the repository's; one-line error if neither."""
    candidates = (_package_dir() / shipped, _REPO_ROOT / repo_folder)
    for folder in candidates:
        if folder.is_dir():
            return folder
    raise ConfigError(
        f"homerag is installed without its {repo_folder}/ folder "
        f"(looked in {candidates[0]} and {candidates[1]}); reinstall the package"
    )


def migrations_dir() -> Path:
    """Alembic's script location (env.py, versions/)."""
    return _bundled("_migrations", "migrations")


def prompts_dir() -> Path:
    """The bundled prompt files (`<name>.<role>.md`)."""
    return _bundled("_prompts", "prompts")


def sample_dir() -> Path:
    """The synthetic household that `homerag demo` indexes (package data of `app`)."""
    return _bundled("sample/household", "app/sample/household")
