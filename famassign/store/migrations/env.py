"""Alembic environment of the famassign store: runs on the connection the store hands it."""

from __future__ import annotations

from alembic import context

from famassign.store.records import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("run famassign's migrations through famassign.store.Store.upgrade()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
