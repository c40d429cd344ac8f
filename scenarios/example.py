"""Where the bundled example program lives, installed or not."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

EXAMPLE_NAME = "springfield"


def example_path(name: str = EXAMPLE_NAME) -> Path:
    """The folder of a bundled example scenario (default: Springfield), as a filesystem path.

    Raises FileNotFoundError when no bundled example has that name.
    """
    resource = files("famassign.scenarios") / "examples" / name
    if not resource.is_dir():
        raise FileNotFoundError(f"no bundled example named {name!r}")
    # package data inside a regular install is already a directory on disk
    with as_file(resource) as path:
        return Path(path)


__all__ = ["EXAMPLE_NAME", "example_path"]
