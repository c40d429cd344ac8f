"""Plan versions and import mappings for the planner's page.

A plan made from another (a move, a departure, an exception, a what-if) names its parent and
carries a label; a scenario the page derives from a plan names that plan; the import mapping
the planner confirmed last is kept for next time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("label", sa.String(300), nullable=True))
        batch.create_index("ix_plans_parent_id", ["parent_id"])
    with op.batch_alter_table("scenarios") as batch:
        batch.add_column(sa.Column("derived_from", sa.String(32), nullable=True))
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("mapping", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("import_mappings")
    with op.batch_alter_table("scenarios") as batch:
        batch.drop_column("derived_from")
    with op.batch_alter_table("plans") as batch:
        batch.drop_index("ix_plans_parent_id")
        batch.drop_column("label")
        batch.drop_column("parent_id")
