"""A plan's nested files over HTTP, from a real server: ``GET /api/v1/plans/{id}/files/{name}``
serves ``rosters/<staff_id>.pdf`` and ``handover/<staff_id>.html`` by their path, with their
media types, and answers 404 to a name that leaves the plan folder (``..``, an absolute path),
however it is encoded."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pypdf
import pytest
from server_process import ServerProcess, running_server, upload_folder, wait_for_job

import famassign as fa


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("files") / "workspace") as running:
        yield running


@pytest.fixture(scope="module")
def plan_id(client: httpx.Client) -> str:
    """A reassignment of the example after a staff member left: rosters and handover notes."""
    uploaded = upload_folder(client, fa.example_path())
    assert uploaded.status_code == 201, uploaded.text
    leaving = fa.read_scenario(fa.example_path()).scenario.staff[0].staff_id
    started = client.post(
        f"/api/v1/scenarios/{uploaded.json()['id']}/plans",
        json={"time_limit": 5, "departed": [leaving]},
    )
    assert started.status_code == 202, started.text
    job = wait_for_job(client, started.json()["id"])
    assert job["state"] == "done", job
    plan: str = job["plan_id"]
    return plan


def test_a_roster_pdf_and_a_handover_page_are_served_by_their_path(
    client: httpx.Client, plan_id: str
) -> None:
    names = client.get(f"/api/v1/plans/{plan_id}/files").json()
    roster = next(n for n in names if n.startswith("rosters/") and n != "rosters/all-staff.pdf")
    handover = next(n for n in names if n.startswith("handover/"))

    pdf = client.get(f"/api/v1/plans/{plan_id}/files/{roster}")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    staff_id = roster.removeprefix("rosters/").removesuffix(".pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert staff_id in text

    page = client.get(f"/api/v1/plans/{plan_id}/files/{handover}")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()

    everyone = client.get(f"/api/v1/plans/{plan_id}/files/rosters/all-staff.pdf")
    assert everyone.status_code == 200 and everyone.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    "trick",
    [
        "..%2Fplan.yaml",
        "..%2F..%2Fstore.db",
        "rosters%2F..%2Fsummary.json",
        "rosters/%2E%2E/summary.json",
        "rosters%2F.%2Fall-staff.pdf",
        "rosters//all-staff.pdf",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "rosters%5C..%5Csummary.json",
        "nothing.csv",
    ],
)
def test_a_name_leaving_the_plan_folder_is_404(
    client: httpx.Client, plan_id: str, trick: str
) -> None:
    url = f"/api/v1/plans/{plan_id}/files/{trick}"
    response = client.send(client.build_request("GET", httpx.URL(url)))
    assert response.status_code == 404, (trick, response.status_code, response.text[:200])
