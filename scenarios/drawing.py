"""Drawing a program for a :class:`GeneratorConfig`: families, the staff planned for them, a
current plan, pins and conflicts, as columns and drafts that :func:`generate` turns into models."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from famassign.models import ALL_SITES, Family, Outcome, ProgramOption, Staff, prorate
from famassign.scenarios.presets import GeneratorConfig

AGENCIES: tuple[str, ...] = (
    "Early Intervention",
    "County Health",
    "WIC",
    "Child Welfare",
    "Housing Authority",
    "Community Action",
)
"""Community agencies that may already hold a plan with a family (1302.52(e))."""

URGENCY_SHARES = (0.08, 0.25, 0.35, 0.22, 0.10)
"""Shares of urgency 1..5: most families score 2-4."""
INTENSITY_SHARES = (0.45, 0.35, 0.20)
"""Shares of low / medium / high intensity."""
NEED_PROBABILITY_BY_URGENCY = (0.05, 0.12, 0.20, 0.30, 0.45)
"""Chance that each PFCE outcome is a need, by urgency 1..5."""
INTEREST_PROBABILITY = 0.25
CENTER_OPTIONS = (ProgramOption.center_based, ProgramOption.locally_designed)
HOME_OPTIONS = (ProgramOption.home_based, ProgramOption.family_child_care)
PRIMARY_LANGUAGES = ("en", "es")
OUTCOMES = tuple(Outcome)
CAP = 40
"""The 40:1 cap of 45 CFR 1302.52(c) that staff are sized against."""


@dataclass
class FamilyColumns:
    """The drawn families, one array per attribute (row i is family i)."""

    site: np.ndarray  # int site index
    language: np.ndarray  # int language index
    option: np.ndarray  # int index into tuple(ProgramOption)
    urgency: np.ndarray
    intensity: np.ndarray
    needs: np.ndarray  # bool (n, 7)
    interests: np.ndarray
    disability: np.ndarray
    agency: np.ndarray  # int index into AGENCIES, -1 for none


def _shares(mapping: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    keys = list(mapping)
    p = np.array([mapping[k] for k in keys], dtype=float)
    return keys, p / p.sum()


def draw_families(
    cfg: GeneratorConfig, rng: np.random.Generator, langs: list[str]
) -> FamilyColumns:
    """Families over sites of uneven size, language mixes varying by site, needs by urgency."""
    n = cfg.n_families
    _, lang_p = _shares(cfg.languages)
    opt_keys, opt_p = _shares(cfg.program_options)
    all_opts = list(ProgramOption)
    opt_index = np.array([all_opts.index(ProgramOption(k)) for k in opt_keys])

    site_weight = rng.lognormal(0.0, cfg.site_size_spread, cfg.n_sites)
    site = rng.choice(cfg.n_sites, size=n, p=site_weight / site_weight.sum())
    language = np.zeros(n, dtype=np.int64)
    # language mixes vary by site: rarer languages cluster in a few sites
    alpha = np.maximum(40.0 * lang_p, 1e-3)
    for s in range(cfg.n_sites):
        members = np.flatnonzero(site == s)
        if members.size:
            p_site = rng.dirichlet(alpha) if len(langs) > 1 else np.ones(1)
            language[members] = rng.choice(len(langs), size=members.size, p=p_site)
    option = opt_index[rng.choice(len(opt_keys), size=n, p=opt_p)]
    urgency = rng.choice(5, size=n, p=URGENCY_SHARES) + 1
    intensity = rng.choice(3, size=n, p=INTENSITY_SHARES)
    if cfg.rare_intensity is not None:
        rare = ~np.isin(language, [langs.index(x) for x in PRIMARY_LANGUAGES if x in langs])
        shares = np.asarray(cfg.rare_intensity, dtype=float)
        intensity[rare] = rng.choice(3, size=int(rare.sum()), p=shares / shares.sum())
    need_p = np.asarray(NEED_PROBABILITY_BY_URGENCY)[urgency - 1]
    needs = rng.random((n, len(OUTCOMES))) < need_p[:, None]
    interests = rng.random((n, len(OUTCOMES))) < INTEREST_PROBABILITY
    disability = rng.random(n) < cfg.disability_share
    has_agency = rng.random(n) < cfg.agency_share
    agency = np.where(has_agency, rng.choice(len(AGENCIES), size=n), -1)
    # a family whose child has an IEP/IFSP usually works with Early Intervention when it has a plan
    agency = np.where(has_agency & disability & (rng.random(n) < 0.6), 0, agency)
    return FamilyColumns(
        site, language, option, urgency, intensity, needs, interests, disability, agency
    )


def arrange_waiver_site(
    cfg: GeneratorConfig, cols: FamilyColumns, langs: list[str], rng: np.random.Generator
) -> tuple[int, int] | None:
    """Make one site's Spanish center demand 40*k + 3; return (site, k) or None if impossible."""
    if "es" not in langs or "en" not in langs:
        return None
    es, en = langs.index("es"), langs.index("en")
    center = np.isin(cols.option, [list(ProgramOption).index(o) for o in CENTER_OPTIONS])
    es_counts = np.bincount(cols.site[center & (cols.language == es)], minlength=cfg.n_sites)
    site = int(np.argmax(es_counts))
    here = center & (cols.site == site)
    m = int(es_counts[site])
    k = max(1, round(m / CAP))
    target = CAP * k + 3
    if m > target:
        drop = rng.choice(np.flatnonzero(here & (cols.language == es)), m - target, replace=False)
        cols.language[drop] = en
    elif m < target:
        pool = np.flatnonzero(here & (cols.language == en))
        if pool.size < target - m:
            return None
        add = rng.choice(pool, target - m, replace=False)
        cols.language[add] = es
    return site, k


