"""`famassign users add|list|disable`: the people (and API clients) who sign in to
``famassign serve`` as themselves, kept in the server's store (its workspace's database, or
``--database``).

``users add NAME --role ROLE [--staff-id ID]`` makes a user and prints their API token once, as
the last line of the output (with a sign-in link for the page before it); the store keeps only
the token's SHA-256. An advocate is tied to a staff member (``--staff-id``, required). ``users
disable NAME`` stops the user's token and sessions at once. The admin is not a user: it is the
server's own ``--token``.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from famassign.commands.common import SERVER_MODULES, UsageError, guarded, require_server_extra

app = typer.Typer(
    help="People and API clients who sign in to famassign serve as themselves.",
    no_args_is_help=True,
)

WORKSPACE_OPTION = typer.Option(
    None,
    "--workspace",
    help="The server's workspace (default: $FAMASSIGN_WORKSPACE or ~/.local/share/famassign).",
)
DATABASE_OPTION = typer.Option(
    None,
    "--database",
    help="The server's database URL, when it is not the workspace's SQLite "
    "(default: $FAMASSIGN_DATABASE_URL).",
)


def _store_url(workspace: Path | None, database: str | None) -> str:
    """The URL of the store ``famassign serve`` would open with these options."""
    from famassign.server.settings import DATABASE_ENV, Settings, default_workspace

    folder = (workspace or default_workspace()).expanduser().absolute()
    url = database or os.environ.get(DATABASE_ENV) or None
    if url is None and not folder.is_dir():
        raise UsageError(f"--workspace {folder} is not a folder (start famassign serve once)")
    return Settings(workspace=folder, token="-" * 16, database_url=url).store_url


@app.command("add")
@guarded
def add(
    name: str = typer.Argument(
        ..., help="The person's (or client's) name, as the audit log shows it."
    ),
    role: str = typer.Option(..., "--role", help="manager, advocate, viewer or client."),
    staff_id: str | None = typer.Option(
        None, "--staff-id", help="An advocate's staff member (their caseload)."
    ),
    url: str = typer.Option(
        "http://127.0.0.1:8765/", "--url", help="The server's address, for the sign-in link."
    ),
    workspace: Path | None = WORKSPACE_OPTION,
    database: str | None = DATABASE_OPTION,
) -> int:
    """Add a user; print their API token once, as the last line (only its hash is kept)."""
    require_server_extra("famassign users", SERVER_MODULES)
    from famassign.server.auth import new_user_token, token_hash
    from famassign.server.roles import ADVOCATE, CLIENT, USER_ROLES
    from famassign.store import ConflictError, Store

    name = name.strip()
    if not name or len(name) > 200:
        raise UsageError("NAME must be 1 to 200 characters")
    if role not in USER_ROLES:
        raise UsageError(f"--role must be one of {', '.join(USER_ROLES)}")
    if role == ADVOCATE and not staff_id:
        raise UsageError("an advocate is tied to a staff member: give --staff-id")
    if role != ADVOCATE and staff_id:
        raise UsageError("--staff-id is for advocates only")
    token = new_user_token()
    store = Store(_store_url(workspace, database))
    try:
        user = store.create_user(name, role=role, staff_id=staff_id, token_hash=token_hash(token))
    except ConflictError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    typer.echo(f"added {user.name} ({user.role}{', staff ' + staff_id if staff_id else ''})")
    if role != CLIENT:
        typer.echo(f"sign-in link for the page: {url.rstrip('/')}/?token={token}")
    typer.echo("API token (shown once; send it as 'Authorization: Bearer TOKEN'):")
    typer.echo(token)
    return 0


@app.command("list")
@guarded
def list_users(
    workspace: Path | None = WORKSPACE_OPTION, database: str | None = DATABASE_OPTION
) -> int:
    """List the users: name, role, staff id, active or disabled."""
    require_server_extra("famassign users", SERVER_MODULES)
    from famassign.store import Store

    store = Store(_store_url(workspace, database))
    try:
        for user in store.list_users():
            state = "active" if user.active else f"disabled {user.disabled_at:%Y-%m-%d}"
            typer.echo(f"{user.name}\t{user.role}\t{user.staff_id or '-'}\t{state}")
    finally:
        store.close()
    return 0


@app.command("disable")
@guarded
def disable(
    name: str = typer.Argument(..., help="The user's name."),
    workspace: Path | None = WORKSPACE_OPTION,
    database: str | None = DATABASE_OPTION,
) -> int:
    """Disable a user: their token and sessions stop working at once."""
    require_server_extra("famassign users", SERVER_MODULES)
    from famassign.store import NotFoundError, Store

    store = Store(_store_url(workspace, database))
    try:
        user = store.disable_user(name)
    except NotFoundError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()
    typer.echo(f"disabled {user.name}")
    return 0


__all__ = ["add", "app", "disable", "list_users"]
