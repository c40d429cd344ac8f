"""What-if variants: named lists of changes applied to a base :class:`Scenario`.

A variant is written in scenario.yaml under ``variants:``; each change is a mapping with one key,
the change kind, whose value holds the change's fields (see docs/variants.md)::

    variants:
      - name: one more bilingual advocate at Riverside
        description: hire instead of renewing the waiver
        changes:
          - add_staff: {staff_id: S0100, languages: [en, es], sites: [Riverside]}
          - remove_exception: {exception_id: W-2026-01}

:func:`parse_variants` checks the form (pydantic) and :func:`apply_variant` applies one variant to
a scenario, returning a new validated Scenario. Every problem is a :class:`LocatedProblem` named
``scenario.yaml:LINE:variants[i].changes[j].<kind>.<field>``, with the variant's name in the
message; :func:`variant_problems` runs both for ``famassign validate``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Optional, Union, get_args, get_origin

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from famassign.models import (
    CapException,
    Conflict,
    Family,
    LocatedProblem,
    Policy,
    ProgramOption,
    Scenario,
    ScenarioError,
    Staff,
    Weights,
)
from famassign.models.domain import Code

log = logging.getLogger(__name__)

CONFIG_FILE = "scenario.yaml"
NEW_FAMILY_PREFIX = "NEW-"
"""Families added by `scale_enrollment` get ids ``NEW-00001``, ``NEW-00002``, ..."""
RESERVED_NAMES = frozenset({"base"})
"""Variant names that may not be used (the comparison calls the unchanged scenario `base`)."""

YamlLines = Mapping[tuple[str | int, ...], int]
"""Key path -> line in scenario.yaml, as the loader maps it (may be empty)."""


def _split_list(value: Any) -> Any:
    """Accept a ``;``-list in one string, like a CSV cell, as well as a YAML list."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return value


# --------------------------------------------------------------------------------------------
# Change kinds


class _Change(BaseModel):
    """A change; written in YAML as ``{<kind>: {fields}}`` (the wrapper is removed on parse)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    change_kind: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and len(data) == 1 and cls.change_kind in data:
            inner = data[cls.change_kind]
            return {} if inner is None else inner
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: ValidationInfo) -> Any:
        field_name = info.field_name or ""
        if field_name in cls.model_fields and _is_tuple(cls.model_fields[field_name].annotation):
            return _split_list(value)
        return value

    def given(self) -> dict[str, Any]:
        """The fields written in the change (not the defaults)."""
        return {k: getattr(self, k) for k in self.model_fields_set}


def _is_tuple(annotation: Any) -> bool:
    return get_origin(annotation) is tuple or any(
        get_origin(a) is tuple for a in get_args(annotation)
    )


def _partial(model: type[BaseModel], name: str, required: Sequence[str] = ()) -> Any:
    """A _Change model with `model`'s fields and constraints, each optional unless `required`."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        if field_name in required:
            fields[field_name] = (info.annotation, info)
        else:
            optional = FieldInfo.merge_field_infos(info, default=None)
            fields[field_name] = (Optional[info.annotation], optional)  # noqa: UP045
    return create_model(name, __base__=_Change, **fields)


class AddStaff(_Change, Staff):
    """Add a staff member: the fields of staff.csv (staff_id, languages and sites required)."""

    change_kind: ClassVar[str] = "add_staff"


class RemoveStaff(_Change):
    """Remove a staff member from the roster: their families lose their current_staff_id (and
    pin), and exceptions and conflicts naming them are dropped."""

    change_kind: ClassVar[str] = "remove_staff"
    staff_id: Code


class ChangeStaff(_partial(Staff, "_ChangeStaffFields", required=("staff_id",))):  # type: ignore[misc]
    """Change some fields of a staff member (fte, languages, sites, status, max_families, ...);
    ``max_families: null`` clears a personal cap."""

    change_kind: ClassVar[str] = "change_staff"


class AddException(_Change, CapException):
    """Add a cap exception: the fields of exceptions.csv."""

    change_kind: ClassVar[str] = "add_exception"


class RemoveException(_Change):
    """Remove a cap exception by id."""

    change_kind: ClassVar[str] = "remove_exception"
    exception_id: Code


