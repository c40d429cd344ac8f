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

What to draw is a :class:`scenarios.presets.GeneratorConfig`; the drawing itself is in
:mod:`scenarios.drawing`; this module turns what is drawn into the Scenario.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np

from famassign.models import (
    CapException,
    Conflict,
    ExceptionKind,
    Family,
    Intensity,
    Policy,
    ProgramOption,
    Scenario,
    StaffStatus,
    most_allowed,
)
from famassign.scenarios.drawing import (
    AGENCIES,
    OUTCOMES,
    arrange_waiver_site,
    build_staff,
    current_plan,
    draw_families,
    eligible_staff,
    pick,
    plan_staff,
    staff_by_cell,
)
from famassign.scenarios.presets import GeneratorConfig, preset_config


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
    cols = draw_families(cfg, rng, langs)
    waiver_site = arrange_waiver_site(cfg, cols, langs, rng) if cfg.waiver else None
    drafts = plan_staff(cfg, cols, langs, waiver_site, rng)
    staff = build_staff(cfg, drafts, site_names, rng)
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
            needs=tuple(o for o, b in zip(OUTCOMES, cols.needs[i], strict=True) if b),
            interests=tuple(o for o, b in zip(OUTCOMES, cols.interests[i], strict=True) if b),
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
        plan = current_plan(families, staff, caps, policy_caps, chosen, rng)
        absent = {j for j, d in enumerate(drafts) if d.absent}
        pinnable = [i for i, j in sorted(plan.items()) if j not in absent]
        pinned = set(pick(rng, pinnable, cfg.pinned_share))
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
        index = staff_by_cell(staff)
        reasons = ("relative", "neighbour", "prior complaint")
        by_id = {s.staff_id: j for j, s in enumerate(staff)}
        for i in pick(rng, np.arange(cfg.n_families), cfg.conflicts_share):
            f = families[i]
            current = by_id.get(f.current_staff_id or "")
            eligible = [
                j
                for j in eligible_staff(index, staff, f.language, f.site, f.program_option)
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
    index = staff_by_cell(active)
    cells: dict[tuple[str, str, ProgramOption], int] = defaultdict(int)
    for f in scenario.families:
        cells[(f.language, f.site, f.program_option)] += 1
    total = sum(n * len(eligible_staff(index, active, *key)) for key, n in cells.items())
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


__all__ = ["count_eligible_pairs", "generate"]
