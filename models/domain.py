"""The domain of 45 CFR 1302.52 as typed, immutable pydantic v2 records.

Nothing here knows of files or solvers: a record is valid on its own terms once built; checks that
span records (unique ids, references that resolve) live in :mod:`models.scenario`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

POLICY_CAP_LIMIT = 40
"""1302.52(d)(2): no more than 40 families per staff member, relaxed only by an exception."""

EXCEPTION_CAP_LIMIT = 1000
"""The largest ``max_families`` an exception may name."""


def prorate(limit: int, fte: float) -> int:
    """`limit` families prorated by `fte`: floor(limit x FTE) (the cap rule of a part-time post)."""
    return int(limit * fte + 1e-9)


class Outcome(StrEnum):
    """The seven Parent, Family and Community Engagement outcomes named in 1302.52(b)."""

    well_being = "well_being"
    parent_child = "parent_child"
    lifelong_educators = "lifelong_educators"
    learners = "learners"
    transitions = "transitions"
    connections = "connections"
    advocates_leaders = "advocates_leaders"


OUTCOME_TITLES: dict[Outcome, str] = {
    Outcome.well_being: "Family well-being",
    Outcome.parent_child: "Positive parent-child relationships",
    Outcome.lifelong_educators: "Families as lifelong educators",
    Outcome.learners: "Families as learners",
    Outcome.transitions: "Family engagement in transitions",
    Outcome.connections: "Family connections to peers and community",
    Outcome.advocates_leaders: "Families as advocates and leaders",
}


class ProgramOption(StrEnum):
    """Head Start program options a family is enrolled in and a staff member serves."""

    center_based = "center_based"
    home_based = "home_based"
    family_child_care = "family_child_care"
    locally_designed = "locally_designed"


class Intensity(StrEnum):
    """Expected intensity of support a family needs (1302.52(d)(1))."""

    low = "low"
    medium = "medium"
    high = "high"


class StaffStatus(StrEnum):
    """Whether a staff member can carry a caseload now."""

    active = "active"
    absent = "absent"
    departed = "departed"


class ExceptionKind(StrEnum):
    """The permissions to exceed 40:1: a waiver (d)(2)(i) or a temporary period (d)(2)(ii)."""

    waiver = "waiver"
    staff_absence = "staff_absence"
    staff_attrition = "staff_attrition"
    start_up = "start_up"
    transition = "transition"
    emergency_response = "emergency_response"

    @property
    def paragraph(self) -> str:
        """The paragraph of 45 CFR 1302.52 that allows this kind of exception."""
        return "1302.52(d)(2)(i)" if self is ExceptionKind.waiver else "1302.52(d)(2)(ii)"

    @property
    def temporary(self) -> bool:
        """True for the (d)(2)(ii) kinds, which are temporary by rule."""
        return self is not ExceptionKind.waiver


class LanguagePolicy(StrEnum):
    """`required`: only staff who speak the family's language; `preferred`: a scored preference."""

    required = "required"
    preferred = "preferred"


Code = Annotated[str, Field(min_length=1, max_length=200)]
"""A non-empty identifier or code (family_id, staff_id, site, language, agency)."""


DisplayText = Annotated[str, Field(min_length=1, max_length=500)]
"""Private display text of a family (a name, a child's name, a phone number): shown to the
people who work with the family (plan.xlsx, staff_lists.xlsx, handover notes, printed rosters)
and never used by the solver, nor written to logs, summary.json, the audit log or errors."""


FAMILY_DISPLAY_FIELDS = ("family_name", "children", "contact")
"""The fields of :class:`Family` that hold :data:`DisplayText`: never echoed in a message."""


