"""`homerag user add|passwd|list|remove` and `homerag token create|list|revoke`.

Passwords are typed at a hidden prompt (twice) or read from stdin with `--password-stdin`
(scripts, containers); never taken as an argument, where `ps` and shell history would show them.
A new token is printed once: only its hash is stored.
"""

from __future__ import annotations

import json
import sys

import click

from app.cli import cli


def read_password(*, from_stdin: bool, confirm: bool = True) -> str:
    if from_stdin:
        # One line; the trailing newline is not part of the password.
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.UsageError("--password-stdin: nothing on standard input")
        return password
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to ask for the password: pipe it in with "
                               "--password-stdin")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))


@cli.group("user")
def user_group() -> None:
    """People who may log in. Once one exists, every page and API route needs a login or token."""


@user_group.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(name: str, password_stdin: bool) -> None:
    """Add user NAME (asks for the password)."""
    from app.services.runtime import open_runtime
    from app.services.users import add_user, check_name

    check_name(name)  # before asking for a password
    password = read_password(from_stdin=password_stdin)
    with open_runtime() as rt:
        add_user(rt, name, password)
    click.echo(f"user {name} added; from now on every page and API call needs a login "
               "(or an API token: homerag token create NAME)")


@user_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (ends their web sessions)."""
    from app.services.runtime import open_runtime
    from app.services.users import set_password

    password = read_password(from_stdin=password_stdin)
    with open_runtime() as rt:
        set_password(rt, name, password)
    click.echo(f"password of {name} changed; their web sessions are logged out")


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def user_list(as_json: bool) -> None:
    """List users with their live tokens and sessions."""
    from app.services.runtime import open_runtime
    from app.services.users import list_users

    with open_runtime() as rt:
        users = list_users(rt)
    if as_json:
        click.echo(json.dumps(users, indent=2))
        return
    if not users:
        click.echo("no users: the server is open on loopback only (homerag user add NAME)")
    for u in users:
        click.echo(f"{u['name']}  created {u['created_at']}  tokens {u['tokens']}  "
                   f"sessions {u['sessions']}")


@user_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def user_remove(name: str, yes: bool) -> None:
    """Remove NAME with their tokens and sessions."""
    from app.services.runtime import open_runtime
    from app.services.users import remove_user

    if not yes:
        click.confirm(f"remove user {name} and their API tokens?", abort=True)
    with open_runtime() as rt:
        remove_user(rt, name)
    click.echo(f"user {name} removed")


@cli.group("token")
def token_group() -> None:
    """API tokens (Authorization: Bearer TOKEN) for scripts, agents and the OpenAI/MCP endpoints."""


@token_group.command("create")
@click.argument("name")
@click.option("--user", "user", default=None, help="Whose token (needed when several users exist).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def token_create(name: str, user: str | None, as_json: bool) -> None:
    """Create a token named NAME (what it is for, e.g. 'phone'); it is shown only this once."""
    from app.services.runtime import open_runtime
    from app.services.users import create_token

    with open_runtime() as rt:
        info, raw = create_token(rt, name, user=user)
    if as_json:
        click.echo(json.dumps({**info, "token": raw}, indent=2))
        return
    click.echo(raw)
    click.echo(f"token {info['id']} ({info['name']}) for {info['user']}: copy it now, it is not "
               "shown again. Use it as 'Authorization: Bearer <token>'.", err=True)


@token_group.command("list")
@click.option("--user", "user", default=None, help="Only this user's tokens.")
@click.option("--all", "revoked", is_flag=True, help="Include revoked tokens.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def token_list(user: str | None, revoked: bool, as_json: bool) -> None:
    """List tokens (their first characters, never the token)."""
    from app.services.runtime import open_runtime
    from app.services.users import list_tokens

    with open_runtime() as rt:
        tokens = list_tokens(rt, user=user, revoked=revoked)
    if as_json:
        click.echo(json.dumps(tokens, indent=2))
        return
    if not tokens:
        click.echo("no tokens (homerag token create NAME)")
    for t in tokens:
        state = f"revoked {t['revoked_at']}" if t["revoked_at"] else (
            f"last used {t['last_used_at'] or 'never'}")
        click.echo(f"{t['id']}  {t['name']}  {t['user']}  {t['prefix']}…  "
                   f"created {t['created_at']}  {state}")


@token_group.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (see `homerag token list`); it stops working at once."""
    from app.services.runtime import open_runtime
    from app.services.users import revoke_token

    with open_runtime() as rt:
        info = revoke_token(rt, token_id)
    click.echo(f"token {info['id']} ({info['name']}) of {info['user']} revoked")
