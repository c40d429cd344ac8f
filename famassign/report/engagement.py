"""The employee engagement practice of 45 CFR 1302.52(d)(3): advocates' workload check-ins in
the compliance record and the workbook.

A check-in is a plain mapping (the server's store keeps them; a plan made by the server gets
the ones received so far): ``staff_id``, ``at`` (ISO date-time, UTC), ``manageable`` (1-5),
``families_i_can_serve`` and ``hours_over`` (None when not stated), and ``acted_plan_id`` (the
plan version that turned the stated number into a personal cap, else None). Private notes are
never passed here: the compliance record and the workbook carry numbers and identifiers only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from famassign.report.sections import ReportSection

CHECKINS_CSV = "checkins.csv"
"""The check-ins table of a plan (and its workbook sheet ``extra:checkins``)."""
CHECKIN_COLUMNS = (
    "staff_id", "at", "manageable", "families_i_can_serve", "hours_over", "families_in_plan",
    "acted_plan_id",
)  # fmt: skip
"""The columns of :data:`CHECKINS_CSV`."""


def checkins_frame(
    checkins: Sequence[Mapping[str, Any]], families_in_plan: Mapping[str, int]
) -> pd.DataFrame:
    """The check-ins beside the caseloads: one row per check-in (:data:`CHECKIN_COLUMNS`),
    with the number of families the plan gives that staff member (`families_in_plan`)."""
    rows = [
        {
            **{key: c.get(key) for key in CHECKIN_COLUMNS},
            "families_in_plan": families_in_plan.get(str(c["staff_id"]), 0),
        }
        for c in checkins
    ]
    return pd.DataFrame(rows, columns=list(CHECKIN_COLUMNS))


def engagement_section(checkins: Sequence[Mapping[str, Any]]) -> ReportSection:
    """The (d)(3) section of compliance.md and report.html: check-ins received per month, how
    many staff members, the average "how manageable" (1-5), how many reported hours over, and
    what was done about them (personal caps set, with the plan versions). Identifiers only, no
    notes."""
    title = "Employee engagement on family services workload (1302.52(d)(3))"
    text = (
        "Family advocates file workload check-ins (how manageable the caseload is, 1-5; hours "
        "over; how many families they can serve well). Planners see them beside the caseloads "
        "and can turn a stated number into a personal cap in a new plan version."
    )
    if not checkins:
        return ReportSection(title, text + " No check-ins were received before this plan.")
    by_month: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for c in checkins:
        by_month[str(c["at"])[:7]].append(c)
    rows = []
    for month in sorted(by_month):
        got = by_month[month]
        acted = sorted({str(c["acted_plan_id"]) for c in got if c.get("acted_plan_id")})
        rows.append(
            {
                "period": month,
                "check-ins": len(got),
                "staff": len({c["staff_id"] for c in got}),
                "average manageable (1-5)": round(
                    sum(int(c["manageable"]) for c in got) / len(got), 1
                ),
                "reporting hours over": sum(1 for c in got if (c.get("hours_over") or 0) > 0),
                "acted on (personal cap in plan)": ", ".join(acted) if acted else "none",
            }
        )
    return ReportSection(title, text, pd.DataFrame(rows))


__all__ = ["CHECKINS_CSV", "CHECKIN_COLUMNS", "checkins_frame", "engagement_section"]
