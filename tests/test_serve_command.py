"""`famassign serve`'s arguments: token rules, the loopback rule, the URL printed once, and the
settings it hands to uvicorn (uvicorn.run replaced, so no server starts here)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from famassign.cli import app
from famassign.server.auth import token_matches
from famassign.server.logs import OneLineFormatter
from famassign.server.sessions import session_key
from famassign.server.settings import Settings, is_loopback

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_run(application: FastAPI, **kwargs: Any) -> None:
        calls.append({"app": application, **kwargs})

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.delenv("FAMASSIGN_TOKEN", raising=False)
    monkeypatch.delenv("FAMASSIGN_DATABASE_URL", raising=False)
    return calls


def _settings(call: dict[str, Any]) -> Settings:
    settings: Settings = call["app"].state.settings
    return settings


def test_generated_token_is_printed_once_with_the_url(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["serve", "--workspace", str(tmp_path), "--port", "8800"])
    assert result.exit_code == 0, result.output
    settings = _settings(served[0])
    assert settings.token_generated and len(settings.token) >= 32
    assert result.stderr.count(settings.token) == 2  # the URL to open and the API's header
    assert f"http://127.0.0.1:8800/?token={settings.token}" in result.stderr
    assert served[0]["host"] == "127.0.0.1" and served[0]["port"] == 8800
    assert served[0]["access_log"] is False  # famassign's access log has no query strings
    assert settings.store_url == f"sqlite:///{tmp_path.resolve() / 'famassign.db'}"


def test_token_from_environment_is_not_printed(
    served: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAMASSIGN_TOKEN", "environment-token-123456")
    result = runner.invoke(app, ["serve", "--workspace", str(tmp_path), "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    settings = _settings(served[0])
    assert settings.token == "environment-token-123456" and not settings.token_generated
    assert "environment-token-123456" not in result.output + result.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_non_loopback_bind_without_a_token_is_refused(
    served: list[dict[str, Any]], tmp_path: Path, host: str
) -> None:
    result = runner.invoke(app, ["serve", "--workspace", str(tmp_path), "--host", host])
    assert result.exit_code == 2
    assert "not a loopback address" in result.stderr and "FAMASSIGN_TOKEN" in result.stderr
    assert served == []


def test_bad_arguments_exit_2(served: list[dict[str, Any]], tmp_path: Path) -> None:
    short = runner.invoke(app, ["serve", "--workspace", str(tmp_path), "--token", "short"])
    assert short.exit_code == 2 and "at least 16" in short.stderr
    bad_db = runner.invoke(
        app, ["serve", "--workspace", str(tmp_path), "--database", "mysql://x/y"]
    )
    assert bad_db.exit_code == 2 and "--database" in bad_db.stderr
    assert served == []


def test_database_and_limits_reach_the_settings(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "serve",
            "--workspace",
            str(tmp_path),
            "--token",
            "a-token-of-twenty-chars",
            "--database",
            "postgresql://famassign@db.internal/famassign",
            "--max-upload-mb",
            "2",
            "--max-queued-jobs",
            "5",
            "--job-processes",
            "3",
            "--check-processes",
            "4",
            "--worker-memory-mb",
            "1024",
            "--check-timeout",
            "30",
            "--request-timeout",
            "20",
            "--job-timeout",
            "900",
        ],
    )
    assert result.exit_code == 0, result.stderr
    settings = _settings(served[0])
    assert settings.store_url == "postgresql://famassign@db.internal/famassign"
    assert settings.max_upload_bytes == 2 * 1024 * 1024 and settings.max_queued_jobs == 5
    assert settings.job_processes == 3 and settings.check_processes == 4
    assert settings.worker_memory_bytes == 1024 * 1024 * 1024
    assert (settings.check_timeout_s, settings.request_timeout_s) == (30, 20)
    assert settings.job_timeout_s == 900


def test_database_url_from_the_environment_or_a_file(
    served: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Out of the command line (visible in ps): $FAMASSIGN_DATABASE_URL, or --database-file;
    --database and --database-file come before the variable; the password is never printed."""
    workspace = ["serve", "--workspace", str(tmp_path / "ws")]
    from_env = "postgresql://famassign:env-s3cret@db.internal/famassign"
    monkeypatch.setenv("FAMASSIGN_DATABASE_URL", from_env)
    result = runner.invoke(app, workspace)
    assert result.exit_code == 0, result.stderr
    assert _settings(served[-1]).store_url == from_env
    assert "env-s3cret" not in result.output + result.stderr

    from_file = "postgresql://famassign:file-s3cret@db.internal/famassign"
    secret = tmp_path / "database-url"
    secret.write_text(f"  {from_file}\n", encoding="utf-8")
    result = runner.invoke(app, [*workspace, "--database-file", str(secret)])
    assert result.exit_code == 0, result.stderr
    assert _settings(served[-1]).store_url == from_file
    assert "s3cret" not in result.output + result.stderr

    given = "sqlite:////tmp/given.db"
    result = runner.invoke(app, [*workspace, "--database", given])
    assert result.exit_code == 0, result.stderr
    assert _settings(served[-1]).store_url == given
    calls = len(served)

    both = runner.invoke(app, [*workspace, "--database", given, "--database-file", str(secret)])
    assert both.exit_code == 2 and "not both" in both.stderr
    (tmp_path / "empty").write_text("\n", encoding="utf-8")
    for path in (tmp_path / "empty", tmp_path / "missing"):
        refused = runner.invoke(app, [*workspace, "--database-file", str(path)])
        assert refused.exit_code == 2 and "--database-file" in refused.stderr, refused.stderr
    monkeypatch.setenv("FAMASSIGN_DATABASE_URL", "mysql://famassign:s3cret@db/x")
    bad = runner.invoke(app, workspace)
    assert bad.exit_code == 2 and "FAMASSIGN_DATABASE_URL" in bad.stderr
    assert "s3cret" not in bad.output + bad.stderr
    assert len(served) == calls


def test_every_handler_of_the_server_writes_a_record_per_line(
    served: list[dict[str, Any]], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["serve", "--workspace", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    for name in ("", "famassign", "uvicorn.error"):
        handlers = logging.getLogger(name).handlers
        assert handlers and all(isinstance(h.formatter, OneLineFormatter) for h in handlers)


def test_loopback_and_token_helpers() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "::", "host.example"))
    assert token_matches("same-token", "same-token")
    assert not token_matches("same-token", "same-tokeN") and not token_matches("", "x")
    assert session_key("c1") != session_key("c2") and "c1" not in session_key("c1")
