"""``python -m benchmarks.sweep``: sweeps on Dask, measured (not a unit test).

On the ``large`` preset (10,000 families) with :data:`UNCERTAINTY`:

- time and bytes per task: one sample planned in this process (``plan_sample``) and one hire
  check (``check_hires``), and the pickled sizes of a task, its result and the scenario that is
  scattered once;
- samples per second on a local Dask cluster of 1 and of 2 worker processes (same run: ratio);
- scheduler overhead per task: a no-op task mapped many times on the same cluster;
- a scale plan on paper for 10,000 samples of a 30,000-family program on 50 workers, from the
  measured figures (a ``state`` preset sample is timed too when ``--state`` is given).
"""

from __future__ import annotations

import argparse
import logging
import pickle
import platform
import time
from typing import Any

UNCERTAINTY: dict[str, Any] = {
    "enrollment": [{"factor": {"mean": 1.02, "sd": 0.03}}],
    "staff_leave": 0.03,
    "mix": {"urgency": {"mean": 0.0, "sd": 0.05}, "intensity": {"low": 0.0, "high": 0.1}},
}
"""The uncertainty of the benchmark programs (every site and language alike)."""


def _noop(item: int, payload: Any) -> int:
    return item


def _timed_sample(task: Any, payload: Any) -> tuple[float, float, float]:
    """A sample task that also reports when it ran and the CPU seconds it got."""
    from famassign.sweep_runner import _sample_task

    start, cpu = time.time(), time.process_time()
    _sample_task(task, payload)
    return start, time.time(), time.process_time() - cpu


def _program(preset: str) -> Any:
    from famassign.scenarios import generate

    return generate(preset, 1).rebuilt(uncertainty=UNCERTAINTY)


def _per_task(preset: str, samples: int) -> dict[str, float]:
    from famassign.models import Staff
    from famassign.scenarios.sampling import SampleTask, check_hires, plan_sample, sample_seed
    from famassign.scenarios.uncertainty import uncertainty_of

    scenario = _program(preset)
    block = uncertainty_of(scenario)
    advocate = Staff(staff_id="HIRE-001", languages=("en",), sites=("*",))
    plan_s, check_s, result_bytes = [], [], []
    for i in range(samples):
        task = SampleTask(i, sample_seed(0, i))
        start = time.perf_counter()
        outcome = plan_sample(scenario, block, task)
        plan_s.append(time.perf_counter() - start)
        result_bytes.append(len(pickle.dumps(outcome)))
        start = time.perf_counter()
        check_hires(scenario, block, task.seed, [[], [advocate]])
        check_s.append(time.perf_counter() - start)
    return {
        "families": len(scenario.families),
        "plan_s": sum(plan_s) / samples,
        "check_s": sum(check_s) / samples,
        "task_bytes": len(pickle.dumps(SampleTask(0, sample_seed(0, 0)))),
        "result_bytes": sum(result_bytes) / samples,
        "scenario_bytes": len(pickle.dumps((scenario, block))),
    }


def _on_cluster(preset: str, workers: int, samples: int, noops: int) -> dict[str, float]:
    from distributed import Client, LocalCluster

    from famassign.scenarios.sampling import SampleTask, sample_seed
    from famassign.scenarios.uncertainty import uncertainty_of
    from famassign.task_runners import DaskRunner

    scenario = _program(preset)
    block = uncertainty_of(scenario)
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        runner = DaskRunner(client)
        start = time.perf_counter()
        handle = runner.put((scenario, block))
        scatter_s = time.perf_counter() - start
        runner.map(_noop, list(range(workers)), handle, lambda d, t: None)  # warm the workers
        tasks = [SampleTask(i, sample_seed(0, i)) for i in range(samples)]
        start = time.perf_counter()
        spans = runner.map(_timed_sample, tasks, handle, lambda d, t: None)
        sweep_s = time.perf_counter() - start
        start = time.perf_counter()
        runner.map(_noop, list(range(noops)), handle, lambda d, t: None)
        noop_s = time.perf_counter() - start
    return {
        "workers": workers,
        "samples": samples,
        "scatter_s": scatter_s,
        "sweep_s": sweep_s,
        "samples_per_s": samples / sweep_s,
        "overhead_ms_per_task": 1000 * noop_s / noops,
        # tasks running at once on average, and the share of a core each task got
        "concurrency": sum(end - begin for begin, end, _ in spans) / sweep_s,
        "cpu_share": sum(cpu for *_, cpu in spans) / sum(end - begin for begin, end, _ in spans),
    }


def main(argv: list[str] | None = None) -> None:
    """Run the measurements and print them with the scale plan."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sweep", description=__doc__)
    parser.add_argument("--preset", default="large")
    parser.add_argument("--samples", type=int, default=8, help="samples per cluster run")
    parser.add_argument("--noops", type=int, default=400, help="no-op tasks for the overhead")
    parser.add_argument("--state", action="store_true", help="also time one 30,000-family task")
    args = parser.parse_args(argv)
    print(f"# sweep benchmark: {platform.processor() or platform.machine()}, preset {args.preset}")
    per = _per_task(args.preset, 2)
    print(
        f"per task ({per['families']:.0f} families, in process): plan_sample {per['plan_s']:.2f} s,"
        f" check_hires (2 teams) {per['check_s']:.2f} s; task {per['task_bytes']:.0f} B, "
        f"result {per['result_bytes']:.0f} B, scenario scattered once "
        f"{per['scenario_bytes'] / 1e6:.2f} MB"
    )
    runs = [_on_cluster(args.preset, w, args.samples, args.noops) for w in (1, 2)]
    for run in runs:
        print(
            f"local cluster, {run['workers']:.0f} worker(s): {run['samples']:.0f} samples in "
            f"{run['sweep_s']:.1f} s = {run['samples_per_s']:.3f} samples/s; scatter "
            f"{run['scatter_s']:.2f} s; scheduler overhead "
            f"{run['overhead_ms_per_task']:.1f} ms/task; {run['concurrency']:.2f} tasks at once, "
            f"each getting {run['cpu_share']:.0%} of a core"
        )
    ratio = runs[1]["samples_per_s"] / runs[0]["samples_per_s"]
    print(f"2 workers / 1 worker: {ratio:.2f}x samples per second")
    plan_30k = per["plan_s"] * 3.0
    check_30k = per["check_s"] * 3.0
    source = "3x the 10,000-family task (flows near-linear in families)"
    if args.state:
        state = _per_task("state", 1)
        plan_30k, check_30k = state["plan_s"], state["check_s"]
        source = "measured on the state preset"
        print(
            f"per task (30,000 families): plan_sample {plan_30k:.2f} s, check {check_30k:.2f} s, "
            f"scenario {state['scenario_bytes'] / 1e6:.2f} MB"
        )
    overhead = runs[1]["overhead_ms_per_task"] / 1000
    samples, workers, rounds = 10_000, 50, 3
    wall = samples / workers * (plan_30k + overhead) + rounds * samples / workers * (
        check_30k + overhead
    )
    print(
        f"scale plan: 10,000 samples x 30,000 families on 50 workers ({source}): "
        f"{samples // workers} sample tasks per worker x {plan_30k:.2f} s + {rounds} hire-check "
        f"rounds x {samples // workers} x {check_30k:.2f} s = {wall / 60:.0f} min of wall time, "
        f"plus scattering the scenario once to 50 workers"
    )


if __name__ == "__main__":
    main()
