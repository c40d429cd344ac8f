"""The same months of a year through the command line and through the HTTP API against a real
server (deterministic mode): a solve, then updates from the month's family export
(``famassign update --families-export`` and ``POST /api/v1/plans/{id}/update``), the second
taking the export's advocate where it disagrees. Every step's assignments.csv is the same both
ways, and so is changes.csv."""

from __future__ import annotations

import random
from pathlib import Path

import builders
import httpx
import pandas as pd
from server_process import running_server, upload_folder, wait_for_job
from typer.testing import CliRunner

from famassign.cli import app
from famassign.models import Family, Scenario
from famassign.models.writing import families_frame, write_scenario

runner = CliRunner()
OPTIONS = ("--deterministic", "--time-limit", "20")


def program() -> Scenario:
    rng = random.Random(11)
    families = [
        builders.fam(
            f"F{i:03d}",
            language="es" if i < 12 else "en",
            urgency=rng.randint(1, 5),
            intensity=rng.choice(("low", "medium", "high")),
        )
        for i in range(60)
    ]
    staff = [
        builders.staff(f"S{j}", fte=0.5, languages=("en", "es") if j < 1 else ("en",))
        for j in range(4)
    ]
    return builders.scenario(families, staff, name="Year over HTTP")


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


def assignments(data: bytes | Path) -> pd.DataFrame:
    import io

    raw = data.read_bytes() if isinstance(data, Path) else data
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    return frame.sort_values("family_id").reset_index(drop=True)


def test_the_year_by_command_line_and_by_http_gives_the_same_plans(tmp_path: Path) -> None:
    sc = program()
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

    with running_server(tmp_path / "workspace") as server, server.client() as client:
        created = upload_folder(client, start)
        assert created.status_code == 201, created.text
        job = client.post(
            f"/api/v1/scenarios/{created.json()['id']}/plans",
            json={"deterministic": True, "time_limit": 20},
        ).json()
        plans = [_plan_of(client, job["id"])]
        for as_of, path, advocate in months:
            started = client.post(
                f"/api/v1/plans/{plans[-1]}/update",
                data={
                    "as_of": as_of,
                    "advocate_from": advocate,
                    "deterministic": "true",
                    "time_limit": "20",
                },
                files=[("files", (path.name, path.read_bytes(), "text/csv"))],
            )
            assert started.status_code == 202, started.text
            plans.append(_plan_of(client, started.json()["id"]))
        for folder, plan in zip(cli, plans, strict=True):
            by_http = client.get(f"/api/v1/plans/{plan}/files/assignments.csv")
            assert by_http.status_code == 200
            expected = assignments(folder / "assignments.csv")
            pd.testing.assert_frame_equal(assignments(by_http.content), expected)
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


def _plan_of(client: httpx.Client, job_id: str) -> str:
    job = wait_for_job(client, job_id)
    assert job["state"] == "done", job
    plan: str = job["plan_id"]
    return plan
