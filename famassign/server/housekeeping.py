"""Housekeeping of a running server: what expires (page sessions, staged imports) is deleted at
start and then periodically, in a worker thread, while the server runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress

from fastapi.concurrency import run_in_threadpool

from famassign.server.settings import Settings

log = logging.getLogger(__name__)

LONGEST_PAUSE_S = 300.0
"""Housekeeping runs at least this often."""
SHORTEST_PAUSE_S = 1.0
"""And at most once per this many seconds."""

Chore = Callable[[], object]
"""A blocking clean-up (it may return a count)."""


def pause_s(settings: Settings) -> float:
    """Seconds between two rounds: half the shortest lifetime the server deletes after (idle
    session, staged import), from :data:`SHORTEST_PAUSE_S` to :data:`LONGEST_PAUSE_S`."""
    shortest = min(settings.session_idle_s, settings.session_max_s, settings.import_ttl_s)
    return min(LONGEST_PAUSE_S, max(SHORTEST_PAUSE_S, shortest / 2))


async def _round(chores: Sequence[Chore]) -> None:
    """Run each chore in a worker thread; a chore that fails is logged, the others run."""
    for chore in chores:
        try:
            await run_in_threadpool(chore)
        except Exception:
            log.exception("housekeeping failed")


async def _every(chores: Sequence[Chore], pause: float) -> None:
    while True:
        await asyncio.sleep(pause)
        await _round(chores)


@asynccontextmanager
async def housekeeping(chores: Sequence[Chore], pause: float) -> AsyncIterator[None]:
    """Run `chores` once now, then every `pause` seconds until the block ends."""
    await _round(chores)
    task = asyncio.create_task(_every(chores, pause))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


__all__ = ["LONGEST_PAUSE_S", "SHORTEST_PAUSE_S", "Chore", "housekeeping", "pause_s"]
