"""Importing famassign changes no global state of the process that imports it.

Checked in a fresh interpreter, before and after ``import famassign`` and every module of its
layers (its dependencies imported before the first look): the open file descriptors and where
0, 1 and 2 point, the root logger's handlers and level, the handlers of every logger
(famassign's own get only a NullHandler, so that its warnings never reach stderr through
Python's last-resort handler), signal handlers, the warning filters and the working directory.
Making the first HiGHS instance, which HiGHS marks with a banner on file descriptor 1, prints
nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = r"""
import json, logging, os, signal, sys, warnings

def state():
    fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    return {
        "fds": fds,
        "std": [os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)],
        "root": [type(h).__name__ for h in logging.getLogger().handlers],
        "root_level": logging.getLogger().level,
        "signals": {s.name: repr(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM)},
        "warnings": len(warnings.filters),
        "cwd": os.getcwd(),
    }

def loggers():
    named = logging.Logger.manager.loggerDict
    return {
        name: [type(h).__name__ for h in logger.handlers]
        for name, logger in named.items()
        if isinstance(logger, logging.Logger) and logger.handlers
    }

# The dependencies first: what they do on import (numpy's and scipy's warning filters) is theirs.
import numpy, pandas, scipy.sparse, scipy.special, scipy.optimize, pydantic, yaml, openpyxl
import highspy, ortools.sat.python.cp_model, ortools.graph.python.min_cost_flow
before = state()
import pkgutil, importlib
import famassign
for package in ("famassign.models", "famassign.solver", "famassign.scenarios"):
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        importlib.import_module(f"{package}.{info.name}")
after_import = state()
from famassign.solver.highs import quiet_highs
quiet_highs()
print(json.dumps({"before": before, "after": after_import, "loggers": loggers(),
                  "after_highs": state()}))
"""


def test_importing_famassign_changes_no_global_state(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 1, f"something was printed: {lines[:-1]}"  # the banner included
    seen = json.loads(lines[0])
    assert seen["after"] == seen["before"]
    assert seen["after_highs"] == seen["before"]
    # Only NullHandlers anywhere (a dependency may give its own logger one, as famassign does).
    assert seen["loggers"]["famassign"] == ["NullHandler"]
    assert {h for handlers in seen["loggers"].values() for h in handlers} == {"NullHandler"}
    assert done.stderr == ""
