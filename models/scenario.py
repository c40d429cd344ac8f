"""The Scenario: one program's families, staff, policy and exceptions, checked as a whole."""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from famassign.models.absence import Absence
from famassign.models.domain import (
    CapException,
    Conflict,
    Family,
    LanguagePolicy,
    Policy,
    ProgramOption,
    Staff,
    StaffStatus,
    Weights,
    cited_exception,
    most_allowed,
    widest_exception,
)
from famassign.models.errors import ArgumentTypeError
from famassign.models.problems import Problem, ScenarioError


class Scenario(BaseModel):
    """A validated, immutable program. Building one runs every cross-record check.

    Raises :class:`ScenarioError` listing every cross-record problem (duplicate or dangling ids,
    pins that break a hard rule). Exceptions not in force on `as_of` are not errors; see
    :meth:`exception_notes`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "famassign scenario"
    as_of: date = Field(default_factory=date.today)
    policy: Policy = Policy()
    weights: Weights = Weights()
    families: tuple[Family, ...]
    staff: tuple[Staff, ...]
    exceptions: tuple[CapException, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    variants: tuple[dict[str, Any], ...] = ()
    uncertainty: dict[str, Any] = Field(default_factory=dict)
    absences: tuple[Absence, ...] = ()
    """Absences with a return date (absences.csv): who is away when, and the families to
    return to them afterwards."""
    continues: str | None = None
    """The fingerprint of the plan this scenario carries forward (``continues:`` in a plan
    folder's scenario.yaml; None for a scenario that is not a plan)."""
    hiring: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems = cross_record_problems(self)
        if problems:
            raise ScenarioError(problems)
        return self

    @cached_property
    def staff_by_id(self) -> dict[str, Staff]:
        """Staff members by staff_id."""
        return {s.staff_id: s for s in self.staff}

    @cached_property
    def family_by_id(self) -> dict[str, Family]:
        """Families by family_id."""
        return {f.family_id: f for f in self.families}

    @cached_property
    def _conflict_pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset((c.family_id, c.staff_id) for c in self.conflicts)

    def in_conflict(self, family_id: str, staff_id: str) -> bool:
        """True when the pair is listed in conflicts (never to be assigned)."""
        return (family_id, staff_id) in self._conflict_pairs

    def on(self, as_of: date | None) -> Scenario:
        """This scenario planned on `as_of` (itself when None or unchanged), checked again.

        Raises :class:`ScenarioError` when a cross-record check fails on the new date (a pin
        above a cap whose exception is no longer in force).
        """
        if as_of is None or as_of == self.as_of:
            return self
        return self.rebuilt(as_of=as_of)

    def exceptions_in_force(self) -> tuple[CapException, ...]:
        """The exceptions in force on `as_of`."""
        return self._in_force

    @cached_property
    def _in_force(self) -> tuple[CapException, ...]:
        return tuple(e for e in self.exceptions if e.in_force(self.as_of))

    def most_allowed(self, staff: Staff) -> int:
        """The most families `staff` may carry on `as_of`: policy cap or an exception in force."""
        return most_allowed(staff, self.policy, self._in_force)

    def widest_exception(self, staff: Staff) -> CapException | None:
        """The exception in force covering `staff` that allows the most families (or None)."""
        return widest_exception(staff, self.policy, self._in_force)

    def cited_exception(self, staff: Staff, families: int) -> CapException | None:
        """The exception in force a caseload of `families` cites (None within the cap or when
        none allows it); see :func:`models.domain.cited_exception`."""
        return cited_exception(staff, families, self.policy, self._in_force)

    def rebuilt(self, **changes: Any) -> Scenario:
        """A new Scenario with `changes` applied to these fields, checked again as a whole.

        Every field not named (variants included) is kept. Raises :class:`ScenarioError`.
        """
        unknown = set(changes) - set(type(self).model_fields)
        if unknown:
            raise ArgumentTypeError(f"Scenario has no field(s) {', '.join(sorted(unknown))}")
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return Scenario(**{**fields, **changes})

    def exception_notes(self) -> list[str]:
        """Human notes on exceptions not in force on `as_of` (reported and ignored)."""
        notes = []
        for e in self.exceptions:
            if e.ends < self.as_of:
                notes.append(f"exception {e.exception_id} expired on {e.ends}; ignored")
            elif e.starts > self.as_of:
                notes.append(f"exception {e.exception_id} starts on {e.starts}; ignored")
        return notes


def _duplicates(values: list[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n > 1}


def cross_record_problems(scenario: Scenario) -> list[Problem]:
    """Every problem that spans records: ids, references, pins, and pins above a cap."""
    problems: list[Problem] = []
    fam_ids = [f.family_id for f in scenario.families]
    staff_ids = [s.staff_id for s in scenario.staff]
    exc_ids = [e.exception_id for e in scenario.exceptions]
    for table, column, ids in (
        ("families", "family_id", fam_ids),
        ("staff", "staff_id", staff_ids),
        ("exceptions", "exception_id", exc_ids),
    ):
        dups = _duplicates(ids)
        first: dict[str, int] = {}
        for i, value in enumerate(ids):
            if value in dups:
                if value in first:
                    problems.append(
                        Problem(
                            table,
                            i,
                            column,
                            f"duplicate {column} {value!r}; ids must be unique",
                            other_row=first[value],
                        )
                    )
                first.setdefault(value, i)
    if not scenario.families:
        problems.append(Problem("families", None, None, "no families: the file has no data rows"))
    if not scenario.staff:
        problems.append(Problem("staff", None, None, "no staff: the file has no data rows"))

    staff_by_id = {s.staff_id: s for s in scenario.staff}
    fam_set = set(fam_ids)
    conflicts = {(c.family_id, c.staff_id) for c in scenario.conflicts}
    pinned_count: Counter[str] = Counter()
    for i, fam in enumerate(scenario.families):
        if fam.current_staff_id is None:
            continue
        staff = staff_by_id.get(fam.current_staff_id)
        if staff is None:
            problems.append(
                Problem(
                    "families",
                    i,
                    "current_staff_id",
                    f"unknown staff_id {fam.current_staff_id!r}; it must be a staff_id in staff",
                )
            )
            continue
        if not fam.pinned or staff.status is not StaffStatus.active:
            continue  # a pin on an absent or departed staff member is released, not an error
        pinned_count[staff.staff_id] += 1
        reason = pin_breaks_rule(fam, staff, scenario.policy)
        if (fam.family_id, staff.staff_id) in conflicts:
            reason = "the pair is listed in conflicts"
        if reason:
            problems.append(
                Problem("families", i, "pinned", f"pinned to {staff.staff_id}, but {reason}")
            )
    for i, con in enumerate(scenario.conflicts):
        if con.family_id not in fam_set:
            problems.append(
                Problem("conflicts", i, "family_id", f"unknown family_id {con.family_id!r}")
            )
        if con.staff_id not in staff_by_id:
            problems.append(
                Problem("conflicts", i, "staff_id", f"unknown staff_id {con.staff_id!r}")
            )
    for i, exc in enumerate(scenario.exceptions):
        if exc.staff_id is not None and exc.staff_id not in staff_by_id:
            problems.append(
                Problem("exceptions", i, "staff_id", f"unknown staff_id {exc.staff_id!r}")
            )
    absent: set[str] = set()
    for i, absence in enumerate(scenario.absences):
        if absence.staff_id not in staff_by_id:
            problems.append(
                Problem("absences", i, "staff_id", f"unknown staff_id {absence.staff_id!r}")
            )
        elif absence.staff_id in absent:
            problems.append(
                Problem("absences", i, "staff_id", f"a second absence of {absence.staff_id!r}")
            )
        absent.add(absence.staff_id)
        for listed in absence.families:
            if listed.family_id not in fam_set:
                problems.append(
                    Problem("absences", i, "family_id", f"unknown family_id {listed.family_id!r}")
                )
            if listed.moved_to_staff_id not in staff_by_id:
                problems.append(
                    Problem(
                        "absences",
                        i,
                        "moved_to_staff_id",
                        f"unknown staff_id {listed.moved_to_staff_id!r}",
                    )
                )
    in_force = [e for e in scenario.exceptions if e.in_force(scenario.as_of)]
    for staff_id, count in sorted(pinned_count.items()):
        staff = staff_by_id[staff_id]
        limit = most_allowed(staff, scenario.policy, in_force)
        if count > limit:
            idx = staff_ids.index(staff_id)
            problems.append(
                Problem(
                    "staff",
                    idx,
                    "staff_id",
                    f"{count} families are pinned to {staff_id}, above the most allowed ({limit}); "
                    "unpin some or add an exception in force",
                )
            )
    return problems


def rule_breaks(family: Family, staff: Staff, policy: Policy) -> tuple[str, ...]:
    """Every rule of language, site and program option that keeps `staff` from serving `family`
    ("does not speak ar", "does not serve site North", "does not serve option home_based");
    empty when none does. Status, conflicts, pins and caps are judged by the caller."""
    return group_rule_breaks(family.language, family.site, family.program_option, staff, policy)


def group_rule_breaks(
    language: str, site: str, option: ProgramOption, staff: Staff, policy: Policy
) -> tuple[str, ...]:
    """:func:`rule_breaks` for any family of `language` at `site` in `option` (the rules of
    language, site and option depend on nothing else of the family)."""
    breaks: list[str] = []
    if policy.language is LanguagePolicy.required and language not in staff.languages:
        breaks.append(f"does not speak {language}")
    if not staff.serves_site(site):
        breaks.append(f"does not serve site {site}")
    if option not in staff.program_options:
        breaks.append(f"does not serve option {option.value}")
    return tuple(breaks)


def pin_breaks_rule(family: Family, staff: Staff, policy: Policy) -> str | None:
    """Why `staff` may not serve `family` under the hard rules other than cap, or None."""
    breaks = rule_breaks(family, staff, policy)
    return f"{staff.staff_id} {breaks[0]}" if breaks else None


__all__ = [
    "Scenario",
    "ScenarioError",
    "cross_record_problems",
    "group_rule_breaks",
    "pin_breaks_rule",
    "rule_breaks",
]