class ScaleEnrollment(_Change):
    """Multiply the families matching the filters by `factor`.

    Above 1, new families are drawn by resampling the matching families (same language, site,
    option, urgency, intensity, needs, interests, services), with new ids and no current staff;
    below 1, a random share of the matching families leaves. Filters are lists (any of), all
    filters must match; no filter = every family.
    """

    change_kind: ClassVar[str] = "scale_enrollment"
    factor: float = Field(gt=0, le=10)
    site: tuple[Code, ...] = ()
    language: tuple[Code, ...] = ()
    program_option: tuple[ProgramOption, ...] = ()

    @field_validator("language")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.lower() for v in value)


class CloseSite(_Change):
    """Close a site. With `merge_into`, its families move to that site and every staff member
    who served the closed site serves `merge_into` instead (so they can follow their families).
    Without it, its families leave the program, the site is taken off every staff member's
    sites, and staff who served only that site are removed (as remove_staff)."""

    change_kind: ClassVar[str] = "close_site"
    site: Code
    merge_into: Code | None = None


class SetPolicy(_partial(Policy, "_SetPolicyFields")):  # type: ignore[misc]
    """Change the policy: a lower cap, FTE proration, language required/preferred, weights."""

    change_kind: ClassVar[str] = "set_policy"


class SetWeights(_partial(Weights, "_SetWeightsFields")):  # type: ignore[misc]
    """Change objective weights (the keys of scenario.yaml ``weights:``)."""

    change_kind: ClassVar[str] = "set_weights"


CHANGE_KINDS: dict[str, type[_Change]] = {
    cls.change_kind: cls
    for cls in (
        AddStaff,
        RemoveStaff,
        ChangeStaff,
        AddException,
        RemoveException,
        ScaleEnrollment,
        CloseSite,
        SetPolicy,
        SetWeights,
    )
}
"""Change kind (the YAML key) -> model."""


def _change_kind(value: Any) -> str | None:
    if isinstance(value, _Change):
        return value.change_kind
    if isinstance(value, Mapping) and len(value) == 1:
        key = next(iter(value))
        return key if key in CHANGE_KINDS else None
    return None


Change = Annotated[
    Union[  # noqa: UP007
        Annotated[AddStaff, Tag("add_staff")],
        Annotated[RemoveStaff, Tag("remove_staff")],
        Annotated[ChangeStaff, Tag("change_staff")],
        Annotated[AddException, Tag("add_exception")],
        Annotated[RemoveException, Tag("remove_exception")],
        Annotated[ScaleEnrollment, Tag("scale_enrollment")],
        Annotated[CloseSite, Tag("close_site")],
        Annotated[SetPolicy, Tag("set_policy")],
        Annotated[SetWeights, Tag("set_weights")],
    ],
    Discriminator(
        _change_kind,
        custom_error_type="change_kind",
        custom_error_message="each change is a mapping with one key, the change kind: "
        + ", ".join(CHANGE_KINDS),
    ),
]
"""One change of a variant, any of :data:`CHANGE_KINDS`."""


class Variant(BaseModel):
    """A named what-if: `changes` applied in order to the base scenario."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Code
    description: str = ""
    changes: tuple[Change, ...]

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() in RESERVED_NAMES:
            raise ValueError(f"{value!r} is reserved for the unchanged scenario; choose another")
        return value

    @field_validator("changes")
    @classmethod
    def _some_changes(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise ValueError("a variant needs at least one change")
        return value


# --------------------------------------------------------------------------------------------
# Parsing


def _label(path: Sequence[str | int]) -> str:
    label = ""
    for part in path:
        label += f"[{part}]" if isinstance(part, int) else (f".{part}" if label else str(part))
    return label


def _line(lines: YamlLines, path: tuple[str | int, ...]) -> int | None:
    """The line of `path`, or of its nearest parent the map knows."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _message(err: Mapping[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    msg = msg.removeprefix("Value error, ")
    if err.get("type") in ("missing", "extra_forbidden", "change_kind"):
        return {"missing": "required field is missing", "extra_forbidden": "unknown field"}.get(
            str(err["type"]), msg
        )
    value = err.get("input")
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:55] + "...'"
    return f"{shown} is not valid: {msg}"


def parse_variants(
    raw: Sequence[Any], lines: YamlLines | None = None
) -> tuple[list[Variant], list[LocatedProblem]]:
    """Parse scenario.yaml `variants:` entries; return the valid variants and every problem.

    Problems are located as ``scenario.yaml:LINE:variants[i].changes[j].<kind>.<field>``; a
    duplicate variant name is a problem too.
    """
    indexed, problems = _parse_indexed(raw, lines)
    return [v for _, v in indexed], problems


