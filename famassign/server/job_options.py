"""The options of a job, typed: what a request asks for and what a worker is given.

- :class:`PlanRequest`, :class:`ReassignRequest`, :class:`UpdateRequest`,
  :class:`CompareRequest` and :class:`SweepRequest` are the API's (and the planner's page's)
  requests, checked by pydantic;
- :class:`PlanVersion` says how the planner's page makes a plan from another;
- :class:`PlanJob`, :class:`UpdateJob`, :class:`CompareJob` and :class:`SweepJob`
  (:data:`JobOptions`) are a queued job's options: the request with the solver threads the
  server gives it (and, for a plan, its version; a sweep runs its samples one after another in
  its worker). They cross into the worker process inside
  :class:`famassign.server.worker.JobSpec` (pickled by the process pool) and into the store as
  JSON (:meth:`~pydantic.BaseModel.model_dump` with ``mode="json"``);
- :func:`plan_options` makes the solver's :class:`PlanOptions` from a plan's, an update's or a
  comparison's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from famassign.models.month import AdvocateSource
from famassign.server.settings import MAX_TIME_LIMIT_S, MAX_WORKERS
from famassign.solver.options import COMPARE_TIME_LIMIT, MAX_SEED, PLAN_TIME_LIMIT, PlanOptions
from famassign.solver.stop import StopSignal

JobKind = Literal["solve", "reassign", "update", "compare", "sweep"]

MAX_SWEEP_SAMPLES = 1000
"""Most training (and most validation) samples a sweep job may ask for; bigger sweeps are for
``famassign sweep`` on a cluster."""


class SearchRequest(BaseModel):
    """The search options every plan shares: time limit, seed, determinism, threads."""

    model_config = ConfigDict(extra="forbid")

    time_limit: float = Field(
        PLAN_TIME_LIMIT,
        ge=0,
        le=MAX_TIME_LIMIT_S,
        allow_inf_nan=False,
        description="Seconds for the plan, as the command line's --time-limit: the search gets"
        " this less the time the outputs are expected to take to write.",
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the search.")
    deterministic: bool = Field(False, description="Identical plans for identical input, seed.")
    workers: int | None = Field(
        None, ge=1, le=MAX_WORKERS, description="Solver threads (default: cores/jobs)."
    )


class PlanRequest(SearchRequest):
    """Options of a plan: solve, or reassign when `departed` or `absent` is given."""

    departed: list[str] = Field(default_factory=list, description="Staff who left (reassign).")
    absent: list[str] = Field(default_factory=list, description="Staff on leave (reassign).")
    until: date | None = Field(None, description="Last day of the absence / temporary cap.")
    temporary_cap: int | None = Field(None, description="Temporary cap above 40 (with until).")
    as_of: date | None = Field(
        None, description="Day the reassignment takes effect (default: the scenario's as_of)."
    )
    allow_backdate: bool = Field(
        False, description="Allow an as_of before the scenario's own (reassign)."
    )

    @field_validator("departed", "absent", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def kind(self) -> JobKind:
        """``reassign`` when someone leaves, else ``solve``."""
        return "reassign" if self.departed or self.absent else "solve"


class ReassignRequest(PlanRequest):
    """Options of a reassignment of a plan (``famassign reassign PLAN``): who departs and/or
    who is absent (at least one), the end of the absence or temporary cap, the temporary cap,
    the day it takes effect."""


class UpdateRequest(SearchRequest):
    """Options of an update of a plan (``famassign update``): the month's export comes as files
    beside these options."""

    as_of: date | None = Field(None, description="Day the update takes effect.")
    allow_backdate: bool = Field(False, description="Allow an as_of before the plan's own.")
    max_moves_per_staff: int | None = Field(
        None, ge=0, description="At most K of a staff member's families moved away."
    )
    advocate_from: AdvocateSource = Field(
        AdvocateSource.plan,
        description="Where the export names another current advocate: keep the plan's, or "
        "take the export's.",
    )


class CompareRequest(BaseModel):
    """Options of a comparison of the base scenario and its variants."""

    model_config = ConfigDict(extra="forbid")

    time_limit: float = Field(
        COMPARE_TIME_LIMIT,
        ge=0,
        le=MAX_TIME_LIMIT_S,
        allow_inf_nan=False,
        description="Seconds per plan.",
    )
    seed: int = Field(0, ge=0, le=MAX_SEED)
    deterministic: bool = False


@dataclass(frozen=True)
class PlanVersion:
    """How the planner's page makes a plan from another: what made it (`label`), the plan it
    came from, re-planning with fewest moves, and families pinned for that one solve (a move).
    Kept in the job's options as ``version``; the plan's record names its parent and label."""

    label: str
    parent_plan_id: str | None = None
    minimize_moves: bool = False
    pin_for_solve: tuple[str, ...] = ()
    whatif: bool = False
    """True for a what-if variant: the plan is imaginary (it may carry a hire or a closed site
    that does not exist) and is never published; neither are versions made from it."""


class PlanJob(PlanRequest):
    """A queued plan's options: the checked request, the solver threads, and its version (None
    for a plan the API asked for)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(ge=1, description="Solver threads of this job.")
    version: PlanVersion | None = None

    @classmethod
    def of(cls, request: PlanRequest, workers: int, version: PlanVersion | None) -> PlanJob:
        """The job of `request` with `workers` threads (the request's own when it names some)."""
        fields = {**request.model_dump(), "workers": request.workers or workers}
        return cls(**fields, version=version)

    @property
    def minimize_moves(self) -> bool:
        """Re-plan with fewest moves (a version that asks for it)."""
        return self.version is not None and self.version.minimize_moves

    @property
    def pin_for_solve(self) -> tuple[str, ...]:
        """The families pinned to their current staff member for this one solve."""
        return self.version.pin_for_solve if self.version is not None else ()