# --------------------------------------------------------------------------------------------
# staff


@dataclass
class StaffDraft:
    """A planned hire: what they speak, where and for which options they serve, their FTE."""

    languages: tuple[str, ...]
    sites: tuple[int, ...]  # site indexes; empty = every site
    options: tuple[ProgramOption, ...]
    fte: float
    role: str  # "advocate" | "home_visitor"
    home_site: int
    waiver: bool = False
    absent: bool = False


def _capacity(fte: float) -> int:
    return prorate(CAP, fte)


def _ftes_for(
    need: float,
    minimum: int,
    rng: np.random.Generator,
    part_time_share: float,
    part_time_ftes: tuple[float, ...],
) -> list[float]:
    """FTEs of a team whose total prorated cap covers `need` families, and at least `minimum`.

    A last hire that would only add slack worth less than a half-time caseload is not made.
    """
    ftes: list[float] = []
    remaining = math.ceil(need - 1e-9)
    made = 0
    while remaining > 0:
        smallest = min(part_time_ftes)
        if made >= minimum and remaining < _capacity(smallest):
            break
        if remaining <= _capacity(smallest):
            fte = smallest  # a small rest: an advocate with other duties, part time
        elif remaining <= CAP and rng.random() < part_time_share:
            # the smallest part-time role that covers the rest
            fte = next(
                (f for f in (*sorted(part_time_ftes), 1.0) if _capacity(f) >= remaining), 1.0
            )
        elif rng.random() < part_time_share / 2:
            fte = float(rng.choice(part_time_ftes))
        else:
            fte = 1.0
        ftes.append(fte)
        remaining -= _capacity(fte)
        made += _capacity(fte)
    return ftes


def _areas(n_sites: int, size: int) -> list[tuple[int, ...]]:
    return [tuple(range(a, min(a + size, n_sites))) for a in range(0, n_sites, size)]


