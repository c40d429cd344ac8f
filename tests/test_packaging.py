"""The installed package: one import package, ``famassign``, and nothing else at the top level.

The wheel is built from a copy of the source (the checkout stays untouched) without network
(``--no-build-isolation`` with the setuptools of this environment) and installed, without its
dependencies, into a fresh virtual environment that borrows this environment's dependencies
through a ``.pth`` file. A script in a folder holding its own ``models.py``, ``solver.py`` and
``scenarios.py`` (all of which raise on import) then plans the bundled example through
``import famassign as fa``, with the installed wheel and with this (editable) install.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = shutil.ignore_patterns(
    ".*", "build", "dist", "*.egg-info", "__pycache__", "*.whl", "tests", "benchmarks"
)
NOT_SOURCE_BUT_TESTS = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.whl", "node_modules"
)
SDIST = """\
import os
import sys

from setuptools import build_meta

os.chdir(sys.argv[1])
build_meta.build_sdist(sys.argv[2])
"""
"""Builds the sdist of the folder argv[1] into argv[2] (setuptools' own backend, no network)."""
TOP_LEVEL = {"famassign", "famassign-{version}.dist-info"}


@dataclass(frozen=True)
class Installed:
    """A wheel and the fresh environment it was installed into."""

    wheel: Path
    python: Path
    bin_dir: Path
    purelib: Path
    purelib_before: frozenset[str]
    bin_before: frozenset[str]


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


def _install_wheel(source: Path, work: Path) -> Installed:
    """Build a wheel from `source` and install it into a fresh environment under `work`."""
    wheels = work / "wheels"
    _run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
        "--no-build-isolation", "--wheel-dir", wheels, source,
    )  # fmt: skip
    (wheel,) = wheels.glob("famassign-*.whl")

    env_dir = work / "fresh-env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    paths = sysconfig.get_paths(vars={"base": str(env_dir), "platbase": str(env_dir)})
    purelib, bin_dir = Path(paths["purelib"]), Path(paths["scripts"])
    python = bin_dir / "python"
    purelib_before = frozenset(p.name for p in purelib.iterdir())
    bin_before = frozenset(p.name for p in bin_dir.iterdir())
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
        "--no-index", wheel,
    )  # fmt: skip
    # The dependencies (pandas, OR-Tools, ...) come from this environment, after the fresh one:
    # a path listed in a .pth file is searched after the site-packages folder that lists it.
    here = sysconfig.get_paths()["purelib"]
    (purelib / "zz_test_dependencies.pth").write_text(here + "\n", encoding="utf-8")
    return Installed(wheel, python, bin_dir, purelib, purelib_before, bin_before)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    return _install_wheel(source, work)


def _version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def test_the_wheel_holds_only_the_famassign_package(installed: Installed) -> None:
    top = {n.format(version=_version(installed.wheel)) for n in TOP_LEVEL}
    with zipfile.ZipFile(installed.wheel) as whl:
        names = whl.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD"))
        record = whl.read(f"{dist_info}/RECORD").decode()
        top_level = whl.read(f"{dist_info}/top_level.txt").decode().split()
        entry_points = whl.read(f"{dist_info}/entry_points.txt").decode()
    assert {n.split("/")[0] for n in names} == top
    assert {row[0].split("/")[0] for row in csv.reader(io.StringIO(record)) if row} == top
    assert top_level == ["famassign"]
    assert "famassign = famassign.cli:main" in entry_points
    # The layers are inside the one package, with the bundled example.
    for inside in ("models/domain.py", "solver/solve.py", "scenarios/generator.py", "py.typed"):
        assert f"famassign/{inside}" in names, inside
    assert any(n.startswith("famassign/scenarios/examples/springfield/") for n in names)


def test_installing_the_wheel_adds_only_famassign_and_its_console_script(
    installed: Installed,
) -> None:
    top = {n.format(version=_version(installed.wheel)) for n in TOP_LEVEL}
    added = {p.name for p in installed.purelib.iterdir()} - installed.purelib_before
    assert added - {"zz_test_dependencies.pth"} == top
    assert {p.name for p in installed.bin_dir.iterdir()} - installed.bin_before == {"famassign"}
    # The installed RECORD agrees: nothing was written outside the package but the script.
    record = installed.purelib / f"famassign-{_version(installed.wheel)}.dist-info" / "RECORD"
    outside = {
        row[0]
        for row in csv.reader(io.StringIO(record.read_text()))
        if row and row[0].split("/")[0] not in top
    }
    assert {Path(p).name for p in outside} == {"famassign"}
    assert all(Path(installed.purelib, p).resolve().parent == installed.bin_dir for p in outside)
    script = (installed.bin_dir / "famassign").read_text()
    assert script.startswith(f"#!{installed.python}") and "from famassign.cli import main" in script


