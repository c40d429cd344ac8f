"""``--store`` of solve, reassign and update: plans recorded in, and read from, the plan store.

The store is :class:`famassign.store.Store` (the ``serve`` work's store: SQLAlchemy, a SQLite
file by default). ``--store PATH`` is a SQLite file (created when missing); a
``sqlite:///`` or ``postgresql://`` URL is used as given. A plan recorded from the command line
keeps its absolute output folder, so ``famassign diff`` and ``famassign history --out`` read the
files there.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from famassign.commands.common import STORE_MODULES, UsageError, require_server_extra
from famassign.solver import Result

if TYPE_CHECKING:
    from famassign.store import Store

log = logging.getLogger(__name__)

STORE = typer.Option(
    None,
    "--store",
    help="Record the plan in this plan store: a SQLite file, or a sqlite:/// or postgresql:// URL.",
)


def store_url(value: str) -> str:
    """A store argument as a database URL (a plain path is a SQLite file)."""
    if value.startswith(("sqlite:", "postgresql:", "postgres:", "postgresql+")):
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def open_store(value: str) -> Store:
    """The plan store named by `value`; UsageError (exit 2) when it cannot be opened."""
    require_server_extra("--store", STORE_MODULES)
    from sqlalchemy.exc import SQLAlchemyError

    from famassign.store import Store, redacted

    url = store_url(value)
    try:
        return Store(url)
    except (SQLAlchemyError, OSError) as exc:
        raise UsageError(
            f"--store {redacted(url)}: cannot open the plan store ({type(exc).__name__})"
        ) from None


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def record_plan(value: str | None, out: Path, result: Result, kind: str, **options: Any) -> None:
    """Record the plan just written to `out` in the store `value` (nothing when None)."""
    if value is None:
        return
    store = open_store(value)
    try:
        folder = out.resolve()
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        info = store.record_plan(
            folder=str(folder),
            files=files,
            options={k: _json(v) for k, v in options.items()},
            solver_version=result.version,
            seed=result.seed,
            runtime_s=result.runtime_s,
            status=result.status.value,
            summary=summary,
            kind=kind,
        )
    finally:
        store.close()
    typer.echo(f"recorded in the plan store as {info.id}")
    log.info("plan %s recorded (%s)", info.id, kind)


def plan_folder(store_value: str, plan: str) -> Path:
    """The folder of stored plan `plan` (an id); UsageError when unknown."""
    from famassign.store import NotFoundError

    store = open_store(store_value)
    try:
        return Path(store.get_plan(plan).folder)
    except NotFoundError:
        raise UsageError(f"plan {plan!r} is not in the plan store") from None
    finally:
        store.close()


__all__ = ["STORE", "open_store", "plan_folder", "record_plan", "store_url"]
