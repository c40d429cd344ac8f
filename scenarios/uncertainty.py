"""Uncertainty about next year: the ``uncertainty:`` block of scenario.yaml and seeded samples.

A planner at start-up does not know next year's enrollment, nor who of the staff will leave. The
block says how uncertain it is (see docs/sweep.md)::

    uncertainty:
      enrollment:                       # applied in order; filters are lists (any of)
        - factor: {mean: 1.05, sd: 0.05}                    # every family: normal
        - {site: [Maple Grove], language: [es], factor: {low: 1.0, high: 1.3}}  # a range
      staff_leave: {probability: 0.05, staff: {S0009: 0.2}}  # or just: staff_leave: 0.05
      mix:                              # share of families moved one level up (negative: down)
        urgency: {mean: 0.0, sd: 0.1}
        intensity: {low: 0.0, high: 0.15}
      new_language:                     # families of a language the program does not serve yet
        - {language: so, site: Eastside, families: {low: 0, high: 12}}

Every number that varies is a :class:`Distribution`: a plain number (fixed), ``{mean, sd}``
(normal) or ``{low, high}`` (uniform). :func:`parse_uncertainty` checks the form,
:func:`uncertainty_problems` the form and the names it uses (for ``famassign validate``), each
problem located ``scenario.yaml:LINE:uncertainty.<path>``. :func:`sample_scenario` draws one
sampled Scenario, a pure function of the scenario, the block and the seed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from famassign.models import (
    Family,
    Intensity,
    LocatedProblem,
    ProgramOption,
    Scenario,
    ScenarioError,
    StaffStatus,
)
from famassign.models.domain import Code
from famassign.scenarios.variants import (
    CONFIG_FILE,
    ScaleEnrollment,
    YamlLines,
    _Draft,
    _label,
    _line,
    _message,
    _scale_enrollment,
    _split_list,
)
from famassign.solver.options import OptionsError

log = logging.getLogger(__name__)

NEW_LANGUAGE_PREFIX = "NEWLANG-"
"""Families of a new language get ids ``NEWLANG-<language>-00001``, ..."""
MAX_FACTOR = 10.0
"""Enrollment factors are clipped to [0, MAX_FACTOR]."""


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Distribution(_Block):
    """One uncertain number: fixed (a plain number), normal ``{mean, sd}`` or uniform
    ``{low, high}`` (also written ``[low, high]``)."""

    mean: float | None = None
    sd: float = Field(default=0.0, ge=0)
    low: float | None = None
    high: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"mean": data}
        if isinstance(data, list | tuple) and len(data) == 2:
            return {"low": data[0], "high": data[1]}
        return data

    @model_validator(mode="after")
    def _one_form(self) -> Distribution:
        ranged = self.low is not None or self.high is not None
        if ranged and (self.mean is not None or "sd" in self.model_fields_set):
            raise ValueError("give either {mean, sd} (normal) or {low, high} (range), not both")
        if ranged and (self.low is None or self.high is None):
            raise ValueError("a range needs both low and high")
        if ranged and self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        if not ranged and self.mean is None:
            raise ValueError("give a number, {mean, sd} (normal) or {low, high} (range)")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        """One value (always consumes exactly one draw of `rng`, so streams stay aligned)."""
        if self.low is not None and self.high is not None:
            return float(rng.uniform(self.low, self.high))
        mean = float(self.mean if self.mean is not None else 0.0)
        return mean + self.sd * float(rng.standard_normal())


class EnrollmentChange(_Block):
    """Multiply the families matching the filters by a drawn `factor` (clipped to [0, 10]).

    Above 1, new families are drawn like the matching ones; below 1, a random share leaves
    (as the variant change ``scale_enrollment``). No filter = every family.
    """

    factor: Distribution
    site: tuple[Code, ...] = ()
    language: tuple[Code, ...] = ()
    program_option: tuple[ProgramOption, ...] = ()

    @field_validator("site", "language", "program_option", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("language")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.lower() for v in value)


class StaffLeave(_Block):
    """The chance that each active staff member leaves during the year (`staff` per staff_id
    overrides `probability`); one who leaves is ``departed`` in the sample."""

    probability: float = Field(default=0.0, ge=0, le=1)
    staff: dict[Code, float] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _number(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"probability": data}
        return data

    @field_validator("staff")
    @classmethod
    def _probabilities(cls, value: dict[str, float]) -> dict[str, float]:
        for staff_id, p in value.items():
            if not 0 <= p <= 1:
                raise ValueError(f"the probability for {staff_id} must be between 0 and 1")
        return value


class Mix(_Block):
    """Shifts of the urgency and intensity mix: the drawn share (clipped to [-1, 1]) of families
    moved one level up (urgency towards 5, intensity towards high), or down when negative."""

    urgency: Distribution | None = None
    intensity: Distribution | None = None


class NewLanguage(_Block):
    """A drawn number of `families` (rounded, at least 0) speaking `language` at `site` and
    `program_option`, drawn like the site's families otherwise."""

    language: Code
    site: Code
    program_option: ProgramOption = ProgramOption.center_based
    families: Distribution

    @field_validator("language")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class Uncertainty(_Block):
    """The parsed ``uncertainty:`` block (see the module docstring)."""

    enrollment: tuple[EnrollmentChange, ...] = ()
    staff_leave: StaffLeave = StaffLeave()
    mix: Mix = Mix()
    new_language: tuple[NewLanguage, ...] = ()


