"""The program's year through the command line and through the HTTP API against a real server
(deterministic mode), with nothing copied between plans by hand:

- the twelve plans of tests/program_year.py (a solve; monthly enrolments, withdrawals and
  re-assessments; a departure with a temporary cap; an absence with a return; a hire), by the
  command line with the month edited into each plan folder, and by HTTP with the month's export
  made from the plan's own families.csv (``POST /api/v1/plans/{id}/update``, the hire as the
  plan's staff.csv with a row added) and the departure and the absence by
  ``POST /api/v1/plans/{id}/reassign``: the same assignments.csv, placed and moves at every
  step, every HTTP plan re-checked by the independent evaluator;
- a solve and two export-driven updates (``famassign update --families-export`` and the update
  route), the second taking the export's advocate where it disagrees: the same assignments.csv
  and changes.csv;
- what the command line refuses is refused by HTTP with 422 before any job starts: a bad export
  with every problem located as the loader locates it, a backdated ``as_of``, reassign's
  argument rules, a staff table that does not load.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import builders
import httpx
import pandas as pd
import pytest
from program_year import SEED, YEAR, Step, as_planned, edit_month, program, run_step
from server_process import ServerProcess, check_plan, running_server, upload_folder, wait_for_job
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Family, Scenario, ScenarioError
from famassign.models.importing import infer_mapping
from famassign.models.loading import load_scenario
from famassign.models.mapping import ImportMapping
from famassign.models.month import read_families_export
from famassign.models.writing import SCENARIO_FILES, families_frame, write_scenario

runner = CliRunner()
TIME_LIMIT = 20
OPTIONS = ("--deterministic", "--time-limit", str(TIME_LIMIT))
SEARCH = {"deterministic": True, "time_limit": TIME_LIMIT}
SUMMARY_KEYS = ("assigned", "moves", "moved_placed", "moved_unplaced", "returns")
"""summary.json's counts that must be the same by HTTP as by the command line."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module (its client: conftest's ``client``)."""
    with running_server(tmp_path_factory.mktemp("year-http") / "workspace") as running:
        yield running


def frame(data: bytes | Path) -> pd.DataFrame:
    """A CSV as strings, sorted by family_id."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    out = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    return out.sort_values("family_id").reset_index(drop=True)


def plan_of(client: httpx.Client, started: httpx.Response) -> str:
    """The plan of the job `started` answered (202), once it is done."""
    assert started.status_code == 202, started.text
    job = wait_for_job(client, started.json()["id"])
    assert job["state"] == "done", job
    plan: str = job["plan_id"]
    return plan


def download_scenario(client: httpx.Client, plan: str, folder: Path) -> Path:
    """The next scenario a plan holds (its scenario files), fetched into `folder`."""
    folder.mkdir(parents=True)
    listed = client.get(f"/api/v1/plans/{plan}/files").json()
    for name in SCENARIO_FILES:
        if name in listed:
            answer = client.get(f"/api/v1/plans/{plan}/files/{name}")
            assert answer.status_code == 200, answer.text
            (folder / name).write_bytes(answer.content)
    return folder


def replan(client: httpx.Client, plan: str, step: Step, month: Path) -> httpx.Response:
    """Step `step` of the year over HTTP from `plan`: an update with the month's export (and the
    staff table with the hire), or a reassign with the step's command-line options."""
    if step.command[0] == "update":
        files = [("files", ("families.csv", (month / "families.csv").read_bytes(), "text/csv"))]
        if step.hire:
            files.append(("staff", ("staff.csv", (month / "staff.csv").read_bytes(), "text/csv")))
        form = {"as_of": step.as_of, **{k: str(v).lower() for k, v in SEARCH.items()}}
        return client.post(f"/api/v1/plans/{plan}/update", data=form, files=files)
    body: dict[str, Any] = {"as_of": step.as_of, **SEARCH}
    for option, value in step.arguments.items():
        field = option.removeprefix("--").replace("-", "_")
        body[field] = value.split(",") if field in ("departed", "absent") else value
    return client.post(f"/api/v1/plans/{plan}/reassign", json=body)


