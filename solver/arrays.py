"""A Scenario turned into numbers once: eligible pairs, match scores, weights and caps.

Eligibility is built per (language, site, program option) group of families with numpy, never
with a Python loop over every family x staff pair. One function per hard rule and per score term.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt

from famassign.models import (
    LanguagePolicy,
    Outcome,
    ProgramOption,
    Scenario,
    StaffStatus,
)
from famassign.models.errors import FamassignError

log = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_ELIGIBLE_PAIRS = 3_000_000
"""The most eligible family x staff pairs a plan is built for. Memory grows by about 200 bytes per
pair (measured: 5.1 million pairs peaked at 1.1 GB) and the exact flow stage, which no time limit
interrupts, by about 2-3 s per million pairs on one core; beyond this a program is refused before
anything is built (:class:`ProblemTooLarge`)."""

MAX_FAMILIES = 250_000
"""The most families a plan is built for (each family costs memory in every stage)."""


class ProblemTooLarge(FamassignError, ValueError):
    """The program is beyond what famassign plans in bounded memory and time; the message gives
    the numbers and what to do (split it by site or language, or narrow who may serve whom)."""


LOAD_SCALE = 100
"""Weighted loads are kept as integers in hundredths (intensity weight x agency factor x 100)."""

_OUTCOMES = list(Outcome)
_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << len(_OUTCOMES))], dtype=np.int64)


@dataclass(frozen=True)
class MatchTerms:
    """The match score of every eligible pair, term by term (points, integers)."""

    needs: IntArray
    interests: IntArray
    disability: IntArray
    agency: IntArray
    continuity: IntArray
    language: IntArray

    @cached_property
    def total(self) -> IntArray:
        """The match score the solver maximises."""
        return (
            self.needs + self.interests + self.disability + self.agency + self.continuity
        ) + self.language

    def of_pair(self, pair: int) -> dict[str, int]:
        """The terms of one pair by name (language, needs, interests, disability, agency,
        continuity)."""
        return {
            "language": int(self.language[pair]),
            "needs": int(self.needs[pair]),
            "interests": int(self.interests[pair]),
            "disability": int(self.disability[pair]),
            "agency": int(self.agency[pair]),
            "continuity": int(self.continuity[pair]),
        }


@dataclass(frozen=True)
class ProblemArrays:
    """The numeric form of a Scenario. Pairs are sorted by family, then staff.

    `pair_family`/`pair_staff` index `family_ids`/`staff_ids`. A pinned family (to an active
    staff member) has exactly one pair. `staff_limit` is the most families a staff member may
    carry (the exception cap when one is in force, else the policy cap); places between `staff_cap`
    and `staff_limit` are exception places. `family_current` is the current staff index or -1.
    """

    family_ids: list[str]
    staff_ids: list[str]
    family_urgency: IntArray
    family_load: IntArray
    family_current: IntArray
    family_pinned: BoolArray
    staff_active: BoolArray
    staff_fte: FloatArray
    staff_cap: IntArray
    staff_limit: IntArray
    staff_exception: list[str | None]
    pair_family: IntArray
    pair_staff: IntArray
    terms: MatchTerms
    released_pins: list[str] = field(default_factory=list)

    @property
    def n_families(self) -> int:
        """Number of families."""
        return len(self.family_ids)

    @property
    def n_staff(self) -> int:
        """Number of staff members."""
        return len(self.staff_ids)

    @cached_property
    def pair_match(self) -> IntArray:
        """Total match score per pair."""
        return self.terms.total

    @cached_property
    def family_served(self) -> BoolArray:
        """True for a family whose current staff member is active: leaving it unplaced or
        placing it with anyone else is a move."""
        current = self.family_current
        served = current >= 0
        served[served] = self.staff_active[current[served]]
        return served

    @cached_property
    def pair_move(self) -> IntArray:
        """1 where the pair takes a family away from a current staff member who is active."""
        served = self.family_served[self.pair_family]
        current = self.family_current[self.pair_family]
        moved: IntArray = (served & (current != self.pair_staff)).astype(np.int64)
        return moved

    @cached_property
    def pair_stay(self) -> IntArray:
        """1 where the pair keeps a family with its current staff member, who is active. The
        moves of a plan are the served families (:attr:`family_served`) minus its stays, so
        "no more moves" is "no fewer stays" whatever is placed."""
        served = self.family_served[self.pair_family]
        current = self.family_current[self.pair_family]
        stay: IntArray = (served & (current == self.pair_staff)).astype(np.int64)
        return stay

    def moves_of(self, staff_of: IntArray) -> int:
        """The moves of the plan `staff_of` (staff index per family, -1 unplaced): families
        taken from an active current staff member, placed with someone else or unplaced."""
        return int((self.family_served & (staff_of != self.family_current)).sum())


def _index(values: list[str]) -> dict[str, int]:
    return {v: i for i, v in enumerate(dict.fromkeys(values))}


def _membership(rows: list[tuple[str, ...]], vocab: dict[str, int]) -> BoolArray:
    """rows[i] as a boolean row over vocab (unknown values ignored)."""
    out = np.zeros((len(rows), max(len(vocab), 1)), dtype=bool)
    for i, row in enumerate(rows):
        for v in row:
            j = vocab.get(v)
            if j is not None:
                out[i, j] = True
    return out


def _outcome_mask(outcomes: tuple[Outcome, ...]) -> int:
    mask = 0
    for o in outcomes:
        mask |= 1 << _OUTCOMES.index(o)
    return mask


def _cap(scenario: Scenario) -> IntArray:
    """Policy cap per staff member: 40 or lower, prorated by FTE, personal cap."""
    return np.array([s.cap(scenario.policy) for s in scenario.staff], dtype=np.int64)


def _exceptions(scenario: Scenario, cap: IntArray) -> tuple[IntArray, list[str | None]]:
    """Limit per staff member under the exceptions in force, and the exception that sets it."""
    limit = cap.copy()
    cited: list[str | None] = [None] * len(cap)
    for i, staff in enumerate(scenario.staff):
        widest = scenario.widest_exception(staff)
        if widest is not None and widest.cap_for(staff, scenario.policy) > limit[i]:
            limit[i] = widest.cap_for(staff, scenario.policy)
            cited[i] = widest.exception_id
    return limit, cited


def _eligible_groups(scenario: Scenario, staff_active: BoolArray) -> tuple[IntArray, BoolArray]:
    """Group id per family and the eligible-staff matrix per group (language, site, option)."""
    families, staff = scenario.families, scenario.staff
    keys = [(f.language, f.site, f.program_option.value) for f in families]
    key_index = _index([f"{k[0]}\x1f{k[1]}\x1f{k[2]}" for k in keys])
    group = np.array([key_index[f"{k[0]}\x1f{k[1]}\x1f{k[2]}"] for k in keys], dtype=np.int64)
    group_keys = [tuple(k.split("\x1f")) for k in key_index]
    languages = _index([k[0] for k in group_keys])
    sites = _index([k[1] for k in group_keys])
    options = {o.value: i for i, o in enumerate(ProgramOption)}
    g_lang = np.array([languages[k[0]] for k in group_keys], dtype=np.int64)
    g_site = np.array([sites[k[1]] for k in group_keys], dtype=np.int64)
    g_opt = np.array([options[k[2]] for k in group_keys], dtype=np.int64)

    eligible = staff_active[None, :].repeat(len(group_keys), axis=0)
    eligible &= _language(scenario, languages)[:, g_lang].T
    eligible &= _site(scenario, sites)[:, g_site].T
    opt = _membership([tuple(o.value for o in s.program_options) for s in staff], options)
    eligible &= opt[:, g_opt].T
    return group, eligible


def _language(scenario: Scenario, languages: dict[str, int]) -> BoolArray:
    """Staff x language: may serve a family of that language under the policy."""
    spoken = _membership([s.languages for s in scenario.staff], languages)
    if scenario.policy.language is LanguagePolicy.preferred:
        return np.ones_like(spoken)
    return spoken


def _site(scenario: Scenario, sites: dict[str, int]) -> BoolArray:
    """Staff x site: serves that site (or every site)."""
    serves = _membership([s.sites for s in scenario.staff], sites)
    serves[[("*" in s.sites) for s in scenario.staff], :] = True
    return serves


def _conflicts(scenario: Scenario, pair_f: IntArray, pair_s: IntArray) -> BoolArray:
    """True for pairs that are not listed in conflicts."""
    if not scenario.conflicts:
        return np.ones(len(pair_f), dtype=bool)
    fam = {f.family_id: i for i, f in enumerate(scenario.families)}
    stf = {s.staff_id: i for i, s in enumerate(scenario.staff)}
    m = len(scenario.staff)
    banned = np.array([fam[c.family_id] * m + stf[c.staff_id] for c in scenario.conflicts])
    return ~np.isin(pair_f * m + pair_s, banned)


def _pins(
    scenario: Scenario, current: IntArray, staff_active: BoolArray
) -> tuple[BoolArray, list[str]]:
    """Which families are pinned to an active staff member, and the pins released."""
    pinned = np.array([f.pinned for f in scenario.families], dtype=bool)
    released: list[str] = []
    for i in np.flatnonzero(pinned):
        if current[i] < 0 or not staff_active[current[i]]:
            pinned[i] = False
            released.append(scenario.families[i].family_id)
    return pinned, released


def match_terms(
    scenario: Scenario, pair_f: IntArray, pair_s: IntArray, current: IntArray
) -> MatchTerms:
    """Every score term of the pairs (`pair_f`, `pair_s`) indexing `scenario`'s families and
    staff, vectorised; `current` is each family's current staff index or -1. Only the families,
    staff and weights of `scenario` are read."""
    w = scenario.weights
    fams, staff = scenario.families, scenario.staff
    urgency = np.array([f.urgency for f in fams], dtype=np.int64)
    needs = np.array([_outcome_mask(f.needs) for f in fams], dtype=np.int64)
    interests = np.array([_outcome_mask(f.interests) for f in fams], dtype=np.int64)
    strengths = np.array([_outcome_mask(s.strengths) for s in staff], dtype=np.int64)
    st = strengths[pair_s]
    needs_term = urgency[pair_f] * w.need * _POPCOUNT[needs[pair_f] & st]
    interests_term = urgency[pair_f] * w.interest * _POPCOUNT[interests[pair_f] & st]
    fam_dis = np.array([f.disability_services for f in fams], dtype=bool)
    staff_dis = np.array([s.disability_services for s in staff], dtype=bool)
    disability = w.disability * (fam_dis[pair_f] & staff_dis[pair_s]).astype(np.int64)

    agencies = _index([f.external_plan_agency for f in fams if f.external_plan_agency])
    fam_agency = np.array(
        [agencies.get(f.external_plan_agency or "", -1) for f in fams], dtype=np.int64
    )
    staff_agency = _membership([s.agencies for s in staff], agencies)
    fa = fam_agency[pair_f]
    has = fa >= 0
    works_with = np.zeros(len(pair_f), dtype=bool)
    works_with[has] = staff_agency[pair_s[has], fa[has]]
    agency = w.agency * works_with.astype(np.int64)

    continuity = w.continuity * (current[pair_f] == pair_s).astype(np.int64)

    languages = _index([f.language for f in fams])
    spoken = _membership([s.languages for s in staff], languages)
    fam_lang = np.array([languages[f.language] for f in fams], dtype=np.int64)
    language = w.language * spoken[pair_s, fam_lang[pair_f]].astype(np.int64)
    return MatchTerms(needs_term, interests_term, disability, agency, continuity, language)


def family_load(scenario: Scenario) -> IntArray:
    """Weighted load per family in hundredths: intensity weight, lowered for an external plan."""
    iw = scenario.policy.intensity_weights
    factor = scenario.weights.external_plan_load_factor
    return np.array(
        [
            round(iw.of(f.intensity) * (factor if f.external_plan_agency else 1.0) * LOAD_SCALE)
            for f in scenario.families
        ],
        dtype=np.int64,
    )


def check_size(families: int, pairs: int) -> None:
    """Raise :class:`ProblemTooLarge` when `families` or eligible `pairs` exceed the limits."""
    if families > MAX_FAMILIES:
        raise ProblemTooLarge(
            f"{families:,} families is more than famassign plans at once ({MAX_FAMILIES:,}); "
            "split the program (by site or region) and plan each part"
        )
    if pairs > MAX_ELIGIBLE_PAIRS:
        raise ProblemTooLarge(
            f"{families:,} families have {pairs:,} eligible family x staff pairs, more than "
            f"famassign plans in bounded memory and time ({MAX_ELIGIBLE_PAIRS:,}; about 200 bytes "
            "each); staff who serve every site ('*') multiply them: list the sites each staff "
            "member serves, or split the program by site or region"
        )


def build_arrays(scenario: Scenario) -> ProblemArrays:
    """Turn a Scenario into ProblemArrays (eligible pairs under every hard rule but the cap)."""
    staff_index = {s.staff_id: i for i, s in enumerate(scenario.staff)}
    staff_active = np.array([s.status is StaffStatus.active for s in scenario.staff], dtype=bool)
    current = np.array(
        [staff_index.get(f.current_staff_id or "", -1) for f in scenario.families], dtype=np.int64
    )
    group, group_eligible = _eligible_groups(scenario, staff_active)

    # Expand group eligibility to pairs, family by family, each times its group's staff; count
    # them first so that a program beyond the limits is refused before anything large is built.
    counts = group_eligible.sum(axis=1)
    per_family = counts[group]
    check_size(len(group), int(per_family.sum()))
    pair_f = np.repeat(np.arange(len(group), dtype=np.int64), per_family)
    staff_lists = [np.flatnonzero(row) for row in group_eligible]
    pair_s = (
        np.concatenate([staff_lists[g] for g in group])
        if len(group)
        else np.zeros(0, dtype=np.int64)
    ).astype(np.int64)

    keep = _conflicts(scenario, pair_f, pair_s)
    pinned, released = _pins(scenario, current, staff_active)
    keep &= ~pinned[pair_f] | (pair_s == current[pair_f])
    pair_f, pair_s = pair_f[keep], pair_s[keep]

    cap = _cap(scenario)
    limit, cited = _exceptions(scenario, cap)
    arrays = ProblemArrays(
        family_ids=[f.family_id for f in scenario.families],
        staff_ids=[s.staff_id for s in scenario.staff],
        family_urgency=np.array([f.urgency for f in scenario.families], dtype=np.int64),
        family_load=family_load(scenario),
        family_current=current,
        family_pinned=pinned,
        staff_active=staff_active,
        staff_fte=np.array([s.fte for s in scenario.staff], dtype=np.float64),
        staff_cap=cap,
        staff_limit=np.where(staff_active, limit, 0),
        staff_exception=cited,
        pair_family=pair_f,
        pair_staff=pair_s,
        terms=match_terms(scenario, pair_f, pair_s, current),
        released_pins=released,
    )
    log.debug(
        "arrays: %d families, %d staff, %d eligible pairs",
        arrays.n_families,
        arrays.n_staff,
        len(pair_f),
    )
    return arrays
