"""A seeded generator of realistic Head Start programs, built directly as :mod:`models` objects.

``generate(preset_or_config, seed)`` returns a validated :class:`models.Scenario`; the same preset
and seed always give an equal scenario. Families are spread over sites of uneven size, with
language mixes that vary by site; staff are sized per site, language and program option so that
every family can be placed within the 40:1 cap with a configurable slack:

- bilingual es/en family advocates at each site in proportion to its Spanish-speaking families,
  English-only advocates for the rest (some also serve the neighbouring site);
- home visitors, per service area of a few sites, for the home-based and family child care options;
- a few advocates for each rarer language, covering an area of sites or the whole program (``*``);
- part-time staff (FTE 0.5-0.8), strengths, disability-services training, partner agencies.

Options add a valid current plan (for reassignment), pins, conflicts, a waiver that is actually
needed at one site, an expired temporary exception, and absent staff. ``dense=True`` makes every
staff member serve every site, for benchmarks with millions of eligible pairs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from famassign.models import (
    ALL_SITES,
    CapException,
    Conflict,
    ExceptionKind,
    Family,
    Intensity,
    Outcome,
    Policy,
    ProgramOption,
    Scenario,
    Staff,
    StaffStatus,
    most_allowed,
    prorate,
)

DEFAULT_LANGUAGES: dict[str, float] = {
    "en": 0.65,
    "es": 0.28,
    "ar": 0.02,
    "vi": 0.015,
    "ht": 0.015,
    "zh": 0.01,
    "so": 0.01,
}
"""Preferred-language shares of a typical program (English, Spanish and a few others)."""

DEFAULT_OPTIONS: dict[str, float] = {
    ProgramOption.center_based.value: 0.80,
    ProgramOption.home_based.value: 0.15,
    ProgramOption.family_child_care.value: 0.04,
    ProgramOption.locally_designed.value: 0.01,
}
"""Program-option shares of enrolled families."""

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
PART_TIME_FTES = (0.5, 0.6, 0.7, 0.8)
SPECIALIST_LANGUAGES: dict[str, float] = {
    "en": 0.62,
    "es": 0.28,
    "ar": 0.03,
    "vi": 0.02,
    "ht": 0.02,
    "zh": 0.01,
    "so": 0.02,
}
"""A program where a tenth of the families speak a rarer language (the ``specialists`` preset)."""

CENTER_OPTIONS = (ProgramOption.center_based, ProgramOption.locally_designed)
HOME_OPTIONS = (ProgramOption.home_based, ProgramOption.family_child_care)
PRIMARY_LANGUAGES = ("en", "es")
EXAMPLE_AS_OF = date(2026, 8, 17)
_OUTCOMES = tuple(Outcome)
_CAP = 40


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Shares are fractions; counts from shares are rounded.

    `languages` and `program_options` are shares (normalised); ``en`` and ``es`` families are
    served by English-only and bilingual es/en staff, any other language by advocates who speak it
    and English. `slack` is the spare capacity over families per site and language
    (0.08 = 8 %). `with_current_assignments` gives `current_share` of the families a
    current_staff_id that is eligible and within caps; `pinned_share` of those are pinned.
    `conflicts_share` of families get a conflict with an otherwise eligible staff member.
    `site_size_spread` is the sigma of the lognormal site sizes; `neighbour_share` the chance
    that an advocate also serves the next site (half that for the previous one). `waiver` arranges
    one site where Spanish center-based demand exceeds 40 per bilingual advocate
    by 3 and adds a waiver (max 45) for one of them; `expired_exception` adds a temporary
    exception that ended before `as_of`; `absent_staff` adds that many extra advocates who carry
    families in the current plan but are now absent. `dense` makes every staff member serve ``*``.
    """

    n_families: int = 600
    n_sites: int = 6
    languages: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LANGUAGES))
    program_options: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_OPTIONS))
    slack: float = 0.08
    part_time_share: float = 0.15
    neighbour_share: float = 0.5
    site_size_spread: float = 0.5
    home_area_size: int = 4
    rare_area_size: int = 12
    disability_share: float = 0.12
    agency_share: float = 0.10
    staff_disability_share: float = 0.20
    dense: bool = False
    with_current_assignments: bool = False
    current_share: float = 1.0
    pinned_share: float = 0.0
    conflicts_share: float = 0.0
    waiver: bool = False
    expired_exception: bool = False
    absent_staff: int = 0
    part_time_ftes: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8)
    site_names: tuple[str, ...] = ()
    name: str = ""
    as_of: date = EXAMPLE_AS_OF

    def __post_init__(self) -> None:
        if self.n_families < 1:
            raise ValueError(f"n_families must be at least 1, got {self.n_families}")
        if self.n_sites < 1:
            raise ValueError(f"n_sites must be at least 1, got {self.n_sites}")
        if self.site_names and len(self.site_names) != self.n_sites:
            raise ValueError(
                f"site_names has {len(self.site_names)} names for n_sites={self.n_sites}"
            )
        for label, shares in (
            ("languages", self.languages),
            ("program_options", self.program_options),
        ):
            if not shares or any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
                raise ValueError(f"{label} shares must be non-negative with a positive sum")
        for opt in self.program_options:
            ProgramOption(opt)
        for label, value in (
            ("slack", self.slack),
            ("part_time_share", self.part_time_share),
            ("neighbour_share", self.neighbour_share),
            ("current_share", self.current_share),
            ("pinned_share", self.pinned_share),
            ("conflicts_share", self.conflicts_share),
        ):
            if not 0 <= value <= 1:
                raise ValueError(f"{label} must be between 0 and 1, got {value}")
        if self.site_size_spread < 0:
            raise ValueError(f"site_size_spread must be non-negative, got {self.site_size_spread}")
        if self.home_area_size < 1 or self.rare_area_size < 1 or self.absent_staff < 0:
            raise ValueError("area sizes must be at least 1 and absent_staff non-negative")
        if not self.part_time_ftes or any(not 0.1 <= f < 1 for f in self.part_time_ftes):
            raise ValueError(
                f"part_time_ftes must be non-empty, each in [0.1, 1), got {self.part_time_ftes}"
            )


