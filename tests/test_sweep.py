"""Sweeps: one sample planned, the robust staffing checked independently, the command, and a
real Dask cluster (a scheduler and two workers started here) giving the same sweep.csv, even
with a worker killed mid-sweep."""

from __future__ import annotations

import builtins
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import famassign as fa
from famassign.cli import app
from famassign.models import Family, ProgramOption, Scenario, Staff
from famassign.scenarios.robust_staffing import wilson_interval
from famassign.scenarios.sampling import (
    SAMPLE_COLUMNS,
    SampleTask,
    plan_sample,
    sample_seed,
    validation_seed,
)
from famassign.scenarios.uncertainty import sample_scenario, uncertainty_of
from famassign.solver.arrays import build_arrays
from famassign.solver.flow import max_placed, solve_flow
from famassign.sweep_runner import ROBUST_COLUMNS, sweep
from famassign.task_runners import (
    INLINE,
    LOCAL,
    InlineRunner,
    SweepDependencyError,
    default_scheduler,
    runner_for,
)

SAMPLES = 12
"""Samples of the bundled example in the cluster tests (tens at most: keep the tests quick)."""


@pytest.fixture(scope="module")
def example() -> Scenario:
    return fa.read_scenario(fa.example_path()).scenario


# --------------------------------------------------------------------------------------------
# One sample


def test_plan_sample_row_matches_an_independent_plan_of_the_sample(example: Scenario) -> None:
    block = uncertainty_of(example)
    for index in range(3):
        task = SampleTask(index, sample_seed(5, index))
        outcome = plan_sample(example, block, task)
        assert list(outcome.row) == SAMPLE_COLUMNS
        sample = sample_scenario(example, block, task.seed)
        result = fa.solve(sample, fa.PlanOptions(time_limit=0, workers=1, deterministic=True))
        assert fa.evaluate(sample, result.plan(), result.exception_of()).violations == []
        row = outcome.row
        assert row["families"] == len(sample.families)
        assert row["placed"] == result.placed
        assert row["unplaced"] == len(result.unplaced)
        assert row["exception_places"] == result.terms.over_cap
        assert row["largest_caseload"] == max(c.families for c in result.caseloads)
        assert row["largest_load_per_fte"] == pytest.approx(result.terms.max_load_per_fte)
        # without exceptions the same sample leaves exactly the reported number unplaced
        plain = Scenario(
            name=sample.name,
            as_of=sample.as_of,
            policy=sample.policy,
            families=sample.families,
            staff=sample.staff,
            conflicts=sample.conflicts,
        )
        bare = fa.solve(plain, fa.PlanOptions(time_limit=0, workers=1, deterministic=True))
        assert fa.evaluate(plain, bare.plan(), bare.exception_of()).violations == []
        assert row["unplaced_without_exceptions"] == len(bare.unplaced)
        assert plan_sample(example, block, task) == outcome  # pure


