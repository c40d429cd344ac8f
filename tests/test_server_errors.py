"""`famassign serve`'s errors and OpenAPI description, against a real process on a loopback port:
every 4xx answer has ``problems`` (validation errors included), the OpenAPI description is
served only with the token, declares the bearer scheme, a model for every answer and the error
answers, no docs page loads a CDN, and Schemathesis finds no 5xx and no answer outside the
description."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_process import ServerProcess, running_server

SCHEMATHESIS_EXAMPLES = 5
"""Examples per operation and phase (with ``--max-time``: about a minute and a half)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("errors")
    args = ("--job-processes", "1", "--check-processes", "1", "--max-upload-mb", "1")
    with running_server(root / "workspace", args=args) as running:
        yield running


def _problems(response: httpx.Response, status: int) -> list[dict[str, Any]]:
    """The answer's problems, having checked its status and the error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["detail"], str), body
    problems: list[dict[str, Any]] = body["problems"]
    assert problems, body
    for problem in problems:
        assert set(problem) == {"file", "row", "column", "message"}, problem
        assert problem["message"], problem
    return problems


def test_an_option_out_of_range_names_it_in_problems(client: httpx.Client, example_id: str) -> None:
    answer = client.post(f"/api/v1/scenarios/{example_id}/plans", json={"time_limit": -1})
    assert [p["column"] for p in _problems(answer, 422)] == ["time_limit"]


def test_a_body_that_is_not_json_answers_problems(client: httpx.Client, example_id: str) -> None:
    answer = client.post(
        f"/api/v1/scenarios/{example_id}/plans",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert _problems(answer, 422)


def test_an_upload_without_files_names_the_field(client: httpx.Client) -> None:
    answer = client.post("/api/v1/scenarios", files={"other": ("a.txt", b"x", "text/plain")})
    assert [p["column"] for p in _problems(answer, 422)] == ["files"]


def test_every_error_answer_has_problems(server: ServerProcess, client: httpx.Client) -> None:
    with server.client(token="") as anonymous:
        _problems(anonymous.get("/api/v1/scenarios"), 401)
    _problems(client.get("/api/v1/scenarios/nope"), 404)
    _problems(client.get("/api/v1/no-such-route"), 404)
    _problems(client.delete("/api/v1/scenarios"), 405)
    big = {"files": ("families.csv", b"x" * (2 * 1024 * 1024), "text/csv")}
    _problems(client.post("/api/v1/scenarios", files=big), 413)


def test_openapi_needs_the_token_and_no_docs_page_is_served(server: ServerProcess) -> None:
    with server.client(token="") as anonymous:
        _problems(anonymous.get("/api/v1/openapi.json"), 401)
        assert anonymous.get("/api/v1/docs").status_code in (401, 404)
        assert anonymous.get("/docs").status_code == 404
    with server.client() as client:
        assert client.get("/api/v1/docs").status_code == 404
        assert client.get("/api/v1/openapi.json").status_code == 200


def test_openapi_declares_the_bearer_scheme_models_and_errors(client: httpx.Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The token famassign serve printed or was given.",
    }
    error = {"$ref": "#/components/schemas/ErrorAnswer"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if path == "/api/v1/health":
                assert "security" not in operation, where
            else:
                assert operation["security"] == [{"bearer": []}], where
                assert "401" in operation["responses"], where
            answers = operation["responses"]
            assert answers["500"]["content"]["application/json"]["schema"] == error, where
            ok = next(code for code in answers if code.startswith("2"))
            content = answers[ok]["content"]
            for media, described in content.items():  # a model, never a free {}
                assert described["schema"], (where, media)
            for code in ("404", "409", "422", "429"):
                if code in answers:
                    assert answers[code]["content"]["application/json"]["schema"] == error


def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_description(
    server: ServerProcess, example_id: str, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {server.token}",
        "--checks",
        "not_a_server_error,response_schema_conformance,status_code_conformance,"
        "content_type_conformance",
        "--max-examples",
        str(SCHEMATHESIS_EXAMPLES),
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--max-time",
        "75",
        "--continue-on-failure",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(  # in tmp_path: Schemathesis keeps its database in the current folder
        command, capture_output=True, text=True, timeout=400, check=False, cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "/api/v1/scenarios" in run.stdout


def test_a_fault_of_the_server_answers_500_with_an_id_it_logged(tmp_path: Path) -> None:
    with running_server(tmp_path / "workspace", args=("--job-processes", "1")) as server:
        with sqlite3.connect(tmp_path / "workspace" / "famassign.db") as db:
            db.execute("DROP TABLE audit_log")  # the store broken under the server: its fault
        with server.client() as client:
            answer = client.get("/api/v1/audit")
        assert answer.status_code == 500, answer.text
        body = answer.json()
        assert body["problems"] and body["error_id"] in body["detail"], body
        assert f"error {body['error_id']}: GET /api/v1/audit failed" in server.log()
        assert "audit_log" not in answer.text  # the traceback is logged, not answered
