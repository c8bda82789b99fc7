"""Packages of the wheel; everything else about the build is in pyproject.toml.

The repository keeps `migrations/` and `prompts/` at the top level; the wheel carries them inside
`app` (as `app/_migrations`, `app/_prompts`), where `app.core.resources` finds them. pyproject's
`packages.find` cannot add such mapped packages to what it finds, hence this file.
"""

from setuptools import find_namespace_packages, setup

MAPPED = {
    "app._migrations": "migrations",
    "app._migrations.versions": "migrations/versions",
    "app._prompts": "prompts",
}

FOUND = find_namespace_packages(include=["app*", "ingest*"], exclude=["app._*", "*__pycache__"])

setup(packages=[*FOUND, *MAPPED], package_dir=MAPPED)
