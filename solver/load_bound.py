"""Lower bounds on a component's best largest load per FTE: the max-flow relaxation (cheap,
without caps or the match floor) and the load-level LP of the whole balance model."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow

from famassign.solver.arrays import LOAD_SCALE, IntArray, ProblemArrays
from famassign.solver.components import Component, load_per_fte


def relaxed_load_bound(arrays: ProblemArrays, comp: Component, plan: IntArray) -> float:
    """A valid lower bound on the component's best largest load per FTE: the smallest T for
    which the loads of its families can be split fractionally among eligible staff with at most
    T x FTE each (caps and match dropped), found by bisection over max-flows. Families unplaced
    in `plan` are left out, which keeps the bound valid only when all are placed (else 0)."""
    a = arrays
    if (plan[comp.families] < 0).any():
        return 0.0
    nf, ns = len(comp.families), len(comp.staff)
    local_f = np.searchsorted(comp.families, a.pair_family[comp.pairs])
    local_s = np.searchsorted(comp.staff, a.pair_staff[comp.pairs])
    load = a.family_load[comp.families]
    total = int(load.sum())
    fte = a.staff_fte[comp.staff]
    source, sink = nf + ns, nf + ns + 1
    big = total + 1

    def feasible(t: float) -> bool:
        flow = max_flow.SimpleMaxFlow()
        caps = np.floor(t * fte * LOAD_SCALE + 1e-9).astype(np.int64)
        starts = np.concatenate([np.full(nf, source), local_f, nf + np.arange(ns)])
        ends = np.concatenate([np.arange(nf), nf + local_s, np.full(ns, sink)])
        capacity = np.concatenate([load, np.full(len(local_f), big), caps])
        flow.add_arcs_with_capacity(starts.astype(np.int32), ends.astype(np.int32), capacity)
        flow.solve(source, sink)
        return bool(flow.optimal_flow() >= total)

    lo = float(load.sum() / LOAD_SCALE / fte.sum()) if fte.sum() > 0 else 0.0
    hi = float(load_per_fte(a, plan)[comp.staff].max(initial=0.0))
    if lo >= hi or feasible(lo):
        return min(lo, hi)
    for _ in range(30):
        if hi - lo <= 1e-3:
            break
        mid = (lo + hi) / 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    return lo
