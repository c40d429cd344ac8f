"""HiGHS instances that never print.

HiGHS writes a banner straight to file descriptor 1 (below Python's ``sys.stdout``) when the
process makes its first instance; library code never prints. :func:`quiet_highs` makes that first
instance with the descriptor pointed at the null device for the duration of the constructor
only (under a lock, on first use, never at import), and every instance with ``output_flag`` off.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import highspy

_first_made = False
_lock = threading.Lock()


@contextmanager
def _standard_output_silenced() -> Iterator[None]:
    """File descriptor 1 points at the null device inside the block (when there is one)."""
    if sys.stdout is not None:
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output at all: nothing to protect
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def quiet_highs() -> Any:
    """A new ``highspy.Highs`` with its output off; nothing is printed, the first time included."""
    global _first_made
    if not _first_made:
        with _lock:
            if not _first_made:
                with _standard_output_silenced():
                    highs = highspy.Highs()  # type: ignore[no-untyped-call]
                _first_made = True
                highs.setOptionValue("output_flag", False)
                return highs
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    return highs
