"""The HTTP API under ``/api/v1`` (documented in docs/http-api.md; OpenAPI at
``/api/v1/openapi.json``, with the token). Every route but ``GET /api/v1/health`` needs a token
(:func:`famassign.server.auth.require_token`) whose role the route's rule allows
(:func:`famassign.server.roles.authorize`); every route calls
:class:`famassign.server.service.Service`. Each route declares its answer's model and the error
answers it can give (:mod:`famassign.server.answers`), so the OpenAPI description is complete.
Who acted (publish, cancel, delete) is the signed-in caller, never a name the body states.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, UploadFile, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from famassign import __version__
from famassign.models import ScenarioError
from famassign.models.month import AdvocateSource
from famassign.server.adjustments import AdjustmentError, cap_replan
from famassign.server.answers import (
    AuditEntry,
    Checkin,
    Deleted,
    ErrorAnswer,
    Health,
    JobAnswer,
    PlanAnswer,
    Recommendation,
    ScenarioAnswer,
    Staffing,
)
from famassign.server.answers import (
    Caller as CallerAnswer,
)
from famassign.server.auth import Caller, require_token
from famassign.server.job_options import (
    CompareRequest,
    PlanRequest,
    ReassignRequest,
    UpdateRequest,
)
from famassign.server.planner import PlanReader
from famassign.server.roles import (
    authorize,
    may_check_in,
    may_read_file,
    may_read_plan,
    scoped_plan,
    signed_in,
    visible_files,
)
from famassign.server.service import (
    InvalidRequest,
    PlanView,
    Service,
    checkin_dict,
    job_dict,
    scenario_dict,
)

PREFIX = "/api/v1"
MAX_ID = 2**63 - 1
"""The largest numeric id a path may name (the store's integers are 64-bit)."""

MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".yaml": "application/yaml; charset=utf-8",
    ".pdf": "application/pdf",
}
"""The media type of each kind of plan file (a plan folder is also the next scenario: its
scenario.yaml; printed rosters are PDFs). Any other file is answered as octet-stream, which the
description lists too."""
OTHER_FILE = "application/octet-stream"


class PublishRequest(BaseModel):
    """Why the plan is published (kept in the audit log). `by` is optional and ignored: the
    signed-in caller is recorded as who published."""

    model_config = ConfigDict(str_strip_whitespace=True)

    by: str | None = Field(None, max_length=200)
    reason: str = Field(..., min_length=1, max_length=5000)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """A reason of blanks alone (any Python whitespace, the control separators too) is
        none: the store keeps the reason stripped."""
        if not value.strip():
            raise ValueError("a reason is needed (it is kept in the audit log)")
        return value.strip()


class CancelRequest(BaseModel):
    """Why a job is cancelled (kept in the audit log); `by` is ignored (the caller is
    recorded)."""

    by: str | None = Field(None, max_length=200)
    reason: str = Field("", max_length=5000)


class CheckinRequest(BaseModel):
    """An advocate's workload check-in (45 CFR 1302.52(d)(3)): how manageable the caseload is
    (1 not at all .. 5 fully), hours over in the last weeks, how many families they feel they
    can serve well, and a private note (never in the compliance record)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    manageable: int = Field(..., ge=1, le=5)
    families_i_can_serve: int | None = Field(None, ge=0, le=10000)
    hours_over: float | None = Field(None, ge=0, le=1000, allow_inf_nan=False)
    note: str = Field("", max_length=5000)


def service_of(request: Request) -> Service:
    """The app's :class:`Service`."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(service_of)]
CallerDep = Annotated[Caller, Depends(signed_in)]