def _norm_code(value: str) -> str:
    return value.strip()


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Family(_Record):
    """One household: the unit of assignment.

    ``family_name`` (family or parent/guardian name), ``children`` (the children's names) and
    ``contact`` (phone or other contact) are optional private display data (:data:`DisplayText`):
    no rule or score reads them.
    """

    family_id: Code
    language: Code
    site: Code
    program_option: ProgramOption = ProgramOption.center_based
    urgency: int = Field(ge=1, le=5, description="5 urgent need .. 1 thriving")
    intensity: Intensity
    needs: tuple[Outcome, ...] = ()
    interests: tuple[Outcome, ...] = ()
    disability_services: bool = False
    external_plan_agency: Code | None = None
    current_staff_id: Code | None = None
    pinned: bool = False
    family_name: DisplayText | None = None
    children: tuple[DisplayText, ...] = ()
    contact: DisplayText | None = None

    @field_validator("language")
    @classmethod
    def _lower_language(cls, value: str) -> str:
        return value.lower()

    @field_validator("intensity", mode="before")
    @classmethod
    def _numeric_intensity(cls, value: Any) -> Any:
        numeric = {"1": "low", "2": "medium", "3": "high"}
        return numeric.get(str(value).strip(), value) if isinstance(value, int | str) else value

    @field_validator("needs", "interests")
    @classmethod
    def _sorted_unique(cls, value: tuple[Outcome, ...]) -> tuple[Outcome, ...]:
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _pin_needs_current(self) -> Family:
        if self.pinned and self.current_staff_id is None:
            raise ValueError("pinned is true but current_staff_id is blank; pin to whom?")
        return self


ALL_SITES = "*"


