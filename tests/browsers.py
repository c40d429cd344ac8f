"""Where the browser tests find Debian's Chromium and axe-core, and when they skip.

Chromium comes from Debian (``apt-get install -y chromium``; ``.ci/run`` installs it), or from
``$FAMASSIGN_CHROMIUM``. Without it the browser tests skip, each with the reason
``NO_CHROMIUM`` by name; under ``CI=true`` a missing browser fails them instead, so CI can
never pass without running them. axe-core is the copy the PyPI package ``axe-playwright-python``
ships (a dev dependency), or ``$FAMASSIGN_AXE_JS``.
"""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}
NO_CHROMIUM = "no Chromium (Debian: apt-get install -y chromium, or set FAMASSIGN_CHROMIUM)"


def _chromium() -> str | None:
    named = os.environ.get("FAMASSIGN_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return next(filter(None, (shutil.which(b) for b in ("chromium", "chromium-browser"))), None)


CHROMIUM = _chromium()
"""The Chromium executable, or None where the machine has none."""

needs_chromium = pytest.mark.skipif(CHROMIUM is None and not IN_CI, reason=NO_CHROMIUM)
"""Mark a browser test module: skipped by name without Chromium, except under CI=true."""


def chromium() -> str:
    """The Chromium executable; a failure (never a skip) when missing under CI=true."""
    if CHROMIUM is None:
        pytest.fail(f"CI=true but {NO_CHROMIUM}; .ci/run installs it when run as root")
    return CHROMIUM


AXE_JS = Path(
    os.environ.get("FAMASSIGN_AXE_JS", "")
    or str(files("axe_playwright_python").joinpath("axe.min.js"))
)
"""axe-core's script, injected into the page under test."""
