"""famassign: assign Head Start families to family-services staff under 45 CFR 1302.52.

The public API, for scripts and other tools (``import famassign as fa``)::

    import famassign as fa

    scenario = fa.read_scenario(fa.example_path()).scenario
    result = fa.solve(scenario, fa.PlanOptions(time_limit=10, seed=1))
    assert fa.evaluate(scenario, result.plan(), result.exception_of()).violations == []
    fa.write_plan(result, scenario, "my-plan")

Everything listed in ``__all__`` is supported; the sub-packages (``famassign.models``,
``famassign.solver``, ``famassign.scenarios``) hold the layers behind it.
"""

import logging
from importlib.metadata import PackageNotFoundError, version

from famassign.compare import Comparison, compare
from famassign.models import (
    ArgumentTypeError,
    CapException,
    Conflict,
    ExceptionKind,
    FamassignError,
    Family,
    LocatedProblem,
    Policy,
    Scenario,
    ScenarioError,
    Staff,
    StaffStatus,
    Weights,
)
from famassign.models.files import ReadLimits
from famassign.models.importing import (
    ImportResult,
    Inference,
    apply_mapping,
    import_exports,
    infer_mapping,
)
from famassign.models.loading import LoadedScenario
from famassign.models.mapping import ImportMapping
from famassign.models.month import (
    AdvocateSource,
    FamilyChange,
    MonthChanges,
    month_changes,
    read_families_export,
)
from famassign.models.writing import ScenarioWriteError, write_scenario
from famassign.outputs import PlanOutputError, write_plan
from famassign.replan_outputs import write_replan
from famassign.scenarios import example_path, generate
from famassign.scenarios.reading import read_scenario, scenario_from_frames
from famassign.scenarios.staffing import StaffingAnswer, staffing
from famassign.solver import (
    Evaluation,
    OptionsError,
    PlanOptions,
    Result,
    SolveStatus,
    evaluate,
    solve,
)
from famassign.solver.continuation import next_scenario
from famassign.solver.reassign import ReassignError, ReassignResult, reassign
from famassign.solver.recommend import Recommendation, RecommendError, recommend
from famassign.solver.stop import StopSignal
from famassign.solver.update import UpdateError, UpdateResult, update
from famassign.sweep_runner import SweepResult, sweep

# A library never decides where its records go: without this, its warnings would reach stderr
# through Python's last-resort handler in a program that configured no logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())

try:
    __version__ = version("famassign")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "AdvocateSource",
    "ArgumentTypeError",
    "CapException",
    "Comparison",
    "Conflict",
    "Evaluation",
    "ExceptionKind",
    "FamassignError",
    "Family",
    "FamilyChange",
    "ImportMapping",
    "ImportResult",
    "Inference",
    "LoadedScenario",
    "LocatedProblem",
    "MonthChanges",
    "OptionsError",
    "PlanOptions",
    "PlanOutputError",
    "Policy",
    "ReadLimits",
    "ReassignError",
    "ReassignResult",
    "RecommendError",
    "Recommendation",
    "Result",
    "Scenario",
    "ScenarioError",
    "ScenarioWriteError",
    "SolveStatus",
    "Staff",
    "StaffStatus",
    "StaffingAnswer",
    "StopSignal",
    "SweepResult",
    "UpdateError",
    "UpdateResult",
    "Weights",
    "__version__",
    "apply_mapping",
    "compare",
    "evaluate",
    "example_path",
    "generate",
    "import_exports",
    "infer_mapping",
    "month_changes",
    "next_scenario",
    "read_families_export",
    "read_scenario",
    "reassign",
    "recommend",
    "scenario_from_frames",
    "solve",
    "staffing",
    "sweep",
    "update",
    "write_plan",
    "write_replan",
    "write_scenario",
]