def test_max_placed_equals_the_flow_placement(example: Scenario) -> None:
    block = uncertainty_of(example)
    for index in range(4):
        sample = sample_scenario(example, block, sample_seed(8, index))
        arrays = build_arrays(sample)
        caps = np.where(arrays.staff_active, arrays.staff_cap, 0).astype(np.int64)
        for limit in (arrays.staff_limit, caps, caps // 2):
            assert max_placed(arrays, limit) == solve_flow(arrays, limit=limit).placed


def test_plan_sample_with_balance_keeps_placement(example: Scenario) -> None:
    block = uncertainty_of(example)
    task = SampleTask(0, sample_seed(1, 0))
    flow = plan_sample(example, block, task).row
    balanced = plan_sample(
        example, block, SampleTask(0, task.seed, balance=True, time_limit=2.0)
    ).row
    assert balanced["placed"] == flow["placed"]
    assert balanced["exception_places"] == flow["exception_places"]
    balanced_load, flow_load = balanced["largest_load_per_fte"], flow["largest_load_per_fte"]
    assert isinstance(balanced_load, float) and isinstance(flow_load, float)
    assert balanced_load <= flow_load


# --------------------------------------------------------------------------------------------
# Robust staffing, checked on fresh samples by an independent route


A = "Centre"
CB = ProgramOption.center_based


def _controlled() -> Scenario:
    """100 English and 80 Spanish families at one site; two advocates per language (80 places
    each) and one bilingual floater who leaves with probability 0.5.

    English enrollment grows by a factor in [1.0, 1.2] (100..120 families), Spanish by
    normal(1.2, 0.08) (96 +- 6.4). With the floater gone (half the samples) each language needs
    exactly one hire (<= 120 families each; 0 hires fail: 80 places), so at confidence 0.9 the
    fewest hires are one English and one Spanish advocate, and without either one about half the
    samples fail.
    """
    families = [
        Family(family_id=f"F{i:03d}", language=lang, site=A, urgency=3, intensity="low")
        for i, lang in enumerate(["en"] * 100 + ["es"] * 80)
    ]
    staff = [
        Staff(staff_id=f"S{j}", languages=(lang,), sites=(A,))
        for j, lang in enumerate(["en", "en", "es", "es"])
    ]
    staff.append(Staff(staff_id="FLOAT", languages=("en", "es"), sites=(A,)))
    block = {
        "enrollment": [
            {"language": ["en"], "factor": {"low": 1.0, "high": 1.2}},
            {"language": ["es"], "factor": {"mean": 1.2, "sd": 0.08}},
        ],
        "staff_leave": {"staff": {"FLOAT": 0.5}},
    }
    return Scenario(
        name="controlled",
        as_of=date(2026, 8, 17),
        families=tuple(families),
        staff=tuple(staff),
        uncertainty=block,
    )


def _share_placed(scenario: Scenario, new_staff: list[Staff], seed: int, samples: int) -> float:
    """Share of fresh samples where the hires, added as staff records, place every family with
    no exception: fa.solve plus the evaluator (not the sweep's own flow check)."""
    block = uncertainty_of(scenario)
    placed_all = 0
    for i in range(samples):
        sample = sample_scenario(scenario, block, sample_seed(seed, i))
        hired = Scenario(
            name=sample.name,
            as_of=sample.as_of,
            families=sample.families,
            staff=(*sample.staff, *new_staff),
        )
        result = fa.solve(hired, fa.PlanOptions(time_limit=0, workers=1, deterministic=True))
        assert fa.evaluate(hired, result.plan(), result.exception_of()).violations == []
        placed_all += not result.unplaced
    return placed_all / samples


def test_robust_hires_hold_on_fresh_samples_and_each_one_is_needed() -> None:
    scenario = _controlled()
    confidence = 0.9
    result = sweep(
        scenario,
        samples=40,
        confidence=confidence,
        seed=11,
        scheduler=INLINE,
        validation_samples=100,
    )
    answer = result.answer
    assert answer.hires is not None and len(answer.hires) == 2
    for hire in answer.hires:  # people of the default profiles: English, maybe Spanish
        assert hire.profile.languages in {("en",), ("en", "es")} and hire.profile.sites == (A,)
    assert ("en", "es") in {h.profile.languages for h in answer.hires}
    assert answer.share >= confidence
    assert all(share < confidence for share in answer.share_without_one.values())
    # Fresh samples (another seed), 100 of them: with both hires a sample fails only when
    # Spanish enrollment exceeds 120 (z = 3: about 0.1%), so the share is far above 0.9; without
    # one of them about half fail (binomial sd 5%: 0.9 is 8 sd away). Fixed seeds, wide margins.
    fresh = 100
    team = [h.staff() for h in answer.hires]
    assert _share_placed(scenario, team, seed=99, samples=fresh) >= confidence
    for k in range(len(team)):
        fewer = team[:k] + team[k + 1 :]
        assert _share_placed(scenario, fewer, seed=99, samples=fresh) < confidence
    frame = result.robust
    assert list(frame.columns) == ROBUST_COLUMNS
    total = frame[frame["kind"] == "total"].iloc[0]
    assert total["additional_staff"] == 2 and total["lower_bound"] <= 2
    # the validated share: 100 fresh samples, apart from the 40 of sweep.csv, with its interval
    check = answer.validation
    assert check is not None and check.samples == 100 and answer.target_met
    assert total["validation_samples"] == 100 and len(result.samples) == 40
    assert total["validated_share"] == pytest.approx(check.share, abs=1e-4)
    low, high = wilson_interval(check.placed, 100)
    assert low <= check.share <= high
    assert (total["validated_low"], total["validated_high"]) == pytest.approx((low, high), abs=1e-4)
    assert {validation_seed(11, i) for i in range(100)}.isdisjoint(result.samples["seed"])


def test_robust_answer_on_the_example_is_minimal_on_its_samples(example: Scenario) -> None:
    result = sweep(example, samples=20, confidence=0.8, seed=3, scheduler=INLINE)
    answer = result.answer
    assert answer.hires is not None and answer.total >= answer.lower_bound
    assert answer.share >= 0.8
    assert all(share < 0.8 for share in answer.share_without_one.values())
    frame = result.samples
    assert len(frame) == 20 and list(frame.columns) == SAMPLE_COLUMNS
    assert list(frame["sample"]) == list(range(20))
    probabilities = result.robust[result.robust["kind"] == "exception"]
    assert list(probabilities["exception_id"]) == ["W-2026-01"]
    needed = frame["exceptions_needed"].str.contains("W-2026-01").mean()
    assert probabilities["probability_needed"].iloc[0] == pytest.approx(needed)


def test_wilson_interval_matches_scipy_and_samples_needed() -> None:
    from scipy.stats import binomtest

    for k, n in ((58, 60), (283, 300), (0, 20), (20, 20), (7, 13)):
        expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((expected.low, expected.high))
    from famassign.scenarios.robust_staffing import Validation

    # 1.96^2 x 0.95 x 0.05 / 0.02^2 = 456.2
    assert Validation(samples=100, placed=95).samples_for(0.02) == 457


def test_a_validated_share_under_the_target_is_said_in_words(example: Scenario) -> None:
    result = sweep(
        example, samples=20, confidence=0.9, seed=3, scheduler=INLINE, validation_samples=40
    )
    answer = result.answer
    assert answer.validation is not None and answer.validation.samples == 40
    assert ("is NOT met" in answer.verdict()) == (answer.validation.share < 0.9)
    assert f"On 40 fresh samples: {answer.validation.share:.1%}" in answer.verdict()


def test_default_runner_is_inline_on_a_small_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_scheduler(1) == default_scheduler(2) == INLINE
    assert default_scheduler(3) == default_scheduler(16) == LOCAL
    monkeypatch.setattr("famassign.task_runners.usable_cores", lambda: 2)
    with runner_for(None, None) as runner:
        assert isinstance(runner, InlineRunner)


def test_arguments_are_checked(example: Scenario) -> None:
    for kwargs in (
        {"samples": 0},
        {"confidence": 0.0},
        {"confidence": 1.5},
        {"seed": -1},
        {"validation_samples": -1},
    ):
        with pytest.raises(ValueError):
            sweep(example, scheduler=INLINE, **kwargs)


# --------------------------------------------------------------------------------------------
# The command


def test_sweep_command_writes_the_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["sweep", str(fa.example_path()), "--out", str(out), "--samples", "6"]
    result = CliRunner().invoke(app, [*args, "--scheduler", "inline", "--seed", "4"])
    assert result.exit_code == 0, result.output
    files = {"sweep.csv", "hires.csv", "robust_staffing.csv", "report.html"}
    assert files <= {p.name for p in out.iterdir()}
    hires = pd.read_csv(out / "hires.csv")
    assert {"hire", "fte", "languages", "sites", "program_options"} <= set(hires.columns)
    frame = pd.read_csv(out / "sweep.csv")
    assert len(frame) == 6 and list(frame.columns) == SAMPLE_COLUMNS
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('class="chart histogram"') == 5 and page.count('class="chart ecdf"') == 5
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "fresh samples" in result.output and "HIRE-001" in result.output
    # progress without a terminal: plain lines on stderr, each stage to its end
    assert "samples 6/6" in result.stderr and "validation 200/200" in result.stderr
    assert "s left" in result.stderr


def test_several_programs_give_one_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    folder = str(fa.example_path())
    args = ["sweep", folder, folder, "--out", str(out), "--samples", "3", "--scheduler", "inline"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "programs.csv")
    assert list(table["folder"]) == ["springfield", "springfield-2"]
    assert {
        "placed_mean",
        "unplaced_mean",
        "exception_places_mean",
        "robust_additional_staff",
    } <= set(table.columns)
    for name in table["folder"]:
        assert (out / name / "sweep.csv").is_file()
    first, second = (pd.read_csv(out / n / "sweep.csv") for n in table["folder"])
    pd.testing.assert_frame_equal(first, second)


def test_sweep_command_errors_exit_2(tmp_path: Path, example: Scenario) -> None:
    plain = tmp_path / "plain"
    fa.write_scenario(example.model_copy(update={"uncertainty": {}}), plain)
    result = CliRunner().invoke(app, ["sweep", str(plain), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no uncertainty: block" in result.output
    result = CliRunner().invoke(
        app, ["sweep", str(fa.example_path()), "--out", str(tmp_path / "o"), "--confidence", "2"]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_without_dask_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example: Scenario
) -> None:
    real_import = builtins.__import__

    def no_dask(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("distributed", "dask"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(SweepDependencyError, match=r"famassign\[sweep\]"):
        sweep(example, samples=1, scheduler=LOCAL)
    out = tmp_path / "o"
    args = ["sweep", str(fa.example_path()), "--out", str(out), "--scheduler", LOCAL]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "pip install 'famassign[sweep]'" in result.output
    assert not out.exists()


def test_core_import_does_not_load_dask() -> None:
    code = (
        "import sys, famassign, famassign.cli; "
        "print(any(m.startswith(('dask', 'distributed')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# A real cluster: `dask scheduler` and two `dask worker` processes on loopback


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    dask = Path(sys.executable).with_name("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask-logs")
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], name: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [str(dask), *args],
            stdout=subprocess.DEVNULL,
            stderr=(logs / f"{name}.log").open("wb"),
            start_new_session=True,  # its own process group: killed as a whole below
        )
        procs.append(proc)
        return proc

    start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler")
    workers = [
        start(
            [
                "worker",
                address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                "--name",
                f"w{i}",
            ],
            f"worker{i}",
        )
        for i in range(2)
    ]
    from distributed import Client

    try:
        with Client(address, timeout="60s") as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(2, timeout=120)
        yield {"address": address, "workers": workers}
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def local_sweep(example: Scenario) -> pd.DataFrame:
    """The bundled example on a local cluster of two worker processes."""
    return sweep(
        example, samples=SAMPLES, confidence=0.9, seed=21, scheduler=LOCAL, workers=2
    ).samples


def test_local_cluster_and_inline_agree(example: Scenario, local_sweep: pd.DataFrame) -> None:
    inline = sweep(example, samples=SAMPLES, confidence=0.9, seed=21, scheduler=INLINE).samples
    pd.testing.assert_frame_equal(local_sweep, inline)


def test_cluster_gives_the_same_sweep_csv(
    tmp_path: Path, cluster: dict[str, Any], local_sweep: pd.DataFrame
) -> None:
    out = tmp_path / "cluster"
    args = ["sweep", str(fa.example_path()), "--out", str(out), "--samples", str(SAMPLES)]
    args += ["--confidence", "0.9", "--seed", "21", "--scheduler", cluster["address"]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    local_out = tmp_path / "local"
    from famassign.sweep_outputs import write_sweep
    from famassign.sweep_runner import SweepResult

    local = sweep(fa.read_scenario(fa.example_path()).scenario, samples=1, scheduler=INLINE)
    write_sweep([SweepResult(local.name, local_sweep, local.robust, local.answer, {})], local_out)
    assert (out / "sweep.csv").read_bytes() == (local_out / "sweep.csv").read_bytes()


def test_a_worker_killed_mid_sweep_costs_only_its_tasks(
    example: Scenario, cluster: dict[str, Any], local_sweep: pd.DataFrame
) -> None:
    victim = cluster["workers"][0]
    killed: list[int] = []

    def kill_after_a_few(stage: str, done: int, total: int) -> None:
        if stage == "samples" and done >= 3 and not killed:
            os.killpg(victim.pid, signal.SIGKILL)
            victim.wait(timeout=20)
            killed.append(done)

    start = time.monotonic()
    result = sweep(
        example,
        samples=SAMPLES,
        confidence=0.9,
        seed=21,
        scheduler=cluster["address"],
        progress=kill_after_a_few,
    )
    assert killed and killed[0] < SAMPLES, "the worker was killed before the sweep ended"
    assert victim.poll() is not None
    pd.testing.assert_frame_equal(result.samples, local_sweep)
    assert time.monotonic() - start < 300
