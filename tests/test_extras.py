"""The core install plans without the server stack; what needs it says what to install.

Each command runs in a fresh interpreter in which the server extra's packages (FastAPI,
uvicorn, SQLAlchemy, ...) cannot be imported, as on a machine where only ``pip install
famassign`` was run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BLOCKED = ("fastapi", "uvicorn", "multipart", "sqlalchemy", "alembic", "jinja2", "psycopg")
RUN = f"""\
import importlib.abc
import sys


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None


sys.meta_path.insert(0, NotInstalled())
from famassign.cli import main

sys.argv = ["famassign", *sys.argv[1:]]
main()
"""


def _famassign(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["serve", "--port", "0"], "famassign serve"),
        (["history", "--store", "plans.db"], "--store"),
        (["users", "list", "--workspace", "."], "famassign users"),
    ],
)
def test_without_the_server_extra_a_command_says_what_to_install(
    args: list[str], what: str, tmp_path: Path
) -> None:
    done = _famassign(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{what} needs the server extra" in done.stderr
    assert "pip install 'famassign[server]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_without_the_server_extra_the_library_and_solve_work(tmp_path: Path) -> None:
    done = _famassign("demo", "--out", tmp_path / "demo", "--time-limit", "5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo" / "summary.json").is_file()