class UpdateJob(UpdateRequest):
    """A queued update's options: the checked request, the solver threads, the names of the
    export files and mapping (in the job's ``export_dir``), the name of the staff table that
    replaced the plan's (None: the plan's own), and its version (the page's)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(ge=1, description="Solver threads of this job.")
    export_files: tuple[str, ...] = ()
    mapping_file: str | None = None
    staff_file: str | None = None
    version: PlanVersion | None = None

    @property
    def kind(self) -> JobKind:
        """Always ``update``."""
        return "update"

    @property
    def minimize_moves(self) -> bool:
        """An update always moves the fewest families."""
        return True


class CompareJob(CompareRequest):
    """A queued comparison's options: the checked request and the solver threads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(ge=1, description="Solver threads of this job.")

    @property
    def kind(self) -> JobKind:
        """Always ``compare``."""
        return "compare"

    @property
    def minimize_moves(self) -> bool:
        """A comparison plans every variant from scratch."""
        return False


class SweepRequest(BaseModel):
    """Options of a sweep (docs/sweep.md): the people to hire so that every family is placed with
    no exception in `confidence` of the sampled years, checked on fresh validation samples.

    The defaults are small, for an answer in minutes on the server: 40 training samples, 100
    validation samples, a target of 95%, seed 0.
    """

    model_config = ConfigDict(extra="forbid")

    samples: int = Field(40, ge=1, le=MAX_SWEEP_SAMPLES, description="Training samples.")
    validation_samples: int = Field(
        100, ge=0, le=MAX_SWEEP_SAMPLES, description="Fresh samples the hires are measured on."
    )
    confidence: float = Field(
        0.95,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Target share of samples placed completely with no exception.",
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Seed of the sweep.")


class SweepJob(SweepRequest):
    """A queued sweep's options: the checked request (the worker runs it inline, one sample
    after another)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def kind(self) -> JobKind:
        """Always ``sweep``."""
        return "sweep"


JobOptions = PlanJob | UpdateJob | CompareJob | SweepJob
"""The options of any job; its ``kind`` says which."""


def plan_options(
    options: PlanJob | UpdateJob | CompareJob, stop: StopSignal | None = None
) -> PlanOptions:
    """The solver's options for a job (raises OptionsError for a value out of range)."""
    return PlanOptions(
        time_limit=options.time_limit,
        seed=options.seed,
        workers=options.workers,
        deterministic=options.deterministic,
        minimize_moves=options.minimize_moves,
        stop=stop,
    )


__all__ = [
    "MAX_SWEEP_SAMPLES",
    "CompareJob",
    "CompareRequest",
    "JobKind",
    "JobOptions",
    "PlanJob",
    "PlanRequest",
    "PlanVersion",
    "ReassignRequest",
    "SearchRequest",
    "SweepJob",
    "SweepRequest",
    "UpdateJob",
    "UpdateRequest",
    "plan_options",
]