SCRIPT = """\
import sys

import famassign as fa

scenario = fa.read_scenario(fa.example_path()).scenario
result = fa.solve(scenario, fa.PlanOptions(time_limit=10, seed=0))
check = fa.evaluate(scenario, result.plan(), result.exception_of())
assert check.violations == [], check.violations
assert result.placed == len(scenario.families) == check.placed, result.placed
assert not {"models", "solver", "scenarios"} & set(sys.modules), "a generic name was imported"
print(fa.__file__)
"""
SHADOW = "raise RuntimeError(\"the user's own {name}.py was imported instead of famassign's\")\n"


@pytest.mark.parametrize("environment", ["installed wheel", "this environment"])
def test_a_users_own_models_solver_scenarios_do_not_shadow_famassign(
    environment: str, installed: Installed, tmp_path: Path
) -> None:
    for name in ("models", "solver", "scenarios"):
        (tmp_path / f"{name}.py").write_text(SHADOW.format(name=name), encoding="utf-8")
    (tmp_path / "plan_it.py").write_text(SCRIPT, encoding="utf-8")
    python = installed.python if environment == "installed wheel" else Path(sys.executable)
    done = _run(python, "plan_it.py", cwd=tmp_path)
    package = Path(done.stdout.strip().splitlines()[-1])
    if environment == "installed wheel":
        assert package.is_relative_to(installed.purelib), package
    else:
        assert package.resolve().is_relative_to(ROOT), package


def _wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as whl:
        return {n for n in whl.namelist() if ".dist-info/" not in n}


def test_every_package_folder_of_the_source_is_in_the_wheel(installed: Installed) -> None:
    names = _wheel_names(installed.wheel)
    folders = [ROOT / "famassign"] + [ROOT / layer for layer in ("models", "solver", "scenarios")]
    for folder in folders:
        prefix = "famassign" if folder.name == "famassign" else f"famassign/{folder.name}"
        for path in folder.rglob("*.py"):
            if "__pycache__" not in path.parts:
                wanted = f"{prefix}/{path.relative_to(folder).as_posix()}"
                assert wanted in names, f"{wanted} is missing: list its package in pyproject.toml"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_clone_without_symbolic_links_builds_and_plans(
    installed: Installed, tmp_path: Path
) -> None:
    """Cloned as Git does on Windows (core.symlinks=false), the checkout is the same package."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (for example an unpacked sdist)")
    clone = tmp_path / "clone"
    _run("git", "clone", "--quiet", "-c", "core.symlinks=false", ROOT, clone)
    modes = _run("git", "ls-files", "--stage", cwd=clone).stdout.splitlines()
    assert not [m for m in modes if m.startswith("120000")], "the repository holds links"
    cloned = _install_wheel(clone, tmp_path / "work")
    done = _run(cloned.python, "-c", SCRIPT, cwd=tmp_path)
    assert Path(done.stdout.strip().splitlines()[-1]).is_relative_to(cloned.purelib)


def test_the_sdist_carries_what_building_and_testing_need(
    installed: Installed, tmp_path: Path
) -> None:
    work = tmp_path / "sdist"
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE_BUT_TESTS)
    _run(sys.executable, "-c", SDIST, source, work)
    (archive,) = work.glob("famassign-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for needed in (
        "pyproject.toml", "README.md", "models/domain.py", "solver/solve.py",
        "scenarios/examples/springfield/scenario.yaml", "tests/conftest.py",
        "tests/test_solve.py", "benchmarks/__main__.py", "docs/scenario-format.md",
        ".ci/run", ".ci/typecheck",
    ):  # fmt: skip
        assert needed in names, needed
    (unpacked,) = (tmp_path / "unpacked").iterdir()
    from_sdist = _install_wheel(unpacked, tmp_path / "from-sdist")
    assert _wheel_names(from_sdist.wheel) == _wheel_names(installed.wheel)