def _parse_indexed(
    raw: Sequence[Any], lines: YamlLines | None = None
) -> tuple[list[tuple[int, Variant]], list[LocatedProblem]]:
    lines = lines or {}
    variants: list[tuple[int, Variant]] = []
    problems: list[LocatedProblem] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw):
        try:
            variant = Variant.model_validate(entry)
        except ValidationError as exc:
            name = entry.get("name") if isinstance(entry, Mapping) else None
            suffix = f" (variant {name!r})" if isinstance(name, str) else ""
            for err in exc.errors():
                path: tuple[str | int, ...] = ("variants", i, *err["loc"])
                problems.append(
                    LocatedProblem(
                        CONFIG_FILE, _line(lines, path), _label(path), _message(err) + suffix
                    )
                )
            continue
        key = variant.name.lower()
        if key in seen:
            path = ("variants", i, "name")
            problems.append(
                LocatedProblem(
                    CONFIG_FILE,
                    _line(lines, path),
                    _label(path),
                    f"duplicate variant name {variant.name!r} (also variants[{seen[key]}])",
                )
            )
            continue
        seen[key] = i
        variants.append((i, variant))
    return variants, problems


# --------------------------------------------------------------------------------------------
# Applying


class _Draft:
    """The mutable state of a scenario while a variant's changes are applied."""

    def __init__(self, scenario: Scenario) -> None:
        self.families: list[Family] = list(scenario.families)
        self.staff: list[Staff] = list(scenario.staff)
        self.exceptions: list[CapException] = list(scenario.exceptions)
        self.conflicts: list[Conflict] = list(scenario.conflicts)
        self.policy = scenario.policy
        self.weights = scenario.weights

    def fields(self) -> dict[str, Any]:
        """The Scenario fields the draft holds: policy, weights, families, staff, exceptions and
        conflicts."""
        return {
            "policy": self.policy,
            "weights": self.weights,
            "families": tuple(self.families),
            "staff": tuple(self.staff),
            "exceptions": tuple(self.exceptions),
            "conflicts": tuple(self.conflicts),
        }

    def staff_ids(self) -> set[str]:
        return {s.staff_id for s in self.staff}

    def sites(self) -> set[str]:
        sites = {f.site for f in self.families}
        for s in self.staff:
            sites.update(x for x in s.sites if x != "*")
        return sites

    def drop_staff(self, staff_id: str) -> None:
        self.staff = [s for s in self.staff if s.staff_id != staff_id]
        self.families = [
            f.model_copy(update={"current_staff_id": None, "pinned": False})
            if f.current_staff_id == staff_id
            else f
            for f in self.families
        ]
        self.exceptions = [e for e in self.exceptions if e.staff_id != staff_id]
        self.conflicts = [c for c in self.conflicts if c.staff_id != staff_id]

    def drop_families(self, family_ids: set[str]) -> None:
        self.families = [f for f in self.families if f.family_id not in family_ids]
        self.conflicts = [c for c in self.conflicts if c.family_id not in family_ids]


Problems = list[tuple[str | None, str]]
"""(field or None, message) found while applying one change."""


def _add_staff(draft: _Draft, change: AddStaff, rng: np.random.Generator) -> Problems:
    if change.staff_id in draft.staff_ids():
        return [("staff_id", f"staff_id {change.staff_id!r} already exists")]
    draft.staff.append(Staff.model_validate(change.model_dump()))
    return []


def _remove_staff(draft: _Draft, change: RemoveStaff, rng: np.random.Generator) -> Problems:
    if change.staff_id not in draft.staff_ids():
        return [("staff_id", f"unknown staff_id {change.staff_id!r}")]
    draft.drop_staff(change.staff_id)
    return []


def _validation_problems(exc: ValidationError) -> Problems:
    return [(".".join(str(p) for p in err["loc"]) or None, _message(err)) for err in exc.errors()]


def _change_staff(draft: _Draft, change: Any, rng: np.random.Generator) -> Problems:
    by_id = {s.staff_id: i for i, s in enumerate(draft.staff)}
    if change.staff_id not in by_id:
        return [("staff_id", f"unknown staff_id {change.staff_id!r}")]
    i = by_id[change.staff_id]
    updates = change.given()
    for key, value in list(updates.items()):
        if value is None and key != "max_families" and key != "name":
            del updates[key]  # null means "unchanged" except where null is a value
    try:
        draft.staff[i] = Staff.model_validate({**draft.staff[i].model_dump(), **updates})
    except ValidationError as exc:
        return _validation_problems(exc)
    return []


