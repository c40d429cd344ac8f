"""Jobs beside the server: worker processes under a budget, never the event loop.

:class:`JobRunner` owns two sets of worker processes (``spawn`` start method: no threads of the
server are forked): ``settings.job_processes`` for plans and comparisons, and
``settings.check_processes`` for the short computations a request waits for (the check of an
upload, recommend, staffing). Each worker is a process of its own (:class:`Worker`) that runs one
thing at a time, so when a worker ends, the input that ended it is known.

- **Budget**: every worker runs under an address-space limit (``settings.worker_memory_bytes``,
  ``RLIMIT_AS``) and each computation under a time limit (``check_timeout_s``,
  ``request_timeout_s``, ``job_timeout_s``). A worker over either is ended and replaced, and the
  computation raises :class:`WorkerLimit`: never retried, the input is the cause.
- **Queue**: a job waits until a worker is free (``settings.max_queued_jobs`` at most, then
  :class:`QueueFull`); its state, progress, plan and failure go to the store.
- **Cancellation**: a queued job is dropped when its turn comes; a running one gets its cancel
  file and its worker stops the search at once, writing nothing.
- **Crashes**: an exception in a job marks it failed with a one-line message; a worker that ends
  (killed, over a limit) marks only its own job failed and is replaced; the server stays up.
- **Restarts**: :meth:`JobRunner.start` marks every job an earlier server left queued or running
  failed (interrupted) and removes its unfinished files before taking new work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from famassign.models.errors import FamassignError
from famassign.server import worker
from famassign.server.job_options import CompareJob, SweepJob
from famassign.server.settings import Settings
from famassign.store import INTERRUPTED, Store

log = logging.getLogger(__name__)

T = TypeVar("T")


class QueueFull(FamassignError):
    """Too many jobs are waiting already (HTTP 429)."""


class WorkerLimit(FamassignError):
    """A computation ended its worker: it went over the worker's memory or time limit, or the
    worker was killed while running it. The input is the cause: it is never retried."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0][:300] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"


