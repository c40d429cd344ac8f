"""``python -m benchmarks.staffing``: hires as people, validated sweeps and the default runner.

Three measurements in one run, on one machine (not a unit test):

- people against per-group hires: every generator preset, scaled to ``--families`` and grown by
  :data:`GROWTH` without new staff; ``famassign staffing``'s fewest people (exact MIP over the
  default profiles) beside its fewest full-time staff of one (language, site, option) group each;
- the validated share against the claimed one on ten programs: a sweep of each (``--samples``
  training samples at confidence 0.95) gives the share on its training samples (claimed) and on
  ``--validation`` fresh samples (validated, with its 95% Wilson interval); a second fresh set
  (other seeds) tells whether that interval covers the share on samples it did not see;
- ``--runner-samples`` samples of an 800-family program with the default runner, inline, and a
  local Dask cluster (one worker per usable core), one after the other.
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
from typing import Any

from benchmarks.sweep import UNCERTAINTY

GROWTH = 1.3
"""Enrollment factor of the people-against-groups programs (they grow without new staff)."""

VALIDATION_UNCERTAINTY: dict[str, Any] = {
    "enrollment": [{"factor": {"mean": 1.08, "sd": 0.05}}],
    "staff_leave": 0.05,
}
"""The uncertainty of the validated-share programs: growth and leavers make hiring needed."""


def _grown(preset: str, families: int) -> Any:
    from famassign.scenarios import generate, scaled
    from famassign.scenarios.variants import apply_variant, parse_variants

    variants, _ = parse_variants(
        [{"name": "growth", "changes": [{"scale_enrollment": {"factor": GROWTH}}]}]
    )
    return apply_variant(generate(scaled(preset, families), 1), variants[0], 1)


def people_against_groups(families: int) -> None:
    """One line per generator preset: groups, people, proof, whether the people added to the staff
    place every family with no exception (a maximum flow), and seconds."""
    from famassign.scenarios import PRESETS
    from famassign.scenarios.staffing import places_everyone_with, staffing

    print(
        "| preset | families | hires by group | people | people proof | people place all "
        "| seconds |"
    )
    print("|---|---:|---:|---:|---|---|---:|")
    for preset in PRESETS:
        program = _grown(preset, families)
        start = time.perf_counter()
        answer = staffing(program, time_limit=60)
        seconds = time.perf_counter() - start
        placed = places_everyone_with(program, answer.people.staff())  # an independent flow
        print(
            f"| {preset} | {len(program.families)} | {answer.total_staff} | "
            f"{answer.people.people} | {answer.people.proof} | {'yes' if placed else 'NO'} | "
            f"{seconds:.1f} |"
        )


def validated_against_claimed(samples: int, validation: int) -> None:
    """One line per program: claimed share, validated share and interval, second fresh share."""
    from famassign.scenarios import GeneratorConfig, generate
    from famassign.scenarios.sampling import check_hires, validation_seed
    from famassign.scenarios.uncertainty import uncertainty_of
    from famassign.sweep_runner import sweep
    from famassign.task_runners import INLINE

    print(
        "| program | people | claimed (training) | validated | 95% interval | other fresh "
        "| covered |"
    )
    print("|---|---:|---:|---:|---|---:|---|")
    covered = 0
    for seed in range(1, 11):
        program = generate(GeneratorConfig(n_families=300, n_sites=3), seed).rebuilt(
            uncertainty=VALIDATION_UNCERTAINTY
        )
        result = sweep(
            program,
            samples=samples,
            confidence=0.95,
            seed=seed,
            scheduler=INLINE,
            validation_samples=validation,
        )
        answer, check = result.answer, result.answer.validation
        if answer.hires is None or check is None:
            print(f"| {seed} | not achievable | {answer.share:.3f} | | | | |")
            continue
        team = [h.staff() for h in answer.hires]
        block = uncertainty_of(program)
        other = [
            check_hires(program, block, validation_seed(seed + 1000, i), [team])[0]
            for i in range(validation)
        ]
        other_share = sum(other) / validation
        low, high = check.interval
        inside = low <= other_share <= high
        covered += inside
        print(
            f"| {seed} | {answer.total} | {answer.share:.3f} | {check.share:.3f} | "
            f"{low:.3f} to {high:.3f} | {other_share:.3f} | {'yes' if inside else 'no'} |"
        )
    print(f"\nthe validated interval covers the share on other fresh samples in {covered} of 10")


def runners(samples: int) -> None:
    """The same sweep with the default runner, inline, and a local Dask cluster."""
    from famassign.scenarios import GeneratorConfig, generate
    from famassign.sweep_runner import sweep
    from famassign.task_runners import INLINE, LOCAL, default_scheduler, usable_cores

    program = generate(GeneratorConfig(n_families=800, n_sites=2), 1).rebuilt(
        uncertainty=UNCERTAINTY
    )
    print(f"usable cores {usable_cores()}; default runner: {default_scheduler()}")
    print("| runner | samples | validation samples | seconds | samples/s |")
    print("|---|---:|---:|---:|---:|")
    frames = []
    for label, scheduler in (("default", None), ("inline", INLINE), ("local Dask", LOCAL)):
        start = time.perf_counter()
        result = sweep(program, samples=samples, seed=1, scheduler=scheduler)
        seconds = time.perf_counter() - start
        frames.append(result.samples)
        print(
            f"| {label} ({scheduler or default_scheduler()}) | {samples} | "
            f"{result.answer.validation.samples if result.answer.validation else 0} | "
            f"{seconds:.1f} | {samples / seconds:.2f} |"
        )
    same = all(f.equals(frames[0]) for f in frames)
    print(f"\nsweep.csv identical on every runner: {same}")


def main(argv: list[str] | None = None) -> None:
    """Run the three measurements and print their tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.staffing", description=__doc__)
    parser.add_argument("--families", type=int, default=600, help="families per preset program")
    parser.add_argument("--samples", type=int, default=60, help="training samples per sweep")
    parser.add_argument("--validation", type=int, default=200, help="fresh samples per sweep")
    parser.add_argument("--runner-samples", type=int, default=200)
    args = parser.parse_args(argv)
    logging.getLogger("famassign").setLevel(logging.ERROR)
    print(f"# staffing benchmark: {platform.processor() or platform.machine()}")
    print("\n## People against per-group hires\n")
    people_against_groups(args.families)
    print("\n## Validated share against the claimed one\n")
    validated_against_claimed(args.samples, args.validation)
    print("\n## Runners\n")
    runners(args.runner_samples)


if __name__ == "__main__":
    main()