def _add_exception(draft: _Draft, change: AddException, rng: np.random.Generator) -> Problems:
    if change.exception_id in {e.exception_id for e in draft.exceptions}:
        return [("exception_id", f"exception_id {change.exception_id!r} already exists")]
    if change.staff_id is not None and change.staff_id not in draft.staff_ids():
        return [("staff_id", f"unknown staff_id {change.staff_id!r}")]
    draft.exceptions.append(CapException.model_validate(change.model_dump()))
    return []


def _remove_exception(draft: _Draft, change: RemoveException, rng: np.random.Generator) -> Problems:
    if change.exception_id not in {e.exception_id for e in draft.exceptions}:
        return [("exception_id", f"unknown exception_id {change.exception_id!r}")]
    draft.exceptions = [e for e in draft.exceptions if e.exception_id != change.exception_id]
    return []


def _scale_enrollment(draft: _Draft, change: ScaleEnrollment, rng: np.random.Generator) -> Problems:
    problems: Problems = []
    sites = {f.site for f in draft.families}
    languages = {f.language for f in draft.families}
    for field_name, values, known in (
        ("site", change.site, sites),
        ("language", change.language, languages),
    ):
        for value in values:
            if value not in known:
                problems.append((field_name, f"no family has {field_name} {value!r}"))
    if problems:
        return problems
    matching = [
        i
        for i, f in enumerate(draft.families)
        if (not change.site or f.site in change.site)
        and (not change.language or f.language in change.language)
        and (not change.program_option or f.program_option in change.program_option)
    ]
    if not matching:
        return [(None, "no family matches these filters together")]
    delta = round(abs(change.factor - 1) * len(matching))
    if change.factor >= 1:
        taken = {f.family_id for f in draft.families}
        number = 0
        for source in rng.choice(matching, size=delta, replace=True):
            number += 1
            while f"{NEW_FAMILY_PREFIX}{number:05d}" in taken:
                number += 1
            new_id = f"{NEW_FAMILY_PREFIX}{number:05d}"
            taken.add(new_id)
            draft.families.append(
                draft.families[int(source)].model_copy(
                    update={"family_id": new_id, "current_staff_id": None, "pinned": False}
                )
            )
    else:
        leaving = rng.choice(matching, size=delta, replace=False)
        draft.drop_families({draft.families[int(i)].family_id for i in leaving})
    log.debug("scale_enrollment: %d matching families, %+d", len(matching), delta)
    return []


def _close_site(draft: _Draft, change: CloseSite, rng: np.random.Generator) -> Problems:
    sites = draft.sites()
    if change.site not in sites:
        return [("site", f"unknown site {change.site!r}: no family or staff member has it")]
    target = change.merge_into
    if target is not None:
        if target == change.site:
            return [("merge_into", "merge_into must be another site")]
        if target not in sites:
            return [("merge_into", f"unknown site {target!r}: no family or staff member has it")]
        draft.families = [
            f.model_copy(update={"site": target}) if f.site == change.site else f
            for f in draft.families
        ]
        draft.staff = [
            s.model_copy(
                update={
                    "sites": tuple(
                        dict.fromkeys(target if x == change.site else x for x in s.sites)
                    )
                }
            )
            for s in draft.staff
        ]
        return []
    draft.drop_families({f.family_id for f in draft.families if f.site == change.site})
    for s in list(draft.staff):
        if change.site not in s.sites:
            continue
        left = tuple(x for x in s.sites if x != change.site)
        if left:
            draft.staff = [
                t.model_copy(update={"sites": left}) if t.staff_id == s.staff_id else t
                for t in draft.staff
            ]
        else:
            draft.drop_staff(s.staff_id)
    return []


def _set_section(current: BaseModel, change: _Change) -> tuple[BaseModel | None, Problems]:
    updates = {k: v for k, v in change.given().items() if v is not None}
    if isinstance(updates.get("intensity_weights"), BaseModel):
        updates["intensity_weights"] = {
            **current.model_dump()["intensity_weights"],
            **updates["intensity_weights"].model_dump(exclude_unset=True),
        }
    try:
        return type(current).model_validate({**current.model_dump(), **updates}), []
    except ValidationError as exc:
        return None, _validation_problems(exc)