PRESETS: dict[str, GeneratorConfig] = {
    "rural": GeneratorConfig(
        n_families=120, n_sites=3, languages={"en": 0.70, "es": 0.28, "ar": 0.02}
    ),
    "small": GeneratorConfig(n_families=600, n_sites=6),
    "medium": GeneratorConfig(n_families=2_000, n_sites=12),
    "large": GeneratorConfig(n_families=10_000, n_sites=40),
    "state": GeneratorConfig(n_families=30_000, n_sites=120),
    "dense": GeneratorConfig(n_families=10_000, n_sites=40, dense=True),
    # Program structures the size presets lack (10,000 families each; scale with `scaled`).
    "specialists": GeneratorConfig(
        n_families=10_000,
        n_sites=40,
        languages=SPECIALIST_LANGUAGES,
        rare_area_size=40,
        slack=0.16,
    ),
    "near_cap": GeneratorConfig(n_families=10_000, n_sites=40, slack=0.16, neighbour_share=0.9),
    "part_time": GeneratorConfig(
        n_families=10_000, n_sites=40, part_time_share=0.7, part_time_ftes=(0.5,)
    ),
    "agency": GeneratorConfig(n_families=10_000, n_sites=40, agency_share=0.6),
    "crowded": GeneratorConfig(n_families=6_000, n_sites=1, languages={"en": 1.0}, dense=True),
}
"""Named programs. Sizes: ``rural`` to ``state``; ``dense`` is ``large`` with every staff member
serving every site. Structures (10,000 families): ``specialists``, advocates of rarer languages
(a larger share than usual) who also speak English and serve every site, linking the whole
program into one component, ~86% of the capacity used; ``near_cap``, ~86% of the capacity used
with most advocates also serving a neighbouring site; ``part_time``, 70% of hires part-time, all
at 0.5 FTE; ``agency``, 60% of families with a plan held by another agency (a lighter load);
``crowded`` (6,000 families), one site and one language: everyone may serve everyone, about two
million eligible pairs, and any even spread is optimal."""


