"""Small builders for hand-made scenarios in tests (defaults: English, site North, urgency 3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from famassign.models import Family, Scenario, Staff

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