def _set_policy(draft: _Draft, change: Any, rng: np.random.Generator) -> Problems:
    policy, problems = _set_section(draft.policy, change)
    if isinstance(policy, Policy):
        draft.policy = policy
    return problems


def _set_weights(draft: _Draft, change: Any, rng: np.random.Generator) -> Problems:
    weights, problems = _set_section(draft.weights, change)
    if isinstance(weights, Weights):
        draft.weights = weights
    return problems


_APPLY: dict[str, Callable[[_Draft, Any, np.random.Generator], Problems]] = {
    "add_staff": _add_staff,
    "remove_staff": _remove_staff,
    "change_staff": _change_staff,
    "add_exception": _add_exception,
    "remove_exception": _remove_exception,
    "scale_enrollment": _scale_enrollment,
    "close_site": _close_site,
    "set_policy": _set_policy,
    "set_weights": _set_weights,
}


def apply_variant(
    scenario: Scenario,
    variant: Variant,
    seed: int = 0,
    *,
    index: int | None = None,
    lines: YamlLines | None = None,
) -> Scenario:
    """A new validated Scenario: `scenario` with `variant`'s changes applied in order.

    `seed` makes `scale_enrollment` draws reproducible. `index` (the variant's position in
    scenario.yaml) and `lines` locate problems. Raises :class:`ScenarioError` listing every
    problem, each ``scenario.yaml:LINE:variants[i].changes[j].<kind>.<field>: message``
    naming the variant; problems found only once all changes are applied (for example a pin
    above a lowered cap) are located at the variant.
    """
    lines = lines or {}
    where: tuple[str | int, ...] = ("variants", index if index is not None else variant.name)
    draft = _Draft(scenario)
    problems: list[LocatedProblem] = []
    for j, change in enumerate(variant.changes):
        rng = np.random.default_rng([seed, j])
        for field_name, message in _APPLY[change.change_kind](draft, change, rng):
            path: tuple[str | int, ...] = (*where, "changes", j, change.change_kind)
            if field_name:
                path = (*path, *field_name.split("."))
            problems.append(
                LocatedProblem(
                    CONFIG_FILE,
                    _line(lines, path),
                    _label(path),
                    f"{message} (variant {variant.name!r})",
                )
            )
    if problems:
        raise ScenarioError(problems)
    try:
        return scenario.rebuilt(
            name=f"{scenario.name}: {variant.name}",
            **draft.fields(),
            variants=(),  # a variant's plan is compared with the base, never varied again
        )
    except ScenarioError as exc:
        raise ScenarioError(
            [
                LocatedProblem(
                    CONFIG_FILE,
                    _line(lines, where),
                    _label(where),
                    f"after the changes of variant {variant.name!r}: {_describe(p)}",
                )
                for p in exc.problems
            ]
        ) from None


def _describe(problem: Any) -> str:
    table = getattr(problem, "table", None)
    row = getattr(problem, "row", None)
    column = getattr(problem, "column", None)
    where = " ".join(
        str(x) for x in (table, f"row {row + 2}" if row is not None else None, column) if x
    )
    return f"{where}: {problem.message}" if where else str(problem.message)


def variants_of(scenario: Scenario) -> list[Variant]:
    """The parsed variants of `scenario` (raises ScenarioError listing every form problem)."""
    variants, problems = parse_variants(scenario.variants)
    if problems:
        raise ScenarioError(problems)
    return variants


def variant_problems(scenario: Scenario, lines: YamlLines | None = None) -> list[LocatedProblem]:
    """Every problem of `scenario.variants`: form problems, then those found applying each one."""
    indexed, problems = _parse_indexed(scenario.variants, lines)
    for i, variant in indexed:
        try:
            apply_variant(scenario, variant, index=i, lines=lines)
        except ScenarioError as exc:
            problems.extend(p for p in exc.problems if isinstance(p, LocatedProblem))
    return problems


__all__ = [
    "CHANGE_KINDS",
    "AddException",
    "AddStaff",
    "Change",
    "ChangeStaff",
    "CloseSite",
    "RemoveException",
    "RemoveStaff",
    "ScaleEnrollment",
    "SetPolicy",
    "SetWeights",
    "Variant",
    "apply_variant",
    "parse_variants",
    "variant_problems",
    "variants_of",
]
