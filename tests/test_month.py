"""The month's changes from the data system's export (`update --families-export`), the 30-day
warning on temporary exceptions ending, and the families of an ended exception re-planned."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import builders
import pandas as pd
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import CapException, Conflict, Family, Scenario
from famassign.models.month import AdvocateSource, ChangeKind, month_changes
from famassign.models.writing import families_frame, write_scenario

runner = CliRunner()


def plan_scenario() -> Scenario:
    """Six families with A or B; F4 has a conflict with B (dropped when F4 withdraws)."""
    families = [
        builders.fam("F1", current_staff_id="A"),
        builders.fam("F2", current_staff_id="A"),
        builders.fam("F3", current_staff_id="B", needs=("well_being",)),
        builders.fam("F4", current_staff_id="A"),
        builders.fam("F5", current_staff_id="A"),
        builders.fam("F6", current_staff_id="B"),
    ]
    return builders.scenario(
        families,
        [builders.staff("A"), builders.staff("B")],
        conflicts=(Conflict(family_id="F4", staff_id="B"),),
    )


def export_families(sc: Scenario) -> list[Family]:
    """The month's export: F4 withdrawn, F2 more urgent, F3 re-assessed (intensity and needs),
    F5 with B in the data system, N1 enrolled."""
    by_id = sc.family_by_id
    return [
        by_id["F1"],
        by_id["F2"].model_copy(update={"urgency": 5}),
        by_id["F3"].model_copy(update={"intensity": "high", "needs": ("well_being", "learners")}),
        by_id["F5"].model_copy(update={"current_staff_id": "B"}),
        by_id["F6"],
        builders.fam("N1", current_staff_id="B"),
    ]


def write_export(folder: Path, families: list[Family]) -> Path:
    path = folder / "export.csv"
    families_frame(families).to_csv(path, index=False)
    return path


def test_month_changes_lists_and_applies_the_export() -> None:
    sc = plan_scenario()
    month = month_changes(sc, export_families(sc))
    kinds = {(c.family_id, c.kind, c.field) for c in month.changes}
    assert kinds == {
        ("N1", ChangeKind.enrolled, ""),
        ("F4", ChangeKind.withdrawn, ""),
        ("F2", ChangeKind.reassessed, "urgency"),
        ("F3", ChangeKind.reassessed, "intensity"),
        ("F3", ChangeKind.reassessed, "needs"),
        ("F5", ChangeKind.advocate_differs, "current_staff_id"),
    }
    nxt = month.scenario.family_by_id
    assert "F4" not in nxt
    assert nxt["N1"].current_staff_id is None
    assert nxt["F5"].current_staff_id == "A"
    assert nxt["F2"].urgency == 5
    taken = month_changes(sc, export_families(sc), advocate_from=AdvocateSource.export)
    assert taken.scenario.family_by_id["F5"].current_staff_id == "B"
    assert taken.scenario.family_by_id["N1"].current_staff_id == "B"


def run_update(plan: Path, out: Path, *args: str) -> dict[str, object]:
    res = runner.invoke(app, ["update", str(plan), "--out", str(out), "--deterministic", *args])
    assert res.exit_code == 0, res.output
    return {"output": res.output, "summary": json.loads((out / "summary.json").read_text())}


def test_update_from_export_writes_changes_and_keeps_the_plans_advocate(tmp_path: Path) -> None:
    sc = plan_scenario()
    plan = write_scenario(sc, tmp_path / "plan")
    export = write_export(tmp_path, export_families(sc))
    run = run_update(plan, tmp_path / "out", "--families-export", str(export))
    changes = pd.read_csv(tmp_path / "out" / "changes.csv", dtype=str, keep_default_na=False)
    rows = {(r.family_id, r.change, r.field): r for r in changes.itertuples()}
    assert set(changes["change"]) == {"enrolled", "withdrawn", "reassessed", "advocate_differs"}
    advocate = rows[("F5", "advocate_differs", "current_staff_id")]
    assert (advocate.plan_value, advocate.export_value, advocate.kept) == ("A", "B", "plan")
    assert rows[("F2", "reassessed", "urgency")].export_value == "5"
    summary = run["summary"]
    assert isinstance(summary, dict)
    assert summary["update_enrolled"] == 1
    assert summary["update_withdrawn"] == 1
    assert summary["update_reassessed"] == 2
    assert summary["update_advocate_differs"] == 1
    assignments = pd.read_csv(tmp_path / "out" / "assignments.csv", dtype=str)
    plan_of = dict(zip(assignments["family_id"], assignments["staff_id"], strict=True))
    assert plan_of["F5"] == "A"
    assert "F4" not in plan_of and plan_of["N1"] in ("A", "B")
    nxt = pd.read_csv(tmp_path / "out" / "families.csv", dtype=str)
    assert "F4" not in set(nxt["family_id"])
    assert "F4" not in (tmp_path / "out" / "conflicts.csv").read_text()
    assert "enrolled" in (tmp_path / "out" / "compliance.md").read_text()

    run_update(
        plan,
        tmp_path / "taken",
        "--families-export",
        str(export),
        "--advocate-from",
        "export",
    )
    taken = pd.read_csv(tmp_path / "taken" / "assignments.csv", dtype=str)
    assert dict(zip(taken["family_id"], taken["staff_id"], strict=True))["F5"] == "B"
    kept = pd.read_csv(tmp_path / "taken" / "changes.csv", dtype=str, keep_default_na=False)
    assert list(kept.loc[kept["change"] == "advocate_differs", "kept"]) == ["export"]


def test_a_bad_export_is_located_and_nothing_is_written(tmp_path: Path) -> None:
    sc = plan_scenario()
    plan = write_scenario(sc, tmp_path / "plan")
    export = write_export(tmp_path, export_families(sc))
    text = export.read_text().splitlines()
    text[2] = text[2].replace(",5,", ",9,")
    export.write_text("\n".join(text) + "\n")
    res = runner.invoke(
        app, ["update", str(plan), "--out", str(tmp_path / "out"), "--families-export", str(export)]
    )
    assert res.exit_code == 2, res.output
    assert "export.csv:3:urgency" in res.output
    assert not (tmp_path / "out").exists()


def crowded(as_of: date, ends: date, b_families: int) -> Scenario:
    """A carries 42 families under the temporary exception E1 (ending `ends`); B carries
    `b_families`."""
    families = [builders.fam(f"A{i:02}", current_staff_id="A") for i in range(42)] + [
        builders.fam(f"B{i:02}", current_staff_id="B") for i in range(b_families)
    ]
    exception = CapException(
        exception_id="E1",
        kind="staff_attrition",
        staff_id="A",
        max_families=45,
        starts=date(2026, 8, 1),
        ends=ends,
        created_by="reassign 2026-08-01: S09 departed",
    )
    return Scenario(
        as_of=as_of,
        families=tuple(families),
        staff=(builders.staff("A"), builders.staff("B")),
        exceptions=(exception,),
    )


def test_a_temporary_exception_ending_within_30_days_is_warned(tmp_path: Path) -> None:
    plan = write_scenario(crowded(date(2026, 9, 1), date(2026, 9, 20), 40), tmp_path / "plan")
    run = run_update(plan, tmp_path / "out")
    assert (
        "warning: temporary exception E1 ends on 2026-09-20 (in 19 days): "
        "2 families depend on it" in str(run["output"])
    )
    summary = run["summary"]
    assert isinstance(summary, dict)
    assert summary["exceptions_ending_soon"] == 1
    assert summary["families_on_exceptions_ending_soon"] == 2
    compliance = (tmp_path / "out" / "compliance.md").read_text()
    assert "Warning: temporary exception E1 ends" in compliance
    far = write_scenario(crowded(date(2026, 9, 1), date(2026, 10, 2), 40), tmp_path / "far")
    assert "warning" not in str(run_update(far, tmp_path / "far-out")["output"])


def test_an_ended_exceptions_families_are_re_planned_with_the_reason(tmp_path: Path) -> None:
    plan = write_scenario(crowded(date(2026, 9, 1), date(2026, 9, 30), 30), tmp_path / "plan")
    run = run_update(plan, tmp_path / "out", "--as-of", "2026-10-05")
    summary = run["summary"]
    assert isinstance(summary, dict)
    assert summary["update_exceptions_ended"] == ["E1"]
    assert summary["moves"] == 2
    moves = pd.read_csv(tmp_path / "out" / "moves.csv", dtype=str)
    assert len(moves) == 2
    assert set(moves["from_staff_id"]) == {"A"} and set(moves["to_staff_id"]) == {"B"}
    assert all(r.startswith("temporary exception E1 ended on 2026-09-30") for r in moves["reason"])
    handover = pd.read_csv(tmp_path / "out" / "handover.csv", dtype=str)
    assert all("temporary exception E1 ended on 2026-09-30" in w for w in handover["why"])
    assert (
        "Temporary exception E1 ended on 2026-09-30"
        in (tmp_path / "out" / "compliance.md").read_text()
    )
    assert (
        not (tmp_path / "out" / "exceptions.csv").exists()
        or "E1" not in (tmp_path / "out" / "exceptions.csv").read_text()
    )


def test_update_from_exports_through_the_saved_mapping(tmp_path: Path) -> None:
    """--families-export with --mapping: the export goes through the importer's mapping (here
    inferred from the same files and saved as mapping.yaml, as `famassign import` does)."""
    from famassign.models.importing import infer_mapping
    from famassign.models.writing import staff_frame

    sc = plan_scenario()
    plan = write_scenario(sc, tmp_path / "plan")
    exports = tmp_path / "exports"
    exports.mkdir()
    families = write_export(exports, export_families(sc))
    staff = exports / "staff.csv"
    staff_frame(sc.staff).to_csv(staff, index=False)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(infer_mapping([families, staff]).mapping.to_yaml())
    args = ["--families-export", str(families), "--families-export", str(staff)]
    run = run_update(plan, tmp_path / "out", *args, "--mapping", str(mapping))
    summary = run["summary"]
    assert isinstance(summary, dict)
    assert (summary["update_enrolled"], summary["update_withdrawn"]) == (1, 1)
    assert summary["update_reassessed"] == 2 and summary["update_advocate_differs"] == 1
    res = runner.invoke(
        app, ["update", str(plan), "--out", str(tmp_path / "x"), "--mapping", str(mapping)]
    )
    assert res.exit_code == 2 and "--mapping needs --families-export" in res.output


def test_a_reassign_warns_about_the_temporary_exception_it_creates(tmp_path: Path) -> None:
    families = [builders.fam(f"A{i:02}", current_staff_id="A") for i in range(40)] + [
        builders.fam(f"B{i}", current_staff_id="B") for i in range(5)
    ]
    sc = Scenario(
        as_of=date(2026, 9, 1),
        families=tuple(families),
        staff=(builders.staff("A"), builders.staff("B")),
    )
    plan = write_scenario(sc, tmp_path / "plan")
    args = ["--departed", "B", "--temporary-cap", "45", "--until", "2026-09-20"]
    res = runner.invoke(
        app, ["reassign", str(plan), "--out", str(tmp_path / "out"), "--deterministic", *args]
    )
    assert res.exit_code == 0, res.output
    assert "(in 19 days): 5 families depend on it" in res.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["exceptions_ending_soon"] == 1
    assert summary["families_on_exceptions_ending_soon"] == 5
