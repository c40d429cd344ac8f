"""The neighbourhood search's second hop (`Neighbourhoods.colleagues`) finds exactly the staff
who share an eligible family with the given ones, without a staff x staff product."""

from __future__ import annotations

import numpy as np
from builders import fam, scenario, staff
from hypothesis import given, settings
from hypothesis import strategies as st

from famassign.solver.arrays import build_arrays
from famassign.solver.components import Component
from famassign.solver.neighbourhoods import Neighbourhoods

SITES = ["North", "South", "East", "West"]


@settings(max_examples=40, deadline=None)
@given(
    served=st.lists(st.sets(st.sampled_from(SITES), min_size=1), min_size=2, max_size=6),
    family_sites=st.lists(st.sampled_from(SITES), min_size=1, max_size=12),
    picked=st.sets(st.integers(0, 5), min_size=1),
)
def test_colleagues_are_the_staff_sharing_a_family(
    served: list[set[str]], family_sites: list[str], picked: set[int]
) -> None:
    sc = scenario(
        [fam(f"F{i:02d}", site=site) for i, site in enumerate(family_sites)],
        [staff(f"S{j}", sites=tuple(sorted(sites))) for j, sites in enumerate(served)],
    )
    a = build_arrays(sc)
    comp = Component(np.arange(a.n_families), np.arange(a.n_staff), np.arange(len(a.pair_family)))
    hood = Neighbourhoods(a, comp, seed=0)
    chosen = np.array(sorted(j for j in picked if j < a.n_staff), dtype=np.int64)
    if len(chosen) == 0:
        return
    # by brute force: staff eligible for a family that one of `chosen` is eligible for
    eligible = {(int(f), int(s)) for f, s in zip(a.pair_family, a.pair_staff, strict=True)}
    families = {f for f, s in eligible if s in set(chosen.tolist())}
    expected = sorted({s for f, s in eligible if f in families})
    assert hood.colleagues(chosen).tolist() == expected
