"""Components: the independent sub-problems of a program (no eligible pair crosses them), and
the loads and match of a plan on one of them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays


def components(arrays: ProblemArrays, pairs: IntArray | None = None) -> tuple[IntArray, IntArray]:
    """Component label per family and per staff member (independent sub-problems), linked by
    `pairs` (indexes into the arrays' pairs; default every pair)."""
    n, m = arrays.n_families, arrays.n_staff
    pf, ps = arrays.pair_family, arrays.pair_staff
    if pairs is not None:
        pf, ps = pf[pairs], ps[pairs]
    graph = coo_matrix((np.ones(len(pf)), (pf, n + ps)), shape=(n + m, n + m))
    _, labels = connected_components(graph, directed=False)
    return labels[:n].astype(np.int64), labels[n:].astype(np.int64)


def load_per_fte(arrays: ProblemArrays, staff_of: IntArray) -> np.ndarray:
    """Weighted load per FTE of every staff member under a plan (real units)."""
    placed = staff_of >= 0
    load = np.bincount(
        staff_of[placed], weights=arrays.family_load[placed], minlength=arrays.n_staff
    )
    return load / LOAD_SCALE / arrays.staff_fte


@dataclass
class Component:
    """Families, staff and pair indexes (into the arrays' pairs) of one sub-problem."""

    families: IntArray
    staff: IntArray
    pairs: IntArray


def component_match(arrays: ProblemArrays, comp: Component, plan: IntArray) -> int:
    """The match score of `plan` on the component's pairs."""
    chosen = plan[arrays.pair_family[comp.pairs]] == arrays.pair_staff[comp.pairs]
    return int(arrays.pair_match[comp.pairs][chosen].sum())
