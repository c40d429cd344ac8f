"""Settings of ``famassign serve``: where it keeps its data, who may call it, and its limits.

The **workspace** folder holds everything the server keeps on disk: ``famassign.db`` (the SQLite
store, unless a database URL is given), ``scenarios/<id>/`` (uploaded files), ``plans/<id>/``
(each plan's output files), ``jobs/<id>/`` (a running job's progress and cancel flag) and
``imports/<id>/`` (the page's export files waiting for their mapping, for ``import_ttl_s``). Its
default is ``$FAMASSIGN_WORKSPACE`` when set, otherwise ``$XDG_DATA_HOME/famassign`` (usually
``~/.local/share/famassign``).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Largest request body accepted (an upload of scenario files); larger answers 413."""
MAX_QUEUED_JOBS = 64
"""Most jobs waiting for a worker at once; one more answers 429."""
REQUEST_TIMEOUT_S = 60.0
"""Longest a request computing an answer in a worker (recommend, staffing) may take; then its
worker is ended and replaced, and the request answers 422."""
CHECK_TIMEOUT_S = 600.0
"""Longest the check of an uploaded scenario may take (the loader's read limits bound each file);
then its worker is ended and the upload answers 422."""
MAX_TIME_LIMIT_S = 3600.0
"""Largest time limit a plan may ask for (a server's ``max_time_limit_s`` may be lower)."""
JOB_TIMEOUT_S = MAX_TIME_LIMIT_S + 1800.0
"""Longest a job (plan, comparison) may run in its worker, reading and writing included; then
its worker is ended and replaced, and the job fails."""
WORKER_MEMORY_BYTES = 4 * 1024**3
"""Address space each worker process may use (``RLIMIT_AS``): a warmed worker holds about 0.5 GiB
of address space; a 30,000-family plan peaks near 300 MiB resident and the largest scenario
allowed near 800 MiB (benchmarks/RESULTS.md); with a worker per core and two for checks, 4 GiB
each keeps a 4-core 24 GB machine safe."""
CHECK_PROCESSES = 2
"""Worker processes for the short computations a request waits for (upload checks, recommend,
staffing): one slow upload leaves the other for the next request."""
MAX_WORKERS = 64
"""Most solver threads a plan may ask for."""
SESSION_IDLE_S = 30 * 60.0
"""A browser's session ends after this long unused (the page's sign-in must be repeated)."""
SESSION_MAX_S = 12 * 3600.0
"""A browser's session ends this long after its sign-in, however busy."""
IMPORT_TTL_S = 24 * 3600.0
"""Export files waiting for their import mapping are deleted this long after their upload."""
TOKEN_ENV = "FAMASSIGN_TOKEN"
DATABASE_ENV = "FAMASSIGN_DATABASE_URL"
"""The database URL when ``--database`` and ``--database-file`` are not given."""
WORKSPACE_ENV = "FAMASSIGN_WORKSPACE"
DATABASE_FILE = "famassign.db"


def default_workspace() -> Path:
    """``$FAMASSIGN_WORKSPACE``, else ``$XDG_DATA_HOME/famassign`` (~/.local/share/famassign)."""
    explicit = os.environ.get(WORKSPACE_ENV)
    if explicit:
        return Path(explicit)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "famassign"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh random access token (48 hex digits)."""
    return secrets.token_hex(24)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start.

    Parameters
    ----------
    workspace
        Folder for the database, uploaded scenarios, plans and job files (created if missing).
    token
        The access token; every endpoint but ``/api/v1/health`` needs it.
    database_url
        SQLAlchemy URL of the store; None: ``sqlite:///<workspace>/famassign.db``.
    token_generated
        True when the token was made at start (it is then printed once with the URL).
    max_upload_bytes, max_queued_jobs, request_timeout_s, check_timeout_s, max_time_limit_s
        The limits (see the module constants).
    session_idle_s, session_max_s
        A page session's idle and absolute lifetime in seconds (:data:`SESSION_IDLE_S`,
        :data:`SESSION_MAX_S`).
    import_ttl_s
        How long staged export files wait for their mapping, in seconds (:data:`IMPORT_TTL_S`).
    job_timeout_s, worker_memory_bytes
        Each job's time limit and each worker's address-space limit (see the module constants).
    job_processes
        Worker processes solving jobs side by side (default: the cores available).
    check_processes
        Worker processes for checks, recommend and staffing (:data:`CHECK_PROCESSES`).
    solver_threads
        Solver threads per job (default: cores / job_processes, at least 1).
    """

    workspace: Path
    token: str
    database_url: str | None = None
    token_generated: bool = False
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    max_queued_jobs: int = MAX_QUEUED_JOBS
    request_timeout_s: float = REQUEST_TIMEOUT_S
    check_timeout_s: float = CHECK_TIMEOUT_S
    max_time_limit_s: float = MAX_TIME_LIMIT_S
    session_idle_s: float = SESSION_IDLE_S
    session_max_s: float = SESSION_MAX_S
    import_ttl_s: float = IMPORT_TTL_S
    job_timeout_s: float = JOB_TIMEOUT_S
    worker_memory_bytes: int = WORKER_MEMORY_BYTES
    job_processes: int = field(default_factory=_cores)
    check_processes: int = CHECK_PROCESSES
    solver_threads: int | None = None

    @property
    def store_url(self) -> str:
        """The database URL the store opens."""
        return self.database_url or f"sqlite:///{self.workspace.resolve() / DATABASE_FILE}"

    @property
    def threads_per_job(self) -> int:
        """Solver threads each job gets."""
        return self.solver_threads or max(1, _cores() // max(1, self.job_processes))


__all__ = [
    "CHECK_PROCESSES",
    "CHECK_TIMEOUT_S",
    "DATABASE_ENV",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "IMPORT_TTL_S",
    "JOB_TIMEOUT_S",
    "MAX_QUEUED_JOBS",
    "MAX_TIME_LIMIT_S",
    "MAX_UPLOAD_BYTES",
    "MAX_WORKERS",
    "REQUEST_TIMEOUT_S",
    "SESSION_IDLE_S",
    "SESSION_MAX_S",
    "TOKEN_ENV",
    "WORKER_MEMORY_BYTES",
    "WORKSPACE_ENV",
    "Settings",
    "default_workspace",
    "is_loopback",
    "new_token",
]
