"""Hires are people: the fewest persons, drawn from candidate profiles, that place every family.

A **profile** is a kind of person a program can hire: languages, sites, program options, an FTE
and a cost. :func:`candidate_profiles` lists them:

- by default, for each site (and each group of sites in ``hiring.site_groups``, sites close
  enough to share an advocate): a person speaking English, and one speaking English and one other
  language the families there need, serving every program option the families there are
  enrolled in, full-time, cost 1;
- ``hiring.profiles`` in scenario.yaml replaces them with the program's own profiles, for example
  ``{name: es-north-east, languages: [es, en], sites: [North, East], fte: [0.5, 1.0],
  cost: 1.0}`` (`program_options` optional: default every option offered at those sites; `cost`
  per full-time person, prorated by FTE; default 1).

:func:`fewest_people` then solves exactly (a MIP, HiGHS through :func:`scipy.optimize.milp`) over
a :class:`Demand`: families grouped by (language, site, program option) and by the existing staff
they may go to, each existing staff member's spare places under the policy caps alone (no
exception), and the hires' places (``floor(cap x FTE)``, :meth:`Staff.cap`). Three objectives in
turn: the fewest families left unplaced (only families no allowed profile serves, beyond the spare
places of the staff who may serve them), then the fewest people, then the least cost. For fixed
hires the rest is a transportation problem with whole-number data, so the answer is exact; it is
said to be proven, or given with the lower bound HiGHS proved when the time limit ended it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from famassign.models import ProgramOption, Scenario, Staff
from famassign.models.domain import Policy
from famassign.models.errors import FamassignError
from famassign.models.scenario import group_rule_breaks
from famassign.solver.arrays import BoolArray, IntArray, ProblemArrays

log = logging.getLogger(__name__)

ENGLISH = "en"
HIRE_PREFIX = "HIRE-"
"""Ids of the hires: ``HIRE-001``, ``HIRE-002``, ... (usable as staff_id in staff.csv)."""

HIRES_COLUMNS = ["hire", "profile", "fte", "languages", "sites", "program_options", "cost"]
"""Columns of hires.csv (lists separated by ``;``)."""

GroupKey = tuple[str, str, ProgramOption]
"""(language, site, program option) of a family."""


class HiringError(FamassignError, ValueError):
    """The ``hiring:`` block of scenario.yaml is invalid; the message names the entry."""


@dataclass(frozen=True)
class Profile:
    """A kind of person the program may hire; `cost` is the cost of one such hire."""

    name: str
    languages: tuple[str, ...]
    sites: tuple[str, ...]
    program_options: tuple[ProgramOption, ...]
    fte: float = 1.0
    cost: float = 1.0

    def staff(self, staff_id: str) -> Staff:
        """One hire of this profile as a Staff record (active, no personal cap)."""
        return Staff(
            staff_id=staff_id,
            fte=self.fte,
            languages=self.languages,
            sites=self.sites,
            program_options=self.program_options,
        )


@dataclass(frozen=True)
class Hire:
    """One person to hire: an id usable as a staff_id and the profile drawn from."""

    hire: str
    profile: Profile

    def staff(self) -> Staff:
        """The hire as a Staff record."""
        return self.profile.staff(self.hire)


@dataclass(frozen=True)
class Unplaceable:
    """A family no allowed hire can place, and why."""

    family_id: str
    why: str


@dataclass(frozen=True)
class PeopleAnswer:
    """The fewest people (then the least cost) placing every family they can, with no exception.

    `proven` is True when HiGHS proved both the fewest people and the least cost among them;
    otherwise `people_bound` is the lower bound it proved on the number of people.
    """

    hires: tuple[Hire, ...]
    people_bound: int
    proven: bool
    unplaceable: tuple[Unplaceable, ...] = ()
    profiles: int = 0

    @property
    def people(self) -> int:
        """Number of people to hire."""
        return len(self.hires)

    @property
    def cost(self) -> float:
        """Summed cost of the hires."""
        return round(sum(h.profile.cost for h in self.hires), 6)

    @property
    def proof(self) -> str:
        """How far the answer is known to be the fewest, in words."""
        if self.proven:
            return "proven fewest"
        return f"time limit; lower bound {self.people_bound} people"

    def staff(self) -> list[Staff]:
        """The hires as Staff records."""
        return [h.staff() for h in self.hires]

    def frame(self) -> pd.DataFrame:
        """hires.csv: one row per person (:data:`HIRES_COLUMNS`)."""
        return pd.DataFrame(
            [hire_row(h.profile, h.hire) for h in self.hires], columns=HIRES_COLUMNS
        )

    def lines(self) -> list[str]:
        """One line per hire, for a person."""
        return [f"  {h.hire}  {describe(h.profile)}" for h in self.hires]


def hire_row(profile: Profile, hire: str) -> dict[str, object]:
    """The hires.csv row of one hire of `profile`."""
    return {
        "hire": hire,
        "profile": profile.name,
        "fte": profile.fte,
        "languages": ";".join(profile.languages),
        "sites": ";".join(profile.sites),
        "program_options": ";".join(o.value for o in profile.program_options),
        "cost": profile.cost,
    }


def describe(profile: Profile) -> str:
    """``1.0 FTE, speaks en+es, site North, center_based+home_based`` for a person."""
    site = "site" if len(profile.sites) == 1 else "sites"
    return (
        f"{profile.fte:g} FTE, speaks {'+'.join(profile.languages)}, {site} "
        f"{'+'.join(profile.sites)}, {'+'.join(o.value for o in profile.program_options)}"
    )


# --------------------------------------------------------------------------------------------
# Profiles


def _texts(value: Any, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise HiringError(f"hiring.{where}: expected a text or a list of texts, got {value!r}")
    return tuple(v.strip() for v in items)


def _numbers(value: Any, where: str, low: float, high: float) -> tuple[float, ...]:
    items = value if isinstance(value, list) else [value]
    ok = all(
        isinstance(v, int | float) and not isinstance(v, bool) and low < v <= high for v in items
    )
    if not items or not ok:
        raise HiringError(f"hiring.{where}: expected numbers in ({low:g}, {high:g}], got {value!r}")
    return tuple(float(v) for v in items)


def _offered(groups: Sequence[GroupKey], sites: Sequence[str]) -> tuple[ProgramOption, ...]:
    found = {k[2] for k in groups if k[1] in sites}
    return tuple(o for o in ProgramOption if o in found) or tuple(ProgramOption)


def _site_units(hiring: Mapping[str, Any], sites: Sequence[str]) -> list[tuple[str, ...]]:
    units: list[tuple[str, ...]] = [(s,) for s in sites]
    groups = hiring.get("site_groups", [])
    if not isinstance(groups, list):
        raise HiringError(f"hiring.site_groups: expected a list of site lists, got {groups!r}")
    for n, group in enumerate(groups):
        unit = tuple(sorted(set(_texts(group, f"site_groups[{n}]"))))
        if unit not in units:
            units.append(unit)
    return units


def _own_profiles(entries: Any, groups: Sequence[GroupKey]) -> list[Profile]:
    if not isinstance(entries, list) or not entries:
        raise HiringError(f"hiring.profiles: expected a list of profiles, got {entries!r}")
    known = {"name", "languages", "sites", "program_options", "fte", "cost"}
    profiles = []
    for n, entry in enumerate(entries):
        where = f"profiles[{n}]"
        if not isinstance(entry, dict) or not {"languages", "sites"} <= set(entry):
            raise HiringError(f"hiring.{where}: a mapping with languages and sites is needed")
        if unknown := set(entry) - known:
            raise HiringError(f"hiring.{where}: unknown keys {sorted(unknown)}")
        sites = _texts(entry["sites"], f"{where}.sites")
        try:
            options = (
                tuple(ProgramOption(o) for o in _texts(entry["program_options"], where))
                if "program_options" in entry
                else _offered(groups, sites)
            )
        except ValueError as exc:
            raise HiringError(f"hiring.{where}.program_options: {exc}") from None
        (cost,) = _numbers(entry.get("cost", 1.0), f"{where}.cost", 0.0, 1e9)
        for fte in _numbers(entry.get("fte", 1.0), f"{where}.fte", 0.0, 1.0):
            profiles.append(
                Profile(
                    name=str(entry.get("name", where)),
                    languages=tuple(v.lower() for v in _texts(entry["languages"], where)),
                    sites=sites,
                    program_options=options,
                    fte=fte,
                    cost=round(cost * fte, 6),
                )
            )
    return profiles


def candidate_profiles(hiring: Mapping[str, Any], groups: Sequence[GroupKey]) -> list[Profile]:
    """The profiles allowed for families in `groups`, from a ``hiring:`` block (see the module
    docstring); raises :class:`HiringError` naming an invalid entry."""
    if unknown := set(hiring) - {"profiles", "site_groups"}:
        raise HiringError(f"hiring: unknown keys {sorted(unknown)} (profiles, site_groups)")
    if "profiles" in hiring:
        return _own_profiles(hiring["profiles"], groups)
    sites = sorted({k[1] for k in groups})
    profiles = []
    for unit in _site_units(hiring, sites):
        others = sorted({k[0] for k in groups if k[1] in unit} - {ENGLISH})
        for languages in [(ENGLISH,), *((ENGLISH, other) for other in others)]:
            profiles.append(
                Profile(
                    name="-".join([*languages, *unit]),
                    languages=languages,
                    sites=unit,
                    program_options=_offered(groups, unit),
                )
            )
    return profiles


# --------------------------------------------------------------------------------------------
# Demand and the MIP


@dataclass(frozen=True, eq=False)
class Demand:
    """Families to place, grouped: `keys[g]` (language, site, option), `families[g]` their
    number, `eligible[g, j]` whether existing staff member j may serve them, `room[j]` its spare
    places under the policy caps alone, and `members[g]` the families' ids (for naming)."""

    keys: list[GroupKey]
    families: IntArray
    eligible: BoolArray
    room: IntArray
    members: list[list[str]] = field(default_factory=list)

    def __eq__(self, other: object) -> bool:
        """Equal keys, counts, eligibility, room and members."""
        return (
            isinstance(other, Demand)
            and self.keys == other.keys
            and self.members == other.members
            and all(
                np.array_equal(getattr(self, name), getattr(other, name))
                for name in ("families", "eligible", "room")
            )
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def of_counts(cls, counts: Mapping[GroupKey, int]) -> Demand:
        """Families per group and no existing staff (places the hires alone must give)."""
        keys = sorted(k for k, v in counts.items() if v > 0)
        return cls(
            keys=keys,
            families=np.array([counts[k] for k in keys], dtype=np.int64),
            eligible=np.zeros((len(keys), 0), dtype=bool),
            room=np.zeros(0, dtype=np.int64),
        )


def demand_of(scenario: Scenario, arrays: ProblemArrays, caps: IntArray) -> Demand:
    """The unpinned families of `scenario` grouped by (language, site, option) and by the existing
    staff they may go to (conflicts make such subgroups), with each staff member's places under
    `caps` left after the families pinned to them."""
    pinned = arrays.family_pinned
    current = arrays.pair_staff[np.flatnonzero(pinned[arrays.pair_family])]
    room = caps - np.bincount(current, minlength=arrays.n_staff)
    starts = np.searchsorted(arrays.pair_family, np.arange(arrays.n_families + 1))
    index: dict[tuple[GroupKey, tuple[int, ...]], int] = {}
    members: list[list[str]] = []
    for i in np.flatnonzero(~pinned):
        f = scenario.families[i]
        staff = tuple(int(j) for j in arrays.pair_staff[starts[i] : starts[i + 1]])
        key = ((f.language, f.site, f.program_option), staff)
        if key not in index:
            index[key] = len(members)
            members.append([])
        members[index[key]].append(f.family_id)
    eligible = np.zeros((len(index), arrays.n_staff), dtype=bool)
    for (_, staff), g in index.items():
        eligible[g, list(staff)] = True
    return Demand(
        keys=[k for k, _ in index],
        families=np.array([len(m) for m in members], dtype=np.int64),
        eligible=eligible,
        room=np.maximum(room, 0).astype(np.int64),
        members=members,
    )


def _serves(policy: Policy, keys: Sequence[GroupKey], profiles: Sequence[Profile]) -> BoolArray:
    probe = [p.staff("probe") for p in profiles]
    return np.array(
        [[not group_rule_breaks(*k, s, policy) for s in probe] for k in keys], dtype=bool
    ).reshape(len(keys), len(profiles))


def fewest_people(
    policy: Policy,
    demands: Sequence[Demand],
    profiles: Sequence[Profile],
    *,
    time_limit: float | None = None,
) -> PeopleAnswer:
    """The fewest people, then the least cost, drawn from `profiles`, that with the existing
    staff's spare places place every family of each of `demands` that any allowed profile or
    existing staff member may serve; exact (see the module docstring).

    Parameters
    ----------
    policy
        The program's policy: the cap of a hire of FTE f is ``floor(cap x f)``.
    demands
        The families to place: one :class:`Demand` (:func:`demand_of`), or several (samples of
        a year) that the same people must each place.
    profiles
        The allowed profiles (:func:`candidate_profiles`).
    time_limit
        Seconds for each of the two MIP stages (None: until proven).

    Returns
    -------
    PeopleAnswer
        The hires (ids ``HIRE-001``... ordered by site, language), whether proven, the bound, and
        the families no allowed hire can place with why.
    """
    n_p = len(profiles)
    cap = np.array([p.staff("probe").cap(policy) for p in profiles], dtype=np.float64)
    blocks = [_block(policy, d, profiles, cap) for d in demands]
    n_var = n_p + sum(b.n_var for b in blocks)
    offsets = np.cumsum([n_p] + [b.n_var for b in blocks])
    a = sp.hstack(
        [sp.vstack([b.hires for b in blocks]), sp.block_diag([b.matrix for b in blocks])],
        format="csr",
    )
    lower = np.concatenate([b.lower for b in blocks])
    upper_rows = np.concatenate([b.upper for b in blocks])
    constraints = [LinearConstraint(a, lower, upper_rows)]
    upper_y = np.max([b.most for b in blocks], axis=0) if blocks else np.zeros(n_p)
    bounds = Bounds(np.zeros(n_var), np.concatenate([upper_y, np.full(n_var - n_p, np.inf)]))
    integer = np.concatenate([np.ones(n_p), np.zeros(n_var - n_p)])
    options = {} if time_limit is None else {"time_limit": max(time_limit, 0.1)}
    unplaced_vars = np.concatenate(
        [o + b.unplaced for o, b in zip(offsets[:-1], blocks, strict=True)]
    ).astype(np.int64)

    def vector(columns: IntArray | slice, weights: np.ndarray | float = 1.0) -> np.ndarray:
        c = np.zeros(n_var)
        c[columns] = weights
        return c

    def at_most(c: np.ndarray, bound: float) -> LinearConstraint:
        return LinearConstraint(c[None, :], -np.inf, bound + 1e-6)

    ys = slice(0, n_p)
    stage0 = milp(vector(unplaced_vars), constraints=constraints, bounds=bounds)  # LP
    constraints.append(at_most(vector(unplaced_vars), math.ceil(float(stage0.fun) - 1e-6)))
    stage1 = milp(
        vector(ys), constraints=constraints, bounds=bounds, integrality=integer, options=options
    )
    if stage1.x is None:  # pragma: no cover - every group has its unplaced slack
        raise RuntimeError(f"hiring: no hires found ({stage1.message})")
    people = round(float(stage1.fun))
    bound = math.ceil(float(getattr(stage1, "mip_dual_bound", people) or 0) - 1e-6)
    constraints.append(at_most(vector(ys), people))
    costs = np.array([p.cost for p in profiles])
    stage2 = milp(
        vector(ys, costs),
        constraints=constraints,
        bounds=bounds,
        integrality=integer,
        options=options,
    )
    best = stage2 if stage2.x is not None else stage1
    counts = np.round(best.x[:n_p]).astype(np.int64)
    proven = stage1.status == 0 and stage2.status == 0
    order = sorted(
        (p for p in range(n_p) if counts[p] > 0),
        key=lambda p: (profiles[p].sites, profiles[p].languages, profiles[p].fte, profiles[p].name),
    )
    hires: list[Hire] = []
    for p in order:
        for _ in range(int(counts[p])):
            hires.append(Hire(f"{HIRE_PREFIX}{len(hires) + 1:03d}", profiles[p]))
    unplaceable: list[Unplaceable] = []
    for o, block, demand in zip(offsets[:-1], blocks, demands, strict=True):
        left = np.round(best.x[o + block.unplaced]).astype(np.int64)
        unplaceable += _unplaceable(demand, left)
    answer = PeopleAnswer(
        hires=tuple(hires),
        people_bound=people if proven else min(bound, people),
        proven=proven,
        unplaceable=tuple(unplaceable),
        profiles=n_p,
    )
    log.info(
        "hiring: %d people over %d profiles and %d demands (%s), %d unplaceable",
        answer.people,
        n_p,
        len(demands),
        answer.proof,
        len(answer.unplaceable),
    )
    return answer


@dataclass(frozen=True)
class _Block:
    """One demand's part of the MIP: its columns (families to hires, to existing staff, left
    unplaced), its rows (groups, existing staff, profiles) and the hire-count columns' part."""

    n_var: int
    matrix: sp.csr_matrix
    hires: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    unplaced: IntArray
    most: np.ndarray


def _block(policy: Policy, demand: Demand, profiles: Sequence[Profile], cap: np.ndarray) -> _Block:
    n_g, n_p, n_s = len(demand.keys), len(profiles), len(demand.room)
    serves = _serves(policy, demand.keys, profiles)
    zg, zp = np.nonzero(serves & (cap > 0)[None, :])
    xg, xs = np.nonzero(demand.eligible & (demand.room > 0)[None, :])
    n_z, n_x = len(zg), len(xg)
    x0, u0 = n_z, n_z + n_x
    n_var = n_z + n_x + n_g
    rows = np.concatenate([zg, xg, np.arange(n_g), n_g + xs, n_g + n_s + zp])
    z, x = np.arange(n_z), x0 + np.arange(n_x)
    cols = np.concatenate([z, x, u0 + np.arange(n_g), x, z])
    n_rows = n_g + n_s + n_p
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_var))
    # profile rows: families on hires of profile p - cap[p] x count[p] <= 0
    hires = sp.csr_matrix((-cap, (n_g + n_s + np.arange(n_p), np.arange(n_p))), shape=(n_rows, n_p))
    fam = demand.families.astype(np.float64)
    served = np.bincount(zp, weights=fam[zg], minlength=n_p)
    return _Block(
        n_var=n_var,
        matrix=matrix,
        hires=hires,
        lower=np.concatenate([fam, np.full(n_s + n_p, -np.inf)]),
        upper=np.concatenate([fam, demand.room.astype(np.float64), np.zeros(n_p)]),
        unplaced=u0 + np.arange(n_g),
        most=np.ceil(served / np.maximum(cap, 1)),
    )


def _unplaceable(demand: Demand, left: IntArray) -> tuple[Unplaceable, ...]:
    """Families left unplaced by the MIP: only groups no allowed profile serves (with places)
    leave any, since the number of hires is unbounded."""
    found = []
    for g in np.flatnonzero(left > 0):
        language, site, option = demand.keys[g]
        why = (
            f"no allowed hiring profile serves language {language} at site {site} "
            f"({option.value}), and the staff who may serve them are full"
        )
        names = demand.members[g][-int(left[g]) :] if demand.members else []
        found += [Unplaceable(name, why) for name in names]
    return tuple(found)


__all__ = [
    "HIRES_COLUMNS",
    "HIRE_PREFIX",
    "Demand",
    "Hire",
    "HiringError",
    "PeopleAnswer",
    "Profile",
    "Unplaceable",
    "candidate_profiles",
    "demand_of",
    "describe",
    "fewest_people",
    "hire_row",
]
