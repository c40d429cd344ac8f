"""Small builders for hand-made scenarios and results in tests (defaults: English, site North,
urgency 3), and for scenario folders written from text or rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import strategies as st

from famassign.models import CapException, Family, Scenario, Staff
from famassign.solver.result import Assignment

AS_OF = date(2026, 8, 17)


def fam(fid: str, **kw: Any) -> Family:
    """A family with test defaults, overridden by `kw`."""
    base: dict[str, Any] = {
        "family_id": fid,
        "language": "en",
        "site": "North",
        "urgency": 3,
        "intensity": "medium",
    }
    return Family(**(base | kw))


def staff(sid: str, **kw: Any) -> Staff:
    """A full-time English-speaking staff member at North, overridden by `kw`."""
    base: dict[str, Any] = {"staff_id": sid, "languages": ("en",), "sites": ("North",)}
    return Staff(**(base | kw))


def scenario(families: list[Family], staff_: list[Staff], **kw: Any) -> Scenario:
    """A Scenario planned on AS_OF."""
    return Scenario(as_of=AS_OF, families=tuple(families), staff=tuple(staff_), **kw)


def waiver(eid: str = "W1", **kw: Any) -> CapException:
    """A waiver of the 40-family limit in force on AS_OF: 45 families, for every staff member
    (no `staff_id`), reference HHS-1, from 2026-07-01 to 2027-06-30; overridden by `kw`."""
    base: dict[str, Any] = {
        "exception_id": eid,
        "kind": "waiver",
        "max_families": 45,
        "starts": date(2026, 7, 1),
        "ends": date(2027, 6, 30),
        "reference": "HHS-1",
    }
    return CapException(**(base | kw))


def assignment(
    fid: str, sid: str | None, score: int = 0, exception_id: str | None = None, **kw: Any
) -> Assignment:
    """One row of a hand-made Result: a family new to `sid` (no previous staff member, changed
    when placed), no reasons; overridden by `kw`."""
    base: dict[str, Any] = {
        "family_id": fid,
        "staff_id": sid,
        "previous_staff_id": None,
        "changed": sid is not None,
        "exception_id": exception_id,
        "score": score,
        "reasons": "",
    }
    return Assignment(**(base | kw))


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (name -> text or bytes) into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def write_xlsx(path: Path, sheets: Mapping[str, Sequence[Sequence[Any]]]) -> Path:
    """Write a workbook of `sheets` (title -> rows, in order) to `path` and return it."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def drawn_staff(draw: st.DrawFn, n_staff: int) -> list[Staff]:
    """`n_staff` active staff s0, s1, ... for hypothesis programs: FTE 0.5, 0.7 or 1.0, one or
    both of the sites North and South, up to two strengths."""
    return [
        staff(
            f"s{j}",
            fte=draw(st.sampled_from([0.5, 0.7, 1.0])),
            sites=tuple(draw(st.sets(st.sampled_from(["North", "South"]), min_size=1))),
            strengths=tuple(draw(st.sets(st.sampled_from(["learners", "well_being"]), max_size=2))),
        )
        for j in range(n_staff)
    ]
