"""The `homerag` command line: one click group; each command group lives in its own module.

Commands are thin: parse arguments, call a service, print. Errors from the HomeragError tree
become one line on stderr and exit code 1 (2 for usage errors, from click).
"""

from __future__ import annotations

import sys

import click

from app.core.errors import HomeragError


class HomeragGroup(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except HomeragError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=HomeragGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="homerag")
def cli() -> None:
    """homerag: private RAG over your own documents, statements and mail."""
    from app.core.config import apply_privacy_env

    apply_privacy_env()


def _register() -> None:
    # Each module adds its commands to `cli`. Imported here, not at the top, so that
    # `import app.cli` stays cheap and commands import their heavy parts lazily.
    from app.cli import commands  # noqa: F401


_register()


def main() -> None:
    try:
        cli(prog_name="homerag")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