_ERRORS: dict[int, str] = {
    400: "The body cannot be parsed (malformed multipart or JSON).",
    401: "No token, or a wrong one.",
    403: "The caller's role does not allow it.",
    404: "No such scenario, family, job, plan or file.",
    409: "The plan or job is not in a state that allows it (published, already ended).",
    413: "The request is larger than the server's upload limit.",
    422: "The request or the input cannot be used: every problem found.",
    429: "Too many jobs are waiting already (Retry-After says when to try again).",
    500: "The server's own fault: quote its error_id.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers `codes` as OpenAPI responses, each an :class:`ErrorAnswer`."""
    return {code: {"model": ErrorAnswer, "description": _ERRORS[code]} for code in codes}


_BINARY = {"type": "string", "format": "binary"}
_STRUCTURED = {"application/json", MEDIA_TYPES[".yaml"]}
"""Media types whose body is an object (summary.json, result.json, scenario.yaml)."""
_FILE_CONTENT: dict[str, Any] = {
    "content": {
        media: {"schema": {"type": "object"} if media in _STRUCTURED else _BINARY}
        for media in (*MEDIA_TYPES.values(), OTHER_FILE)
    }
}
"""A plan file's answer: one of the media types of :data:`MEDIA_TYPES` (summary.json,
result.json and scenario.yaml are objects, the others text, a workbook or a PDF), or
:data:`OTHER_FILE`."""

public = APIRouter(prefix=PREFIX, tags=["health"], responses=errors(500))
router = APIRouter(
    prefix=PREFIX,
    dependencies=[Depends(require_token), Depends(authorize)],
    responses=errors(400, 401, 403, 413, 422, 500),
)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    """This API's OpenAPI description (token needed)."""
    return JSONResponse(request.app.openapi())


@public.get("/health", response_model=Health)
async def health() -> dict[str, Any]:
    """Liveness: answers at once, even while jobs solve (no token needed)."""
    return {"status": "ok", "version": __version__}


# ---------------------------------------------------------------------- scenarios


@router.post(
    "/scenarios",
    status_code=status.HTTP_201_CREATED,
    tags=["scenarios"],
    response_model=ScenarioAnswer,
)
async def create_scenario(
    service: ServiceDep,
    files: Annotated[list[UploadFile], File(description="One part per scenario file.")],
) -> dict[str, Any]:
    """Upload a scenario's files (multipart field ``files``, each part named by its file name).

    201 with the scenario (id, files and their SHA-256, validation summary), or 422 with every
    problem as ``{file, row, column, message}``.
    """
    parts = [(f.filename or "", await f.read()) for f in files]
    info = await run_in_threadpool(service.create_scenario, parts)
    return scenario_dict(info)


@router.get("/scenarios", tags=["scenarios"], response_model=list[ScenarioAnswer])
def list_scenarios(service: ServiceDep) -> list[dict[str, Any]]:
    """Every scenario, newest first."""
    return [scenario_dict(s) for s in service.list_scenarios()]


@router.get(
    "/scenarios/{scenario_id}",
    tags=["scenarios"],
    response_model=ScenarioAnswer,
    responses=errors(404),
)
def get_scenario(service: ServiceDep, scenario_id: str) -> dict[str, Any]:
    """One scenario."""
    return scenario_dict(service.get_scenario(scenario_id))


@router.post(
    "/scenarios/{scenario_id}/plans",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["plans"],
    response_model=JobAnswer,
    responses=errors(404, 429),
)
def start_plan(
    service: ServiceDep, scenario_id: str, options: Annotated[PlanRequest | None, Body()] = None
) -> dict[str, Any]:
    """Start a plan: solve, or reassign when ``departed`` or ``absent`` is given. 202 with the
    job; poll ``GET /api/v1/jobs/{id}``. 429 when too many jobs are waiting."""
    job = service.start_plan(scenario_id, options or PlanRequest())
    return job_dict(job)


@router.get(
    "/scenarios/{scenario_id}/plans",
    tags=["plans"],
    response_model=list[PlanAnswer],
    responses=errors(404),
)
def list_plans(service: ServiceDep, scenario_id: str) -> list[dict[str, Any]]:
    """A scenario's plans, newest first; ``published`` marks the published ones."""
    return [PlanView(p).as_dict(details=False) for p in service.list_plans(scenario_id)]


@router.post(
    "/scenarios/{scenario_id}/compare",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["plans"],
    response_model=JobAnswer,
    responses=errors(404, 429),
)
def start_compare(
    service: ServiceDep,
    scenario_id: str,
    options: Annotated[CompareRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Start a comparison of the base scenario and its what-if variants (a job; its
    ``result`` holds the comparison table and the staffing analysis)."""
    return job_dict(service.start_compare(scenario_id, options or CompareRequest()))


@router.get(
    "/scenarios/{scenario_id}/staffing",
    tags=["analysis"],
    response_model=Staffing,
    responses=errors(404),
)
def staffing(service: ServiceDep, scenario_id: str) -> dict[str, Any]:
    """The fewest additional staff that would place every family within the caps."""
    return service.staffing(scenario_id)


@router.get(
    "/scenarios/{scenario_id}/families/{family_id}/recommendation",
    tags=["analysis"],
    response_model=Recommendation,
    responses=errors(404),
)
def recommend(
    service: ServiceDep,
    scenario_id: str,
    family_id: str,
    top: Annotated[int, Query(ge=1, le=100)] = 5,
) -> dict[str, Any]:
    """Staff ranked for one family, with the score by term and every exclusion's rules."""
    return service.recommend(scenario_id, family_id, top)


# ---------------------------------------------------------------------- jobs


@router.get("/jobs", tags=["jobs"], response_model=list[JobAnswer])
def list_jobs(service: ServiceDep, scenario_id: str | None = None) -> list[dict[str, Any]]:
    """Jobs, oldest first (of one scenario with ``?scenario_id=``)."""
    return [service.job_view(j) for j in service.list_jobs(scenario_id)]


@router.get("/jobs/{job_id}", tags=["jobs"], response_model=JobAnswer, responses=errors(404))
def get_job(service: ServiceDep, job_id: str) -> dict[str, Any]:
    """A job: ``state`` (queued, running, done, failed, cancelled), ``progress`` (stage, done,
    total), ``plan_id`` when done, ``message`` when failed or cancelled."""
    return service.job_view(service.get_job(job_id))


@router.delete(
    "/jobs/{job_id}", tags=["jobs"], response_model=JobAnswer, responses=errors(404, 409)
)
def cancel_job(
    service: ServiceDep,
    who: CallerDep,
    job_id: str,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> dict[str, Any]:
    """Cancel a queued or running job (audit log: the caller, why). 409 when it already
    ended."""
    body = body or CancelRequest()
    return service.job_view(service.cancel_job(job_id, by=who.name, reason=body.reason))


# ---------------------------------------------------------------------- plans


@router.get(
    "/plans/{plan_id}", tags=["plans"], response_model=PlanAnswer, responses=errors(403, 404)
)
def get_plan(service: ServiceDep, who: CallerDep, plan_id: str) -> dict[str, Any]:
    """The plan as JSON: summary, caseloads, ``assignments`` (family_id, staff_id, ...),
    unplaced families with reasons, files, publication. An advocate sees only their own
    families and caseload; a viewer only published plans (403)."""
    plan = service.get_plan(plan_id)
    may_read_plan(who, plan)
    view = {**PlanView(plan).as_dict(), "assignments": service.plan_assignments(plan_id)}
    return scoped_plan(who, view)


@router.get(
    "/plans/{plan_id}/files", tags=["plans"], response_model=list[str], responses=errors(403, 404)
)
def list_plan_files(service: ServiceDep, who: CallerDep, plan_id: str) -> list[str]:
    """The names of the plan's output files (an advocate's: their own hand-outs)."""
    plan = service.get_plan(plan_id)
    may_read_plan(who, plan)
    return visible_files(who, service.plan_files(plan_id))


@router.get(
    "/plans/{plan_id}/files/{name:path}",
    tags=["plans"],
    response_class=FileResponse,
    responses={200: _FILE_CONTENT, **errors(403, 404)},
)
def get_plan_file(service: ServiceDep, who: CallerDep, plan_id: str, name: str) -> FileResponse:
    """One output file of the plan, under its contract name (assignments.csv, ...), nested ones
    by their path in the plan folder (rosters/S1.pdf, handover/S1.html); sent under its own
    name (S1.pdf). 404 for any name the plan does not list; an advocate may read only their own
    hand-outs (403)."""
    may_read_file(who, service.get_plan(plan_id), name)
    path = service.plan_file(plan_id, name)
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(path.suffix, OTHER_FILE),
        filename=path.name,
        content_disposition_type="inline" if path.suffix == ".html" else "attachment",
        headers={"X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/plans/{plan_id}/update",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["plans"],
    response_model=JobAnswer,
    responses=errors(404, 422, 429),
)
async def start_update(
    service: ServiceDep,
    plan_id: str,
    files: Annotated[
        list[UploadFile] | None,
        File(description="This month's export: a families.csv, or the files the mapping names."),
    ] = None,
    mapping: Annotated[UploadFile | None, File(description="The importer's mapping.yaml.")] = None,
    staff: Annotated[
        UploadFile | None,
        File(
            description="The staff table as it now stands (staff.csv or staff.xlsx, e.g. the "
            "plan's with a hire added): replaces the plan's for this update."
        ),
    ] = None,
    as_of: Annotated[str | None, Form(description="Day the update takes effect.")] = None,
    allow_backdate: Annotated[bool, Form()] = False,
    max_moves_per_staff: Annotated[int | None, Form()] = None,
    advocate_from: Annotated[AdvocateSource, Form()] = AdvocateSource.plan,
    time_limit: Annotated[float | None, Form()] = None,
    seed: Annotated[int, Form()] = 0,
    deterministic: Annotated[bool, Form()] = False,
    workers: Annotated[int | None, Form()] = None,
) -> dict[str, Any]:
    """Update a plan mid-year with this month's export, as ``famassign update PLAN
    --families-export FILE [--mapping M]`` does (multipart: ``files``, ``mapping``, ``staff``
    and the options as form fields). 202 with the job; its plan holds changes.csv, moves.csv,
    the handover notes and the next scenario. 422 before any job starts for options or file
    names that cannot be used, an ``as_of`` before the plan's own (without
    ``allow_backdate``), and every problem of the export (or of the plan with the staff table
    given) as ``{file, row, column, message}``, as the command line refuses them."""
    fields: dict[str, Any] = {
        "as_of": as_of,
        "allow_backdate": allow_backdate,
        "max_moves_per_staff": max_moves_per_staff,
        "advocate_from": advocate_from,
        "seed": seed,
        "deterministic": deterministic,
        "workers": workers,
    }
    if time_limit is not None:
        fields["time_limit"] = time_limit
    try:
        request = UpdateRequest.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidRequest(str(first["loc"][0]), first["msg"]) from None
    exports = [(f.filename or "", await f.read()) for f in files or []]
    given = (mapping.filename or "", await mapping.read()) if mapping is not None else None
    table = (staff.filename or "", await staff.read()) if staff is not None else None
    job = await run_in_threadpool(
        lambda: service.start_update(plan_id, request, exports, given, staff=table)
    )
    return job_dict(job)


@router.post(
    "/plans/{plan_id}/reassign",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["plans"],
    response_model=JobAnswer,
    responses=errors(404, 422, 429),
)
def start_reassign(
    service: ServiceDep, plan_id: str, options: Annotated[ReassignRequest, Body()]
) -> dict[str, Any]:
    """Re-plan a plan after staff depart or go on leave, as ``famassign reassign PLAN`` does
    (the plan's folder is the scenario; the same library function and writer): JSON with
    ``departed`` and/or ``absent``, ``until``, ``temporary_cap``, ``as_of``,
    ``allow_backdate`` and the search options. 202 with the job; its plan holds moves.csv, the
    handover notes and the next scenario (the temporary exception with ``created_by``, the
    absence with its families). 422 before any job starts for what the command line refuses
    (nobody named, unknown staff, a temporary cap without ``until``, an ``as_of`` before the
    plan's own without ``allow_backdate``...)."""
    return job_dict(service.start_reassign(plan_id, options))


@router.post(
    "/plans/{plan_id}/publish",
    tags=["plans"],
    response_model=PlanAnswer,
    responses=errors(403, 404, 409),
)
def publish(
    service: ServiceDep, who: CallerDep, plan_id: str, body: PublishRequest
) -> dict[str, Any]:
    """Publish the plan as the program's plan of record (audit log; ``published_by`` is the
    signed-in caller's name, whatever the body says). 409 when published or when it is a
    what-if (or made from one)."""
    return PlanView(service.publish(plan_id, by=who.name, reason=body.reason)).as_dict()


@router.delete(
    "/plans/{plan_id}", tags=["plans"], response_model=Deleted, responses=errors(404, 409)
)
def delete_plan(
    service: ServiceDep,
    who: CallerDep,
    plan_id: str,
    by: Annotated[str | None, Query(max_length=200)] = None,
    reason: Annotated[str, Query(max_length=5000)] = "",
) -> dict[str, Any]:
    """Delete an unpublished plan and its files (audit log: the caller; ``by`` is ignored).
    409 for a published plan."""
    plan = service.delete_plan(plan_id, by=who.name, reason=reason)
    return {"id": plan.id, "deleted": True}


@router.get(
    "/plans/{plan_id}/audit",
    tags=["plans"],
    response_model=list[AuditEntry],
    responses=errors(404),
)
def plan_audit(service: ServiceDep, plan_id: str) -> list[dict[str, Any]]:
    """The audit entries of one plan (publish, delete), oldest first."""
    return [_audit(e) for e in service.store.audit_log(plan_id=plan_id)]


@router.get("/audit", tags=["plans"], response_model=list[AuditEntry])
def audit(service: ServiceDep) -> list[dict[str, Any]]:
    """The whole audit log (every publish, cancellation, deletion), oldest first."""
    return [_audit(e) for e in service.store.audit_log()]


# ---------------------------------------------------------------------- people


@router.get("/me", tags=["people"], response_model=CallerAnswer)
def me(who: CallerDep) -> dict[str, Any]:
    """Who the token or session belongs to: name, role and (an advocate's) staff id."""
    return {"name": who.name, "role": who.role, "staff_id": who.staff_id}


@router.post(
    "/staff/{staff_id}/checkins",
    status_code=status.HTTP_201_CREATED,
    tags=["people"],
    response_model=Checkin,
    responses=errors(403),
)
def check_in(
    service: ServiceDep, who: CallerDep, staff_id: str, body: CheckinRequest
) -> dict[str, Any]:
    """File a workload check-in (45 CFR 1302.52(d)(3)) for one's own caseload: 201, or 403
    for any staff member but the advocate's own."""
    may_check_in(who, staff_id)
    info = service.store.add_checkin(
        staff_id=staff_id,
        user_id=who.subject or "",
        manageable=body.manageable,
        families_i_can_serve=body.families_i_can_serve,
        hours_over=body.hours_over,
        note=body.note,
    )
    return checkin_dict(info)


@router.get("/checkins", tags=["people"], response_model=list[Checkin])
def list_checkins(service: ServiceDep, staff_id: str | None = None) -> list[dict[str, Any]]:
    """Every workload check-in, oldest first (of one staff member with ``?staff_id=``)."""
    return [checkin_dict(c) for c in service.store.list_checkins(staff_id=staff_id)]


class CapRequest(BaseModel):
    """Which plan version the personal cap is set on (a new version is made from it)."""

    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(..., min_length=1, max_length=32)


@router.post(
    "/checkins/{checkin_id}/cap",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["people"],
    response_model=JobAnswer,
    responses=errors(403, 404, 409, 429),
)
def cap_from_checkin(
    request: Request,
    who: CallerDep,
    checkin_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
    body: CapRequest,
) -> dict[str, Any]:
    """Turn a check-in's ``families_i_can_serve`` into the staff member's personal cap
    (``max_families``): a new version of plan ``plan_id``, re-planned moving the fewest
    families (202 with the job). 422 when the check-in states no number."""
    service = service_of(request)
    checkin = service.store.get_checkin(checkin_id)
    if checkin.families_i_can_serve is None:
        raise InvalidRequest("families_i_can_serve", "this check-in states no number of families")
    plans: PlanReader = request.app.state.plans
    record = plans.plan(body.plan_id)
    try:
        replan = cap_replan(record, checkin.staff_id, checkin.families_i_can_serve, PlanRequest())
    except (AdjustmentError, ScenarioError) as exc:
        raise InvalidRequest("families_i_can_serve", str(exc)) from None
    scenario_id = plans.add_scenario(replan.scenario, derived_from=body.plan_id)
    job = service.start_plan(scenario_id, replan.request, replan.version)
    service.store.mark_checkin_acted(checkin_id, job_id=job.id, by=who.name)
    return job_dict(job)


def _audit(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "action": entry.action,
        "plan_id": entry.plan_id,
        "job_id": entry.job_id,
        "by": entry.by,
        "reason": entry.reason,
    }


__all__ = ["PREFIX", "errors", "public", "router"]
