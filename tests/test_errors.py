"""Every error famassign raises on purpose is a FamassignError; entry points name a wrong type."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import famassign as fa
import famassign.models
import famassign.scenarios
import famassign.solver

LAYERS = (fa, famassign.models, famassign.solver, famassign.scenarios)
"""The packages whose folders are walked (the layers live outside famassign/)."""


def _public_error_classes() -> list[type[BaseException]]:
    """The public exception classes defined in any module of famassign."""
    found: dict[str, type[BaseException]] = {}
    names = [
        info.name
        for package in LAYERS
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
        if not info.name.rsplit(".", 1)[-1].startswith("_")
    ]
    for name in names:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not attribute.startswith("_")
            ):
                found[f"{value.__module__}.{attribute}"] = value
    return [found[k] for k in sorted(found)]


ERRORS = _public_error_classes()


def test_the_walk_finds_the_errors_of_every_layer() -> None:
    modules = {e.__module__.split(".")[1] for e in ERRORS}
    assert {"models", "solver", "scenarios", "store", "server", "outputs"} <= modules
    assert fa.ScenarioError in ERRORS and fa.OptionsError in ERRORS


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: f"{e.__module__}.{e.__name__}")
def test_every_public_error_is_a_famassign_error(error: type[BaseException]) -> None:
    assert issubclass(error, fa.FamassignError)


@pytest.mark.parametrize(
    "error",
    [
        fa.OptionsError,
        fa.ReassignError,
        fa.RecommendError,
        fa.UpdateError,
        fa.PlanOutputError,
    ],
)
def test_errors_that_were_value_errors_still_are(error: type[BaseException]) -> None:
    assert issubclass(error, ValueError)


def test_famassign_error_is_exported() -> None:
    assert "FamassignError" in fa.__all__ and "ArgumentTypeError" in fa.__all__
    assert issubclass(fa.ArgumentTypeError, fa.FamassignError)
    assert issubclass(fa.ArgumentTypeError, TypeError)


ENTRY_POINTS: list[tuple[str, Callable[[], Any]]] = [
    ("solve() takes a Scenario, not NoneType", lambda: fa.solve(None)),  # type: ignore[arg-type]
    ("compare() takes a Scenario, not str", lambda: fa.compare("plan")),  # type: ignore[arg-type]
    ("staffing() takes a Scenario, not int", lambda: fa.staffing(3)),  # type: ignore[arg-type]
    ("sweep() takes a Scenario, not NoneType", lambda: fa.sweep(None)),  # type: ignore[arg-type]
    (
        "reassign() takes a Scenario, not NoneType",
        lambda: fa.reassign(None, departed="S1"),  # type: ignore[arg-type]
    ),
    ("update() takes a Scenario, not dict", lambda: fa.update({})),  # type: ignore[arg-type]
    (
        "recommend() takes a Scenario as scenario, not NoneType",
        lambda: fa.recommend(None, "F1"),  # type: ignore[arg-type]
    ),
]


@pytest.mark.parametrize(
    "message, call", ENTRY_POINTS, ids=[m.split("(")[0] for m, _ in ENTRY_POINTS]
)
def test_an_entry_point_names_a_wrong_argument_type(message: str, call: Callable[[], Any]) -> None:
    with pytest.raises(fa.ArgumentTypeError) as raised:
        call()
    assert str(raised.value) == message


def test_write_plan_names_the_argument_of_the_wrong_type(tmp_path: Path) -> None:
    scenario = fa.read_scenario(fa.example_path()).scenario
    with pytest.raises(fa.ArgumentTypeError, match=r"write_plan\(\) takes a Result as result"):
        fa.write_plan(scenario, scenario, tmp_path / "plan")  # type: ignore[arg-type]
    assert not (tmp_path / "plan").exists()


def test_recommend_names_a_family_of_the_wrong_type() -> None:
    scenario = fa.read_scenario(fa.example_path()).scenario
    with pytest.raises(TypeError, match=r"takes a str or Family as family, not int"):
        fa.recommend(scenario, 7)  # type: ignore[arg-type]