def scaled(preset: str | GeneratorConfig, n_families: int) -> GeneratorConfig:
    """`preset` with `n_families` families and as many sites per family as it had."""
    cfg = preset_config(preset)
    sites = max(1, round(cfg.n_sites * n_families / cfg.n_families))
    rare = cfg.rare_area_size if cfg.rare_area_size < cfg.n_sites else sites
    return replace(cfg, n_families=n_families, n_sites=sites, rare_area_size=rare)


def preset_config(preset: str | GeneratorConfig) -> GeneratorConfig:
    """The config of a preset name (or the config itself); ValueError naming the presets."""
    if isinstance(preset, GeneratorConfig):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise ValueError(
            f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}"
            " or pass a GeneratorConfig"
        ) from None


# --------------------------------------------------------------------------------------------
# families


@dataclass
class _FamilyColumns:
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


def _draw_families(
    cfg: GeneratorConfig, rng: np.random.Generator, langs: list[str]
) -> _FamilyColumns:
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
    need_p = np.asarray(NEED_PROBABILITY_BY_URGENCY)[urgency - 1]
    needs = rng.random((n, len(_OUTCOMES))) < need_p[:, None]
    interests = rng.random((n, len(_OUTCOMES))) < INTEREST_PROBABILITY
    disability = rng.random(n) < cfg.disability_share
    has_agency = rng.random(n) < cfg.agency_share
    agency = np.where(has_agency, rng.choice(len(AGENCIES), size=n), -1)
    # a family whose child has an IEP/IFSP usually works with Early Intervention when it has a plan
    agency = np.where(has_agency & disability & (rng.random(n) < 0.6), 0, agency)
    return _FamilyColumns(
        site, language, option, urgency, intensity, needs, interests, disability, agency
    )


