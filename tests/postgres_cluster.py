"""A PostgreSQL database for the store's tests.

``FAMASSIGN_TEST_POSTGRES_URL`` (e.g. ``postgresql://user:pw@127.0.0.1:5432/postgres``) when set;
otherwise a throwaway cluster started here with Debian's PostgreSQL server binaries
(``initdb`` + ``pg_ctl`` in :data:`PG_BIN`: ``$FAMASSIGN_TEST_PG_BIN`` or the newest
``/usr/lib/postgresql/*/bin``, on a free port in a temporary folder; run as the
``postgres`` user through ``runuser`` when the tests run as root, since PostgreSQL refuses to run
as root). Either way each test session gets a fresh database, dropped at the end.

When no PostgreSQL can be had the tests are skipped, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from server_process import free_port


def _pg_bin() -> Path:
    """``$FAMASSIGN_TEST_PG_BIN``, else the newest Debian server binaries (15 on this image)."""
    given = os.environ.get("FAMASSIGN_TEST_PG_BIN")
    if given:
        return Path(given)
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
URL_ENV = "FAMASSIGN_TEST_POSTGRES_URL"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI=true (the store must be tested on PostgreSQL there)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"no PostgreSQL: {reason}")


def _as_postgres_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root and runuser is missing")
    return [runuser, "-u", "postgres", "--"]


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a temporary PostgreSQL cluster; yield its URL; stop and remove it afterwards."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"{PG_BIN / 'initdb'} not found (apt-get install postgresql)")
    prefix = _as_postgres_user()
    root = Path(tempfile.mkdtemp(prefix="famassign-pg-", dir="/tmp"))
    os.chmod(root, 0o755)
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if prefix:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    log = root / "postgres.log"
    try:
        subprocess.run(
            [*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "famassign"],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *prefix,
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "120",
                "-o",
                f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            ],
            check=True,
            capture_output=True,
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {exc} {detail.decode()[-500:]}") from exc
    try:
        yield f"postgresql://famassign@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create a new database on the server at `server_url`; yield its URL; drop it afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"famassign_test_{uuid.uuid4().hex[:12]}"
    admin = make_url(server_url).set(drivername="postgresql")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL (see the module docstring); skips or fails when there is none."""
    given = os.environ.get(URL_ENV)
    if given:
        yield given
        return
    stack = ExitStack()
    try:
        url = stack.enter_context(throwaway_cluster())
    except RuntimeError as exc:
        unavailable(str(exc))
    with stack:
        yield url


@contextmanager
def database_on(server_url: str) -> Iterator[str]:
    """A fresh database on `server_url` (skips or fails when it cannot be created)."""
    import psycopg

    stack = ExitStack()
    try:
        url = stack.enter_context(fresh_database(server_url))
    except psycopg.Error as exc:
        unavailable(f"cannot create a database: {exc}")
    with stack:
        yield url
