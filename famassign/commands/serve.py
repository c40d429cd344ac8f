"""`famassign serve`: the HTTP API (and the planner's page) with uvicorn."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from famassign.commands.common import (
    SERVER_MODULES,
    UsageError,
    guarded,
    require_server_extra,
)
from famassign.models.files import ReadLimits

log = logging.getLogger("famassign.server")


def _log_config() -> None:
    """Server logs (famassign.* and uvicorn.error) to stderr at INFO, other libraries' at the
    level the command line set, all one line per record (control characters a request carried
    escaped); uvicorn's own access log stays off (famassign's access log has no query
    strings)."""
    from famassign.server.logs import OneLineFormatter

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._famassign = True  # type: ignore[attr-defined]
    for name in ("famassign", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
        logger.propagate = False
    logging.getLogger().handlers = [handler]


def _read_url(path: Path) -> str:
    """The database URL that ``--database-file`` names: the file's text, stripped."""
    try:
        url = path.expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--database-file {path}: cannot read it ({type(exc).__name__})") from None
    if not url:
        raise UsageError(f"--database-file {path} is empty: write the database URL in it")
    return url


@guarded
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback)."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port to listen on."),
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        help="Folder for the database, uploads and plans (default: $FAMASSIGN_WORKSPACE or "
        "~/.local/share/famassign).",
    ),
    database: str | None = typer.Option(
        None,
        "--database",
        help="Database URL (default: $FAMASSIGN_DATABASE_URL, else SQLite in the workspace); "
        "e.g. postgresql://user@host/db. A URL with a password is better given in "
        "$FAMASSIGN_DATABASE_URL or --database-file: a command line is visible to every user.",
    ),
    database_file: Path | None = typer.Option(
        None,
        "--database-file",
        help="A file holding the database URL, instead of --database.",
    ),
    token: str | None = typer.Option(
        None, "--token", help="Access token (default: $FAMASSIGN_TOKEN, else a random one)."
    ),
    max_upload_mb: float = typer.Option(50.0, "--max-upload-mb", min=0.001, help="Upload limit."),
    max_queued_jobs: int = typer.Option(64, "--max-queued-jobs", min=1, help="Queue limit."),
    job_processes: int | None = typer.Option(
        None, "--job-processes", min=1, help="Worker processes (default: the cores)."
    ),
    session_idle_minutes: float = typer.Option(
        30.0,
        "--session-idle-minutes",
        min=0.01,
        help="A browser's session ends after this long unused.",
    ),
    session_max_hours: float = typer.Option(
        12.0,
        "--session-max-hours",
        min=0.001,
        help="A browser's session ends this long after its sign-in.",
    ),
    import_hours: float = typer.Option(
        24.0,
        "--import-hours",
        min=0.0001,
        help="Uploads waiting for their import mapping are deleted this long after upload.",
    ),
    check_processes: int = typer.Option(
        2, "--check-processes", min=1, help="Worker processes for upload checks and answers."
    ),
    worker_memory_mb: int = typer.Option(
        4096,
        "--worker-memory-mb",
        min=256,
        help="Address space each worker process may use (MiB); over it, the input answers 422.",
    ),
    check_timeout: float = typer.Option(
        600.0, "--check-timeout", min=1.0, help="Seconds an upload's check may take."
    ),
    request_timeout: float = typer.Option(
        60.0, "--request-timeout", min=1.0, help="Seconds recommend and staffing may take."
    ),
    job_timeout: float = typer.Option(
        5400.0, "--job-timeout", min=1.0, help="Seconds a plan or comparison job may run."
    ),
) -> int:
    """Serve the HTTP API under /api/v1 (token needed) and the planner's page at /."""
    require_server_extra("famassign serve", SERVER_MODULES)
    import uvicorn

    from famassign.server.app import create_app
    from famassign.server.settings import (
        DATABASE_ENV,
        TOKEN_ENV,
        Settings,
        default_workspace,
        is_loopback,
        new_token,
    )

    given = token or os.environ.get(TOKEN_ENV) or None
    if given is None and not is_loopback(host):
        raise UsageError(
            f"--host {host} is not a loopback address: set a token with --token or "
            f"{TOKEN_ENV} before serving other machines"
        )
    if given is not None and len(given) < 16:
        raise UsageError("--token must be at least 16 characters")
    if database is not None and database_file is not None:
        raise UsageError("give the database URL with --database or --database-file, not both")
    if database_file is not None:
        database = _read_url(database_file)
    database = database or os.environ.get(DATABASE_ENV) or None
    if database is not None and not database.startswith(("sqlite:", "postgresql", "postgres:")):
        raise UsageError(
            f"the database URL (--database, --database-file or {DATABASE_ENV}) must be a "
            "sqlite:/// or postgresql:// URL"
        )
    ReadLimits.from_env()  # a bad FAMASSIGN_MAX_* stops the start, not every upload
    extra = {} if job_processes is None else {"job_processes": job_processes}
    settings = Settings(
        workspace=(workspace or default_workspace()).expanduser().absolute(),
        token=given or new_token(),
        database_url=database,
        token_generated=given is None,
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        max_queued_jobs=max_queued_jobs,
        session_idle_s=session_idle_minutes * 60,
        session_max_s=session_max_hours * 3600,
        import_ttl_s=import_hours * 3600,
        check_processes=check_processes,
        worker_memory_bytes=worker_memory_mb * 1024 * 1024,
        check_timeout_s=check_timeout,
        request_timeout_s=request_timeout,
        job_timeout_s=job_timeout,
        **extra,
    )
    _log_config()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    if settings.token_generated:
        typer.echo(
            f"famassign serve: open {url}?token={settings.token}\n"
            f"  API: {url}api/v1 with 'Authorization: Bearer {settings.token}'",
            err=True,
        )
    else:
        typer.echo(f"famassign serve: {url} (token from --token or {TOKEN_ENV})", err=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    return 0
