"""The compare report opens in a headless browser (Debian's chromium) without errors and shows
its charts. Chromium is found as tests/browsers.py says (skipped by name without it, except under
``CI=true``: there a missing browser fails)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from browsers import chromium, needs_chromium
from typer.testing import CliRunner

from famassign.cli import app
from famassign.scenarios.example import example_path

pytestmark = needs_chromium


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compare") / "out"
    result = CliRunner().invoke(
        app,
        [
            "compare",
            str(example_path()),
            "--out",
            str(out),
            "--time-limit",
            "1",
            "--processes",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    return out / "report.html"


def run_browser(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *FLAGS, "--enable-logging=stderr", "--v=0", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dom_has_every_chart_and_no_page_errors(report: Path) -> None:
    done = run_browser("--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    plans = 1 + 5  # the base and the five variants of the bundled example
    assert len(re.findall(r'<svg class="chart bar-chart"', dom)) == plans
    assert len(re.findall(r'<svg class="chart histogram"', dom)) == plans
    assert dom.count('<g class="bar"') >= plans * 13
    assert "Staffing: what would serve every family within 40:1" in dom
    assert "waiver not renewed" in dom
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []


def test_screenshot_renders(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = run_browser("--window-size=1150,1600", f"--screenshot={shot}", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.stat().st_size > 20_000  # a page with charts, not a blank one