class Staff(_Record):
    """One staff member who carries a family-services caseload."""

    staff_id: Code
    name: str | None = None
    fte: float = Field(default=1.0, gt=0, le=1)
    languages: tuple[Code, ...] = Field(min_length=1)
    sites: tuple[Code, ...] = Field(min_length=1)
    program_options: tuple[ProgramOption, ...] = tuple(ProgramOption)
    strengths: tuple[Outcome, ...] = ()
    disability_services: bool = False
    agencies: tuple[Code, ...] = ()
    status: StaffStatus = StaffStatus.active
    max_families: int | None = Field(default=None, ge=0)

    @field_validator("languages")
    @classmethod
    def _lower_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({v.lower() for v in value}))

    @field_validator("strengths", "program_options")
    @classmethod
    def _sorted_unique(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(sorted(set(value)))

    @field_validator("program_options", mode="before")
    @classmethod
    def _empty_means_all(cls, value: Any) -> Any:
        return tuple(ProgramOption) if value in (None, (), []) else value

    def serves_site(self, site: str) -> bool:
        """True when this staff member serves `site` (or every site)."""
        return ALL_SITES in self.sites or site in self.sites

    def cap(self, policy: Policy) -> int:
        """The policy cap for this person: 40 (or lower), prorated by FTE, and the personal cap."""
        cap = policy.max_families_per_staff
        if policy.prorate_by_fte:
            cap = prorate(cap, self.fte)
        if self.max_families is not None:
            cap = min(cap, self.max_families)
        return cap

    def load_per_fte(self, weighted_load: float) -> float:
        """`weighted_load` (intensity-weighted families, 1302.52(d)(1)) per FTE of this person.

        Parameters
        ----------
        weighted_load
            The sum of the intensity weights of this person's families.

        Returns
        -------
        float
            `weighted_load` divided by :attr:`fte` (a half-time post carries twice the load).
        """
        return weighted_load / self.fte


class CapException(_Record):
    """A dated, referenced permission to exceed the cap under 1302.52(d)(2)(i) or (ii)."""

    exception_id: Code
    kind: ExceptionKind
    staff_id: Code | None = None
    max_families: int = Field(gt=POLICY_CAP_LIMIT, le=EXCEPTION_CAP_LIMIT)
    starts: date
    ends: date
    reference: str | None = None
    note: str | None = None
    created_by: str | None = None
    """The re-plan that created the exception (``reassign --temporary-cap``), e.g.
    ``reassign 2026-10-01: S09 departed``; blank for one the program recorded itself."""

    @model_validator(mode="after")
    def _check(self) -> CapException:
        if self.ends < self.starts:
            raise ValueError(f"ends {self.ends} is before starts {self.starts}")
        if self.kind is ExceptionKind.waiver and not self.reference:
            raise ValueError(
                "a waiver needs the approval reference granted by the responsible HHS official"
            )
        return self

    def in_force(self, as_of: date) -> bool:
        """True when `starts <= as_of <= ends`."""
        return self.starts <= as_of <= self.ends

    def covers(self, staff_id: str) -> bool:
        """True when this exception applies to `staff_id` (a blank staff_id covers everyone)."""
        return self.staff_id is None or self.staff_id == staff_id

    def cap_for(self, staff: Staff, policy: Policy) -> int:
        """The relaxed cap for `staff`: `max_families`, prorated by FTE when the policy prorates."""
        if policy.prorate_by_fte:
            return prorate(self.max_families, staff.fte)
        return self.max_families


def widest_exception(
    staff: Staff, policy: Policy, in_force: Iterable[CapException]
) -> CapException | None:
    """Of the exceptions `in_force` that cover `staff`, the one allowing the most families (the
    smallest exception_id among equals); None when none covers the staff member."""
    best: CapException | None = None
    for exc in in_force:
        if not exc.covers(staff.staff_id):
            continue
        if best is None or (-exc.cap_for(staff, policy), exc.exception_id) < (
            -best.cap_for(staff, policy),
            best.exception_id,
        ):
            best = exc
    return best


def most_allowed(staff: Staff, policy: Policy, in_force: Iterable[CapException]) -> int:
    """The most families `staff` may carry: the policy cap, or an exception `in_force` above it."""
    widest = widest_exception(staff, policy, in_force)
    cap = staff.cap(policy)
    return cap if widest is None else max(cap, widest.cap_for(staff, policy))


def cited_exception(
    staff: Staff, families: int, policy: Policy, in_force: Iterable[CapException]
) -> CapException | None:
    """The exception a caseload of `families` cites: None within the policy cap; above it, the
    exception in force covering `staff` with the smallest cap that allows that many (then the
    smallest exception_id); None when no exception allows it."""
    if families <= staff.cap(policy):
        return None
    allowing = [
        e for e in in_force if e.covers(staff.staff_id) and e.cap_for(staff, policy) >= families
    ]
    return min(allowing, key=lambda e: (e.max_families, e.exception_id), default=None)


class Conflict(_Record):
    """A family/staff pair that must never be assigned (relative, neighbour, prior complaint)."""

    family_id: Code
    staff_id: Code
    reason: str | None = None


class IntensityWeights(_Record):
    """Workload weight of one family by intensity (1302.52(d)(1), (d)(3))."""

    low: float = Field(default=1, gt=0, le=100)
    medium: float = Field(default=2, gt=0, le=100)
    high: float = Field(default=3, gt=0, le=100)

    def of(self, intensity: Intensity) -> float:
        """The weight of a family of this intensity."""
        return float(getattr(self, intensity.value))


class Policy(_Record):
    """The program's caseload policy. The cap may be lowered, never raised above 40."""

    max_families_per_staff: int = Field(default=POLICY_CAP_LIMIT, ge=1)
    prorate_by_fte: bool = True
    language: LanguagePolicy = LanguagePolicy.required
    intensity_weights: IntensityWeights = IntensityWeights()

    @field_validator("max_families_per_staff")
    @classmethod
    def _never_raised(cls, value: int) -> int:
        if value > POLICY_CAP_LIMIT:
            raise ValueError(
                f"max_families_per_staff {value} is above 40; 1302.52(d)(2) allows more only "
                "under an exception (add a waiver or a temporary exception instead)"
            )
        return value


class Weights(_Record):
    """Objective weights (integers, points per family). See README "Objective" for each term.

    The match score of a family with a staff member is
    ``urgency * (need * |needs & strengths| + interest * |interests & strengths|)
    + disability (when the family needs and the staff member coordinates disability services)
    + agency (when the staff member already works with the family's external plan agency)
    + continuity (when it is the family's current staff member)
    + language (when the staff member speaks the family's language; matters under `preferred`)``.
    """

    need: int = Field(default=4, ge=0, le=1000)
    interest: int = Field(default=2, ge=0, le=1000)
    disability: int = Field(default=20, ge=0, le=1000)
    agency: int = Field(default=15, ge=0, le=1000)
    continuity: int = Field(default=30, ge=0, le=1000)
    language: int = Field(default=60, ge=0, le=1000)
    external_plan_load_factor: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="workload multiplier for a family whose plan another agency holds (1302.52(e))",
    )
    balance_match_tolerance: float = Field(
        default=0.005,
        ge=0,
        le=0.5,
        description="share of the best match score that load balancing may give up",
    )
    balance_gap: float = Field(
        default=0.005,
        ge=0,
        le=1,
        description="balancing stops once the largest load per FTE is within this share of its "
        "proven bound",
    )
