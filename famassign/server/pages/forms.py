"""The planner's page's forms read into what the service takes: the import mapping, the plan
options and objective weights, dates and the fields of an exception or a what-if change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError

from famassign.models.domain import ExceptionKind, Intensity, Outcome, ProgramOption, StaffStatus
from famassign.models.mapping import ImportMapping
from famassign.server.adjustments import AdjustmentError
from famassign.server.job_options import PlanRequest
from famassign.solver.options import PAGE_TIME_LIMIT

EXCEPTION_FIELDS = (
    "exception_id",
    "kind",
    "staff_id",
    "max_families",
    "starts",
    "ends",
    "reference",
    "note",
)
"""The fields of a cap exception."""
WHATIF_FIELDS = (
    *EXCEPTION_FIELDS,
    "languages",
    "sites",
    "program_options",
    "fte",
    "status",
    "factor",
    "site",
    "language",
    "merge_into",
    "max_families_per_staff",
)
"""The fields of every what-if change kind (those of an exception included)."""


CODE_CHOICES: dict[str, list[str]] = {
    "program_option": [o.value for o in ProgramOption],
    "outcome": [o.value for o in Outcome],
    "intensity": [i.value for i in Intensity],
    "urgency": ["5", "4", "3", "2", "1"],
    "status": [s.value for s in StaffStatus],
    "exception_kind": [k.value for k in ExceptionKind],
    "bool": ["true", "false"],
}
"""The codes a label may be set to, per vocabulary, offered on the mapping page (languages: any
ISO 639-1 code; staff: any staff id)."""


def mapping_from_form(proposal: ImportMapping, form: Mapping[str, Any]) -> ImportMapping:
    """The proposed mapping with the planner's corrections from the mapping form.

    Parameters
    ----------
    proposal
        The mapping shown (inferred, or kept from last time).
    form
        ``table|i``, ``per_child|i``, ``colname|i|j`` with ``col|i|j`` (header -> column,
        blank: not used), ``vlabel|vocabulary|k`` with ``val|vocabulary|k`` (the code of a
        label; blank or the label itself: none set), ``date_order``, ``name`` and ``as_of``
        (blank: none).

    Returns
    -------
    ImportMapping
        The corrected mapping; the labels of `proposal` the form does not show are kept.

    Raises
    ------
    pydantic.ValidationError
        When a table, date order or planning date is not one the importer takes.
    """
    files = []
    for i, entry in enumerate(proposal.files):
        columns = {}
        j = 0
        while f"colname|{i}|{j}" in form:
            header, column = str(form[f"colname|{i}|{j}"]), str(form.get(f"col|{i}|{j}", ""))
            if column:
                columns[header] = column
            j += 1
        update = {
            "table": str(form.get(f"table|{i}", entry.table)),
            "columns": columns,
            "per_child": bool(form.get(f"per_child|{i}")),
        }
        files.append(entry.model_copy(update=update))
    values = {vocabulary: dict(labels) for vocabulary, labels in proposal.values.items()}
    for key, label in form.items():
        if not key.startswith("vlabel|"):
            continue
        vocabulary = key.split("|")[1]
        code = str(form.get("val|" + key.removeprefix("vlabel|"), "")).strip()
        labels = values.setdefault(vocabulary, {})
        if code and code != label:
            labels[str(label)] = code
        else:  # blank, or a code standing for itself: nothing to map
            labels.pop(str(label), None)
    data = proposal.model_dump(mode="json")
    data.update(
        files=[f.model_dump(mode="json") for f in files],
        values={v: labels for v, labels in values.items() if labels},
        date_order=str(form.get("date_order", proposal.date_order)),
        name=str(form.get("name", proposal.name or "")).strip() or None,
        as_of=str(form.get("as_of", data["as_of"] or "")).strip() or None,
    )
    return ImportMapping.model_validate(data)


def plan_options(form: Mapping[str, Any]) -> PlanRequest:
    """The plan options of a form, checked as the API checks a plan request.

    Raises
    ------
    AdjustmentError
        Naming every option out of range.
    """
    try:
        return PlanRequest(
            time_limit=form.get("time_limit") or PAGE_TIME_LIMIT,
            seed=form.get("seed") or 0,
            deterministic=bool(form.get("deterministic")),
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise AdjustmentError(problems) from None


def changed_weights(weights: Mapping[str, float], form: Mapping[str, Any]) -> dict[str, str]:
    """The objective weights the form's ``w_<term>`` fields change from `weights`, as written.

    Raises
    ------
    ValueError
        When a weight filled in is not a number (naming it); the weights' bounds are checked
        where they are applied (:func:`famassign.server.adjustments.with_weights`).
    """
    changed = {}
    for key, default in weights.items():
        raw = form.get(f"w_{key}")
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"the weight {key} must be a number, not {text[:40]!r}") from None
        if value != default:
            changed[key] = text
    return changed


def form_date(value: Any) -> date | None:
    """A date field (``YYYY-MM-DD``); None when blank.

    Raises
    ------
    AdjustmentError
        When it is not a date.
    """
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AdjustmentError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def filled(form: Mapping[str, Any], names: Sequence[str]) -> dict[str, str]:
    """The form's fields among `names` that are not blank, stripped."""
    fields = {k: str(form.get(k, "")).strip() for k in names}
    return {k: v for k, v in fields.items() if v}


__all__ = [
    "CODE_CHOICES",
    "EXCEPTION_FIELDS",
    "WHATIF_FIELDS",
    "changed_weights",
    "filled",
    "form_date",
    "mapping_from_form",
    "plan_options",
]