def plan_staff(
    cfg: GeneratorConfig,
    cols: FamilyColumns,
    langs: list[str],
    waiver_site: tuple[int, int] | None,
    rng: np.random.Generator,
) -> list[StaffDraft]:
    """Staff sized per site (or area), language and option group, with `cfg.slack` to spare."""
    all_opts = list(ProgramOption)
    center = np.isin(cols.option, [all_opts.index(o) for o in CENTER_OPTIONS])
    es = langs.index("es") if "es" in langs else -1
    en = langs.index("en") if "en" in langs else -1
    primary = (cols.language == en) | (cols.language == es)
    grow = 1.0 + cfg.slack
    pt = cfg.part_time_share
    drafts: list[StaffDraft] = []

    def team(
        n: float,
        languages: tuple[str, ...],
        sites: tuple[int, ...],
        options: tuple[ProgramOption, ...],
        role: str,
        home: int,
    ) -> int:
        """Hire for `n` families (plus slack); return the capacity hired."""
        made = 0
        for fte in _ftes_for(n * grow, math.ceil(n - 1e-9), rng, pt, cfg.part_time_ftes):
            drafts.append(StaffDraft(languages, sites, options, fte, role, home))
            made += _capacity(fte)
        return made

    def mixed(
        n_es: int,
        n_all: int,
        credit: int,
        sites: tuple[int, ...],
        options: tuple[ProgramOption, ...],
        role: str,
        home: int,
    ) -> None:
        """Bilingual es/en staff for the Spanish-speaking families, English-only for the rest
        (less `credit` places found elsewhere); bilingual staff take a rest under half time."""
        english = n_all - n_es - credit / grow
        if n_es > 0 and english * grow < _capacity(min(cfg.part_time_ftes)):
            team(n_es + max(0.0, english), ("en", "es"), sites, options, role, home)
            return
        bilingual = team(n_es, ("en", "es"), sites, options, role, home)
        team(n_all - (bilingual + credit) / grow, ("en",), sites, options, role, home)

    # home visitors, per service area
    home = ~center & primary
    for area in _areas(cfg.n_sites, cfg.home_area_size):
        in_area = home & np.isin(cols.site, area)
        n_es = int(np.count_nonzero(in_area & (cols.language == es)))
        n_all = int(np.count_nonzero(in_area))
        mixed(n_es, n_all, 0, area, HOME_OPTIONS, "home_visitor", area[0])

    # advocates for the other languages, per wider area (or the whole program), every option;
    # what they can take beyond their own language's families goes to English center families
    spare_by_site = np.zeros(cfg.n_sites, dtype=np.int64)
    rare_areas = _areas(cfg.n_sites, cfg.rare_area_size)
    for li, lang in enumerate(langs):
        if lang in PRIMARY_LANGUAGES:
            continue
        for area in rare_areas:
            n_lang = int(np.count_nonzero((cols.language == li) & np.isin(cols.site, area)))
            speaks = tuple(sorted({lang, "en"}))
            sites = () if len(rare_areas) == 1 else area
            made = team(n_lang, speaks, sites, tuple(ProgramOption), "advocate", area[0])
            if en >= 0:
                spare_by_site[area[0]] += max(0, made - math.ceil(n_lang * grow))

    # center-based advocates, per site
    for s in range(cfg.n_sites):
        here = center & (cols.site == s) & primary
        n_es = int(np.count_nonzero(here & (cols.language == es)))
        n_all = int(np.count_nonzero(here))
        if waiver_site is not None and waiver_site[0] == s:
            k = waiver_site[1]
            for i in range(k):
                drafts.append(
                    StaffDraft(
                        ("en", "es"), (s,), CENTER_OPTIONS, 1.0, "advocate", s, waiver=i == 0
                    )
                )
            english = n_all - (CAP * k + int(spare_by_site[s])) / grow
            team(english, ("en",), (s,), CENTER_OPTIONS, "advocate", s)
        else:
            mixed(n_es, n_all, int(spare_by_site[s]), (s,), CENTER_OPTIONS, "advocate", s)

    # extra advocates who carry families now but are absent on the planning date
    site_sizes = np.bincount(cols.site[center], minlength=cfg.n_sites)
    for s in np.argsort(-site_sizes, kind="stable")[: cfg.absent_staff]:
        drafts.append(
            StaffDraft(("en",), (int(s),), CENTER_OPTIONS, 1.0, "advocate", int(s), absent=True)
        )

    # some advocates also serve a neighbouring site or two (no bilingual one the waiver site)
    if cfg.n_sites > 1:
        for d in drafts:
            if d.role != "advocate" or len(d.sites) != 1 or d.waiver or d.absent:
                continue
            home_site = d.sites[0]
            for step in (1, -1):  # the next site, then (less often) the previous one too
                other = (home_site + step) % cfg.n_sites
                if other in d.sites or (
                    waiver_site is not None and other == waiver_site[0] and "es" in d.languages
                ):
                    continue
                if rng.random() < cfg.neighbour_share * (1.0 if step == 1 else 0.5):
                    d.sites = (*d.sites, other)
    if cfg.dense:
        for d in drafts:
            d.sites = ()
    drafts.sort(key=lambda d: (d.home_site, d.role, d.languages))
    return drafts


