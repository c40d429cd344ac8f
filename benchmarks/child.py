"""Run one benchmark measurement in a fresh process (spawn), with a wall-clock limit."""

from __future__ import annotations

import importlib
import multiprocessing as mp
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]


def in_child(
    func: Callable[..., Row], *args: Any, module: str | None = None, timeout: float | None = None
) -> Row:
    """Run `func(*args)` in a fresh process and return its row.

    `module` is the importable name of `func`'s module when it runs as ``__main__`` (a spawned
    child cannot import it by that name). A child that has not returned after `timeout` seconds
    is terminated and reported as such (HiGHS does not always honour its time limit on the
    largest models): status "killed after N s", `timed_out` and `seconds` set.
    """
    importable = getattr(importlib.import_module(module or func.__module__), func.__name__)
    with mp.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        pending = pool.apply_async(importable, args)
        try:
            row: Row = pending.get(timeout)
        except mp.TimeoutError:
            pool.terminate()
            limit = timeout or 0.0
            return {"status": f"killed after {limit:.0f} s", "timed_out": True, "seconds": limit}
    return row