# --------------------------------------------------------------------------------------------
# Parsing and checking


def parse_uncertainty(
    raw: Mapping[str, Any], lines: YamlLines | None = None
) -> tuple[Uncertainty | None, list[LocatedProblem]]:
    """Parse scenario.yaml `uncertainty:`; return the block (None when invalid) and its problems,
    each located ``scenario.yaml:LINE:uncertainty.<path>``."""
    lines = lines or {}
    try:
        return Uncertainty.model_validate(dict(raw)), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path: tuple[str | int, ...] = ("uncertainty", *err["loc"])
            problems.append(
                LocatedProblem(CONFIG_FILE, _line(lines, path), _label(path), _message(err))
            )
        return None, problems


def _name_problems(
    scenario: Scenario, block: Uncertainty, lines: YamlLines
) -> list[LocatedProblem]:
    families_sites = {f.site for f in scenario.families}
    sites = set(families_sites)
    for s in scenario.staff:
        sites.update(x for x in s.sites if x != "*")
    languages = {f.language for f in scenario.families}
    found: list[tuple[tuple[str | int, ...], str]] = []
    for i, change in enumerate(block.enrollment):
        for field_name, values, known in (
            ("site", change.site, families_sites),
            ("language", change.language, languages),
        ):
            for value in values:
                if value not in known:
                    found.append(
                        (("enrollment", i, field_name), f"no family has {field_name} {value!r}")
                    )
    for staff_id in block.staff_leave.staff:
        if staff_id not in scenario.staff_by_id:
            found.append((("staff_leave", "staff", staff_id), f"unknown staff_id {staff_id!r}"))
    for i, new in enumerate(block.new_language):
        if new.site not in sites:
            found.append(
                (
                    ("new_language", i, "site"),
                    f"unknown site {new.site!r}: no family or staff has it",
                )
            )
    problems = []
    for path, message in found:
        full = ("uncertainty", *path)
        problems.append(LocatedProblem(CONFIG_FILE, _line(lines, full), _label(full), message))
    return problems


def uncertainty_problems(
    scenario: Scenario, lines: YamlLines | None = None
) -> list[LocatedProblem]:
    """Every problem of `scenario.uncertainty`: its form, then the sites, languages and staff it
    names (each must exist in the scenario)."""
    lines = lines or {}
    block, problems = parse_uncertainty(scenario.uncertainty, lines)
    if block is not None:
        problems.extend(_name_problems(scenario, block, lines))
    return problems


def uncertainty_of(scenario: Scenario) -> Uncertainty:
    """The parsed block of `scenario` (empty when it has none); raises ScenarioError listing
    every problem."""
    problems = uncertainty_problems(scenario)
    if problems:
        raise ScenarioError(problems)
    block, _ = parse_uncertainty(scenario.uncertainty)
    assert block is not None
    return block


# --------------------------------------------------------------------------------------------
# Sampling


def _rng(seed: int, part: int, item: int = 0) -> np.random.Generator:
    """An independent stream per part of the block, so adding one part never shifts another."""
    return np.random.default_rng([seed, part, item])


