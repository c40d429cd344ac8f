"""The server's test helpers: most live in benchmarks/server_process.py (the load benchmark
starts its server the same way); this module imports them from the repository, and adds what
only the page's tests need."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is not an installed package; import it from the repo
    sys.path.insert(0, str(ROOT))

from benchmarks.server_process import (  # noqa: E402
    TOKEN,
    ServerProcess,
    check_plan,
    free_port,
    running_server,
    start_server,
    upload_files,
    upload_folder,
    wait_for_job,
)

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page of the planner's page carries in its forms.

    Raises AssertionError when the page has none (no form, or not signed in with a session).
    """
    found = _CSRF.search(html)
    assert found is not None, html[:2000]
    return found.group(1)


__all__ = [
    "TOKEN",
    "ServerProcess",
    "check_plan",
    "csrf_of",
    "free_port",
    "running_server",
    "start_server",
    "upload_files",
    "upload_folder",
    "wait_for_job",
]