def _arrange_waiver_site(
    cfg: GeneratorConfig, cols: _FamilyColumns, langs: list[str], rng: np.random.Generator
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
    k = max(1, round(m / _CAP))
    target = _CAP * k + 3
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
class _StaffDraft:
    languages: tuple[str, ...]
    sites: tuple[int, ...]  # site indexes; empty = every site
    options: tuple[ProgramOption, ...]
    fte: float
    role: str  # "advocate" | "home_visitor"
    home_site: int
    waiver: bool = False
    absent: bool = False


def _capacity(fte: float) -> int:
    return prorate(_CAP, fte)


def _ftes_for(
    need: float,
    minimum: int,
    rng: np.random.Generator,
    part_time_share: float,
    part_time_ftes: tuple[float, ...] = PART_TIME_FTES,
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
        elif remaining <= _CAP and rng.random() < part_time_share:
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


def _plan_staff(
    cfg: GeneratorConfig,
    cols: _FamilyColumns,
    langs: list[str],
    waiver_site: tuple[int, int] | None,
    rng: np.random.Generator,
) -> list[_StaffDraft]:
    """Staff sized per site (or area), language and option group, with `cfg.slack` to spare."""
    all_opts = list(ProgramOption)
    center = np.isin(cols.option, [all_opts.index(o) for o in CENTER_OPTIONS])
    es = langs.index("es") if "es" in langs else -1
    en = langs.index("en") if "en" in langs else -1
    primary = (cols.language == en) | (cols.language == es)
    grow = 1.0 + cfg.slack
    pt = cfg.part_time_share
    drafts: list[_StaffDraft] = []

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
            drafts.append(_StaffDraft(languages, sites, options, fte, role, home))
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
                    _StaffDraft(
                        ("en", "es"), (s,), CENTER_OPTIONS, 1.0, "advocate", s, waiver=i == 0
                    )
                )
            english = n_all - (_CAP * k + int(spare_by_site[s])) / grow
            team(english, ("en",), (s,), CENTER_OPTIONS, "advocate", s)
        else:
            mixed(n_es, n_all, int(spare_by_site[s]), (s,), CENTER_OPTIONS, "advocate", s)

    # extra advocates who carry families now but are absent on the planning date
    site_sizes = np.bincount(cols.site[center], minlength=cfg.n_sites)
    for s in np.argsort(-site_sizes, kind="stable")[: cfg.absent_staff]:
        drafts.append(
            _StaffDraft(("en",), (int(s),), CENTER_OPTIONS, 1.0, "advocate", int(s), absent=True)
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


def _build_staff(
    cfg: GeneratorConfig, drafts: list[_StaffDraft], site_names: list[str], rng: np.random.Generator
) -> list[Staff]:
    staff: list[Staff] = []
    for i, d in enumerate(drafts):
        k = int(rng.integers(2, 5))
        strengths = tuple(_OUTCOMES[j] for j in rng.choice(len(_OUTCOMES), k, replace=False))
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


def _cell_index(staff: list[Staff]) -> dict[tuple[str, str], list[int]]:
    """Staff indexes by (language, site), the site ``*`` standing for every site."""
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j, s in enumerate(staff):
        for lang in s.languages:
            for site in s.sites:
                index[(lang, site)].append(j)
    return index


def _eligible(
    index: dict[tuple[str, str], list[int]],
    staff: list[Staff],
    lang: str,
    site: str,
    option: ProgramOption,
    usable: set[int] | None = None,
) -> list[int]:
    """Staff (indexes, ascending) eligible by language, site and option; `usable` filters."""
    cands = set(index.get((lang, site), ())) | set(index.get((lang, ALL_SITES), ()))
    return sorted(j for j in cands if option in staff[j].program_options)


def _current_plan(
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
    when it is needed; within a cell, families are handed out in random order.
    """
    from ortools.graph.python import min_cost_flow

    cells: dict[tuple[str, str, ProgramOption], list[int]] = defaultdict(list)
    for i in np.flatnonzero(chosen):
        f = families[int(i)]
        cells[(f.language, f.site, f.program_option)].append(int(i))
    index = _cell_index(staff)
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
        for j in _eligible(index, staff, *key):
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


def _pick(rng: np.random.Generator, pool: np.ndarray | list[int], share: float) -> list[int]:
    k = min(len(pool), round(share * len(pool))) if share > 0 else 0
    return (
        sorted(int(x) for x in rng.choice(np.asarray(pool, dtype=np.int64), k, replace=False))
        if k
        else []
    )


# --------------------------------------------------------------------------------------------
# generate


def generate(preset: str | GeneratorConfig, seed: int = 0) -> Scenario:
    """A realistic, validated program for `preset` (a name in :data:`PRESETS` or a config).

    Deterministic: the same preset and seed give an equal Scenario. Families are eligible only
    for staff of their language, site and option (unless `dense`); total capacity exceeds the
    families by about `slack` in every site, language and option group.
    """
    cfg = preset_config(preset)
    rng = np.random.default_rng(seed)
    langs = [lang.lower() for lang in cfg.languages]
    site_names = list(cfg.site_names) or [f"site-{s + 1:03d}" for s in range(cfg.n_sites)]
    cols = _draw_families(cfg, rng, langs)
    waiver_site = _arrange_waiver_site(cfg, cols, langs, rng) if cfg.waiver else None
    drafts = _plan_staff(cfg, cols, langs, waiver_site, rng)
    staff = _build_staff(cfg, drafts, site_names, rng)
    policy = Policy()

    all_opts = list(ProgramOption)
    intensities = list(Intensity)
    families = [
        Family(
            family_id=f"F{i + 1:05d}",
            language=langs[int(cols.language[i])],
            site=site_names[int(cols.site[i])],
            program_option=all_opts[int(cols.option[i])],
            urgency=int(cols.urgency[i]),
            intensity=intensities[int(cols.intensity[i])],
            needs=tuple(o for o, b in zip(_OUTCOMES, cols.needs[i], strict=True) if b),
            interests=tuple(o for o, b in zip(_OUTCOMES, cols.interests[i], strict=True) if b),
            disability_services=bool(cols.disability[i]),
            external_plan_agency=AGENCIES[int(cols.agency[i])] if cols.agency[i] >= 0 else None,
        )
        for i in range(cfg.n_families)
    ]

    exceptions: list[CapException] = []
    if cfg.waiver:
        waived = next((s.staff_id for s, d in zip(staff, drafts, strict=True) if d.waiver), None)
        where = site_names[waiver_site[0]] if waiver_site else "the program"
        exceptions.append(
            CapException(
                exception_id="W-2026-01",
                kind=ExceptionKind.waiver,
                staff_id=waived,
                max_families=45,
                starts=date(cfg.as_of.year, 7, 1),
                ends=date(cfg.as_of.year + 1, 6, 30),
                reference=f"ACF-RO5-WVR-{cfg.as_of.year}-0147",
                note=f"Spanish-speaking enrollment at {where} exceeds 40 per bilingual advocate",
            )
        )
    if cfg.expired_exception:
        covered = next(
            (
                s.staff_id
                for s, d in zip(staff, drafts, strict=True)
                if not (d.absent or d.waiver) and d.fte == 1.0
            ),
            None,
        )
        exceptions.append(
            CapException(
                exception_id="T-2026-03",
                kind=ExceptionKind.staff_attrition,
                staff_id=covered,
                max_families=44,
                starts=cfg.as_of - timedelta(days=170),
                ends=cfg.as_of - timedelta(days=60),
                note="covered a departed advocate's caseload until the vacancy was filled",
            )
        )
    in_force = [e for e in exceptions if e.in_force(cfg.as_of)]
    policy_caps = [s.cap(policy) for s in staff]
    caps = [most_allowed(s, policy, in_force) for s in staff]

    conflicts: list[Conflict] = []
    if cfg.with_current_assignments:
        chosen = rng.random(cfg.n_families) < cfg.current_share
        plan = _current_plan(families, staff, caps, policy_caps, chosen, rng)
        absent = {j for j, d in enumerate(drafts) if d.absent}
        pinnable = [i for i, j in sorted(plan.items()) if j not in absent]
        pinned = set(_pick(rng, pinnable, cfg.pinned_share))
        families = [
            f.model_copy(
                update={"current_staff_id": staff[plan[i]].staff_id, "pinned": i in pinned}
            )
            if i in plan
            else f
            for i, f in enumerate(families)
        ]
    if cfg.absent_staff:
        staff = [
            s.model_copy(update={"status": StaffStatus.absent}) if d.absent else s
            for s, d in zip(staff, drafts, strict=True)
        ]
    if cfg.conflicts_share > 0:
        index = _cell_index(staff)
        reasons = ("relative", "neighbour", "prior complaint")
        by_id = {s.staff_id: j for j, s in enumerate(staff)}
        for i in _pick(rng, np.arange(cfg.n_families), cfg.conflicts_share):
            f = families[i]
            current = by_id.get(f.current_staff_id or "")
            eligible = [
                j
                for j in _eligible(index, staff, f.language, f.site, f.program_option)
                if staff[j].status is StaffStatus.active
            ]
            pool = [j for j in eligible if j != current]
            if pool and len(eligible) >= 2:  # never leave a family with nobody eligible
                j = pool[int(rng.integers(len(pool)))]
                conflicts.append(
                    Conflict(
                        family_id=f.family_id,
                        staff_id=staff[j].staff_id,
                        reason=reasons[int(rng.integers(len(reasons)))],
                    )
                )

    name = cfg.name or f"Generated program ({cfg.n_families} families, seed {seed})"
    return Scenario(
        name=name,
        as_of=cfg.as_of,
        policy=policy,
        families=tuple(families),
        staff=tuple(staff),
        exceptions=tuple(exceptions),
        conflicts=tuple(conflicts),
    )


def count_eligible_pairs(scenario: Scenario) -> int:
    """Family x active staff pairs allowed by language (required), site, option and conflicts."""
    active = [s for s in scenario.staff if s.status is StaffStatus.active]
    index = _cell_index(active)
    cells: dict[tuple[str, str, ProgramOption], int] = defaultdict(int)
    for f in scenario.families:
        cells[(f.language, f.site, f.program_option)] += 1
    total = sum(n * len(_eligible(index, active, *key)) for key, n in cells.items())
    fam = scenario.family_by_id
    staff = {s.staff_id: s for s in active}
    for c in scenario.conflicts:
        f, s = fam[c.family_id], staff.get(c.staff_id)
        if (
            s is not None
            and f.language in s.languages
            and s.serves_site(f.site)
            and (f.program_option in s.program_options)
        ):
            total -= 1
    return total


# --------------------------------------------------------------------------------------------
# the bundled example

SPRINGFIELD = GeneratorConfig(
    n_families=400,
    n_sites=5,
    site_names=("Oak Street", "Riverside", "Maple Grove", "Eastside", "Lincoln Park"),
    site_size_spread=0.25,
    languages={"en": 0.60, "es": 0.34, "ar": 0.03, "vi": 0.03},
    slack=0.10,
    part_time_share=0.1,
    home_area_size=5,
    with_current_assignments=True,
    current_share=0.9,
    pinned_share=0.006,
    conflicts_share=0.015,
    waiver=True,
    expired_exception=True,
    absent_staff=1,
    name="Springfield Head Start 2026-27",
)
"""The bundled example program (see :func:`springfield`)."""
SPRINGFIELD_SEED = 2036


def springfield() -> Scenario:
    """The bundled example program, as generated (the files under examples/ are written from it)."""
    return generate(SPRINGFIELD, SPRINGFIELD_SEED)


EXAMPLE_UNCERTAINTY = """\
# Uncertainty about next year, sampled by `famassign sweep` (format: docs/sweep.md).
uncertainty:
  enrollment:
  - factor: {mean: 1.02, sd: 0.03}              # every family: +2% give or take 3%
  - {site: [Maple Grove], language: [es], factor: {low: 1.0, high: 1.2}}
  staff_leave: {probability: 0.03, staff: {S0009: 0.15}}
  mix:                                          # share moved one level up (negative: down)
    urgency: {mean: 0.0, sd: 0.05}
    intensity: {low: 0.0, high: 0.1}
  new_language:                                 # Somali-speaking families may enroll at Eastside
  - {language: so, site: Eastside, families: {low: 0, high: 8}}
"""
"""The bundled example's ``uncertainty:`` block (YAML text), so `famassign sweep` runs on it."""


def _example_yaml(scenario: Scenario) -> str:
    """scenario.yaml of the example: commented, default weights, exceptions listed in full."""
    import yaml

    policy = scenario.policy.model_dump(mode="json")
    exceptions = [
        {k: v for k, v in e.model_dump(mode="json").items() if v is not None}
        for e in scenario.exceptions
    ]
    head = (
        "# The bundled example program of famassign (run it with `famassign demo`).\n"
        "# Generated by scenarios.generator.write_example(); regenerate rather than edit by hand.\n"
    )
    body = yaml.safe_dump(
        {"name": scenario.name, "as_of": scenario.as_of.isoformat(), "policy": policy},
        sort_keys=False,
    )
    weights = "weights: {}                      # the defaults documented in the README\n"
    notes = "".join(
        f"# {e.exception_id}: in force on as_of, and needed to place everyone\n"
        if e.in_force(scenario.as_of)
        else f"# {e.exception_id}: not in force on as_of, so reported and ignored\n"
        for e in scenario.exceptions
    )
    exc = yaml.safe_dump({"exceptions": exceptions}, sort_keys=False, width=100)
    variants = "variants: []                     # what-if variants are added separately\n"
    return head + body + weights + notes + exc + variants + EXAMPLE_UNCERTAINTY


def write_example(folder: str | Path) -> Path:
    """Write :func:`springfield` as a scenario folder (CSV + scenario.yaml); return the folder.

    The tables are written by :func:`models.writing.write_scenario`. An existing scenario.yaml
    is kept as it is (the bundled one carries hand-written what-if variants); a new one is a
    commented file that lists the exceptions (so exceptions.csv is removed).
    """
    from famassign.models.writing import write_scenario

    path = Path(folder)
    config = path / "scenario.yaml"
    kept = config.read_text(encoding="utf-8") if config.is_file() else None
    scenario = springfield()
    write_scenario(scenario, path)
    (path / "exceptions.csv").unlink(missing_ok=True)
    config.write_text(kept or _example_yaml(scenario), encoding="utf-8")
    return path


__all__ = [
    "AGENCIES",
    "DEFAULT_LANGUAGES",
    "DEFAULT_OPTIONS",
    "EXAMPLE_UNCERTAINTY",
    "PRESETS",
    "SPRINGFIELD",
    "GeneratorConfig",
    "count_eligible_pairs",
    "generate",
    "preset_config",
    "scaled",
    "springfield",
    "write_example",
]