class Worker:
    """One worker process (a single-process pool) that runs one computation at a time.

    Parameters
    ----------
    settings
        Its memory limit (``worker_memory_bytes``) and the server's log level come from here.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.init_worker,
            initargs=(
                os.getpid(),
                logging.getLogger("famassign").getEffectiveLevel(),
                settings.worker_memory_bytes,
            ),
        )
        self._ended = False
        self._warm = self._pool.submit(worker.warm_up)

    def _processes(self) -> list[multiprocessing.process.BaseProcess]:
        return list((getattr(self._pool, "_processes", None) or {}).values())

    @property
    def usable(self) -> bool:
        """False once it was ended or its process ended (a worker killed while idle is not
        given work)."""
        return (
            not self._ended
            and not getattr(self._pool, "_broken", False)
            and all(p.is_alive() for p in self._processes())
        )

    def end(self) -> None:
        """Kill its process (a computation running in it stops at once); it is not usable
        after."""
        self._ended = True
        for process in self._processes():
            with contextlib.suppress(Exception):
                process.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        """`fn(*args)` in this worker, at most `timeout` seconds once the worker has started
        (a fresh worker's start, importing the solver stack, does not count).

        Raises
        ------
        WorkerLimit
            When the process ended while running it (killed, or over the memory limit: an
            allocation failed in native code), when it raised MemoryError, or when it took
            longer than `timeout` (the process is then killed). The worker is not usable after.
        """
        loop = asyncio.get_running_loop()
        memory = _mib(self.settings.worker_memory_bytes)
        with contextlib.suppress(Exception):  # a worker that failed to start fails the call below
            await asyncio.wrap_future(self._warm)
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn, *args), timeout)
        except TimeoutError:
            self.end()
            raise WorkerLimit(f"it took longer than the time limit of {timeout:g} s") from None
        except MemoryError:
            self.end()
            raise WorkerLimit(f"it needed more than the memory limit of {memory}") from None
        except BrokenProcessPool:
            codes = [p.exitcode for p in self._processes()]
            self.end()
            raise WorkerLimit(
                f"its worker process ended (exit code {codes[0] if codes else None}): over the "
                f"memory limit of {memory}, or killed"
            ) from None
        except asyncio.CancelledError:
            self.end()  # its answer is no longer awaited: stop the computation
            raise


class Workers:
    """`size` :class:`Worker` processes; :meth:`take` lends an idle one and replaces it when it
    ended (over a limit, killed)."""

    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._all: set[Worker] = set()
        for _ in range(max(1, size)):
            self._add(Worker(settings))

    def _add(self, item: Worker) -> None:
        self._all.add(item)
        self._idle.put_nowait(item)

    @contextlib.asynccontextmanager
    async def take(self) -> AsyncIterator[Worker]:
        """An idle worker, waiting for one; given back (or replaced, when it ended) after."""
        item = await self._idle.get()
        if not item.usable:  # ended while idle (killed from outside): replace it first
            self._all.discard(item)
            item.end()
            item = Worker(self.settings)
            self._all.add(item)
        try:
            yield item
        finally:
            if item.usable:
                self._idle.put_nowait(item)
            else:
                log.warning("a worker process ended; starting a fresh one")
                self._all.discard(item)
                item.end()
                self._add(Worker(self.settings))

    def end(self) -> None:
        """Kill every worker (the server stops)."""
        for item in self._all:
            item.end()
        self._all.clear()


class JobRunner:
    """Runs jobs in worker processes and keeps their record in the store.

    Parameters
    ----------
    settings
        Workspace, worker counts, limits and queue limit.
    store
        Where jobs and plans are recorded.
    """

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self._job_workers: Workers | None = None
        self._call_workers: Workers | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._queued: set[str] = set()
        self._running: set[str] = set()

    async def start(self) -> list[str]:
        """Mark jobs of an earlier server failed (interrupted), start the workers; return those
        job ids."""
        self._loop = asyncio.get_running_loop()
        interrupted = await asyncio.to_thread(self.store.interrupt_running_jobs)
        for job_id in interrupted:
            log.warning("job %s was interrupted by a server stop; marked failed", job_id)
        await asyncio.to_thread(self._clean_workspace)
        self._job_workers = Workers(self.settings, self.settings.job_processes)
        self._call_workers = Workers(self.settings, self.settings.check_processes)
        return interrupted

    def _clean_workspace(self) -> None:
        """Remove what a stopped or killed server left half-done: job control folders, the
        exports of updates that did not end (family data), unfinished uploads, and plan folders
        (complete or not) that no plan record names."""
        workspace = self.settings.workspace
        shutil.rmtree(workspace / "jobs", ignore_errors=True)
        shutil.rmtree(workspace / "exports", ignore_errors=True)
        for upload in (workspace / "scenarios").glob(".upload-*"):
            shutil.rmtree(upload, ignore_errors=True)
        plans = workspace / "plans"
        if plans.is_dir():
            recorded = {Path(p.folder).name for p in self.store.list_plans()}
            for entry in plans.iterdir():
                if entry.is_dir() and not entry.is_symlink() and entry.name not in recorded:
                    shutil.rmtree(entry, ignore_errors=True)
                    log.info("removed %s left by an unfinished job", entry.name)

    async def stop(self) -> None:
        """Stop the workers (running jobs end; they are marked failed, interrupted)."""
        for task in list(self._tasks.values()):
            task.cancel()
        for workers in (self._job_workers, self._call_workers):
            if workers is not None:
                workers.end()
        unfinished = self._queued | self._running
        for job_id in unfinished:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.store.finish_job, job_id, "failed", message=INTERRUPTED
                )
        self._job_workers = self._call_workers = None

    # ------------------------------------------------------------------ queries

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return len(self._queued)

    @property
    def running(self) -> int:
        """Jobs being computed."""
        return len(self._running)

    def control_dir(self, job_id: str) -> Path:
        """The folder of a job's progress and cancel files."""
        return self.settings.workspace / "jobs" / job_id

    def progress(self, job_id: str) -> dict[str, Any] | None:
        """The last progress a running job reported (stage, done, total), or None."""
        return worker.read_progress(self.control_dir(job_id))

    # ------------------------------------------------------------------ jobs

    def submit(self, spec: worker.JobSpec) -> None:
        """Queue a job already recorded in the store (thread-safe).

        Raises
        ------
        QueueFull
            When :attr:`queued` already reaches the limit.
        RuntimeError
            When the runner was not started.
        """
        if self._loop is None:
            raise RuntimeError("the job runner is not started")
        if len(self._queued) >= self.settings.max_queued_jobs:
            raise QueueFull(
                f"{len(self._queued)} jobs are waiting already (the limit is "
                f"{self.settings.max_queued_jobs}); try again when some have finished"
            )
        self._queued.add(spec.job_id)
        self._loop.call_soon_threadsafe(self._spawn, spec)

    def _spawn(self, spec: worker.JobSpec) -> None:
        task = asyncio.create_task(self._run(spec), name=f"job-{spec.job_id}")
        self._tasks[spec.job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(spec.job_id, None))

    def cancel(self, job_id: str) -> None:
        """Drop a queued job, or ask a running job's worker to stop (thread-safe; the store's
        record is changed by the caller)."""
        if job_id in self._queued and self._loop is not None:
            self._queued.discard(job_id)
            self._loop.call_soon_threadsafe(self._drop, job_id)
            return
        control = self.control_dir(job_id)
        with contextlib.suppress(OSError):
            control.mkdir(parents=True, exist_ok=True)
            (control / worker.CANCEL_FILE).touch()

    def _drop(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None and job_id not in self._running:
            task.cancel()

    async def _run(self, spec: worker.JobSpec) -> None:
        assert self._job_workers is not None
        try:
            async with self._job_workers.take() as job_worker:
                self._queued.discard(spec.job_id)
                job = await asyncio.to_thread(self.store.start_job, spec.job_id)
                if job.state != "running":  # cancelled while queued
                    return
                self._running.add(spec.job_id)
                try:
                    await self._compute(job_worker, spec)
                finally:
                    self._running.discard(spec.job_id)
        finally:
            self._queued.discard(spec.job_id)
            shutil.rmtree(self.control_dir(spec.job_id), ignore_errors=True)
            if spec.export_dir is not None:  # an update's export: family data, not kept
                shutil.rmtree(spec.export_dir, ignore_errors=True)

    async def _compute(self, job_worker: Worker, spec: worker.JobSpec) -> None:
        try:
            outcome = await job_worker.run(
                worker.run_job, spec, timeout=self.settings.job_timeout_s
            )
        except worker.JobCancelled:
            shutil.rmtree(spec.plan_dir, ignore_errors=True)
            log.info("job %s stopped after cancellation", spec.job_id)
            return
        except WorkerLimit as exc:
            log.error("job %s ended its worker: %s", spec.job_id, exc)
            shutil.rmtree(spec.plan_dir, ignore_errors=True)
            message = f"the job could not be computed within the limits: {exc}"
            await asyncio.to_thread(self.store.finish_job, spec.job_id, "failed", message=message)
            return
        except Exception as exc:
            log.warning("job %s failed: %s", spec.job_id, type(exc).__name__)
            # the job's message is an answer: it names no path of the workspace
            message = worker.without_folder(_one_line(exc), self.settings.workspace.resolve())
            await asyncio.to_thread(self.store.finish_job, spec.job_id, "failed", message=message)
            return
        await asyncio.to_thread(self._record, spec, outcome)

    def _record(self, spec: worker.JobSpec, outcome: dict[str, Any]) -> None:
        last = self.progress(spec.job_id)
        if last is not None:
            self.store.update_progress(
                spec.job_id,
                str(last.get("stage")),
                int(last.get("done", 0)),
                int(last.get("total", 0)),
            )
        if self.store.get_job(spec.job_id).state != "running":  # cancelled at the last moment
            shutil.rmtree(spec.plan_dir, ignore_errors=True)
            return
        if isinstance(spec.options, CompareJob | SweepJob):  # an answer, not a plan
            self.store.finish_job(spec.job_id, "done", result=outcome["result"])
            log.info("job %s done (%s)", spec.job_id, spec.kind)
            return
        plan_id = Path(spec.plan_dir).name
        job = self.store.get_job(spec.job_id)
        version = spec.options.version
        self.store.record_plan(
            plan_id=plan_id,
            scenario_id=job.scenario_id,
            job_id=job.id,
            kind=spec.kind,
            folder=str(Path(spec.plan_dir).relative_to(self.settings.workspace)),
            files=outcome["files"],
            options=spec.options.model_dump(mode="json"),
            solver_version=outcome["version"],
            seed=outcome["seed"],
            runtime_s=outcome["runtime_s"],
            status=outcome["status"],
            summary=outcome["summary"],
            details=outcome["details"],
            parent_id=version.parent_plan_id if version else None,
            label=version.label if version else None,
        )
        final = self.store.finish_job(spec.job_id, "done", plan_id=plan_id)
        if final.state != "done":  # cancelled between the two writes: keep nothing
            self.store.delete_plan(plan_id, by="famassign", reason="job cancelled")
            shutil.rmtree(spec.plan_dir, ignore_errors=True)
        log.info("job %s done: plan %s", spec.job_id, plan_id)

    # ------------------------------------------------------------------ short calls

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run `fn(*args)` in a short-calls worker and wait for it (from a request thread).

        At most `timeout` seconds (default ``settings.request_timeout_s``); `fn`'s own
        exceptions pass.

        Raises
        ------
        WorkerLimit
            When the computation went over the memory or time limit, or its worker was killed
            (the worker is replaced; the computation is not tried again).
        """
        limit = self.settings.request_timeout_s if timeout is None else timeout
        if self._loop is None or self._call_workers is None:
            raise RuntimeError("the job runner is not started")
        workers = self._call_workers

        async def run() -> T:
            async with workers.take() as call_worker:
                return await call_worker.run(fn, *args, timeout=limit)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()


__all__ = ["JobRunner", "QueueFull", "Worker", "WorkerLimit", "Workers"]
