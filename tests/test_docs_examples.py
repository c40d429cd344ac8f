"""The examples users copy: the README's library example and every python block of docs/api.md
run exactly as written, every curl example of docs/http-api.md answers 2xx from a real server;
every link in README.md and docs/ stays in the repository or goes to a public web site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from server_process import running_server, upload_folder, wait_for_job

import famassign as fa

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)|<(https?://[^>\s]+)>")


def python_blocks(markdown: str) -> list[str]:
    """The fenced ```python blocks of `markdown`, in order."""
    return [body for lang, body in FENCE.findall(markdown) if lang == "python"]


def library_section(readme: str) -> str:
    """The README's section under the heading that names the library (up to the next heading)."""
    match = re.search(r"^## [^\n]*[Ll]ibrary[^\n]*\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert match, "README.md has no library section"
    return match.group(1)


def run_example(code: str, where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Execute `code` as a script of its own (fresh globals, ``__main__``) with `where` as the
    current folder; in this process, so that the imports are paid once for all examples."""
    monkeypatch.chdir(where)
    exec(compile(code, str(where / "example.py"), "exec"), {"__name__": "__main__"})


def test_the_readme_library_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = python_blocks(library_section((ROOT / "README.md").read_text(encoding="utf-8")))
    assert len(blocks) == 1, "the library section holds one python example"
    code = blocks[0]
    imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", code, re.M)
    assert imports and {name.split(".")[0] for name in imports} == {"famassign"}, imports
    run_example(code, tmp_path, monkeypatch)
    assert (tmp_path / "my-plan" / "assignments.csv").is_file()


API_BLOCKS = python_blocks((DOCS / "api.md").read_text(encoding="utf-8"))


def test_api_md_has_an_example_for_every_public_function() -> None:
    import inspect

    import famassign as fa

    functions = {n for n in fa.__all__ if inspect.isfunction(getattr(fa, n))}
    called = {n for n in functions if any(f"fa.{n}(" in block for block in API_BLOCKS)}
    assert functions - called == set()
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    headed = set(re.findall(r"^### (\w+)$", text, re.M))
    assert functions - headed == set()
    assert "PlanOptions" in text


@pytest.mark.parametrize("index", range(len(API_BLOCKS)))
def test_every_api_md_example_runs(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_example(API_BLOCKS[index], tmp_path, monkeypatch)


OTHER_DOCS = sorted(
    doc.name
    for doc in DOCS.glob("*.md")
    if doc.name != "api.md" and python_blocks(doc.read_text(encoding="utf-8"))
)


@pytest.mark.parametrize("doc", OTHER_DOCS)
def test_every_other_docs_python_example_runs(
    doc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A doc's python blocks, one after another as one script (a later block may go on from an
    earlier one), beside the files they name: the bundled example's tables as a data system's
    exports (family_export.csv, staff_export.csv, export.csv)."""
    import shutil

    import famassign as fa

    example = fa.example_path()
    shutil.copy(example / "families.csv", tmp_path / "family_export.csv")
    shutil.copy(example / "families.csv", tmp_path / "export.csv")
    shutil.copy(example / "staff.csv", tmp_path / "staff_export.csv")
    blocks = python_blocks((DOCS / doc).read_text(encoding="utf-8"))
    run_example("\n".join(blocks), tmp_path, monkeypatch)


HTTP_API = DOCS / "http-api.md"
CURL_STATUS = """set -eo pipefail
curl() { command curl -w '\nHTTP %{http_code}\n' "$@"; }
"""
"""Before each example: every curl call prints its answer's status on a line of its own."""


def shell_blocks(markdown: str) -> list[str]:
    """The fenced ```sh blocks of `markdown`, in order."""
    return [body for lang, body in FENCE.findall(markdown) if lang == "sh"]


def test_every_curl_example_of_http_api_md_answers_2xx(tmp_path: Path) -> None:
    blocks = shell_blocks(HTTP_API.read_text(encoding="utf-8"))
    setup = next(
        b for b in blocks if b.startswith("export T=your-token URL=http://127.0.0.1:8765\n")
    )
    examples = [b for b in blocks if b is not setup]
    with running_server(tmp_path / "workspace", args=("--job-processes", "1")) as server:
        with server.client() as client:
            scenario = upload_folder(client, fa.example_path()).json()["id"]
            plans = []
            for _ in range(2):  # PLAN is published, DRAFT deleted
                job = client.post(f"/api/v1/scenarios/{scenario}/plans", json={"time_limit": 10})
                done = wait_for_job(client, job.json()["id"])
                assert done["state"] == "done", done
                plans.append(done)
        advocate = subprocess.run(
            [
                *(sys.executable, "-m", "famassign", "users", "add", "Ana Ruiz"),
                *("--role", "advocate", "--staff-id", "S0003"),
                *("--workspace", str(tmp_path / "workspace")),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        given = {
            "ADVOCATE_TOKEN": advocate.stdout.strip().splitlines()[-1],
            "CHECKIN": "1",  # the first check-in of a new store
            "SCENARIO": scenario,
            "JOB": plans[0]["id"],
            "PLAN": plans[0]["plan_id"],
            "DRAFT": plans[1]["plan_id"],
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        }
        start = setup.replace("your-token", server.token).replace(
            "http://127.0.0.1:8765", server.url
        )
        for block in examples:
            calls = len(re.findall(r"^curl ", block, re.M))
            assert calls, block
            run = subprocess.run(
                ["bash", "-c", CURL_STATUS + start + block],
                cwd=tmp_path,
                env=os.environ | given,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert run.returncode == 0, (block, run.stdout[-2000:], run.stderr[-2000:])
            codes = re.findall(r"^HTTP (\d{3})$", run.stdout, re.M)
            assert len(codes) == calls, (block, run.stdout[-2000:])
            assert all(code.startswith("2") for code in codes), (block, run.stdout[-3000:])


def _links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))  # code is not a link
    return [a or b for a, b in LINK.findall(text)]


DOC_FILES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("doc", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_links_stay_in_the_repository_or_go_to_public_sites(doc: Path) -> None:
    for link in _links(doc):
        if re.match(r"https?://", link):
            host = re.sub(r"^https?://([^/:]+).*", r"\1", link)
            assert "." in host and host not in {"localhost", "127.0.0.1"}, link
            continue
        target = link.split("#")[0]
        assert not re.match(r"\w+:", target), f"{doc.name}: {link}"  # no file:, no other scheme
        if not target:
            continue
        resolved = (doc.parent / target).resolve()
        assert resolved.is_relative_to(ROOT), f"{doc.name}: {link} leaves the repository"
        assert resolved.exists(), f"{doc.name}: {link} does not exist"


@pytest.mark.parametrize("doc", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_section_links_name_a_heading(doc: Path) -> None:
    for link in _links(doc):
        if re.match(r"https?://", link) or "#" not in link:
            continue
        target, anchor = link.split("#", 1)
        page = (doc.parent / target).resolve() if target else doc
        assert anchor in _anchors(page), f"{doc.name}: {link}: no such heading"


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of the headings of `page`: lower case, punctuation dropped, - for space."""
    headings = re.findall(r"^#+ (.+)$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