# fmt: off
_FIRST = (
    "Alex", "Brianna", "Carla", "Dana", "Elijah", "Fatima", "Grace", "Hannah", "Isaac", "Jamal",
    "Keisha", "Laura", "Marcus", "Nadia", "Olivia", "Priya", "Quinn", "Rachel", "Samuel",
    "Tanya", "Uma", "Victor", "Wendy", "Yusuf", "Zoe", "Diego", "Lucia", "Mateo", "Sofia",
    "Camila",
)
_LAST = (
    "Adams", "Baker", "Carter", "Davis", "Evans", "Foster", "Green", "Hughes", "Jackson", "King",
    "Lewis", "Morgan", "Nguyen", "Owens", "Patel", "Reed", "Scott", "Turner", "Walker", "Young",
    "Garcia", "Martinez", "Lopez", "Hernandez", "Ramirez", "Torres", "Flores", "Rivera",
)
# fmt: on


def build_staff(
    cfg: GeneratorConfig, drafts: list[StaffDraft], site_names: list[str], rng: np.random.Generator
) -> list[Staff]:
    """Staff members of the `drafts`, with drawn names, strengths, training and agencies."""
    staff: list[Staff] = []
    for i, d in enumerate(drafts):
        k = int(rng.integers(2, 5))
        strengths = tuple(OUTCOMES[j] for j in rng.choice(len(OUTCOMES), k, replace=False))
        n_agencies = int(rng.choice(3, p=(0.4, 0.4, 0.2)))
        agencies = tuple(
            sorted(AGENCIES[j] for j in rng.choice(len(AGENCIES), n_agencies, replace=False))
        )
        name = f"{_FIRST[int(rng.integers(len(_FIRST)))]} {_LAST[int(rng.integers(len(_LAST)))]}"
        staff.append(
            Staff(
                staff_id=f"S{i + 1:04d}",
                name=name,
                fte=d.fte,
                languages=d.languages,
                sites=tuple(site_names[s] for s in d.sites) if d.sites else (ALL_SITES,),
                program_options=d.options,
                strengths=strengths,
                disability_services=bool(rng.random() < cfg.staff_disability_share),
                agencies=agencies,
            )
        )
    return staff


# --------------------------------------------------------------------------------------------
# current plan, pins, conflicts


def staff_by_cell(staff: list[Staff]) -> dict[tuple[str, str], list[int]]:
    """Staff indexes by (language, site), the site ``*`` standing for every site."""
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j, s in enumerate(staff):
        for lang in s.languages:
            for site in s.sites:
                index[(lang, site)].append(j)
    return index


def eligible_staff(
    index: dict[tuple[str, str], list[int]],
    staff: list[Staff],
    lang: str,
    site: str,
    option: ProgramOption,
) -> list[int]:
    """Staff (indexes, ascending) eligible by language, site and option."""
    cands = set(index.get((lang, site), ())) | set(index.get((lang, ALL_SITES), ()))
    return sorted(j for j in cands if option in staff[j].program_options)


