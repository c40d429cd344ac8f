"""Jobs beside the server: a process pool sized to the cores, never the event loop.

:class:`JobRunner` owns two process pools (``spawn`` start method: no threads of the server are
forked): one of ``settings.job_processes`` workers for plans and comparisons, one single worker
for the short computations a request waits for (recommend, staffing). A job waits in a queue
until a worker is free (:data:`~famassign.server.settings.MAX_QUEUED_JOBS` at most, then
:class:`QueueFull`); its state, progress, plan and failure go to the store.

- **Cancellation**: a queued job is dropped when its turn comes; a running one gets its cancel
  file and its worker stops the search at once, writing nothing.
- **Crashes**: an exception in a job marks it failed with a one-line message; a worker process
  that dies (killed, out of memory) marks its job failed and the pool is rebuilt; the server stays
  up.
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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from famassign.models.errors import FamassignError
from famassign.server import worker
from famassign.server.job_options import CompareJob
from famassign.server.settings import Settings
from famassign.store import INTERRUPTED, Store

log = logging.getLogger(__name__)

T = TypeVar("T")

CRASHED = "the worker process ended unexpectedly (killed or out of memory); the server is fine"


class QueueFull(FamassignError):
    """Too many jobs are waiting already (HTTP 429)."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0][:300] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class JobRunner:
    """Runs jobs in worker processes and keeps their record in the store.

    Parameters
    ----------
    settings
        Workspace, pool size and queue limit.
    store
        Where jobs and plans are recorded.
    """

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._jobs_pool: ProcessPoolExecutor | None = None
        self._calls_pool: ProcessPoolExecutor | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._queued: set[str] = set()
        self._running: set[str] = set()

    # ------------------------------------------------------------------ pools

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.init_worker,
            initargs=(os.getpid(), logging.getLogger("famassign").getEffectiveLevel()),
        )
        for _ in range(workers):
            pool.submit(worker.warm_up)
        return pool

    async def start(self) -> list[str]:
        """Mark jobs of an earlier server failed (interrupted), start the pools; return those
        job ids."""
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(max(1, self.settings.job_processes))
        interrupted = await asyncio.to_thread(self.store.interrupt_running_jobs)
        for job_id in interrupted:
            log.warning("job %s was interrupted by a server stop; marked failed", job_id)
        await asyncio.to_thread(self._clean_workspace)
        self._jobs_pool = self._pool(max(1, self.settings.job_processes))
        self._calls_pool = self._pool(1)
        return interrupted

    def _clean_workspace(self) -> None:
        """Remove what a stopped or killed server left half-done: job control folders,
        unfinished uploads, and plan folders (complete or not) that no plan record names."""
        workspace = self.settings.workspace
        shutil.rmtree(workspace / "jobs", ignore_errors=True)
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
        """Stop the pools (running jobs end; they are marked failed, interrupted)."""
        for task in list(self._tasks.values()):
            task.cancel()
        for pool in (self._jobs_pool, self._calls_pool):
            if pool is None:
                continue
            processes = dict(getattr(pool, "_processes", None) or {})
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes.values():
                with contextlib.suppress(Exception):
                    process.terminate()
        unfinished = self._queued | self._running
        for job_id in unfinished:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.store.finish_job, job_id, "failed", message=INTERRUPTED
                )
        self._jobs_pool = self._calls_pool = None

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
        assert self._slots is not None
        try:
            async with self._slots:
                self._queued.discard(spec.job_id)
                job = await asyncio.to_thread(self.store.start_job, spec.job_id)
                if job.state != "running":  # cancelled while queued
                    return
                self._running.add(spec.job_id)
                try:
                    await self._compute(spec)
                finally:
                    self._running.discard(spec.job_id)
        finally:
            self._queued.discard(spec.job_id)
            shutil.rmtree(self.control_dir(spec.job_id), ignore_errors=True)
            if spec.export_dir is not None:  # an update's export: family data, not kept
                shutil.rmtree(spec.export_dir, ignore_errors=True)

    async def _compute(self, spec: worker.JobSpec) -> None:
        pool = self._jobs_pool
        assert pool is not None and self._loop is not None
        try:
            outcome = await self._loop.run_in_executor(pool, worker.run_job, spec)
        except worker.JobCancelled:
            shutil.rmtree(spec.plan_dir, ignore_errors=True)
            log.info("job %s stopped after cancellation", spec.job_id)
            return
        except BrokenProcessPool:
            log.error("job %s: its worker process died; rebuilding the pool", spec.job_id)
            if self._jobs_pool is pool:
                self._jobs_pool = self._pool(max(1, self.settings.job_processes))
                pool.shutdown(wait=False)
            await asyncio.to_thread(self.store.finish_job, spec.job_id, "failed", message=CRASHED)
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
        if isinstance(spec.options, CompareJob):
            self.store.finish_job(spec.job_id, "done", result=outcome["result"])
            log.info("job %s done (comparison)", spec.job_id)
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
        """Run `fn(*args)` in the short-calls worker and wait for it (from a request thread).

        Raises TimeoutError after `timeout` seconds (default ``settings.request_timeout_s``);
        `fn`'s own exceptions pass.
        """
        limit = self.settings.request_timeout_s if timeout is None else timeout
        if self._loop is None or self._calls_pool is None:
            raise RuntimeError("the job runner is not started")
        loop = self._loop

        async def run() -> T:
            for attempt in (1, 2):  # a dead worker (killed, out of memory): a fresh pool, once
                pool = self._calls_pool
                assert pool is not None
                try:
                    return await asyncio.wait_for(loop.run_in_executor(pool, fn, *args), limit)
                except BrokenProcessPool:
                    log.error("the short-calls worker died; rebuilding its pool")
                    if self._calls_pool is pool:
                        self._calls_pool = self._pool(1)
                        pool.shutdown(wait=False)
                    if attempt == 2:
                        raise RuntimeError(CRASHED) from None
            raise AssertionError("unreachable")

        return asyncio.run_coroutine_threadsafe(run(), loop).result()


__all__ = ["CRASHED", "JobRunner", "QueueFull"]
