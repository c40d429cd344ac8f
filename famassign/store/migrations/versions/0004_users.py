"""User accounts with roles, and advocates' workload check-ins.

``users``: who signs in (admin, manager, advocate, viewer, client), an advocate's staff id, the
SHA-256 of the user's API token (never the token), and when the account was disabled.
``checkins``: an advocate's workload check-in (45 CFR 1302.52(d)(3)) and what was done about
it (the plan version that turned it into a personal cap, and who made it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("staff_id", sa.String(200), nullable=True, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("staff_id", sa.String(200), nullable=False, index=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("manageable", sa.Integer, nullable=False),
        sa.Column("families_i_can_serve", sa.Integer, nullable=True),
        sa.Column("hours_over", sa.Float, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("acted_job_id", sa.String(32), nullable=True),
        sa.Column("acted_by", sa.String(200), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("checkins")
    op.drop_table("users")