def test_the_twelve_plans_of_a_year_are_the_same_by_http_as_by_the_command_line(
    tmp_path: Path, client: httpx.Client
) -> None:
    start = write_scenario(program(), tmp_path / "program")
    cli = [tmp_path / "cli-00"]
    res = runner.invoke(app, ["solve", str(start), "--out", str(cli[0]), *OPTIONS])
    assert res.exit_code == 0, res.output
    rng = random.Random(SEED)
    for k, step in enumerate(YEAR, start=1):
        edit_month(cli[-1], step, k, rng)
        cli.append(tmp_path / f"cli-{k:02d}")
        run_step(cli[-2], cli[-1], step, OPTIONS)

    created = upload_folder(client, start)
    assert created.status_code == 201, created.text
    scenario_id = created.json()["id"]
    plans = [plan_of(client, client.post(f"/api/v1/scenarios/{scenario_id}/plans", json=SEARCH))]
    check_plan(client, plans[0], program())
    rng = random.Random(SEED)
    for k, step in enumerate(YEAR, start=1):
        month = download_scenario(client, plans[-1], tmp_path / f"http-{k:02d}" / "month")
        edit_month(month, step, k, rng)
        plans.append(plan_of(client, replan(client, plans[-1], step, month)))
        out = download_scenario(client, plans[-1], tmp_path / f"http-{k:02d}" / "plan")
        check_plan(client, plans[-1], as_planned(load_scenario(month), out, step))

    for k, (folder, plan) in enumerate(zip(cli, plans, strict=True)):
        by_http = client.get(f"/api/v1/plans/{plan}/files/assignments.csv")
        assert by_http.status_code == 200, by_http.text
        pd.testing.assert_frame_equal(
            frame(by_http.content), frame(folder / "assignments.csv"), obj=f"step {k}"
        )
        summary = client.get(f"/api/v1/plans/{plan}/files/summary.json").json()
        expected = json.loads((folder / "summary.json").read_text())
        keys = ("assigned", "plan_fingerprint", "continues") + (SUMMARY_KEYS if k else ())
        assert {key: summary.get(key) for key in keys} == {
            key: expected.get(key) for key in keys
        }, k
    kinds = [client.get(f"/api/v1/plans/{plan}").json()["kind"] for plan in plans]
    assert kinds == ["solve"] + [step.command[0] for step in YEAR]


def months_program() -> Scenario:
    """A smaller program for the export-driven months and the refusals."""
    return program(60, 12, 4, 1, fte=0.5, seed=11, name="Year over HTTP")


def export(families: list[Family], month: int, advocate: dict[str, str]) -> list[Family]:
    """The month's export: three withdrawn, three enrolled, four re-assessed, and the data
    system's advocate for the families in `advocate`."""
    rng = random.Random(month)
    kept = sorted(rng.sample(families, len(families) - 3), key=lambda f: f.family_id)
    out = []
    for fam in kept:
        update: dict[str, object] = {"current_staff_id": advocate.get(fam.family_id)}
        if rng.random() < 4 / len(kept):
            update["urgency"] = 6 - fam.urgency
        out.append(fam.model_copy(update=update))
    new = [builders.fam(f"N{month}{i}", urgency=rng.randint(1, 5), language="en") for i in range(3)]
    return out + new


