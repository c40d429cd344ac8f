"""The tables of a scenario and their columns, derived from the domain models.

Each table (families, staff, exceptions, conflicts) has a :class:`TableSpec`; its columns are read
off the pydantic model's fields (kind, whether required, default, numeric bounds), so the loader
and the model can never disagree about a column.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from famassign.models.domain import CapException, Conflict, Family, Staff

CONFIG_FILE = "scenario.yaml"
"""The scenario-level settings file."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # text, int, float, bool, date, enum, list
    item_kind: str | None
    required: bool
    default: Any
    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool


@dataclass(frozen=True)
class TableSpec:
    name: str
    model: type[BaseModel]
    id_column: str

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def columns(self) -> dict[str, Column]:
        return columns_of(self.model)


def _scalar_kind(annotation: Any) -> str:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if annotation is date:
        return "date"
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return "enum"
    return "text"


def _column(name: str, info: FieldInfo) -> Column:
    annotation: Any = info.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    item_kind = None
    if get_origin(annotation) is tuple:
        kind, item_kind = "list", _scalar_kind(get_args(annotation)[0])
    else:
        kind = _scalar_kind(annotation)
    lower = upper = None
    lower_inclusive = upper_inclusive = True
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            lower = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Gt):
            lower, lower_inclusive = float(meta.gt), False  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Le):
            upper = float(meta.le)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Lt):
            upper, upper_inclusive = float(meta.lt), False  # type: ignore[arg-type]
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    return Column(
        name, kind, item_kind, required, default, lower, lower_inclusive, upper, upper_inclusive
    )


_COLUMN_CACHE: dict[type[BaseModel], dict[str, Column]] = {}


def columns_of(model: type[BaseModel]) -> dict[str, Column]:
    if model not in _COLUMN_CACHE:
        _COLUMN_CACHE[model] = {n: _column(n, f) for n, f in model.model_fields.items()}
    return _COLUMN_CACHE[model]


TABLES: dict[str, TableSpec] = {
    "families": TableSpec("families", Family, "family_id"),
    "staff": TableSpec("staff", Staff, "staff_id"),
    "exceptions": TableSpec("exceptions", CapException, "exception_id"),
    "conflicts": TableSpec("conflicts", Conflict, "family_id"),
}
"""The logical tables in the order they are checked and reported."""
