"""``python -m benchmarks.year``: a simulated program year of monthly updates.

A 2,000-family program (the generator, fixed seed, current assignments from its start-up plan)
goes through 12 months. Each month about 3% of the families withdraw, as many new families enrol
(drawn from a second generated program of the same shape, so they need the same languages, sites
and options), and about 5% of the families are re-assessed (new urgency and intensity). Each month
is planned three ways, all from the same scenario:

- ``famassign update`` (:func:`famassign.update`): fewest moves, then match, then balance;
- ``solve`` re-run on the same families with their current staff (continuity is one match term
  among others; what famassign did before update existed);
- ``solve`` from scratch, without current assignments.

Families moved = families whose current staff member is active and who end up with someone else
or unplaced (the evaluator's and summary.json's ``moves``). Every plan is re-checked with the
independent evaluator; the next month starts from the update's next scenario
(:meth:`famassign.UpdateResult.next_scenario`, what the plan folder holds as scenario files), as
the cycle of docs/through-the-year.md does. Prints one row per month and the totals, and
writes them as CSV with ``--out FILE``; each row carries the 1-minute load average when the month
ended (the wall times are only comparable with it).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import famassign as fa
from famassign.models import Family, Intensity, Scenario
from famassign.scenarios import GeneratorConfig, generate


@dataclass(frozen=True)
class Month:
    """One month's churn applied to the plan in force."""

    scenario: Scenario
    withdrawn: int
    enrolled: int
    reassessed: int


def churn(
    scenario: Scenario,
    pool: list[Family],
    month: int,
    rng: random.Random,
    rate: float,
    reassess_rate: float,
) -> Month:
    """Withdraw and enrol about `rate` of the families and re-assess `reassess_rate` of them."""
    families = list(scenario.families)
    n = round(len(families) * rate)
    withdrawn = {f.family_id for f in rng.sample(families, n)}
    families = [f for f in families if f.family_id not in withdrawn]
    reassessed = set(
        rng.sample([f.family_id for f in families], round(len(families) * reassess_rate))
    )
    intensities = list(Intensity)
    families = [
        f.model_copy(update={"urgency": rng.randint(1, 5), "intensity": rng.choice(intensities)})
        if f.family_id in reassessed
        else f
        for f in families
    ]
    new = [
        pool.pop().model_copy(
            update={"family_id": f"M{month:02d}-{i:03d}", "current_staff_id": None, "pinned": False}
        )
        for i in range(n)
    ]
    conflicts = tuple(c for c in scenario.conflicts if c.family_id not in withdrawn)
    as_of = scenario.as_of.replace(month=(scenario.as_of.month % 12) + 1)
    if as_of.month == 1:
        as_of = as_of.replace(year=as_of.year + 1)
    changed = scenario.rebuilt(families=tuple(families + new), conflicts=conflicts, as_of=as_of)
    return Month(changed, len(withdrawn), len(new), len(reassessed))


def _checked(scenario: Scenario, result: fa.Result) -> fa.Evaluation:
    ev = fa.evaluate(scenario, result.plan(), result.exception_of())
    if ev.violations:
        raise SystemExit(f"hard rule broken: {ev.violations[:5]}")
    return ev


def _moves_against(scenario: Scenario, plan: dict[str, str | None]) -> int:
    """Families whose current staff member is active and who are placed elsewhere or unplaced."""
    active = {s.staff_id for s in scenario.staff if s.status.value == "active"}
    return sum(
        1
        for f in scenario.families
        if f.current_staff_id in active and plan.get(f.family_id) != f.current_staff_id
    )


def run(
    n_families: int,
    months: int,
    rate: float,
    reassess_rate: float,
    time_limit: float,
    seed: int,
    slack: float = 0.03,
) -> pd.DataFrame:
    """The simulated year; one row per month."""
    cfg = GeneratorConfig(
        n_families=n_families, n_sites=6, with_current_assignments=True, slack=slack
    )
    scenario = generate(cfg, seed=seed)
    pool = list(generate(GeneratorConfig(n_families=n_families, n_sites=6), seed=seed + 1).families)
    random.Random(seed).shuffle(pool)
    rng = random.Random(seed)
    rows = []
    options = fa.PlanOptions(time_limit=time_limit, seed=seed, workers=2)
    for month in range(1, months + 1):
        step = churn(scenario, pool, month, rng, rate, reassess_rate)
        sc = step.scenario
        started = time.monotonic()
        updated = fa.update(sc, options=options)
        t_update = time.monotonic() - started
        ev_update = _checked(updated.scenario, updated.result)

        started = time.monotonic()
        resolved = fa.solve(sc, options)
        t_resolve = time.monotonic() - started
        _checked(sc, resolved)

        blank = sc.rebuilt(
            families=tuple(
                f.model_copy(update={"current_staff_id": None, "pinned": False})
                for f in sc.families
            ),
        )
        started = time.monotonic()
        scratch = fa.solve(blank, options)
        t_scratch = time.monotonic() - started
        _checked(blank, scratch)

        moved_update = _moves_against(sc, updated.result.plan())
        moved_resolve = _moves_against(sc, resolved.plan())
        moved_scratch = _moves_against(sc, scratch.plan())
        rows.append(
            {
                "month": month,
                "as_of": sc.as_of.isoformat(),
                "families": len(sc.families),
                "withdrawn": step.withdrawn,
                "enrolled": step.enrolled,
                "reassessed": step.reassessed,
                "update_moved": moved_update,
                "update_placed": ev_update.placed,
                "update_max_load_per_fte": round(ev_update.max_load_per_fte, 2),
                "resolve_moved": moved_resolve,
                "resolve_placed": resolved.terms.placed,
                "resolve_max_load_per_fte": resolved.terms.max_load_per_fte,
                "scratch_moved": moved_scratch,
                "ratio_update_to_resolve": round(moved_update / moved_resolve, 4)
                if moved_resolve
                else None,
                "update_s": round(t_update, 2),
                "resolve_s": round(t_resolve, 2),
                "scratch_s": round(t_scratch, 2),
                "load_avg": round(os.getloadavg()[0], 1),
                "violations": 0,
            }
        )
        print(rows[-1], flush=True)
        scenario = updated.next_scenario()
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    """Command line of the simulated year."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.year", description=__doc__)
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--churn", type=float, default=0.03)
    parser.add_argument("--reassess", type=float, default=0.05)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slack", type=float, default=0.03, help="Spare capacity of the staff.")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    frame = run(
        args.families,
        args.months,
        args.churn,
        args.reassess,
        args.time_limit,
        args.seed,
        args.slack,
    )
    total_update = int(frame["update_moved"].sum())
    total_resolve = int(frame["resolve_moved"].sum())
    total_scratch = int(frame["scratch_moved"].sum())
    print(frame.to_string(index=False))
    print(
        f"year: update moved {total_update} families, re-solving moved {total_resolve} "
        f"(ratio {total_update / max(total_resolve, 1):.4f}), from scratch {total_scratch}; "
        "no hard rule broken at any step (evaluator)"
    )
    if args.out is not None:
        frame.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