def _enrollment(draft: _Draft, block: Uncertainty, seed: int) -> None:
    for j, change in enumerate(block.enrollment):
        rng = _rng(seed, 1, j)
        factor = min(max(change.factor.draw(rng), 0.0), MAX_FACTOR)
        scale = ScaleEnrollment(
            factor=max(factor, 1e-9),  # 0 (everyone leaves) is 1e-9: the delta rounds to all
            site=change.site,
            language=change.language,
            program_option=change.program_option,
        )
        skipped = _scale_enrollment(draft, scale, rng)
        if skipped:  # an earlier change removed every matching family
            log.debug("enrollment change %d matches no family in this sample", j)


def _new_languages(draft: _Draft, block: Uncertainty, seed: int) -> None:
    taken = {f.family_id for f in draft.families}
    for j, new in enumerate(block.new_language):
        rng = _rng(seed, 2, j)
        count = max(round(new.families.draw(rng)), 0)
        pool = (
            [
                f
                for f in draft.families
                if f.site == new.site and f.program_option == new.program_option
            ]
            or [f for f in draft.families if f.site == new.site]
            or draft.families
        )
        if count == 0 or not pool:
            continue
        number = 0
        for source in rng.integers(0, len(pool), size=count):
            number += 1
            while (family_id := f"{NEW_LANGUAGE_PREFIX}{new.language}-{number:05d}") in taken:
                number += 1
            taken.add(family_id)
            draft.families.append(
                pool[int(source)].model_copy(
                    update={
                        "family_id": family_id,
                        "language": new.language,
                        "site": new.site,
                        "program_option": new.program_option,
                        "current_staff_id": None,
                        "pinned": False,
                        "external_plan_agency": None,
                    }
                )
            )


_INTENSITY_LEVELS = (Intensity.low, Intensity.medium, Intensity.high)


def _shift(family: Family, field_name: str, up: bool) -> Family:
    if field_name == "urgency":
        urgency = min(family.urgency + 1, 5) if up else max(family.urgency - 1, 1)
        return family.model_copy(update={"urgency": urgency})
    level = _INTENSITY_LEVELS.index(family.intensity)
    level = min(level + 1, 2) if up else max(level - 1, 0)
    return family.model_copy(update={"intensity": _INTENSITY_LEVELS[level]})


def _mix(draft: _Draft, block: Uncertainty, seed: int) -> None:
    for part, field_name, dist in (
        (3, "urgency", block.mix.urgency),
        (4, "intensity", block.mix.intensity),
    ):
        if dist is None or not draft.families:
            continue
        rng = _rng(seed, part)
        share = min(max(dist.draw(rng), -1.0), 1.0)
        count = round(abs(share) * len(draft.families))
        for i in rng.choice(len(draft.families), size=count, replace=False):
            draft.families[int(i)] = _shift(draft.families[int(i)], field_name, share > 0)


def _staff_leave(draft: _Draft, block: Uncertainty, seed: int) -> None:
    leave = block.staff_leave
    if leave.probability == 0 and not leave.staff:
        return
    rng = _rng(seed, 5)
    draws = rng.random(len(draft.staff))  # one draw per staff member, whatever their status
    for i, staff in enumerate(draft.staff):
        p = leave.staff.get(staff.staff_id, leave.probability)
        if staff.status is StaffStatus.active and draws[i] < p:
            draft.staff[i] = staff.model_copy(update={"status": StaffStatus.departed})


def sample_scenario(scenario: Scenario, uncertainty: Uncertainty, seed: int) -> Scenario:
    """One sampled Scenario: `scenario` with `uncertainty` drawn from `seed` (pure and seeded).

    In order: enrollment changes, families of new languages, the urgency and intensity mix, staff
    leaving. Each part draws from its own stream of `seed`. The sample keeps the scenario's name,
    date, policy, weights, exceptions and conflicts (of families still enrolled); it has no
    variants and no uncertainty block. Raises OptionsError (a ValueError) for a negative seed.
    """
    if seed < 0:
        raise OptionsError(f"seed must be >= 0, got {seed}")
    draft = _Draft(scenario)
    _enrollment(draft, uncertainty, seed)
    _new_languages(draft, uncertainty, seed)
    _mix(draft, uncertainty, seed)
    _staff_leave(draft, uncertainty, seed)
    return Scenario(name=scenario.name, as_of=scenario.as_of, **draft.fields())


__all__ = [
    "Distribution",
    "EnrollmentChange",
    "Mix",
    "NewLanguage",
    "StaffLeave",
    "Uncertainty",
    "parse_uncertainty",
    "sample_scenario",
    "uncertainty_of",
    "uncertainty_problems",
]
