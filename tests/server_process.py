"""The server's test helpers: they live in benchmarks/server_process.py (the load benchmark
starts its server the same way); this module imports them from the repository."""

from __future__ import annotations

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

__all__ = [
    "TOKEN",
    "ServerProcess",
    "check_plan",
    "free_port",
    "running_server",
    "start_server",
    "upload_files",
    "upload_folder",
    "wait_for_job",
]
