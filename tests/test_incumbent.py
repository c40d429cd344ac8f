"""The best-plan-so far records of the balance stage (what the benchmarks time against)."""

from __future__ import annotations

import logging
from itertools import pairwise

import pytest

import famassign as fa
from famassign.scenarios import GeneratorConfig, generate


def test_records_follow_the_largest_load_down_to_the_plan(caplog: pytest.LogCaptureFixture) -> None:
    # ~86% of the capacity used, most staff near the cap: the flow plan (most match) is far
    # from balanced, so the balance stage lowers the largest load at least once.
    sc = generate(GeneratorConfig(n_families=1_500, n_sites=6, slack=0.16, neighbour_share=0.9), 3)
    with caplog.at_level(logging.DEBUG, logger="famassign.solver.incumbent"):
        result = fa.solve(sc, fa.PlanOptions(time_limit=10, seed=1, workers=2))
    loads = [r.__dict__["largest_load"] for r in caplog.records if r.name.endswith("incumbent")]
    assert len(loads) >= 2
    assert all(b <= a + 1e-9 for a, b in pairwise(loads))
    assert loads[0] > loads[-1]
    assert loads[-1] == pytest.approx(result.terms.max_load_per_fte)
    assert fa.evaluate(sc, result.plan(), result.exception_of()).violations == []


def test_nothing_is_recorded_unless_someone_listens(caplog: pytest.LogCaptureFixture) -> None:
    sc = generate("rural", 1)
    with caplog.at_level(logging.INFO, logger="famassign.solver.incumbent"):
        fa.solve(sc, fa.PlanOptions(time_limit=5, seed=1, workers=2))
    assert not [r for r in caplog.records if r.name.endswith("incumbent")]
