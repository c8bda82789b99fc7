"""app.core.resources in a checkout: the repository's folders (the wheel's copies are checked by
scripts/wheel_smoke.sh, which installs the wheel and asks the same functions)."""

from __future__ import annotations

from pathlib import Path

from app.core.resources import migrations_dir, prompts_dir, sample_dir

REPO = Path(__file__).resolve().parents[2]


def test_checkout_uses_the_repository_folders() -> None:
    assert migrations_dir() == REPO / "migrations"
    assert prompts_dir() == REPO / "prompts"
    assert (migrations_dir() / "env.py").is_file()
    assert sorted(p.name for p in (migrations_dir() / "versions").glob("0001_*.py"))
    assert (prompts_dir() / "answer.system.md").is_file()


def test_sample_household_has_every_kind_of_file() -> None:
    folders = {p.name for p in sample_dir().iterdir() if p.is_dir()}
    assert {"contracts", "letters", "mail", "notes", "statements"} <= folders