def write_export(folder: Path, families: list[Family]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "families.csv"
    families_frame(families).to_csv(path, index=False)
    return path


def test_export_driven_months_by_command_line_and_by_http_give_the_same_plans(
    tmp_path: Path, client: httpx.Client
) -> None:
    sc = months_program()
    start = write_scenario(sc, tmp_path / "program")
    first = export(list(sc.families), 1, {})
    second = export(first, 2, {f.family_id: f"S{3 - i}" for i, f in enumerate(first[:4])})
    months = [
        ("2026-09-15", write_export(tmp_path / "e1", first), "plan"),
        ("2026-10-15", write_export(tmp_path / "e2", second), "export"),
    ]

    cli = [tmp_path / "cli0"]
    res = runner.invoke(app, ["solve", str(start), "--out", str(cli[0]), *OPTIONS])
    assert res.exit_code in (0, 3), res.output
    for i, (as_of, path, advocate) in enumerate(months, 1):
        out = tmp_path / f"cli{i}"
        args = ["update", str(cli[-1]), "--out", str(out), "--as-of", as_of]
        args += ["--families-export", str(path), "--advocate-from", advocate, *OPTIONS]
        res = runner.invoke(app, args)
        assert res.exit_code in (0, 3), res.output
        cli.append(out)

    created = upload_folder(client, start)
    assert created.status_code == 201, created.text
    plans = [
        plan_of(client, client.post(f"/api/v1/scenarios/{created.json()['id']}/plans", json=SEARCH))
    ]
    for as_of, path, advocate in months:
        started = client.post(
            f"/api/v1/plans/{plans[-1]}/update",
            data={
                "as_of": as_of,
                "advocate_from": advocate,
                "deterministic": "true",
                "time_limit": str(TIME_LIMIT),
            },
            files=[("files", (path.name, path.read_bytes(), "text/csv"))],
        )
        plans.append(plan_of(client, started))
    for folder, plan in zip(cli, plans, strict=True):
        by_http = client.get(f"/api/v1/plans/{plan}/files/assignments.csv")
        assert by_http.status_code == 200
        pd.testing.assert_frame_equal(frame(by_http.content), frame(folder / "assignments.csv"))
    for folder, plan in zip(cli[1:], plans[1:], strict=True):
        changes = client.get(f"/api/v1/plans/{plan}/files/changes.csv")
        assert changes.status_code == 200
        assert changes.content.decode() == (folder / "changes.csv").read_text()
    last = client.get(f"/api/v1/plans/{plans[-1]}/files/changes.csv").text
    assert "advocate_differs" in last and ",export\n" in last
    bad = client.post(
        f"/api/v1/plans/{plans[-1]}/update",
        files=[("files", ("../families.csv", b"x", "text/csv"))],
    )
    assert bad.status_code == 422, bad.text


@pytest.fixture(scope="module")
def plan_id(client: httpx.Client, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A plan of the months' program, dated 2026-08-17 (solved with no search)."""
    folder = write_scenario(months_program(), tmp_path_factory.mktemp("refusals") / "program")
    created = upload_folder(client, folder)
    assert created.status_code == 201, created.text
    scenario_id = created.json()["id"]
    started = client.post(f"/api/v1/scenarios/{scenario_id}/plans", json={"time_limit": 0})
    return plan_of(client, started)


def located(problems: list[Any]) -> list[dict[str, Any]]:
    """The loader's problems as the API's JSON: ``{file, row, column, message}``."""
    return [
        {"file": p.file, "row": p.line, "column": p.column, "message": p.message} for p in problems
    ]


def test_a_bad_export_answers_422_with_every_problem_located_as_the_command_line_refuses(
    tmp_path: Path, server: ServerProcess, client: httpx.Client, plan_id: str
) -> None:
    plan = download_scenario(client, plan_id, tmp_path / "plan")
    lines = (plan / "families.csv").read_text().splitlines()
    header = lines[0].split(",")
    urgency, staff = header.index("urgency"), header.index("current_staff_id")
    rows = [line.split(",") for line in lines[1:]]
    rows[2][urgency] = "9"  # a value out of range: line 4
    rows[5][staff] = "S404"  # an advocate the plan's staff does not hold: line 7
    rows[7][0] = rows[6][0]  # a family twice: line 9
    header.append("favourite_colour")  # a column the loader does not know (a warning)
    text = "\n".join(",".join(r) for r in [header, *[[*r, "blue"] for r in rows]]) + "\n"
    path = tmp_path / "export.csv"
    path.write_text(text)

    with pytest.raises(ScenarioError) as refused:
        read_families_export([path], load_scenario(plan))
    expected = located(refused.value.problems)
    assert {(p["file"], p["row"], p["column"]) for p in expected} >= {
        ("export.csv", 4, "urgency"),
        ("export.csv", 7, "current_staff_id"),
    }
    res = runner.invoke(
        app,
        ["update", str(plan), "--out", str(tmp_path / "out"), "--families-export", str(path)],
    )
    assert res.exit_code == 2 and not (tmp_path / "out").exists(), res.output
    for p in expected:
        assert f"{p['file']}:{p['row']}:{p['column']}" in res.output, (p, res.output)

    jobs = len(client.get("/api/v1/jobs").json())
    answer = client.post(
        f"/api/v1/plans/{plan_id}/update",
        data={"as_of": "2026-09-01"},
        files=[("files", ("export.csv", text.encode(), "text/csv"))],
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"] == expected
    assert answer.json()["detail"] == f"{len(expected)} problem(s) found; nothing was kept"
    assert len(client.get("/api/v1/jobs").json()) == jobs  # no job started
    exports = server.workspace / "exports"
    assert not exports.is_dir() or not any(exports.iterdir())  # nor the export kept

    # through the importer's mapping: the problem named in the export file, as uploaded
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "families.csv").write_text((plan / "families.csv").read_text())
    (exports / "staff.csv").write_text((plan / "staff.csv").read_text())
    mapping = infer_mapping([exports / "families.csv", exports / "staff.csv"]).mapping.to_yaml()
    lines = (exports / "families.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[urgency] = "9"
    lines[3] = ",".join(cells)
    (exports / "families.csv").write_text("\n".join(lines) + "\n")
    paths = [exports / "families.csv", exports / "staff.csv"]
    with pytest.raises(ScenarioError) as refused:
        read_families_export(paths, load_scenario(plan), ImportMapping.from_yaml(mapping))
    expected = located(refused.value.problems)
    assert [(p["file"], p["row"], p["column"]) for p in expected] == [
        ("families.csv", 4, "urgency")
    ]
    answer = client.post(
        f"/api/v1/plans/{plan_id}/update",
        files=[
            *[("files", (p.name, p.read_bytes(), "text/csv")) for p in paths],
            ("mapping", ("mapping.yaml", mapping.encode(), "application/yaml")),
        ],
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"] == expected

    # a column the loader does not know is only a warning, by HTTP as by the command line
    fine = (plan / "families.csv").read_text().splitlines()
    fine = [f"{fine[0]},favourite_colour"] + [f"{line},blue" for line in fine[1:]]
    started = client.post(
        f"/api/v1/plans/{plan_id}/update",
        data={"time_limit": "0"},
        files=[("files", ("export.csv", ("\n".join(fine) + "\n").encode(), "text/csv"))],
    )
    plan_of(client, started)


def test_update_and_reassign_refuse_what_the_command_line_refuses_before_any_job(
    tmp_path: Path, client: httpx.Client, plan_id: str
) -> None:
    jobs = len(client.get("/api/v1/jobs").json())

    def refused(answer: httpx.Response, column: str | None, words: str) -> None:
        assert answer.status_code == 422, answer.text
        (problem,) = answer.json()["problems"]
        assert problem["column"] == column and words in problem["message"], problem

    reassign = f"/api/v1/plans/{plan_id}/reassign"
    refused(client.post(reassign, json={}), None, "name at least one staff member")
    refused(client.post(reassign, json={"departed": ["S9"]}), "departed", "unknown staff_id 'S9'")
    refused(
        client.post(reassign, json={"departed": ["S1"], "temporary_cap": 44}),
        None,
        "temporary cap (temporary_cap) needs an end date (until DATE)",
    )
    refused(
        client.post(reassign, json={"absent": ["S1"], "as_of": "2026-08-01"}),
        "as_of",
        "as_of 2026-08-01 is before 2026-08-17",
    )
    refused(
        client.post(reassign, json={"absent": ["S1"], "until": "2026-08-10"}),
        None,
        "until 2026-08-10 is before the planning date 2026-08-17",
    )
    assert client.post(reassign, json={"absent": ["S1"], "seed": -1}).status_code == 422
    refused(
        client.post(f"/api/v1/plans/{plan_id}/update", data={"as_of": "2026-08-01"}),
        "as_of",
        "as_of 2026-08-01 is before 2026-08-17",
    )
    staff = client.get(f"/api/v1/plans/{plan_id}/files/staff.csv").text
    refused(
        client.post(
            f"/api/v1/plans/{plan_id}/update",
            files=[("staff", ("hires.csv", staff.encode(), "text/csv"))],
        ),
        "staff",
        "give the staff table as staff.csv or staff.xlsx",
    )
    lines = staff.splitlines()
    spoiled = "\n".join([lines[0], lines[1].replace(",0.5,", ",1.5,"), *lines[2:]]) + "\n"
    answer = client.post(
        f"/api/v1/plans/{plan_id}/update",
        files=[("staff", ("staff.csv", spoiled.encode(), "text/csv"))],
    )
    assert answer.status_code == 422, answer.text
    assert [(p["file"], p["row"], p["column"]) for p in answer.json()["problems"]] == [
        ("staff.csv", 2, "fte")
    ]
    assert len(client.get("/api/v1/jobs").json()) == jobs  # nothing was queued

    # the same refusals on the command line: exit 2
    plan = download_scenario(client, plan_id, tmp_path / "plan")
    for args in (
        ["reassign", "--departed", "S9"],
        ["reassign", "--absent", "S1", "--as-of", "2026-08-01"],
        ["update", "--as-of", "2026-08-01"],
    ):
        res = runner.invoke(app, [args[0], str(plan), "--out", str(tmp_path / "x"), *args[1:]])
        assert res.exit_code == 2, res.output
