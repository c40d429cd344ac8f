"""Where a sweep's tasks run: in this process, on a local Dask cluster, or on an existing one.

:func:`runner_for` picks the :class:`Runner`:

- ``scheduler=None`` (default): the fastest measured on a machine of this size
  (:func:`default_scheduler`): this process on a machine of 2 cores or fewer, where a local Dask
  cluster's start-up and transfers cost more than the second core gains (docs/sweep.md); a local
  Dask cluster of one worker process per core otherwise;
- ``scheduler="local"``: a local Dask cluster of worker processes on this machine;
- ``scheduler="tcp://host:8786"``: an existing Dask cluster (``dask scheduler`` / ``dask worker``,
  dask-jobqueue, Kubernetes); the workers need famassign installed;
- ``scheduler="inline"``: in this process, one task after another, without Dask.

A runner sends a payload once (:meth:`Runner.put`; on Dask it is scattered to the workers) and maps
a module-level task function over small items (:meth:`Runner.map`), results in the items' order.
Dask is an optional extra (``pip install 'famassign[sweep]'``), imported only here and only when
a runner needs it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from famassign.models.errors import FamassignError

INLINE = "inline"
"""`scheduler` value that runs every task in this process, without Dask."""

LOCAL = "local"
"""`scheduler` value that starts a local Dask cluster of worker processes."""

SMALL_MACHINE_CORES = 2
"""At most this many usable cores, the default runner is this process (:func:`default_scheduler`).
"""


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def default_scheduler(cores: int | None = None) -> str:
    """The runner a sweep uses when none is named: :data:`INLINE` on a machine of
    :data:`SMALL_MACHINE_CORES` usable cores or fewer (default :func:`usable_cores`), else
    :data:`LOCAL`."""
    return INLINE if (cores or usable_cores()) <= SMALL_MACHINE_CORES else LOCAL


log = logging.getLogger(__name__)

R = TypeVar("R")


class SweepDependencyError(FamassignError, ImportError):
    """Dask is not installed; the message says how to install it."""


class Runner(Protocol):
    """Where tasks run: :meth:`put` sends a payload once, :meth:`map` runs tasks in order."""

    def put(self, payload: Any) -> Any:
        """Send `payload` to wherever tasks run; return a handle for :meth:`map`."""

    def map(
        self,
        fn: Callable[[Any, Any], R],
        items: Sequence[Any],
        handle: Any,
        progress: Callable[[int, int], None],
    ) -> list[R]:
        """`fn(item, payload)` for every item; results in the order of `items`."""


class InlineRunner:
    """Every task in this process, one after another (no Dask)."""

    def put(self, payload: Any) -> Any:
        """The payload itself."""
        return payload

    def map(
        self,
        fn: Callable[[Any, Any], R],
        items: Sequence[Any],
        handle: Any,
        progress: Callable[[int, int], None],
    ) -> list[R]:
        """Run the tasks in order."""
        results = []
        for done, item in enumerate(items, start=1):
            results.append(fn(item, handle))
            progress(done, len(items))
        return results


class DaskRunner:
    """Tasks on a Dask cluster through `client` (a ``distributed.Client``)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def put(self, payload: Any) -> Any:
        """Scatter the payload to every worker once (a new worker fetches it from a peer)."""
        [handle] = self.client.scatter([payload], broadcast=True, hash=False)
        return handle

    def map(
        self,
        fn: Callable[[Any, Any], R],
        items: Sequence[Any],
        handle: Any,
        progress: Callable[[int, int], None],
    ) -> list[R]:
        """Submit one task per item; a task lost with its worker is run again by the scheduler."""
        from distributed import as_completed

        prefix = f"famassign-{fn.__name__.strip('_')}-{uuid.uuid4().hex[:12]}"
        futures = self.client.map(
            fn, items, payload=handle, key=[f"{prefix}-{i}" for i in range(len(items))], pure=False
        )
        finished = as_completed(futures)  # type: ignore[no-untyped-call]
        for done, _ in enumerate(finished, start=1):
            progress(done, len(items))
        results: list[R] = self.client.gather(futures)
        return results


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own INFO lines (and warnings while workers shut down) only with --verbose/--debug."""
    dask_log = logging.getLogger("distributed")
    level = dask_log.level
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        dask_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        dask_log.setLevel(level)


@contextmanager
def runner_for(scheduler: str | None, workers: int | None) -> Iterator[Runner]:
    """The runner for `scheduler` (None: :func:`default_scheduler`; ``"local"``: a local cluster
    of `workers` processes, default the usable cores; ``"inline"``: this process; else the address
    of a Dask scheduler).

    Raises :class:`SweepDependencyError` when Dask is needed and not installed.
    """
    if scheduler is None:
        scheduler = default_scheduler()
        log.info("sweep: runner %s (%d usable cores)", scheduler, usable_cores())
    if scheduler == INLINE:
        yield InlineRunner()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise SweepDependencyError(
            "famassign sweep runs on Dask, which is not installed: "
            "pip install 'famassign[sweep]' (or use --scheduler inline to run in this process)"
        ) from exc
    with _quiet_dask():
        if scheduler == LOCAL:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers or usable_cores(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            try:
                with Client(cluster) as client:  # type: ignore[no-untyped-call]
                    yield DaskRunner(client)
            finally:
                cluster.close()
        else:
            with Client(scheduler, timeout="30s") as client:  # type: ignore[no-untyped-call]
                yield DaskRunner(client)


__all__ = [
    "INLINE",
    "LOCAL",
    "SMALL_MACHINE_CORES",
    "DaskRunner",
    "InlineRunner",
    "Runner",
    "SweepDependencyError",
    "default_scheduler",
    "runner_for",
    "usable_cores",
]
