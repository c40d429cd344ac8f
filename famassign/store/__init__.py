"""The store of famassign: scenarios, jobs, plans and the audit log (SQLite or PostgreSQL).

Used by the HTTP server (``famassign serve``) and the command line's plan history. See
:class:`famassign.store.store.Store` for the operations: ``record_scenario``, ``create_job``,
``record_plan``, ``list_plans``, ``get_plan``, ``publish``, ``delete_plan``, ``audit_log``, the
page's sessions (``create_session``, ``get_session``, ``delete_sessions``), ...
"""

from famassign.store.store import (
    FINAL_STATES,
    INTERRUPTED,
    JOB_STATES,
    AuditEntry,
    CheckinInfo,
    ConflictError,
    JobInfo,
    NotFoundError,
    PlanInfo,
    ScenarioInfo,
    SessionInfo,
    Store,
    StoreError,
    UserInfo,
    database_url,
    new_id,
    redacted,
    utc_now,
)

__all__ = [
    "FINAL_STATES",
    "INTERRUPTED",
    "JOB_STATES",
    "AuditEntry",
    "CheckinInfo",
    "ConflictError",
    "JobInfo",
    "NotFoundError",
    "PlanInfo",
    "ScenarioInfo",
    "SessionInfo",
    "Store",
    "StoreError",
    "UserInfo",
    "database_url",
    "new_id",
    "redacted",
    "utc_now",
]