def current_plan(
    families: list[Family],
    staff: list[Staff],
    caps: list[int],
    policy_caps: list[int],
    chosen: np.ndarray,
    rng: np.random.Generator,
) -> dict[int, int]:
    """family index -> staff index for the `chosen` families: eligible, within `caps`, balanced.

    Aggregated min-cost max-flow (cells of families with the same language, site and option ->
    staff -> sink); slots above a person's policy cap cost most, so an exception is used only
    when it is needed; within a cell, families are handed out in random order. (The solver's
    :mod:`solver.flow` does another job: one node per family, a lexicographic objective without
    fill tiers, so a plan of it piles families on the best-matched staff.)
    """
    from ortools.graph.python import min_cost_flow

    cells: dict[tuple[str, str, ProgramOption], list[int]] = defaultdict(list)
    for i in np.flatnonzero(chosen):
        f = families[int(i)]
        cells[(f.language, f.site, f.program_option)].append(int(i))
    index = staff_by_cell(staff)
    keys = sorted(cells, key=lambda k: (k[0], k[1], k[2].value))
    n_staff = len(staff)
    source, sink = 0, 1
    staff_node = 2
    cell_node = 2 + n_staff
    tails: list[int] = []
    heads: list[int] = []
    capacities: list[int] = []
    costs: list[int] = []

    def arc(t: int, h: int, cap: int, cost: int) -> None:
        tails.append(t)
        heads.append(h)
        capacities.append(cap)
        costs.append(cost)

    cell_arcs: list[tuple[int, int, int]] = []  # (arc id, cell, staff)
    for c, key in enumerate(keys):
        count = len(cells[key])
        arc(source, cell_node + c, count, 0)
        for j in eligible_staff(index, staff, *key):
            cell_arcs.append((len(tails), c, j))
            arc(cell_node + c, staff_node + j, count, int(rng.integers(0, 2)))
    for j in range(n_staff):
        policy_cap, cap = policy_caps[j], caps[j]
        half, most = policy_cap // 2, (policy_cap * 9) // 10
        for lo, hi, cost in (
            (0, half, 0),
            (half, most, 2),
            (most, policy_cap, 4),
            (policy_cap, cap, 50),
        ):
            if hi > lo:
                arc(staff_node + j, sink, hi - lo, cost)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails, dtype=np.int32),
        np.asarray(heads, dtype=np.int32),
        np.asarray(capacities, dtype=np.int64),
        np.asarray(costs, dtype=np.int64),
    )
    total = int(np.count_nonzero(chosen))
    flow.set_node_supply(source, total)
    flow.set_node_supply(sink, -total)
    plan: dict[int, int] = {}
    if flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:  # pragma: no cover - defensive
        return plan
    queues = {c: list(rng.permutation(cells[key])) for c, key in enumerate(keys)}
    for arc_id, c, j in cell_arcs:
        for _ in range(int(flow.flow(arc_id))):
            plan[int(queues[c].pop())] = j
    return plan


def pick(rng: np.random.Generator, pool: np.ndarray | list[int], share: float) -> list[int]:
    """A random `share` of `pool`, ascending."""
    k = min(len(pool), round(share * len(pool))) if share > 0 else 0
    return (
        sorted(int(x) for x in rng.choice(np.asarray(pool, dtype=np.int64), k, replace=False))
        if k
        else []
    )


__all__ = [
    "AGENCIES",
    "CAP",
    "CENTER_OPTIONS",
    "HOME_OPTIONS",
    "OUTCOMES",
    "FamilyColumns",
    "StaffDraft",
    "arrange_waiver_site",
    "build_staff",
    "current_plan",
    "draw_families",
    "eligible_staff",
    "pick",
    "plan_staff",
    "staff_by_cell",
]
